package sync

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	gosync "sync"
	"testing"
	"time"

	"github.com/schoolstatus/rostersync/classlink/classlinktest"
	"github.com/schoolstatus/rostersync/store"
	"github.com/schoolstatus/rostersync/store/storetest"
)

// reopen closes the fixture's database and opens it again, as a new
// process would: runs the old handle started and never finished now read
// as interrupted.
func (f *fixture) reopen() {
	f.t.Helper()
	path := f.db.Path()
	f.db.Close()
	db, err := store.Open(path, store.Options{})
	if err != nil {
		f.t.Fatal(err)
	}
	f.t.Cleanup(func() { db.Close() })
	f.db, f.engine.DB = db, db
}

// A run is recorded as running when it starts and notes each batch it
// commits: a process gone between two batches leaves an interrupted run
// that says how far it got, and the next run completes the changes.
func TestRunStoppedBetweenBatchesReadsAsInterrupted(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	batches := 0
	_, err := f.engine.Run(context.Background(), testTenant, RunOptions{Progress: func(p Progress) {
		if p.Applied > 0 { // the plan commits its writes as it walks
			if batches++; batches == 2 {
				f.db.Close() // the process goes away between two batches
			}
		}
	}})
	if err == nil {
		t.Fatal("the run finished on a closed database")
	}
	f.reopen()
	runs, _ := f.db.Runs(testTenant)
	killed := runs[len(runs)-1]
	if len(runs) != 1 || killed.Status != store.RunInterrupted || killed.Progress == nil || killed.Progress.Phase != PhasePlan ||
		killed.Progress.Applied != 2*f.engine.BatchSize || !strings.Contains(killed.Message, "interrupted") ||
		killed.FinishedAt.Before(killed.StartedAt) || killed.Applied() {
		t.Fatalf("killed run: %+v %+v", killed, killed.Progress)
	}
	next := f.mustSucceed()
	clean := newFixture(t, fixtureOptions{}).mustSucceed()
	// (Applied counts schools too, which runs do not count as changes.)
	if next.Counts.Changes() == 0 || next.Counts.Changes() > clean.Counts.Changes()-killed.Progress.Applied+len(f.mustDistrict().Schools) {
		t.Fatalf("the next run made %d changes; %d were committed before the stop of %d in a clean run",
			next.Counts.Changes(), killed.Progress.Applied, clean.Counts.Changes())
	}
	if r := f.run(RunOptions{}); r.Status != store.RunUnchanged {
		t.Fatalf("then: %s, want unchanged", r.Status)
	}
}

// A run interrupted while it applies is completed by the next one, which
// pulls only what changed: every run plans the whole roster against the
// whole directory, so the record's promise holds without a full pull.
func TestAnInterruptedApplyIsCompletedByAPullOfChanges(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	full := newTwin(t, f)
	f.mustSucceed()
	f.roster.AdvanceDay(classlinktest.DayChanges{NewStudents: 150, ContactEdits: 50})
	f.engine.BatchSize = 10
	batches := 0
	f.engine.Run(context.Background(), testTenant, RunOptions{Progress: func(p Progress) {
		if p.Applied > 0 {
			if batches++; batches == 2 {
				f.db.Close() // the process goes away
			}
		}
	}})
	f.reopen()
	killed, _, _ := f.db.LastRun(testTenant)
	if killed.Status != store.RunInterrupted || !strings.HasSuffix(killed.Message, "after 20 directory writes; the next run completes them") {
		t.Fatalf("the interrupted run: %s %q", killed.Status, killed.Message)
	}
	next, kind := pullKind(t, f.engine, RunOptions{})
	want, _ := pullKind(t, full.engine, RunOptions{})
	if kind != PassChanges || next.Status != store.RunSucceeded {
		t.Fatalf("the next run: %s, pulled %q", next.Status, kind)
	}
	if a, b := dumpDirectory(t, f.db, testTenant), dumpDirectory(t, full.db, testTenant); !a.equal(b) || want.Status != store.RunSucceeded {
		t.Fatalf("after the next run the directory differs from a clean sync's: %d/%d users, %d/%d memberships",
			len(a.Users), len(b.Users), len(a.Memberships), len(b.Memberships))
	}
	if r := f.run(RunOptions{}); r.Status != store.RunUnchanged {
		t.Fatalf("then: %s, want unchanged", r.Status)
	}
}

// The "unchanged" shortcut holds only when the latest finished apply run
// was applied: an interrupted one since may have changed part of the
// directory, even at the same roster revision and configuration.
func TestInterruptedApplyIsNotAnAppliedRun(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	first := f.mustSucceed()
	d := f.mustDistrict()
	if ok, err := f.engine.unchanged(d, first.PermRev); !ok || err != nil {
		t.Fatalf("right after an applied run: unchanged = %v, %v", ok, err)
	}
	if _, err := f.db.StartRun(store.Run{TenantID: testTenant, Mode: store.ModeApply, Trigger: store.TriggerManual,
		ConfigRevision: d.Revision, PermRev: first.PermRev, StartedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	f.reopen() // its process is gone
	if ok, err := f.engine.unchanged(d, first.PermRev); ok || err != nil {
		t.Fatalf("after an interrupted apply: unchanged = %v, %v", ok, err)
	}
	if r := f.run(RunOptions{}); r.Status != store.RunSucceeded {
		t.Fatalf("the run after the interrupted one: %s, want a full run", r.Status)
	}
	if r := f.run(RunOptions{}); r.Status != store.RunUnchanged {
		t.Fatalf("then: %s, want unchanged", r.Status)
	}
}

// A damaged directory page fails the run with reason storage and a
// message naming the file, in the history; the schedule then leaves the
// district alone until an operator acts (here: restores a backup).
func TestDamagedDirectoryFailsTheRunAndPausesTheSchedule(t *testing.T) {
	f, s, clock := scheduled(t, true)
	f.mustSucceed()
	path := f.db.Path()
	sound := filepath.Join(t.TempDir(), "sound.db")
	f.db.Close()
	storetest.Copy(t, path, sound)
	storetest.Apply(t, path, storetest.ZeroedDirectoryPage, testTenant)
	f.reopen()
	f.roster.AdvanceDay(classlinktest.DayChanges{NewStudents: 2})

	next, _ := NextDailyStart(store.DefaultSettings(), clock.Now())
	clock.Set(next)
	if ran := runDue(t, s); len(ran) != 1 {
		t.Fatalf("the scheduled run did not start: %v", ran)
	}
	last, _, _ := f.db.LastRun(testTenant)
	if last.Trigger != store.TriggerSchedule || last.Status != store.RunFailed || last.Reason != store.ReasonStorage ||
		!strings.Contains(last.Message, "the database "+path+" is damaged (") || !strings.HasSuffix(last.Message, "run rostersync db check") {
		t.Fatalf("scheduled run on a damaged file: %+v", last)
	}
	// A new process's scheduler too leaves the district alone, day after day.
	restarted := &Scheduler{Engine: f.engine, Clock: clock}
	for day := 1; day <= 2; day++ {
		clock.Set(next.Add(time.Duration(day) * 24 * time.Hour))
		if ran := runDue(t, restarted); len(ran) != 0 {
			t.Fatalf("day %d: retried a damaged district: %v", day, ran)
		}
	}
	// The operator restores the backup and restarts: the schedule resumes.
	f.db.Close()
	storetest.Copy(t, sound, path)
	f.reopen()
	if ran := runDue(t, &Scheduler{Engine: f.engine, Clock: clock}); len(ran) != 1 {
		t.Fatalf("after the restore: %v", ran)
	}
	if last, _, _ := f.db.LastRun(testTenant); last.Status != store.RunSucceeded {
		t.Fatalf("after the restore: %+v", last)
	}
}

// A database whose district list cannot be read is reported once, not
// at every recheck, and the loop goes on.
func TestSchedulerReportsAnUnreadableDatabaseOnce(t *testing.T) {
	f, s, clock := scheduled(t, true)
	// The file is cut while the server has it open: every read faults.
	if err := os.Truncate(f.db.Path(), 8192); err != nil {
		t.Fatal(err)
	}
	reports := make(chan error, 10)
	s.OnRun = func(_ int64, _ Result, err error) { reports <- err }
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- s.Run(ctx) }()
	for range 3 {
		<-clock.waiting
		clock.Set(clock.Now().Add(DefaultRecheck))
	}
	<-clock.waiting
	cancel()
	<-done
	close(reports)
	var got []error
	for err := range reports {
		got = append(got, err)
	}
	if len(got) != 1 || !errors.Is(got[0], store.ErrDamaged) {
		t.Fatalf("reports over four rounds: %v", got)
	}
}

// A scheduled run interrupted by the server going down is made up once at
// the next start; a second interrupted run for the same day counts as the
// day's run, so a run that takes the server down is not retried forever.
func TestInterruptedScheduledRunIsMadeUpOnce(t *testing.T) {
	f, _, clock := scheduled(t, true)
	next, _ := NextDailyStart(store.DefaultSettings(), clock.Now())
	clock.Set(next)
	interrupt := func() {
		t.Helper()
		if _, err := f.db.StartRun(store.Run{TenantID: testTenant, Mode: store.ModeApply, Trigger: store.TriggerSchedule,
			ConfigRevision: 1, StartedAt: clock.Now()}); err != nil {
			t.Fatal(err)
		}
		f.reopen() // killed; the server restarts
	}
	interrupt()
	clock.Set(next.Add(10 * time.Minute))
	restarted := &Scheduler{Engine: f.engine, Clock: clock}
	if due, err := restarted.due(f.mustDistrict()); err != nil || !due.Equal(next) {
		t.Fatalf("after one interrupted run: due %v, %v; want it made up", due, err)
	}
	interrupt()
	clock.Set(next.Add(20 * time.Minute))
	if ran := runDue(t, &Scheduler{Engine: f.engine, Clock: clock}); len(ran) != 0 {
		t.Fatalf("after two interrupted runs for the same start: ran %v", ran)
	}
	tomorrow := next.Add(24 * time.Hour)
	clock.Set(tomorrow)
	if ran := runDue(t, &Scheduler{Engine: f.engine, Clock: clock}); len(ran) != 1 {
		t.Fatalf("the next day: ran %v", ran)
	}
}

// A backup taken while a run applies is a consistent database: it checks
// clean, shows the run as interrupted (its process, as far as the copy
// knows, is gone), and a run on the restored copy brings its directory to
// exactly what the live database has after the run.
func TestBackupWhileARunAppliesThenRestore(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	f.engine.BatchSize = 10
	applying := make(chan struct{})
	var once gosync.Once
	done := make(chan store.Run)
	go func() {
		res, err := f.engine.Run(context.Background(), testTenant, RunOptions{Progress: func(p Progress) {
			if p.Applied > 0 {
				once.Do(func() { close(applying) })
				time.Sleep(2 * time.Millisecond) // keep the run going while the backup reads
			}
		}})
		if err != nil {
			t.Error(err)
		}
		done <- res.Run
	}()
	<-applying
	path := filepath.Join(t.TempDir(), "backup.db")
	if _, err := f.db.Backup(path, false); err != nil {
		t.Fatal(err)
	}
	run := <-done
	if run.Status != store.RunSucceeded {
		t.Fatalf("the live run: %+v", run)
	}
	live := dumpDirectory(t, f.db, testTenant)

	restored, err := store.Open(path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer restored.Close()
	if r := restored.Check(); !r.OK() {
		t.Fatalf("the backup's check: %+v", r)
	}
	copied := dumpDirectory(t, restored, testTenant)
	last, _, _ := restored.LastRun(testTenant)
	records := func(d directory) int { return len(d.Schools) + len(d.Classrooms) + len(d.Users) + len(d.Memberships) }
	if last.Status != store.RunInterrupted || records(copied) == 0 || records(copied) >= records(live) {
		t.Fatalf("the backup taken mid-run: last run %s, %d records (live: %d)", last.Status, records(copied), records(live))
	}
	again := &Engine{DB: restored, Dial: f.dial, BatchSize: 100}
	res, err := again.Run(context.Background(), testTenant, RunOptions{})
	if err != nil || res.Run.Status != store.RunSucceeded {
		t.Fatalf("run on the restored copy: %+v %v", res.Run, err)
	}
	if got := dumpDirectory(t, restored, testTenant); !got.equal(live) {
		t.Fatalf("the restored copy after a run differs from the live directory: %d/%d users, %d/%d memberships",
			len(got.Users), len(live.Users), len(got.Memberships), len(live.Memberships))
	}
}

// A run cancelled by its caller (ctrl+c, a server stopping) after the
// plan committed some of its writes records what it committed: counts
// that the next run's add up to a clean run's, reason cancelled (not
// upstream, which says nothing changed). Cancelled while applying the
// archives, it counts the archives committed too. Cancelled before any
// write it stays upstream with nothing counted.
func TestACancelledRunRecordsTheChangesItCommitted(t *testing.T) {
	cancelAt := func(f *fixture, stop func(Progress) bool) store.Run {
		t.Helper()
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		res, err := f.engine.Run(ctx, testTenant, RunOptions{Progress: func(p Progress) {
			if stop(p) {
				cancel()
			}
		}})
		if err != nil {
			t.Fatal(err)
		}
		return res.Run
	}
	sum := func(a, b store.RunCounts) store.RunCounts {
		for _, typ := range Types {
			for _, act := range store.Actions {
				*a.Of(typ).Of(act) += *b.Of(typ).Of(act)
			}
		}
		return a
	}
	clean := newFixture(t, fixtureOptions{})
	first := clean.mustSucceed()

	t.Run("while planning", func(t *testing.T) {
		f := newFixture(t, fixtureOptions{})
		r := cancelAt(f, func(p Progress) bool { return p.Phase == PhasePlan && p.Applied >= 2*f.engine.BatchSize })
		d := dumpDirectory(t, f.db, testTenant)
		if r.Status != store.RunFailed || r.Reason != store.ReasonCancelled || !r.Cancelled() ||
			!strings.Contains(r.Message, "directory writes were committed") || !strings.Contains(r.Message, "the next run completes the rest") {
			t.Fatalf("run: %s/%s %q", r.Status, r.Reason, r.Message)
		}
		users := r.Counts.Students.Create + r.Counts.Staff.Create + r.Counts.Guardians.Create
		if r.Counts.Changes() == 0 || users != len(d.Users) || r.Counts.Classrooms.Create != len(d.Classrooms) ||
			r.Counts.Memberships.Create != len(d.Memberships) || r.Counts.Changes() >= first.Counts.Changes() {
			t.Fatalf("counts %+v for %d users, %d classrooms, %d memberships in the directory", r.Counts, len(d.Users), len(d.Classrooms), len(d.Memberships))
		}
		next := f.mustSucceed()
		if got := sum(r.Counts, next.Counts); got != first.Counts {
			t.Errorf("the cancelled run's counts and the next run's add up to %+v, a clean run's are %+v", got, first.Counts)
		}
	})

	t.Run("while applying the archives", func(t *testing.T) {
		f := newFixture(t, fixtureOptions{})
		f.mustSucceed()
		f.roster.AdvanceDay(classlinktest.DayChanges{Withdrawn: 40, DroppedClasses: 2})
		f.engine.BatchSize = 10
		r := cancelAt(f, func(p Progress) bool { return p.Phase == PhaseApply && p.ToApply > 0 && p.Applied >= 30 })
		archived := 0
		for _, u := range dumpDirectory(t, f.db, testTenant).Users {
			archived += btoi(!u.Active())
		}
		if r.Reason != store.ReasonCancelled || r.Counts.Students.Archive+r.Counts.Guardians.Archive != archived || archived == 0 {
			t.Fatalf("run: %s/%s %q, counts %+v, %d users archived", r.Status, r.Reason, r.Message, r.Counts, archived)
		}
		next := f.mustSucceed()
		clean := newFixture(t, fixtureOptions{})
		clean.mustSucceed()
		clean.roster.AdvanceDay(classlinktest.DayChanges{Withdrawn: 40, DroppedClasses: 2})
		if got, want := sum(r.Counts, next.Counts), clean.mustSucceed().Counts; got != want {
			t.Errorf("the cancelled run's counts and the next run's add up to %+v, a clean run's are %+v", got, want)
		}
	})

	t.Run("before any change", func(t *testing.T) {
		f := newFixture(t, fixtureOptions{})
		r := cancelAt(f, func(p Progress) bool { return p.Phase == PhasePlan })
		if r.Reason != store.ReasonUpstream || !r.Cancelled() || r.Counts != (store.RunCounts{}) || len(dumpDirectory(t, f.db, testTenant).Users) != 0 {
			t.Fatalf("run: %s/%s %q, counts %+v", r.Status, r.Reason, r.Message, r.Counts)
		}
	})
}
