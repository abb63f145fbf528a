package sync

import (
	"github.com/schoolstatus/rostersync/classlink"
	"github.com/schoolstatus/rostersync/store"
)

// Phases of a run, in order, as Progress reports them.
const (
	PhaseCheck = "checking" // the one cheap request for x-perm-rev
	PhasePull  = store.PhasePulling
	PhasePlan  = store.PhasePlanning
	PhaseApply = store.PhaseApplying
	// PhaseGuardiansFile: reading a guardians file (an upload, or
	// guardians.csv from the SFTP folder).
	PhaseGuardiansFile = "guardians_file"
)

// Progress is a snapshot of a running sync, handed to RunOptions.Progress
// one call at a time (from the run's goroutines: users and enrollments are
// pulled together); keep the callback quick (copy and return).
type Progress struct {
	Phase string
	// Pulling: the collection (orgs, classes, users, enrollments) and how
	// many of its records arrived so far. Attempt is 1, or more after
	// ClassLink moved x-perm-rev and the pull started over.
	Collection classlink.Collection
	Records    int
	Attempt    int
	// Pass is "" while a collection is pulled whole; a daily run that
	// pulls only what changed reports PassChanges (Records: changed
	// records) and then PassIDs (Records: sourcedIds swept).
	Pass string
	// FullPull, reported once before a whole pull, says why the run pulls
	// everything rather than what changed since the last run.
	FullPull string
	// Applying: directory writes committed so far, and in all.
	Applied, ToApply int
}

// Passes of a pull of changes.
const (
	PassChanges = "changes" // the records changed since the last pull
	PassIDs     = "ids"     // the sourcedIds still there
)

// Record types and actions, as Sample spells them: the store's names.
const (
	TypeStudents    = store.TypeStudents
	TypeStaff       = store.TypeStaff
	TypeGuardians   = store.TypeGuardians
	TypeClassrooms  = store.TypeClassrooms
	TypeMemberships = store.TypeMemberships

	ActionCreate    = store.ActionCreate
	ActionUpdate    = store.ActionUpdate
	ActionArchive   = store.ActionArchive
	ActionUnarchive = store.ActionUnarchive
	ActionSkip      = store.ActionSkip
)

// Types lists the record types in the order summaries show them.
var Types = store.RecordTypes

// Sample is one planned change, for the preview: the first few of each
// type and action are kept (RunOptions.Samples).
type Sample struct {
	Type      string   `json:"type"`
	Action    string   `json:"action"`
	SourcedID string   `json:"sourced_id"`
	Name      string   `json:"name"`
	Fields    []string `json:"fields,omitempty"` // update, unarchive: what changes
	Reason    string   `json:"reason,omitempty"` // skip: why
}
