package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/schoolstatus/rostersync/untrusted"
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
	// RunRunning is a started run this process is still running.
	RunRunning = "running"
	// RunInterrupted is a started run that never finished: its process
	// was killed, crashed or lost its disk. It is never stored as such: a
	// record left "running" reads as interrupted once no engine in this
	// process owns it (StartRun, FinishRun).
	RunInterrupted = "interrupted"

	ReasonThreshold       = "threshold"
	ReasonCredentials     = "credentials"
	ReasonSchoolsNotFound = "schools_not_found"
	ReasonUpstream        = "upstream"
	// ReasonCancelled: the run was stopped by its caller (ctrl+c, a
	// server stopping) after it had changed the directory; its counts are
	// the changes it committed, and the next run completes the rest. A
	// run stopped before changing anything fails with reason upstream.
	// Either way its message starts with CancelledPrefix.
	ReasonCancelled = "cancelled"
	// ReasonInternal: a bug in rostersync stopped the run (a panic the
	// engine recovered; the stack is in the log). What it committed
	// before stays and the next run completes the rest.
	ReasonInternal = "internal"
	// ReasonGuardiansFile: a guardians file was refused as a whole, or
	// the SFTP folder could not be read.
	ReasonGuardiansFile = "guardians_file"
	// ReasonStorage: the database could not be read or written (a
	// damaged file, a full disk).
	ReasonStorage = "storage"
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
	// Progress is how far a running or interrupted run got; nil once the
	// run finished.
	Progress *RunProgress `json:"progress,omitempty"`
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

// RunProgress is how far a run got, noted as it goes: at its start, when
// it begins to plan, and with every directory batch it commits (in the
// batch's own transaction, see DirectoryBatch.ForRun).
type RunProgress struct {
	Phase string `json:"phase"` // pulling, planning, applying (sync's phases)
	// Applied of ToApply directory writes are committed.
	Applied int `json:"applied"`
	ToApply int `json:"to_apply"`
	// At is when this was noted: for an interrupted run, the last time it
	// was seen working.
	At time.Time `json:"at"`
}

// Phases a run's progress notes (the sync engine's, which store cannot import).
const (
	PhasePulling  = "pulling"
	PhasePlanning = "planning"
	PhaseApplying = "applying"
)

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

// RecordRun stores a finished run and returns it with its ID set; in the
// same transaction it ticks the guide's steps the run verifies
// (followGuideOnRun).
func (db *DB) RecordRun(r Run) (Run, error) {
	r.showable()
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
		r.ID = runID(r.TenantID, seq)
		if err := putJSON(b, tenantKey(int64(seq)), r); err != nil {
			return err
		}
		return db.followGuideOnRun(tx, r, db.now())
	})
	return r, err
}

// showable escapes what a run's messages carry from outside (a server's
// error text, a file's name) as it is stored, so that every reader — the
// wizard, history, the CLI, a script — shows it safely.
func (r *Run) showable() {
	r.Message = untrusted.Lines(r.Message)
	if r.GuardiansFile != nil {
		r.GuardiansFile.Message = untrusted.Lines(r.GuardiansFile.Message)
	}
}

func runID(tenantID int64, seq uint64) string { return fmt.Sprintf("%d-%06d", tenantID, seq) }

// runKey is the key of a run in its district's bucket, from its ID.
func runKey(r Run) ([]byte, error) {
	var tenant int64
	var seq uint64
	if _, err := fmt.Sscanf(r.ID, "%d-%d", &tenant, &seq); err != nil || tenant != r.TenantID || runID(tenant, seq) != r.ID {
		return nil, fieldErr("id", "%q is not a run of district %d", r.ID, r.TenantID)
	}
	return tenantKey(int64(seq)), nil
}

// StartRun records a run as running, in its own small transaction, and
// returns it with its ID set. Until FinishRun, this handle owns it: a
// process that stops before finishing it leaves a record every later
// reader shows as interrupted.
func (db *DB) StartRun(r Run) (Run, error) {
	r.Status = RunRunning
	if r.Progress == nil {
		r.Progress = &RunProgress{Phase: PhasePulling}
	}
	if r.Progress.At.IsZero() {
		r.Progress.At = r.StartedAt
	}
	saved, err := db.RecordRun(r)
	if err == nil {
		db.liveRuns.Store(saved.ID, true)
	}
	return saved, err
}

// NoteRunProgress updates a running run's progress in its own transaction.
func (db *DB) NoteRunProgress(r Run, p RunProgress) error {
	return db.update(func(tx *bolt.Tx) error { return noteProgress(tx, r, p) })
}

func noteProgress(tx *bolt.Tx, r Run, p RunProgress) error {
	key, err := runKey(r)
	if err != nil {
		return err
	}
	b := tx.Bucket(bucketRuns).Bucket(tenantKey(r.TenantID))
	var stored Run
	if ok, err := getJSON(b, key, &stored); err != nil || !ok {
		return errors.Join(err, fieldErr("id", "no run %s is recorded", r.ID))
	}
	if stored.Status != RunRunning {
		return fieldErr("id", "run %s already finished (%s)", r.ID, stored.Status)
	}
	stored.Progress = &p
	return putJSON(b, key, stored)
}

// FinishRun replaces a started run's record with its outcome. The run is
// no longer this handle's, even when the write fails: it then reads as
// interrupted.
func (db *DB) FinishRun(r Run) (Run, error) {
	defer db.liveRuns.Delete(r.ID)
	if r.Status == RunRunning || r.Status == RunInterrupted || r.Status == "" {
		return r, fieldErr("status", "a finished run is succeeded, failed or unchanged, got %q", r.Status)
	}
	key, err := runKey(r)
	if err != nil {
		return r, err
	}
	r.Progress = nil
	r.showable()
	err = db.update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketRuns).Bucket(tenantKey(r.TenantID))
		if b == nil || b.Get(key) == nil {
			return fieldErr("id", "no run %s is recorded", r.ID)
		}
		if err := putJSON(b, key, r); err != nil {
			return err
		}
		return db.followGuideOnRun(tx, r, db.now())
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
			r, err := db.decodeRun(tenantID, v)
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

// CancelledPrefix starts the message of a run stopped by its caller (a
// server shutting down, a person leaving a preview).
const CancelledPrefix = "cancelled: "

// Cancelled reports a run stopped before it finished; a scheduled one does
// not count as that day's run.
func (r Run) Cancelled() bool { return strings.HasPrefix(r.Message, CancelledPrefix) }

func (db *DB) lastRunWhere(tenantID int64, keep func(Run) bool) (Run, bool, error) {
	var found Run
	ok := false
	err := db.EachRunNewestFirst(tenantID, func(r Run) bool {
		found, ok = r, keep(r)
		return !ok
	})
	if !ok {
		found = Run{}
	}
	return found, ok, err
}

// EachRunNewestFirst calls fn with the district's runs from the newest
// back, until fn returns false.
func (db *DB) EachRunNewestFirst(tenantID int64, fn func(Run) bool) error {
	return db.view(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketRuns).Bucket(tenantKey(tenantID))
		if b == nil {
			return nil
		}
		c := b.Cursor()
		for k, v := c.Last(); k != nil; k, v = c.Prev() {
			r, err := db.decodeRun(tenantID, v)
			if err != nil {
				return err
			}
			if !guardCallback(fn, r) {
				return nil
			}
		}
		return nil
	})
}

func (db *DB) decodeRun(tenantID int64, raw []byte) (Run, error) {
	var r Run
	err := json.Unmarshal(raw, &r)
	r.TenantID = tenantID
	if _, live := db.liveRuns.Load(r.ID); r.Status == RunRunning && !live {
		r.interrupted()
	}
	return r, err
}

// interrupted turns a run record nobody will finish into what history
// shows: status interrupted, finished when last seen working, and a
// message saying how far it got.
func (r *Run) interrupted() {
	r.Status = RunInterrupted
	p := RunProgress{Phase: PhasePulling, At: r.StartedAt}
	if r.Progress != nil {
		p = *r.Progress
	}
	r.FinishedAt = p.At
	switch {
	case r.Mode == ModeDryRun:
		r.Message = fmt.Sprintf("while %s; a dry run changes nothing", p.Phase)
	// The next run plans the whole roster against the whole directory
	// (whether it pulled everything or what changed), so it completes
	// whatever this one left undone.
	case p.Applied > 0 && p.ToApply > 0:
		r.Message = fmt.Sprintf("while %s, after %d of %d directory writes; the next run completes them", p.Phase, p.Applied, p.ToApply)
	case p.Applied > 0:
		r.Message = fmt.Sprintf("while %s, after %d directory writes; the next run completes them", p.Phase, p.Applied)
	default:
		r.Message = fmt.Sprintf("while %s, before changing the directory; the next run syncs as usual", p.Phase)
	}
	r.Message = "interrupted: the process stopped (killed, crashed or out of disk) " + r.Message
}
