package server

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/schoolstatus/rostersync/classlink/classlinktest"
	"github.com/schoolstatus/rostersync/store"
	"github.com/schoolstatus/rostersync/store/storetest"
	rsync "github.com/schoolstatus/rostersync/sync"
)

// A server whose database has one damaged directory page (the demo
// district's): the district's scheduled run fails with reason storage and
// is logged, a session's preview of it shows the damage and what to run,
// and another session on another district saves as usual; nothing
// panics, the server keeps serving.
func TestServeWithADamagedDirectoryPage(t *testing.T) {
	savedAt := time.Date(2026, 11, 28, 7, 0, 0, 0, time.UTC) // 01:00 in Chicago
	clock := stoppedClock{at: savedAt.Add(90 * time.Minute)} // 02:30 in Chicago
	path := filepath.Join(t.TempDir(), "r.db")
	db, err := store.Open(path, store.Options{Clock: func() time.Time { return savedAt }})
	if err != nil {
		t.Fatal(err)
	}
	dialer := &rsync.Dialer{Demo: classlinktest.SharedDemo}
	demo := store.NewDemoDistrict()
	schools, err := rsync.Schools(t.Context(), dialer.Dial, demo)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range schools {
		demo.Schools = append(demo.Schools, s.SourcedID)
	}
	demo.Settings.EnableDailySync, demo.Settings.DailyStart, demo.Settings.TimeZone = true, "02:00", "America/Chicago"
	demo.Settings.DeletionThresholdPercent = 100
	demo, _, err = db.SaveDistrict(demo, 0, store.Actor{User: "ops"}, []string{store.NoteEnabledBeforeSelfCheck})
	if err != nil {
		t.Fatal(err)
	}
	early := func() time.Time { return savedAt.Add(10 * time.Minute) }
	if res, err := (&rsync.Engine{DB: db, Now: early, Dial: dialer.Dial}).Run(context.Background(), store.DemoTenantID, rsync.RunOptions{}); err != nil || res.Run.Status != store.RunSucceeded {
		t.Fatalf("first sync: %+v %v", res.Run, err)
	}
	// A saved change makes the next run pull in full and read the directory.
	demo.Settings.DeletionThresholdPercent = 90
	if _, _, err := db.SaveDistrict(demo, demo.Revision, store.Actor{User: "ops"}, nil); err != nil {
		t.Fatal(err)
	}
	other := store.NewDistrict(99, 57, "Other USD")
	if _, _, err := db.SaveDistrict(other, 0, store.Actor{User: "ops"}, nil); err != nil {
		t.Fatal(err)
	}
	db.Close()
	storetest.Apply(t, path, storetest.ZeroedDirectoryPage, store.DemoTenantID)

	ts := startServer(t, func(o *Options) {
		o.DB.Close() // serve the damaged database instead
		o.DB, _ = store.Open(path, store.Options{})
		o.NoSchedule = false
		o.Clock = clock
		o.Engine = &rsync.Engine{DB: o.DB, Now: clock.Now, Dial: dialer.Dial}
		o.AdminSocket = path + ".sock"
	})
	ts.db = ts.srv.opts.DB
	ana := ts.allow(t, "ana", store.RoleSpecialist)
	ben := ts.allow(t, "ben", store.RoleDistrict, 99)

	// The scheduled run of the demo district fails and is logged.
	ts.waitLog(t, "daily sync failed on the database")
	last, _, err := ts.db.LastRun(store.DemoTenantID)
	if err != nil || last.Trigger != store.TriggerSchedule || last.Reason != store.ReasonStorage || !strings.Contains(last.Message, "is damaged (") {
		t.Fatalf("scheduled run: %+v %v", last, err)
	}

	one := ts.connect(t, ana, "ana", 100, 30)
	two := ts.connect(t, ben, "ben", 100, 30)
	one.wait("Choose a district")
	one.keys("/", "Demo", "enter") // filter the list
	one.keys("enter")
	one.wait("Setup checklist")
	one.wait("sync failed (the database could not be read or written)") // the Home page's last sync
	one.keys("m", "down", "down", "enter")
	one.wait("is damaged (")
	one.wait("run rostersync db check")

	two.wait("Other USD")
	two.keys("enter")
	two.wait("Setup checklist")
	two.keys("m", "enter", "enter", "enter")
	two.wait("Allow sync to manage Guardians")
	two.keys("down", "space", "ctrl+n")
	two.wait("Permissions for synced staff")
	two.keys("ctrl+n")
	two.wait("Save as revision 2?")
	two.keys("y")
	two.wait("Saved revision 2")

	// Session one still answers, and db check through the admin socket
	// names the damage while the server holds the file.
	one.keys("esc")
	one.wait("⋮ District Home Page")
	resp, err := Ask(path+".sock", AdminRequest{Op: "check"})
	if err != nil || resp.Check == nil || resp.Check.OK() || !strings.Contains(strings.Join(resp.Check.Problems, "\n"), "Page expected to be") {
		t.Fatalf("db check through the server: %+v %v", resp.Check, err)
	}
	if strings.Contains(ts.logs.String(), "panicked") {
		t.Fatalf("a session panicked:\n%s", ts.logs.String())
	}
	if d, err := ts.db.District(99); err != nil || d.Revision != 2 {
		t.Fatalf("the other district: %+v %v", d, err)
	}
}
