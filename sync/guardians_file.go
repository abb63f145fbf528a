package sync

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/schoolstatus/rostersync/guardians"
	"github.com/schoolstatus/rostersync/store"
)

// FileOptions choose how one guardians file upload goes.
type FileOptions struct {
	// DryRun checks and plans the file and records the run, nothing else.
	DryRun bool
	// Abandon archives guardians created from earlier files that this file
	// does not name (under the deletion threshold), and drops file links of
	// staff it no longer links. Without it a file only creates, updates and
	// adds links.
	Abandon bool
	// Name is how the run names the file: its path, or "-" for stdin.
	Name string
	// Source is store.GuardiansUpload (the default) or store.GuardiansSFTP
	// for a file a person fetched from the SFTP folder (FetchGuardiansSFTP).
	Source string
	// Encoding overrides the district's guardians encoding; "" keeps it.
	Encoding string
	Progress func(Progress)
	// Samples is how many planned changes to keep per type and action.
	Samples int
	// Data is the file when it is in memory already (a preview's very
	// bytes): RunGuardiansFile's reader is then nil, and Data is parsed
	// where it is, not copied.
	Data []byte
}

// FileResult is a recorded upload and the file with each row's result and
// action (File is nil when the file could not be read at all).
type FileResult struct {
	Run     store.Run
	File    *guardians.File
	Samples []Sample
}

// GuardiansManagedError refuses a guardians file while Manage Guardians is
// on: the roster sync owns guardians then.
type GuardiansManagedError struct{ TenantID int64 }

func (e *GuardiansManagedError) Error() string {
	return fmt.Sprintf("district %d has \"Allow sync to manage Guardians\" on, so guardians come from ClassLink and a guardians file is refused; turn it off on District-Level Daily Sync to take guardians from guardians.csv", e.TenantID)
}

// RunGuardiansFile processes one uploaded guardians file: read → check
// against the directory → plan → threshold → apply → record, with the care
// of the roster sync (one run per district at a time, batches a kill
// leaves convergent, dry runs that write only their record). A file
// refused as a whole is recorded as a failed run with reason
// guardians_file and changes nothing. The error is for uploads that could
// not happen or be recorded. A panic is recovered as in Run.
func (e *Engine) RunGuardiansFile(ctx context.Context, tenantID int64, r io.Reader, opt FileOptions) (res FileResult, err error) {
	var rec store.Run
	defer func() {
		if v := recover(); v != nil {
			var rr Result
			rr, err = e.recovered(v, tenantID, rec)
			res = FileResult{Run: rr.Run}
		}
	}()
	return e.runGuardiansFile(ctx, tenantID, r, opt, &rec)
}

// runGuardiansFile is RunGuardiansFile; rec is the run record once it is
// started.
func (e *Engine) runGuardiansFile(ctx context.Context, tenantID int64, r io.Reader, opt FileOptions, rec *store.Run) (FileResult, error) {
	run, report, release, err := e.begin(tenantID, store.TriggerGuardiansFile, opt.DryRun, opt.Progress)
	if err != nil {
		return FileResult{}, err
	}
	defer release()
	freeSlot, err := e.fileSlot(ctx, false)
	if err != nil {
		return FileResult{}, err
	}
	defer freeSlot()
	d, err := e.DB.District(tenantID)
	if err != nil {
		return FileResult{}, err
	}
	if d.Settings.ManageGuardians {
		return FileResult{}, &GuardiansManagedError{TenantID: tenantID}
	}
	enc := opt.Encoding
	if enc == "" {
		enc = d.Guardians.Encoding
	}
	encoding, err := guardians.ParseEncoding(enc)
	if err != nil {
		return FileResult{}, err
	}
	run.ConfigRevision = d.Revision
	source := opt.Source
	if source == "" {
		source = store.GuardiansUpload
	}
	run.GuardiansFile = &store.GuardiansFileRun{Source: source, Name: opt.Name, Abandon: opt.Abandon}
	report(Progress{Phase: PhaseGuardiansFile})
	var f *guardians.File
	if r == nil {
		f, err = guardians.ReadBytes(opt.Data, guardians.Options{Encoding: encoding})
	} else {
		f, err = guardians.Read(r, guardians.Options{Encoding: encoding})
	}
	var refused *guardians.RefusedError
	switch {
	case errors.As(err, &refused):
		fileRefused(&run, f, err)
		res, err := e.record(run, nil)
		return FileResult{Run: res.Run}, err
	case err != nil:
		return FileResult{}, fmt.Errorf("read the guardians file: %w", err)
	}
	if run, err = e.DB.StartRun(run); err != nil {
		return FileResult{}, err
	}
	*rec = run
	run.Status = store.RunSucceeded
	samples, err := e.processFile(ctx, d, f, &run, fileStep{dryRun: opt.DryRun, abandon: opt.Abandon, samples: opt.Samples}, report)
	if err != nil {
		run.Status, run.Reason, run.Message = store.RunFailed, store.ReasonStorage, damageOf(err).Error()
	}
	res, err := e.record(run, samples)
	return FileResult{Run: res.Run, File: f, Samples: res.Samples}, err
}

// fileStep is how processFile goes.
type fileStep struct {
	dryRun, abandon bool
	samples         int
	// users is the directory to check against; nil is the stored one.
	users eachUser
}

// processFile checks f against the directory, plans it and, unless this
// is a dry run, applies it. It fills run's guardians_file section and adds
// to its counts; a file refused for its errors, or over the deletion
// threshold, fails the run (keeping an earlier failure's reason).
func (e *Engine) processFile(ctx context.Context, d store.District, f *guardians.File, run *store.Run, st fileStep, report func(Progress)) ([]Sample, error) {
	gf := run.GuardiansFile
	gf.Size, gf.FileSHA256 = f.Size, f.SHA256
	users := st.users
	if users == nil {
		users = func(fn func(store.DirectoryUser) error) error { return e.DB.EachDirectoryUser(d.TenantID, fn) }
	}
	fp := newFilePlan(newPlan(d, e.batchSize(), st.samples), f, st.abandon)
	facts, err := fp.collect(users)
	if err != nil {
		return nil, err
	}
	fp.check(facts)
	if err := f.CheckErrorShare(); err != nil {
		fileRefused(run, f, err)
		return nil, nil
	}
	report(Progress{Phase: PhasePlan})
	if err := fp.planWrites(users); err != nil {
		return nil, err
	}
	fp.checkThreshold()
	n := f.Count()
	c := fp.counts
	gf.Status, gf.Rows, gf.Errors, gf.Warnings = store.FileProcessed, n.Rows, n.Errors, n.Warnings
	gf.Created, gf.Updated, gf.Linked, gf.Unchanged = c.Created, c.Updated, c.Linked, c.Unchanged
	gf.Archived = fp.count(TypeGuardians).Archive
	for _, typ := range Types {
		for _, a := range store.Actions {
			*run.Counts.Of(typ).Of(a) += *fp.count(typ).Of(a)
		}
	}
	run.TriedToArchive.Guardians += fp.tried.Guardians
	if len(fp.over) > 0 {
		failRun(run, store.ReasonThreshold, fp.thresholdMessage())
	}
	if st.dryRun {
		return fp.samples.list, nil
	}
	if err := e.apply(ctx, *run, fp.plan, report); err != nil {
		if ctx.Err() == nil {
			return nil, err
		}
		run.Message = store.CancelledPrefix + "cancelled while applying the guardians file; processing it again completes the changes"
		run.Status, run.Reason = store.RunFailed, store.ReasonGuardiansFile
		gf.Status = store.FileFailed
		return fp.samples.list, nil
	}
	if len(fp.over) == 0 {
		state := store.GuardiansFileState{SHA256: f.SHA256, ConfigRevision: d.Revision, Abandon: st.abandon}
		if err := e.DB.MarkGuardiansFileApplied(d.TenantID, state); err != nil {
			return nil, err
		}
	}
	return fp.samples.list, nil
}

// fileRefused records a file refused as a whole (f may hold only its size
// and checksum, or be nil).
func fileRefused(run *store.Run, f *guardians.File, err error) {
	gf := run.GuardiansFile
	gf.Status, gf.Message = store.FileRefused, err.Error()
	if f != nil {
		gf.Size, gf.FileSHA256 = f.Size, f.SHA256
		if len(f.Rows) > 0 {
			n := f.Count()
			gf.Rows, gf.Errors, gf.Warnings = n.Rows, n.Errors, n.Warnings
		}
	}
	failRun(run, store.ReasonGuardiansFile, err.Error())
}

// failRun fails a run; a run that already failed keeps its reason and
// gains the message.
func failRun(run *store.Run, reason, message string) {
	if run.Status == store.RunFailed {
		run.Message += "; " + message
		return
	}
	run.Status, run.Reason, run.Message = store.RunFailed, reason, message
}

func (e *Engine) batchSize() int {
	if e.BatchSize <= 0 {
		return DefaultBatchSize
	}
	return e.BatchSize
}

// sampleStudents is how many of a district's students a sample file uses.
const sampleStudents = 3

// WriteSample writes a sample guardians.csv that uses some of the
// district's active students, so it can be uploaded as it is (the CLI's
// `guardians sample --district` and the wizard's Upload Guardians).
func WriteSample(w io.Writer, db *store.DB, tenantID int64) error {
	users, _, err := db.DirectoryUsers(tenantID, store.UserFilter{Kind: store.KindStudent, Status: store.StatusActive}, "", sampleStudents)
	if err != nil {
		return err
	}
	ids := make([]string, len(users))
	for i, u := range users {
		ids[i] = u.SourcedID
	}
	return guardians.WriteSample(w, ids)
}
