package wizard

import (
	"path/filepath"
	gosync "sync"
	"testing"
	"time"

	"github.com/schoolstatus/rostersync/classlink/classlinktest"
	"github.com/schoolstatus/rostersync/screens"
	"github.com/schoolstatus/rostersync/store"
)

func TestPreviewThenRunNowThenBrowse(t *testing.T) {
	d := newDriver(t, 80, 24)
	d.keys("enter")
	// Without a passed preview, Run sync now only explains.
	d.keys("m", "down", "down", "down", "enter")
	d.see("Run sync now", "Preview the sync of revision 1 first")
	d.notSee("y apply now")
	d.keys("y")
	if runs, _ := d.db.Runs(store.DemoTenantID); len(runs) != 0 {
		t.Fatal("y started a sync without a passed preview")
	}
	// The demo district has its school connected from the start.
	d.keys("esc", "up", "enter")
	d.see("Preview sync (a dry run: nothing is changed)", "✓ Preview succeeded", "students", "memberships",
		"students · create", "the self-check (step 6) is done")
	// Samples of another cell: staff updates are none; guardians skips have reasons.
	d.keys("down", "down", "right", "right", "right", "right")
	d.see("guardians · skip")
	if counts, _ := d.db.DirectoryCounts(store.DemoTenantID); counts.Students.Active != 0 {
		t.Fatal("the preview wrote to the directory")
	}
	dist, _ := d.db.District(store.DemoTenantID)
	if !dist.Checklist[store.StepSelfCheck].Done || !dist.Checklist[store.StepSelfCheck].Verified {
		t.Fatal("a passed preview did not mark the self-check")
	}

	d.keys("esc", "down", "enter")
	d.see("Run sync now", "enable and launch", "The last preview", "Apply it now?")
	d.keys("enter") // not an answer: applying takes y
	d.see("Apply it now?")
	d.keys("y")
	d.see("✓ Sync succeeded", "Step 7 is verified once Enable Daily sync is")
	counts, _ := d.db.DirectoryCounts(store.DemoTenantID)
	if counts.Students.Active == 0 || counts.Staff.Active == 0 || counts.Guardians.Active == 0 {
		t.Fatalf("directory after the run: %+v", counts)
	}

	d.keys("esc", "down", "enter")
	d.see("Sync history", "sync succeeded", "preview succeeded", "revision 1 by rostersync")
	d.keys("enter")
	d.see("run ", "manual", "revision 1")
	d.keys("esc", "esc")

	d.keys("down", "enter")
	d.see("Directory", "[Users]", "district_admin")
	d.keys("f")
	d.see("· students ·")
	d.keys("j", "k") // k is up here too
	d.keys("tab")
	d.see("[Classrooms]", "active")
	d.keys("/")
	d.typeText("zzzz-no-such")
	d.see(`Nothing matches "zzzz-no-such"`)
	d.keys("esc", "esc", "esc")
	// A manual run while Enable Daily sync is off is not the launch (step 7).
	d.see("Step 2 of 8", "Last sync: sync succeeded", "[x] 6. Self-check", "[ ] 7. Enable and launch")
}

func TestPreviewWithNoSchoolConnectedSaysSo(t *testing.T) {
	d := newDriver(t, 80, 24)
	d.keys("enter", "m", "enter", "enter", "down", "enter", "space", "ctrl+n", "y")
	d.see("Saved revision 2")
	d.keys("m", "down", "down", "enter")
	d.see("✗ No school of district 2 is connected to the SIS yet")
	d.notSee("schools_not_found", "missing from ClassLink")
	if runs, _ := d.db.Runs(store.DemoTenantID); len(runs) != 0 {
		t.Fatalf("a run with no school was recorded: %+v", runs)
	}
	dist, _ := d.db.District(store.DemoTenantID)
	if dist.Checklist[store.StepSelfCheck].Done {
		t.Fatal("a failed preview marked the self-check")
	}
}

func TestPreviewOverTheThresholdIsNoSelfCheck(t *testing.T) {
	srv := rosterServer(t)
	district := srv.Tenant(5).District
	d := newDriver(t, 80, 24)
	dist := store.NewDistrict(4021, 5, "Springfield USD")
	dist.Connection = store.Connection{Mode: store.ModeOAuth1, BaseURL: srv.BaseURL(), ClientID: "spring-key", ClientSecret: "spring-secret", SignatureMethod: store.HMACSHA256}
	dist.Schools = []string{district.SchoolID(0)}
	if _, _, err := d.db.SaveDistrict(dist, 0, store.Actor{User: "ops"}, nil); err != nil {
		t.Fatal(err)
	}
	d = newDriverOn(t, d.db, store.Actor{User: "ana"}, 80, 24)
	d.keys("down", "enter", "m", "down", "down", "enter")
	d.see("✓ Preview succeeded")
	d.keys("esc", "down", "enter", "y")
	d.see("✓ Sync succeeded")

	// A fifth of the students leave ClassLink overnight: over the 10 % threshold.
	for s := range 100 {
		if err := district.Remove(classlinktest.Users, district.StudentID(s)); err != nil {
			t.Fatal(err)
		}
	}
	d.keys("esc", "up", "enter")
	d.see("Preview failed (over the deletion threshold)", "Over the deletion threshold: nothing would be archived", "0 (100)")
	dist, _ = d.db.District(4021)
	if dist.Checklist[store.StepSelfCheck].At.After(fixedNow) {
		t.Fatal("the failed preview touched the self-check")
	}
	d.keys("esc", "down", "enter")
	d.see("Preview the sync of revision 1 first")
	if counts, _ := d.db.DirectoryCounts(4021); counts.Students.Archived != 0 {
		t.Fatalf("students archived by a failed preview: %+v", counts.Students)
	}
}

func TestResumeOnTheSchoolsScreenListsTheSchoolsAgain(t *testing.T) {
	d := newDriver(t, 80, 24)
	d.keys("enter", "m", "enter", "enter", "down", "enter")
	d.see("[x] Adams Academy")
	d.keys("space", "ctrl+c", "y")
	next := newDriverOn(t, d.db, store.Actor{User: "ana"}, 80, 24)
	next.see("You left unsaved changes", "Schools connected to SIS: 1 school → 0 schools")
	next.keys("enter")
	next.see("School connection to SIS", "[ ] Adams Academy", "0 connected")
}

// Leaving the wizard cancels its preview (nobody will read it) and lets the
// run's goroutine end, even though nothing reads its messages any more.
func TestQuittingCancelsTheSessionsPreview(t *testing.T) {
	srv := rosterServer(t)
	srv.Inject(classlinktest.Fault{Kind: classlinktest.FaultDelay, Endpoint: "users", Delay: 5 * time.Second})
	d := newDriver(t, 80, 24)
	dist := store.NewDistrict(4021, 5, "Springfield USD")
	dist.Connection = store.Connection{Mode: store.ModeOAuth1, BaseURL: srv.BaseURL(), ClientID: "spring-key", ClientSecret: "spring-secret", SignatureMethod: store.HMACSHA256}
	dist.Schools = []string{srv.Tenant(5).District.SchoolID(0)}
	saved, _, err := d.db.SaveDistrict(dist, 0, store.Actor{User: "ops"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	going := &gosync.WaitGroup{}
	m := New(Options{DB: d.db, Actor: store.Actor{User: "ana"}, RunsGoing: going})
	_, open := m.Update(screens.DistrictChosenMsg{District: saved})
	m.Update(open())         // the district is read in a command
	m.startSync(saved, true) // its messages are never read
	m.quit()
	finished := make(chan struct{})
	go func() { going.Wait(); close(finished) }()
	select {
	case <-finished:
	case <-time.After(4 * time.Second):
		t.Fatal("the preview went on after the session quit")
	}
	runs, _ := d.db.Runs(4021)
	if len(runs) != 1 || !runs[0].Cancelled() || runs[0].Mode != store.ModeDryRun {
		t.Fatalf("runs = %+v", runs)
	}
}

func TestSchoolsFilterOpensWithSlashAndEscClearsIt(t *testing.T) {
	d := newDriver(t, 80, 24)
	d.keys("enter", "m", "enter", "enter", "down", "enter")
	d.see("[x] Adams Academy")
	d.keys("/")
	d.typeText("zzz")
	d.notSee("Adams Academy")
	d.see(`No school matches "zzz"`)
	d.keys("esc")
	d.see("[x] Adams Academy")
	d.keys("/")
	d.paste("adams")
	d.keys("enter", "space") // enter hands the keys back to the list
	d.see("[ ] Adams Academy", "0 connected")
}

// A run whose process died shows as interrupted, with how far it got, on
// the Home page and in Sync history.
func TestInterruptedRunOnHomeAndInHistory(t *testing.T) {
	path := filepath.Join(t.TempDir(), "rostersync.db")
	dead, err := store.Open(path, store.Options{Clock: func() time.Time { return fixedNow }})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := dead.SaveDistrict(store.NewDemoDistrict(), 0, store.Actor{User: "ana"}, nil); err != nil {
		t.Fatal(err)
	}
	r, err := dead.StartRun(store.Run{TenantID: store.DemoTenantID, Mode: store.ModeApply, Trigger: store.TriggerSchedule,
		ConfigRevision: 1, StartedAt: fixedNow.Add(-2 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	var b store.DirectoryBatch
	b.PutSchool(store.School{SourcedID: "org-1", Name: "Lincoln", Status: store.StatusActive})
	b.ForRun(r, store.RunProgress{Phase: store.PhaseApplying, Applied: 10000, ToApply: 42000, At: fixedNow.Add(-time.Hour)})
	if err := dead.ApplyDirectory(store.DemoTenantID, &b); err != nil {
		t.Fatal(err)
	}
	dead.Close() // the server was killed

	db, err := store.Open(path, store.Options{Clock: func() time.Time { return fixedNow }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	d := newDriverOn(t, db, store.Actor{User: "ana", Via: "local"}, 80, 24)
	d.keys("enter")
	d.see("Last sync: sync interrupted, scheduled, 10000 of 42000 writes applied,", "2 hours ago")
	d.keys("m", "down", "down", "down", "down", "enter")
	d.see("Sync history", "sync interrupted, scheduled, 10000 of 42000 writes applied")
	d.keys("down", "enter") // the run started before the revision's save
	d.see("Interrupted: the process stopped", "after 10000 of 42000 directory writes", "the next run completes them")
}
