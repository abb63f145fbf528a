package sync

import (
	"context"
	"errors"
	"fmt"
	"slices"
	gosync "sync"
	"time"

	"charm.land/log/v2"

	"github.com/schoolstatus/rostersync/classlink"
	"github.com/schoolstatus/rostersync/store"
)

// DefaultBatchSize is how many directory writes one transaction commits.
const DefaultBatchSize = 10_000

// DefaultRunBudget is Engine.RunBudget's default.
const DefaultRunBudget = 30 * time.Minute

// Limits of a run budget a person may set (the --time-budget flags).
const (
	MinRunBudget = time.Minute
	MaxRunBudget = 24 * time.Hour
)

// CheckRunBudget says what is wrong with a budget a person typed.
func CheckRunBudget(d time.Duration) error {
	if d < MinRunBudget || d > MaxRunBudget {
		return fmt.Errorf("must be between %s and %s (e.g. 45m), got %s", MinRunBudget, MaxRunBudget, d)
	}
	return nil
}

// errRunBudget is the cause of a run context whose budget ran out.
var errRunBudget = errors.New("the run's time budget ran out")

// Engine runs syncs against one database. Use one per process: it is what
// refuses a second concurrent run of a district. The zero value of every
// field but DB is usable.
type Engine struct {
	DB *store.DB
	// Now is the clock runs are stamped with; nil means time.Now.
	Now func() time.Time
	// Dial makes the ClassLink client for a district: the process's
	// Dialer.Dial. Nil fails every run with reason credentials.
	Dial DialFunc
	// BatchSize is the directory writes per transaction; 0 means DefaultBatchSize.
	BatchSize int
	// SFTPDial opens connections to districts' SFTP guardians folders;
	// nil uses a net.Dialer.
	SFTPDial SFTPDialFunc
	// RunBudget bounds a run from its start until it begins to change the
	// directory: the x-perm-rev check and the pull, with every wait
	// ClassLink asks for (Retry-After). Past it the run fails with reason
	// upstream and changes nothing; a wait that would end past it is not
	// started. The plan (which commits as it goes) and the archives that
	// follow are not cut off; reading guardians.csv from an SFTP folder
	// has what is left of it, and at least SFTPFloor (sftpTime). 0 means
	// DefaultRunBudget.
	RunBudget time.Duration
	// Log hears what the operator of a long-running process should see
	// beside the run records: warnings about the kept rosters (also in
	// the run's message). Nil logs nothing.
	Log *log.Logger
	// FullPullEvery is how old the last full pull may be before a run
	// pulls everything again instead of only what changed; 0 means
	// DefaultFullPullEvery.
	FullPullEvery time.Duration
	// GuardiansFiles bounds the guardians files read or processed at once
	// (see fileSlot); 0 means DefaultGuardiansFiles.
	GuardiansFiles int

	mu      gosync.Mutex
	running map[int64]Running
	files   chan struct{} // fileSlot's slots, made on first use
}

// Running is a sync in progress, as Engine.Running lists it.
type Running struct {
	TenantID int64
	Mode     string // store.ModeApply or store.ModeDryRun
	Trigger  string
	Since    time.Time
}

// Running lists the syncs in progress, oldest first: what a stopping
// server cancels.
func (e *Engine) Running() []Running {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make([]Running, 0, len(e.running))
	for _, r := range e.running {
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b Running) int { return a.Since.Compare(b.Since) })
	return out
}

// RunOptions choose how one run goes.
type RunOptions struct {
	// DryRun plans and records the run but writes nothing to the directory.
	DryRun bool
	// Trigger is store.TriggerManual (the default) or store.TriggerSchedule.
	Trigger string
	// Progress, when set, is called as the run moves on.
	Progress func(Progress)
	// Samples is how many planned changes to keep per type and action for
	// a preview; 0 keeps none.
	Samples int
	// FullPull pulls the whole roster even where a pull of what changed
	// since the last run would do.
	FullPull bool
}

// Result is a recorded run and the samples of its plan.
type Result struct {
	Run     store.Run
	Samples []Sample
}

// BusyError refuses a run while another run of the same district is going.
type BusyError struct {
	TenantID int64
	Since    time.Time
}

// NoSchoolsError: the district has no school connected to the SIS, so
// there is nothing to sync yet. No run is recorded.
type NoSchoolsError struct{ TenantID int64 }

func (e *NoSchoolsError) Error() string {
	return fmt.Sprintf("no school of district %d is connected to the SIS yet, so there is nothing to sync: choose the schools in Settings → SIS Rostering → School connection to SIS (or \"schools\" in config import)", e.TenantID)
}

func (e *BusyError) Error() string {
	return fmt.Sprintf("a sync of district %d is already running since %s", e.TenantID, e.Since.Local().Format(time.DateTime))
}

// Run syncs one district: pull → plan → check → apply → record. A run is
// recorded as started (its own small transaction) once the district is
// read, notes how far it got as it goes, and is finished with its outcome:
// a process killed meanwhile leaves a record history shows as interrupted.
// Every recorded run, failed ones too, is returned with a nil error: look
// at Result.Run.Status and Reason (storage when the database could not be
// read or written, e.g. a damaged file). The error is for runs that could
// not happen or be recorded (no such district, a *BusyError, a *NoSchoolsError, a
// database too damaged to take the record).
//
// A panic in the run is recovered here (recover.go): the run is recorded
// failed with reason internal and the stack goes to Log.
func (e *Engine) Run(ctx context.Context, tenantID int64, opt RunOptions) (res Result, err error) {
	var rec store.Run
	defer func() {
		if v := recover(); v != nil {
			res, err = e.recovered(v, tenantID, rec)
		}
	}()
	return e.run(ctx, tenantID, opt, &rec)
}

// run is Run; rec is the run record once it is started.
func (e *Engine) run(ctx context.Context, tenantID int64, opt RunOptions, rec *store.Run) (Result, error) {
	switch opt.Trigger {
	case "":
		opt.Trigger = store.TriggerManual
	case store.TriggerManual, store.TriggerSchedule:
	default:
		return Result{}, fmt.Errorf("trigger: must be %q or %q, got %q", store.TriggerManual, store.TriggerSchedule, opt.Trigger)
	}
	run, report, release, err := e.begin(tenantID, opt.Trigger, opt.DryRun, opt.Progress)
	if err != nil {
		return Result{}, err
	}
	defer release()
	d, err := e.DB.District(tenantID)
	if errors.Is(err, store.ErrDamaged) {
		// Record the failure where the runs are still readable, so that
		// history and the scheduler see it.
		run.Status, run.Reason, run.Message, run.FinishedAt = store.RunFailed, store.ReasonStorage, damageOf(err).Error(), e.now()
		if saved, recErr := e.DB.RecordRun(run); recErr == nil {
			return Result{Run: saved}, nil
		}
	}
	if err != nil {
		return Result{}, err
	}
	if len(d.Schools) == 0 {
		// Not a run: nothing is asked of ClassLink, and nothing is missing
		// from it (that would be schools_not_found).
		return Result{}, &NoSchoolsError{TenantID: tenantID}
	}
	run.ConfigRevision = d.Revision
	if run, err = e.DB.StartRun(run); err != nil {
		return Result{}, err
	}
	*rec = run
	budget := e.runBudget()
	// bctx bounds everything until the directory is changed.
	bctx, cancel := context.WithTimeoutCause(ctx, budget, errRunBudget)
	defer cancel()
	// warnings are told in the run's message whatever its outcome.
	var warnings []string
	warn := func(msg string) {
		warnings = append(warnings, msg)
		if e.Log != nil {
			e.Log.Warn("sync: "+msg, "district", tenantID)
		}
	}
	finish := func(samples []Sample) (Result, error) {
		for _, w := range warnings {
			note(&run, "warning: "+w)
		}
		return e.record(run, samples)
	}
	fail := func(reason string, err error) (Result, error) {
		run.Status, run.Reason, run.Message = store.RunFailed, reason, err.Error()
		switch {
		case reason == store.ReasonStorage:
		case ctx.Err() != nil:
			run.Message = store.CancelledPrefix + run.Message
		case context.Cause(bctx) == errRunBudget || errors.Is(err, classlink.ErrOutOfTime):
			run.Reason = store.ReasonUpstream
			run.Message = fmt.Sprintf("the run used up its time budget of %s before changing anything, so nothing was changed; "+
				"ClassLink answered too slowly or asked to wait too long (%s). Try again later, or allow more time with --time-budget", budget, err)
		}
		return finish(nil)
	}
	storage := func(err error) (Result, error) { return fail(store.ReasonStorage, damageOf(err)) }

	client, err := e.dial(bctx, d)
	if err != nil {
		return fail(store.ReasonCredentials, err)
	}
	report(Progress{Phase: PhaseCheck})
	rev, err := permRev(bctx, client)
	if err != nil {
		return fail(pullReason(bctx, err), err)
	}
	// A full pull asked for is done whatever the revisions say: it is how a
	// person repairs a directory they do not trust.
	unchanged := false
	if !opt.FullPull {
		if unchanged, err = e.unchanged(d, rev); err != nil {
			return storage(err)
		}
	}
	if unchanged {
		run.Status, run.PermRev = store.RunUnchanged, rev
		if sftpDue(d) {
			samples, err := e.sftpStep(ctx, d, &run, opt.DryRun, false, nil, opt.Samples, report)
			if err != nil {
				return storage(err)
			}
			if run.Status == store.RunUnchanged && run.Counts.Changes() > 0 {
				run.Status = store.RunSucceeded
			}
			return e.record(run, samples)
		}
		return e.record(run, nil)
	}

	prev, why, err := e.lastPulled(d, opt, warn)
	if err != nil {
		return storage(err)
	}
	pulled, orgs, err := e.pull(bctx, client, d, prev, why, warn, report)
	if err != nil {
		var missing *missingSchoolsError
		if errors.As(err, &missing) {
			return fail(store.ReasonSchoolsNotFound, err)
		}
		return fail(pullReason(bctx, err), err)
	}
	if !opt.DryRun {
		if err := e.keepPulled(d.TenantID, pulled, warn); err != nil {
			return storage(err)
		}
	}
	ros := buildRoster(pulled, orgs)
	pulled = nil
	run.PermRev = ros.permRev

	report(Progress{Phase: PhasePlan})
	if err := e.DB.NoteRunProgress(run, store.RunProgress{Phase: PhasePlan, At: e.now()}); err != nil {
		return storage(err)
	}
	if refusal, err := refuseEmpty(e.DB, tenantID, ros.pulled); err != nil {
		return storage(err)
	} else if refusal != nil {
		return fail(store.ReasonUpstream, refusal)
	}
	if bctx.Err() != nil { // the budget ran out as the pull ended
		return fail(store.ReasonUpstream, context.Cause(bctx))
	}
	p := newPlan(d, e.batchSize(), opt.Samples)
	p.keepUsers = opt.DryRun && sftpDue(d)
	p.commitAsItGoes(ctx, e.DB, opt.DryRun, report)
	p.noteRun = func(b *store.DirectoryBatch, applied int) {
		b.ForRun(run, store.RunProgress{Phase: PhasePlan, Applied: applied, At: e.now()})
	}
	// stopped ends a run whose walk or apply failed: on the database, or
	// cancelled by its caller, maybe after committing changes.
	stopped := func(phase string, err error) (Result, error) {
		switch {
		case ctx.Err() == nil:
			return storage(err)
		case opt.DryRun || p.written == 0:
			return fail(store.ReasonUpstream, fmt.Errorf("cancelled while applying; the next run completes the changes: %w", err))
		}
		run.Status, run.Reason, run.Counts = store.RunFailed, store.ReasonCancelled, p.committed
		run.Message = fmt.Sprintf("%sstopped while %s, after %d directory writes were committed (the counts are those changes); the next run completes the rest",
			store.CancelledPrefix, phase, p.written)
		return finish(nil)
	}
	if err := p.walk(e.DB, ros); err != nil {
		return stopped(store.PhasePlanning, err)
	}
	ros = nil // what is left to do are the archives; let the roster go
	p.checkThreshold()
	run.Counts, run.TriedToArchive, run.Warnings = p.counts, p.tried, p.warnings
	run.Status = store.RunSucceeded
	if len(p.over) > 0 {
		run.Status, run.Reason, run.Message = store.RunFailed, store.ReasonThreshold, p.thresholdMessage()
	}
	if !opt.DryRun {
		if err := e.apply(ctx, run, p, report); err != nil {
			return stopped(store.PhaseApplying, err)
		}
	}
	samples := p.samples.list
	if sftpDue(d) {
		var users eachUser
		if opt.DryRun {
			users = overlaid(func(fn func(store.DirectoryUser) error) error { return e.DB.EachDirectoryUser(d.TenantID, fn) }, p)
		}
		changed := len(p.overlay)+len(p.overlayArchives) > 0 || userChanges(run.Counts) > 0
		more, err := e.sftpStep(ctx, d, &run, opt.DryRun, changed, users, opt.Samples, report)
		if err != nil {
			return storage(err)
		}
		samples = append(samples, more...)
	}
	return finish(samples)
}

// userChanges counts a run's planned changes to users.
func userChanges(c store.RunCounts) int {
	return c.Students.Changes() + c.Staff.Changes() + c.Guardians.Changes()
}

func (e *Engine) runBudget() time.Duration {
	if e.RunBudget <= 0 {
		return DefaultRunBudget
	}
	return e.RunBudget
}

func (e *Engine) now() time.Time {
	now := time.Now
	if e.Now != nil {
		now = e.Now
	}
	return now().UTC().Truncate(time.Millisecond)
}

func (e *Engine) dial(ctx context.Context, d store.District) (*classlink.Client, error) {
	if e.Dial == nil {
		return nil, errors.New("this process has no way to reach ClassLink (no dialer)")
	}
	return e.Dial(ctx, d)
}

// claim marks the district as running, or says since when it already is.
func (e *Engine) claim(r Running) (release func(), err error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if other, busy := e.running[r.TenantID]; busy {
		return nil, &BusyError{TenantID: r.TenantID, Since: other.Since}
	}
	if e.running == nil {
		e.running = map[int64]Running{}
	}
	e.running[r.TenantID] = r
	return func() {
		e.mu.Lock()
		defer e.mu.Unlock()
		delete(e.running, r.TenantID)
	}, nil
}

// begin claims the district for a run of trigger (claim) and makes its
// record, not stored yet: the mode and the start time. report is progress,
// or nothing for nil.
func (e *Engine) begin(tenantID int64, trigger string, dryRun bool, progress func(Progress)) (run store.Run, report func(Progress), release func(), err error) {
	run = store.Run{TenantID: tenantID, Mode: store.ModeApply, Trigger: trigger, StartedAt: e.now()}
	if dryRun {
		run.Mode = store.ModeDryRun
	}
	if release, err = e.claim(Running{TenantID: tenantID, Mode: run.Mode, Trigger: trigger, Since: run.StartedAt}); err != nil {
		return store.Run{}, nil, nil, err
	}
	if report = progress; report == nil {
		report = func(Progress) {}
	}
	return run, report, release, nil
}

// record finishes the started run with its outcome, or records a run
// that ended before it started (a guardians file refused as it was read).
func (e *Engine) record(run store.Run, samples []Sample) (Result, error) {
	run.FinishedAt = e.now()
	finish := e.DB.FinishRun
	if run.ID == "" {
		finish = e.DB.RecordRun
	}
	saved, err := finish(run)
	if err != nil {
		return Result{}, err
	}
	return Result{Run: saved, Samples: samples}, nil
}

// damageOf is the *store.DamagedError inside err (the plan joins the
// errors of several walks, often the same damage), or err itself.
func damageOf(err error) error {
	var damaged *store.DamagedError
	if errors.As(err, &damaged) {
		return damaged
	}
	return err
}

// pullReason is the failure reason of a pull error; a run cancelled by its
// caller is "upstream", as the pull never finished.
func pullReason(ctx context.Context, err error) string {
	if ctx.Err() != nil {
		return store.ReasonUpstream
	}
	return classlink.Reason(err)
}

// errStop ends the one-record request of permRev.
var errStop = errors.New("stop")

// permRev reads x-perm-rev with one request for one org.
func permRev(ctx context.Context, c *classlink.Client) (string, error) {
	info, err := c.Orgs(ctx, classlink.ListOptions{PageSize: 1, Fields: []string{"sourcedId"}}, func(classlink.Org) error { return errStop })
	if err != nil && !errors.Is(err, errStop) {
		return "", err
	}
	return info.PermRev, nil
}

// unchanged reports whether the district's latest finished apply run
// brought the directory to this roster revision and configuration, with no
// hand edit since it started. An apply run that failed or was interrupted
// since then may have changed part of the directory: the next one plans
// again (the whole roster against the whole directory, however it was
// pulled), which completes it.
func (e *Engine) unchanged(d store.District, rev string) (bool, error) {
	if rev == "" {
		return false, nil // a server without x-perm-rev: always pull
	}
	var last store.Run
	err := e.DB.EachRunNewestFirst(d.TenantID, func(r store.Run) bool {
		if r.Mode != store.ModeApply || r.Status == store.RunRunning {
			return true // a preview, or this very run
		}
		last = r
		return false
	})
	if err != nil || !last.Applied() || last.PermRev != rev || last.ConfigRevision != d.Revision {
		return false, err
	}
	edited, err := e.DB.HandEditedAt(d.TenantID)
	if err != nil {
		return false, err
	}
	return !edited.After(last.StartedAt), nil
}

// walk plans every section of the directory against the roster, committing
// creates, updates and unarchives as it goes; memberships come last, as
// they depend on which classrooms stay archived.
func (p *plan) walk(db *store.DB, r *roster) error {
	for _, section := range []func(*store.DB, *roster) error{p.planSchools, p.planClassrooms, p.planUsers, p.planMemberships} {
		if err := section(db, r); err != nil {
			return err
		}
	}
	p.commit()
	return p.err
}

// refuseEmpty refuses a roster in which a whole collection is empty while
// the directory has active records of it: a ClassLink hiccup, not everyone
// leaving the district (DESIGN §3). It runs before anything is written;
// only an empty collection costs a scan of its section.
func refuseEmpty(db *store.DB, tenantID int64, n pulledCounts) (refusal, err error) {
	if n.users == 0 {
		active := 0
		err = db.EachDirectoryUser(tenantID, func(u store.DirectoryUser) error {
			active += btoi(u.Managed && u.Active())
			return nil
		})
		if err != nil || active > 0 {
			return fmt.Errorf("ClassLink sent no users at all while the directory has %d active ones; refusing to treat that as everyone leaving", active), err
		}
	}
	if n.classes == 0 {
		active := 0
		err = db.EachClassroom(tenantID, func(c store.Classroom) error {
			active += btoi(c.Managed && c.Active())
			return nil
		})
		if err != nil || active > 0 {
			return fmt.Errorf("ClassLink sent no classes at all while the directory has %d active classrooms; refusing to treat that as every class ending", active), err
		}
	}
	if n.enrollments == 0 {
		active := 0
		err = db.EachMembership(tenantID, func(m store.Membership) error {
			active += btoi(m.Status == store.StatusActive)
			return nil
		})
		if err != nil || active > 0 {
			return fmt.Errorf("ClassLink sent no enrollments at all while the directory has %d active memberships; refusing to treat that as every enrollment ending", active), err
		}
	}
	return nil, nil
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}
