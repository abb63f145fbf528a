package store

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
)

// bucketRuns holds one sub-bucket per tenant, keyed by a sequence number,
// so a district's runs are in the order they were recorded.
var bucketRuns = []byte("runs")

// Run modes, triggers, statuses and failure reasons (DESIGN §5).
const (
	ModeDryRun = "dry_run"
	ModeApply  = "apply"

	TriggerManual   = "manual"
	TriggerSchedule = "schedule"
	// TriggerGuardiansFile is a guardians file upload; the SFTP file is
	// part of a manual or scheduled run.
	TriggerGuardiansFile = "guardians_file"

	RunSucceeded = "succeeded"
	RunFailed    = "failed"
	RunUnchanged = "unchanged"

	ReasonThreshold       = "threshold"
	ReasonCredentials     = "credentials"
	ReasonSchoolsNotFound = "schools_not_found"
	ReasonUpstream        = "upstream"
	// ReasonGuardiansFile: a guardians file was refused as a whole, or
	// the SFTP folder could not be read.
	ReasonGuardiansFile = "guardians_file"
)

// Run is one sync run as `sync --json` and `history --json` print it.
type Run struct {
	ID             string         `json:"id"`
	TenantID       int64          `json:"-"`
	Mode           string         `json:"mode"`
	Trigger        string         `json:"trigger"`
	Status         string         `json:"status"`
	Reason         string         `json:"reason"`
	ConfigRevision int64          `json:"config_revision"`
	PermRev        string         `json:"perm_rev"`
	StartedAt      time.Time      `json:"started_at"`
	FinishedAt     time.Time      `json:"finished_at"`
	Counts         RunCounts      `json:"counts"`
	TriedToArchive TriedToArchive `json:"tried_to_archive"`
	Warnings       RunWarnings    `json:"warnings"`
	// Message explains a failure for people, e.g. naming missing schools.
	Message string `json:"message,omitempty"`
	// GuardiansFile is present when the run processed (or looked for) a
	// guardians file.
	GuardiansFile *GuardiansFileRun `json:"guardians_file,omitempty"`
}

// What became of a run's guardians file.
const (
	FileProcessed = "processed" // read, checked and applied (or planned, in a dry run)
	FileUnchanged = "unchanged" // same checksum as the file last applied: skipped
	FileMissing   = "missing"   // no guardians.csv in the SFTP folder: a warning
	FileRefused   = "refused"   // refused as a whole: nothing changed
	FileFailed    = "failed"    // the SFTP folder could not be read
)

// GuardiansFileRun is a run's guardians_file section (DESIGN §5). Created,
// Updated and Archived count guardian accounts, Linked counts staff
// accounts newly linked to a student, Unchanged the accounts a row left as
// they were; Rows, Errors and Warnings count the file's rows.
type GuardiansFileRun struct {
	Source     string `json:"source"` // upload or sftp
	Name       string `json:"name"`   // the path given, "-" for stdin, or the SFTP path
	Status     string `json:"status"`
	Abandon    bool   `json:"abandon"`
	Size       int64  `json:"size"`
	Rows       int    `json:"rows"`
	Created    int    `json:"created"`
	Updated    int    `json:"updated"`
	Linked     int    `json:"linked"`
	Unchanged  int    `json:"unchanged"`
	Archived   int    `json:"archived"`
	Errors     int    `json:"errors"`
	Warnings   int    `json:"warnings"`
	FileSHA256 string `json:"file_sha256"`
	Message    string `json:"message,omitempty"`
}

// Counts are one record type's planned (dry run) or applied changes.
type Counts struct {
	Create    int `json:"create"`
	Update    int `json:"update"`
	Archive   int `json:"archive"`
	Unarchive int `json:"unarchive"`
	Skip      int `json:"skip"`
}

// Changes is every count but Skip: what a run changes.
func (c Counts) Changes() int { return c.Create + c.Update + c.Archive + c.Unarchive }

// RunCounts are the counts per record type.
type RunCounts struct {
	Students    Counts `json:"students"`
	Staff       Counts `json:"staff"`
	Guardians   Counts `json:"guardians"`
	Classrooms  Counts `json:"classrooms"`
	Memberships Counts `json:"memberships"`
}

// Changes adds up every type's changes.
func (c RunCounts) Changes() int {
	return c.Students.Changes() + c.Staff.Changes() + c.Guardians.Changes() + c.Classrooms.Changes() + c.Memberships.Changes()
}

// Record types of a run's counts and the actions on them, in the order the
// contract (DESIGN.md §5) and every summary list them.
const (
	TypeStudents    = "students"
	TypeStaff       = "staff"
	TypeGuardians   = "guardians"
	TypeClassrooms  = "classrooms"
	TypeMemberships = "memberships"

	ActionCreate    = "create"
	ActionUpdate    = "update"
	ActionArchive   = "archive"
	ActionUnarchive = "unarchive"
	ActionSkip      = "skip"
)

var (
	// RecordTypes are the rows of a run's counts.
	RecordTypes = []string{TypeStudents, TypeStaff, TypeGuardians, TypeClassrooms, TypeMemberships}
	// Actions are the columns.
	Actions = []string{ActionCreate, ActionUpdate, ActionArchive, ActionUnarchive, ActionSkip}
)

// Of is the counts of one record type (memberships for an unknown name).
func (c *RunCounts) Of(typ string) *Counts {
	switch typ {
	case TypeStudents:
		return &c.Students
	case TypeStaff:
		return &c.Staff
	case TypeGuardians:
		return &c.Guardians
	case TypeClassrooms:
		return &c.Classrooms
	}
	return &c.Memberships
}

// Of is the counter of one action (skip for an unknown name).
func (c *Counts) Of(action string) *int {
	switch action {
	case ActionCreate:
		return &c.Create
	case ActionUpdate:
		return &c.Update
	case ActionArchive:
		return &c.Archive
	case ActionUnarchive:
		return &c.Unarchive
	}
	return &c.Skip
}

// TriedToArchive is what a run over the deletion threshold wanted to
// archive, per type; all zero otherwise.
type TriedToArchive struct {
	Students   int `json:"students"`
	Staff      int `json:"staff"`
	Guardians  int `json:"guardians"`
	Classrooms int `json:"classrooms"`
}

// Of is one record type's count; memberships are never counted here.
func (t *TriedToArchive) Of(typ string) *int {
	switch typ {
	case TypeStudents:
		return &t.Students
	case TypeStaff:
		return &t.Staff
	case TypeGuardians:
		return &t.Guardians
	case TypeClassrooms:
		return &t.Classrooms
	}
	return new(int)
}

// RunWarnings count roster data the run could not use as it was.
type RunWarnings struct {
	InvalidPhone           int `json:"invalid_phone"`
	GuardianWithoutContact int `json:"guardian_without_contact"`
}

// Applied reports whether the run brought the directory fully up to date
// with its roster revision and configuration: an apply that succeeded, or
// one that found nothing had changed.
func (r Run) Applied() bool {
	return r.Mode == ModeApply && (r.Status == RunSucceeded || r.Status == RunUnchanged)
}

// RecordRun stores a finished run and returns it with its ID set.
func (db *DB) RecordRun(r Run) (Run, error) {
	if r.TenantID <= 0 {
		return r, fieldErr("tenant_id", "must be a positive whole number, got %d", r.TenantID)
	}
	err := db.update(func(tx *bolt.Tx) error {
		b, err := tx.Bucket(bucketRuns).CreateBucketIfNotExists(tenantKey(r.TenantID))
		if err != nil {
			return err
		}
		seq, err := b.NextSequence()
		if err != nil {
			return err
		}
		r.ID = fmt.Sprintf("%d-%06d", r.TenantID, seq)
		return putJSON(b, tenantKey(int64(seq)), r)
	})
	return r, err
}

// Runs lists a district's runs, oldest first.
func (db *DB) Runs(tenantID int64) ([]Run, error) {
	out := []Run{}
	err := db.view(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketRuns).Bucket(tenantKey(tenantID))
		if b == nil {
			return nil
		}
		return b.ForEach(func(_, v []byte) error {
			r, err := decodeRun(tenantID, v)
			out = append(out, r)
			return err
		})
	})
	return out, err
}

// LastRun is the district's most recent run; ok is false when it never ran.
func (db *DB) LastRun(tenantID int64) (Run, bool, error) {
	return db.lastRunWhere(tenantID, func(Run) bool { return true })
}

// LastPreview is the district's newest dry run of the roster sync.
func (db *DB) LastPreview(tenantID int64) (Run, bool, error) {
	return db.lastRunWhere(tenantID, func(r Run) bool { return r.Mode == ModeDryRun && r.Roster() })
}

// LastAppliedRun is the most recent roster run for which Applied holds.
func (db *DB) LastAppliedRun(tenantID int64) (Run, bool, error) {
	return db.lastRunWhere(tenantID, func(r Run) bool { return r.Applied() && r.Roster() })
}

// Roster reports a run of the roster sync (which may include the SFTP
// guardians file), as opposed to a guardians file upload.
func (r Run) Roster() bool { return r.Trigger != TriggerGuardiansFile }

// FindRun walks a district's runs newest first and returns the first one
// keep accepts; keep may remember what it passed on the way.
func (db *DB) FindRun(tenantID int64, keep func(Run) bool) (Run, bool, error) {
	return db.lastRunWhere(tenantID, keep)
}

// LastScheduledRun is the most recent run the daily schedule started.
func (db *DB) LastScheduledRun(tenantID int64) (Run, bool, error) {
	return db.lastRunWhere(tenantID, func(r Run) bool { return r.Trigger == TriggerSchedule && !r.Cancelled() })
}

// CancelledPrefix starts the message of a run stopped by its caller (a
// server shutting down, a person leaving a preview).
const CancelledPrefix = "cancelled: "

// Cancelled reports a run stopped before it finished; a scheduled one does
// not count as that day's run.
func (r Run) Cancelled() bool { return strings.HasPrefix(r.Message, CancelledPrefix) }

func (db *DB) lastRunWhere(tenantID int64, keep func(Run) bool) (Run, bool, error) {
	var found Run
	ok := false
	err := db.view(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketRuns).Bucket(tenantKey(tenantID))
		if b == nil {
			return nil
		}
		c := b.Cursor()
		for k, v := c.Last(); k != nil; k, v = c.Prev() {
			r, err := decodeRun(tenantID, v)
			if err != nil {
				return err
			}
			if keep(r) {
				found, ok = r, true
				return nil
			}
		}
		return nil
	})
	return found, ok, err
}

func decodeRun(tenantID int64, raw []byte) (Run, error) {
	var r Run
	err := json.Unmarshal(raw, &r)
	r.TenantID = tenantID
	return r, err
}
