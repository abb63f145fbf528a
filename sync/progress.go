package sync

// Phases of a run, in order, as Progress reports them.
const (
	PhaseCheck = "checking" // the one cheap request for x-perm-rev
	PhasePull  = "pulling"
	PhasePlan  = "planning"
	PhaseApply = "applying"
)

// Progress is a snapshot of a running sync, handed to RunOptions.Progress
// on the run's goroutine; keep the callback quick (copy and return).
type Progress struct {
	Phase string
	// Pulling: the collection ("orgs", "classes", "users", "enrollments")
	// and how many of its records arrived so far. Attempt is 1, or more
	// after ClassLink moved x-perm-rev and the pull started over.
	Collection string
	Records    int
	Attempt    int
	// Applying: directory writes committed so far, and in all.
	Applied, ToApply int
}

// Record types of a run's counts (DESIGN §5), as Sample.Type spells them.
const (
	TypeStudents    = "students"
	TypeStaff       = "staff"
	TypeGuardians   = "guardians"
	TypeClassrooms  = "classrooms"
	TypeMemberships = "memberships"
)

// Types lists the record types in the order summaries show them.
var Types = []string{TypeStudents, TypeStaff, TypeGuardians, TypeClassrooms, TypeMemberships}

// Actions of a plan, as Sample.Action spells them.
const (
	ActionCreate    = "create"
	ActionUpdate    = "update"
	ActionArchive   = "archive"
	ActionUnarchive = "unarchive"
	ActionSkip      = "skip"
)

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
