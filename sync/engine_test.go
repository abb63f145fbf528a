package sync

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/schoolstatus/rostersync/classlink"
	"github.com/schoolstatus/rostersync/classlink/classlinktest"
	"github.com/schoolstatus/rostersync/store"
)

func TestUpstreamFaultsLeaveTheDirectoryUntouched(t *testing.T) {
	cases := []struct {
		name   string
		fault  classlinktest.Fault
		reason string
		slow   bool // shorten the request timeout
	}{
		{"401 on users", classlinktest.Fault{Kind: classlinktest.FaultUnauthorized, Endpoint: "users"}, store.ReasonCredentials, false},
		{"401 everywhere", classlinktest.Fault{Kind: classlinktest.FaultUnauthorized}, store.ReasonCredentials, false},
		{"429 until giving up", classlinktest.Fault{Kind: classlinktest.FaultRateLimit, Endpoint: "enrollments", RetryAfter: "1"}, store.ReasonUpstream, false},
		{"500 until giving up", classlinktest.Fault{Kind: classlinktest.FaultServerError, Endpoint: "users"}, store.ReasonUpstream, false},
		{"502 until giving up", classlinktest.Fault{Kind: classlinktest.FaultBadGateway, Endpoint: "classes"}, store.ReasonUpstream, false},
		{"missing envelope", classlinktest.Fault{Kind: classlinktest.FaultMissingEnvelope, Endpoint: "classes", Times: 1}, store.ReasonUpstream, false},
		{"empty page short of the total", classlinktest.Fault{Kind: classlinktest.FaultEmptyPage, Endpoint: "users", Times: 1}, store.ReasonUpstream, false},
		{"connection cut mid-page every time", classlinktest.Fault{Kind: classlinktest.FaultCutConnection, Endpoint: "enrollments"}, store.ReasonUpstream, false},
		{"revision flips on every pull", classlinktest.Fault{Kind: classlinktest.FaultRevisionFlip, Endpoint: "users"}, store.ReasonUpstream, false},
		{"slow responses time out", classlinktest.Fault{Kind: classlinktest.FaultDelay, Endpoint: "users", Delay: 2 * time.Second}, store.ReasonUpstream, true},
		{"suddenly no users", classlinktest.Fault{Kind: classlinktest.FaultEmptyCollection, Endpoint: "users"}, store.ReasonUpstream, false},
		{"suddenly no enrollments", classlinktest.Fault{Kind: classlinktest.FaultEmptyCollection, Endpoint: "enrollments"}, store.ReasonUpstream, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, fixtureOptions{})
			f.mustSucceed()
			before := dumpDirectory(t, f.db, testTenant)
			f.roster.AdvanceDay(classlinktest.DayChanges{NewStudents: 2, Withdrawn: 2, ContactEdits: 3, NewClasses: 1})
			if tc.slow {
				f.timeout = 200 * time.Millisecond
			}
			f.srv.ResetRequests()
			f.srv.Inject(tc.fault)
			r := f.run(RunOptions{})
			if r.Status != store.RunFailed || r.Reason != tc.reason || r.Message == "" {
				t.Fatalf("run: %s %q %q, want failed %q", r.Status, r.Reason, r.Message, tc.reason)
			}
			if strings.Contains(r.Message, "test-secret-value") {
				t.Fatalf("the message shows the secret: %s", r.Message)
			}
			if r.Counts != (store.RunCounts{}) {
				t.Errorf("a failed pull has counts %+v", r.Counts)
			}
			if !dumpDirectory(t, f.db, testTenant).equal(before) {
				t.Fatal("the directory changed")
			}
			if last, ok, _ := f.db.LastRun(testTenant); !ok || last.ID != r.ID || last.Reason != tc.reason {
				t.Fatalf("last run = %+v", last)
			}
			if tc.fault.Kind == classlinktest.FaultRevisionFlip {
				// One x-perm-rev check, then the pull and its 3 restarts.
				if n := len(f.srv.RequestsTo("orgs")); n != 1+4 {
					t.Errorf("%d requests to orgs, want 5", n)
				}
			}
			// Once ClassLink behaves, the same day syncs.
			f.srv.ClearFaults()
			f.timeout = 5 * time.Second
			if r := f.mustSucceed(); r.Counts.Students.Create != 2 || r.Counts.Students.Archive != 2 {
				t.Errorf("recovery run: %+v", r.Counts)
			}
		})
	}
}

func TestRevisionFlipWithinLimitRestartsAndSucceeds(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	f.srv.Inject(classlinktest.Fault{Kind: classlinktest.FaultRevisionFlip, Endpoint: "enrollments", Times: 2})
	var attempts []int
	r, err := f.engine.Run(context.Background(), testTenant, RunOptions{Progress: func(p Progress) {
		if p.Phase == PhasePull && p.Collection == "orgs" {
			attempts = append(attempts, p.Attempt)
		}
	}})
	if err != nil || r.Run.Status != store.RunSucceeded || r.Run.Counts.Students.Create != 200 {
		t.Fatalf("run: %+v %v", r.Run, err)
	}
	if len(attempts) != 3 || attempts[2] != 3 || r.Run.PermRev != f.roster.Revision() {
		t.Fatalf("attempts %v, perm rev %q of %q", attempts, r.Run.PermRev, f.roster.Revision())
	}
}

// A page that repeats a record of the previous one (the server's order
// shifted) also hid another record: the pull starts over, and a run whose
// pages never agree fails without touching the directory.
func TestRepeatedRecordsRestartThePull(t *testing.T) {
	clean := newFixture(t, fixtureOptions{})
	want := clean.mustSucceed()
	for _, tc := range []struct {
		endpoint string
		pageSize int
	}{{"orgs", 2}, {"classes", 7}, {"users", 100}, {"enrollments", 100}} {
		t.Run(tc.endpoint, func(t *testing.T) {
			f := newFixture(t, fixtureOptions{})
			f.pageSize = tc.pageSize
			f.srv.Inject(classlinktest.Fault{Kind: classlinktest.FaultOrderShift, Endpoint: tc.endpoint, Times: 1})
			var attempts []int
			res, err := f.engine.Run(context.Background(), testTenant, RunOptions{Progress: func(p Progress) {
				if p.Phase == PhasePull && p.Collection == "orgs" {
					attempts = append(attempts, p.Attempt)
				}
			}})
			if err != nil || res.Run.Status != store.RunSucceeded || res.Run.Counts != want.Counts {
				t.Fatalf("run: %+v %v; want the counts of a clean run %+v", res.Run, err, want.Counts)
			}
			if len(attempts) == 0 || attempts[len(attempts)-1] != 2 {
				t.Errorf("pull attempts %v, want one restart", attempts)
			}
			if !dumpDirectory(t, f.db, testTenant).equal(dumpDirectory(t, clean.db, testTenant)) {
				t.Error("the directory differs from a clean run's")
			}

			// Shifted on every pull: the run fails and nobody is archived.
			f.roster.AdvanceDay(classlinktest.DayChanges{NewStudents: 2, Withdrawn: 2})
			before := dumpDirectory(t, f.db, testTenant)
			f.srv.Inject(classlinktest.Fault{Kind: classlinktest.FaultOrderShift, Endpoint: tc.endpoint})
			r := f.run(RunOptions{})
			if r.Status != store.RunFailed || r.Reason != store.ReasonUpstream || !strings.Contains(r.Message, "arrived twice") {
				t.Fatalf("run: %s %q %q", r.Status, r.Reason, r.Message)
			}
			if r.Counts != (store.RunCounts{}) || !dumpDirectory(t, f.db, testTenant).equal(before) {
				t.Fatal("a run with inconsistent pages changed the directory")
			}
		})
	}
}

func TestDryRunWritesOnlyTheRunRecord(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	res, err := f.engine.Run(context.Background(), testTenant, RunOptions{DryRun: true, Samples: 2})
	if err != nil {
		t.Fatal(err)
	}
	dry := res.Run
	if dry.Mode != store.ModeDryRun || dry.Status != store.RunSucceeded || dry.Counts.Students.Create != 200 || dry.Counts.Memberships.Create != 620 {
		t.Fatalf("dry run: %+v", dry)
	}
	if n, _ := f.db.DirectoryCounts(testTenant); n != (store.DirectoryCounts{}) {
		t.Fatalf("a dry run wrote to the directory: %+v", n)
	}
	// Two samples per type and action, creates only on a first run.
	if len(res.Samples) != 10 || res.Samples[0].Action != ActionCreate || res.Samples[0].SourcedID == "" {
		t.Fatalf("samples: %+v", res.Samples)
	}
	if _, ok, _ := f.db.LastAppliedRun(testTenant); ok {
		t.Fatal("a dry run counts as applied")
	}
	applied := f.mustSucceed()
	if applied.Counts != dry.Counts {
		t.Fatalf("the apply did %+v, the dry run said %+v", applied.Counts, dry.Counts)
	}
	// A dry run of a change previews it without applying it.
	f.roster.AdvanceDay(classlinktest.DayChanges{NewStudents: 1, Withdrawn: 1})
	before := dumpDirectory(t, f.db, testTenant)
	preview := f.run(RunOptions{DryRun: true})
	if preview.Counts.Students.Create != 1 || preview.Counts.Students.Archive != 1 || !dumpDirectory(t, f.db, testTenant).equal(before) {
		t.Fatalf("preview %+v, directory changed: %v", preview.Counts, !dumpDirectory(t, f.db, testTenant).equal(before))
	}
	runs, _ := f.db.Runs(testTenant)
	if len(runs) != 3 || runs[0].Mode != store.ModeDryRun || runs[2].Mode != store.ModeDryRun {
		t.Fatalf("runs: %+v", runs)
	}
}

func TestUnchangedWhenNeitherRosterNorConfigMoved(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	first := f.mustSucceed()
	f.srv.ResetRequests()
	r := f.run(RunOptions{})
	if r.Status != store.RunUnchanged || r.PermRev != first.PermRev || r.Counts != (store.RunCounts{}) {
		t.Fatalf("second run: %+v", r)
	}
	if reqs := f.srv.Requests(); len(reqs) != 1 || reqs[0].Limit != 1 {
		t.Fatalf("an unchanged run made %d requests: %+v", len(reqs), reqs)
	}
	// A new config revision means a full run, which finds nothing to do.
	f.editDistrict(func(d *store.District) { d.Settings.DailyStart = "03:00" })
	if r := f.mustSucceed(); r.Counts.Changes() != 0 || r.ConfigRevision != 2 {
		t.Fatalf("after a config change: %+v", r)
	}
	if r := f.run(RunOptions{}); r.Status != store.RunUnchanged {
		t.Fatalf("after the full run: %s", r.Status)
	}
	// A hand edit also means a full run: here it undoes the hand archive.
	archiveByHand(f, f.roster.ClassID(3))
	if r := f.mustSucceed(); r.Counts.Classrooms.Unarchive != 1 {
		t.Fatalf("after a hand edit: %+v", r.Counts)
	}
	// ClassLink moving x-perm-rev without changes: full run, no changes.
	f.roster.BumpRevision()
	if r := f.mustSucceed(); r.Counts.Changes() != 0 {
		t.Fatalf("after a bare revision bump: %+v", r.Counts)
	}
}

func TestThresholdFailureIsNotAnAppliedRun(t *testing.T) {
	f := newFixture(t, fixtureOptions{edit: func(d *store.District) { d.Settings.DeletionThresholdPercent = 5 }})
	f.mustSucceed()
	for s := range 20 {
		f.roster.MarkToBeDeleted(classlinktest.Users, f.roster.StudentID(s))
	}
	for range 2 { // the roster does not move, and the run keeps failing
		if r := f.run(RunOptions{}); r.Status != store.RunFailed || r.Reason != store.ReasonThreshold || r.TriedToArchive.Students != 20 {
			t.Fatalf("run: %+v", r)
		}
	}
	f.editDistrict(func(d *store.District) { d.Settings.DeletionThresholdPercent = 15 })
	if r := f.mustSucceed(); r.Counts.Students.Archive != 20 {
		t.Fatalf("after raising the threshold: %+v", r.Counts)
	}
}

func TestSecondConcurrentRunIsRefused(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	inside, release := make(chan struct{}), make(chan struct{})
	done := make(chan store.Run)
	go func() {
		res, err := f.engine.Run(context.Background(), testTenant, RunOptions{Progress: func(p Progress) {
			if p.Phase == PhaseCheck {
				close(inside)
				<-release
			}
		}})
		if err != nil {
			t.Error(err)
		}
		done <- res.Run
	}()
	<-inside
	_, err := f.engine.Run(context.Background(), testTenant, RunOptions{})
	var busy *BusyError
	if !errors.As(err, &busy) || !strings.HasPrefix(err.Error(), "a sync of district 9 is already running since ") {
		t.Fatalf("second run: %v", err)
	}
	close(release)
	if r := <-done; r.Status != store.RunSucceeded {
		t.Fatalf("first run: %+v", r)
	}
	if runs, _ := f.db.Runs(testTenant); len(runs) != 1 {
		t.Fatalf("the refused run was recorded: %d runs", len(runs))
	}
	if r := f.run(RunOptions{}); r.Status != store.RunUnchanged {
		t.Fatalf("after the first finished: %s", r.Status)
	}
}

func TestMessyRosterSyncsAndConverges(t *testing.T) {
	f := newFixture(t, fixtureOptions{tier: classlinktest.TierS, mess: classlinktest.DefaultMess()})
	r := f.mustSucceed()
	if r.Warnings.InvalidPhone == 0 || r.Warnings.GuardianWithoutContact == 0 || r.Counts.Guardians.Skip != r.Warnings.GuardianWithoutContact {
		t.Fatalf("messy run: counts %+v warnings %+v", r.Counts, r.Warnings)
	}
	dir := dumpDirectory(t, f.db, testTenant)
	active := map[string]bool{}
	for _, u := range dir.Users {
		if u.Kind == store.KindStudent && u.Active() {
			active[u.SourcedID] = true
		}
	}
	for _, u := range dir.Users {
		served, _ := f.roster.Get(classlinktest.Users, u.SourcedID)
		if served.(classlinktest.User).Status == "tobedeleted" {
			t.Errorf("tobedeleted user %s is in the directory", u.SourcedID)
		}
		if u.Kind != store.KindGuardian {
			continue
		}
		if len(u.GuardianOf) == 0 {
			t.Errorf("guardian %s has no students", u.SourcedID)
		}
		for _, s := range u.GuardianOf {
			if !active[s] {
				t.Errorf("guardian %s links %s, not an active student (dangling agent?)", u.SourcedID, s)
			}
		}
		if u.Mobile != "" && (!strings.HasPrefix(u.Mobile, "+1") || len(u.Mobile) != 12) {
			t.Errorf("guardian %s mobile %q is not E.164", u.SourcedID, u.Mobile)
		}
	}
	f.roster.BumpRevision()
	again := f.run(RunOptions{})
	if again.Counts.Changes() != 0 || again.Warnings != r.Warnings {
		t.Fatalf("second messy run: %+v %+v", again.Counts, again.Warnings)
	}
}

// A run has a time budget: a Retry-After that would pass it fails the run
// at once, waits count against it, and a slow ClassLink is cut off by it;
// each time the run fails with a clear message and changes nothing.
func TestRunTimeBudget(t *testing.T) {
	setup := func(t *testing.T, budget time.Duration) (*fixture, directory) {
		f := newFixture(t, fixtureOptions{})
		f.mustSucceed()
		f.roster.AdvanceDay(classlinktest.DayChanges{NewStudents: 2, Withdrawn: 2})
		f.engine.RunBudget = budget
		f.srv.ResetRequests()
		return f, dumpDirectory(t, f.db, testTenant)
	}
	failsWithin := func(t *testing.T, f *fixture, before directory, budget string) store.Run {
		t.Helper()
		r := f.run(RunOptions{})
		if r.Status != store.RunFailed || r.Reason != store.ReasonUpstream ||
			!strings.Contains(r.Message, "the run used up its time budget of "+budget+" before changing anything, so nothing was changed") ||
			strings.HasPrefix(r.Message, store.CancelledPrefix) {
			t.Fatalf("run: %s %q %q", r.Status, r.Reason, r.Message)
		}
		if r.Counts != (store.RunCounts{}) || !dumpDirectory(t, f.db, testTenant).equal(before) {
			t.Fatal("a run out of time changed the directory")
		}
		return r
	}

	t.Run("Retry-After beyond the budget", func(t *testing.T) {
		f, before := setup(t, time.Minute)
		f.srv.Inject(classlinktest.Fault{Kind: classlinktest.FaultRateLimit, Endpoint: "users", RetryAfter: "299"})
		r := failsWithin(t, f, before, "1m0s")
		if n := len(f.srv.RequestsTo("users")); n != 1 || !strings.Contains(r.Message, "waiting 4m59s to try again") {
			t.Errorf("%d requests to users; message %q", n, r.Message)
		}
	})
	t.Run("waits count against the budget", func(t *testing.T) {
		f, before := setup(t, 50*time.Second)
		var slept []time.Duration
		f.engine.Dial = func(ctx context.Context, d store.District) (*classlink.Client, error) {
			c, err := f.dial(ctx, d)
			if err != nil {
				return nil, err
			}
			start, waited := time.Now(), time.Duration(0)
			return c.With(func(cfg *classlink.Config) {
				cfg.MaxAttempts = 10
				cfg.Now = func() time.Time { return start.Add(waited) }
				cfg.Sleep = func(ctx context.Context, d time.Duration) error {
					waited += d
					slept = append(slept, d)
					return ctx.Err()
				}
			}), nil
		}
		f.srv.Inject(classlinktest.Fault{Kind: classlinktest.FaultRateLimit, Endpoint: "users", RetryAfter: "20"})
		failsWithin(t, f, before, "50s")
		if n := len(f.srv.RequestsTo("users")); n != 3 || len(slept) != 2 {
			t.Errorf("%d requests to users after waiting %v: want two 20s waits and no third", n, slept)
		}
	})
	t.Run("a slow ClassLink", func(t *testing.T) {
		f, before := setup(t, 300*time.Millisecond)
		f.srv.Inject(classlinktest.Fault{Kind: classlinktest.FaultDelay, Endpoint: "users", Delay: 3 * time.Second})
		start := time.Now()
		failsWithin(t, f, before, "300ms")
		if took := time.Since(start); took > 2*time.Second {
			t.Errorf("took %v", took)
		}
	})
	// Within its budget the same day syncs.
	f, _ := setup(t, time.Minute)
	f.srv.Inject(classlinktest.Fault{Kind: classlinktest.FaultRateLimit, Endpoint: "users", RetryAfter: "5", Times: 2})
	if r := f.mustSucceed(); r.Counts.Students.Create != 2 || r.Counts.Students.Archive != 2 {
		t.Errorf("run within the budget: %+v", r.Counts)
	}
}

func TestCheckRunBudget(t *testing.T) {
	for d, ok := range map[time.Duration]bool{30 * time.Second: false, time.Minute: true, 45 * time.Minute: true, 24 * time.Hour: true, 25 * time.Hour: false, -time.Minute: false} {
		if err := CheckRunBudget(d); (err == nil) != ok {
			t.Errorf("%s: %v", d, err)
		}
	}
}
