package server

import (
	"testing"
	"time"

	"github.com/schoolstatus/rostersync/classlink"
	"github.com/schoolstatus/rostersync/classlink/classlinktest"
	"github.com/schoolstatus/rostersync/store"
	rsync "github.com/schoolstatus/rostersync/sync"
)

// A session that started "Run sync now" and then lost its connection must
// not hold its sync: the run finishes and records itself although nobody
// reads its progress, and a stop afterwards returns. The engine commits in
// batches of 25 here, so the run reports far more progress than the
// session's queue holds once nobody reads it.
func TestAStopAfterADroppedSessionsRunReturns(t *testing.T) {
	ts, roster, demo := previewedDemo(t, func(o *Options) {
		o.Engine.BatchSize = 25
		o.ShutdownGrace = 500 * time.Millisecond
		o.stopWait = 2 * time.Second
	})
	roster.Inject(classlinktest.Fault{Kind: classlinktest.FaultDelay, Endpoint: "users", Delay: 300 * time.Millisecond})

	ana := ts.allow(t, "ana", store.RoleSpecialist)
	tm := ts.connect(t, ana, "ana", 80, 24)
	tm.wait("Choose a district")
	tm.keys("enter")
	tm.wait("Setup checklist")
	tm.keys("m", "down", "down", "down", "enter")
	tm.wait("Apply it now?")
	tm.keys("y")
	tm.wait("Checking…")
	tm.client.Close() // the link drops mid-run

	applied := func() bool {
		runs, _ := ts.db.Runs(demo.TenantID)
		for _, r := range runs {
			if r.Mode == store.ModeApply {
				return true
			}
		}
		return false
	}
	deadline := time.Now().Add(20 * time.Second)
	for !applied() {
		if time.Now().After(deadline) {
			t.Fatal("the dropped session's run was never recorded")
		}
		time.Sleep(20 * time.Millisecond)
	}
	ts.cancel()
	ts.cancel = nil // stopped here, not again at cleanup
	select {
	case err := <-ts.done:
		if err != nil {
			t.Fatalf("Serve: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the server did not stop: the dropped session's sync still holds it")
	}
	ts.waitLog(t, "reason=dropped")
	ts.waitLog(t, "stopped")
}

// A stop in the middle of a run the session started cancels it after the
// grace period, says so in the log, and the run records itself as
// cancelled before Serve returns; the person is told why their session
// ended and their terminal is restored.
func TestAStopCancelsRunsAndSaysWhich(t *testing.T) {
	ts, roster, demo := previewedDemo(t, func(o *Options) { o.ShutdownGrace = 300 * time.Millisecond })
	// The connection probe's users request goes through; the pull's waits.
	roster.Inject(classlinktest.Fault{Kind: classlinktest.FaultDelay, Endpoint: "users", Skip: 1, Delay: 30 * time.Second})

	ana := ts.allow(t, "ana", store.RoleSpecialist)
	var raw syncBuffer
	tm := ts.connectWith(t, ana, "ana", 80, 24, "", nil, &raw)
	tm.wait("Choose a district")
	tm.keys("enter")
	tm.wait("Setup checklist")
	tm.keys("m", "down", "down", "down", "enter")
	tm.wait("Apply it now?")
	tm.keys("y")
	tm.wait("Pulling…")
	ts.stop()
	tm.exit()
	assertTerminalRestored(t, waitRaw(t, &raw, "rostersync is shutting down"))
	runs, _ := ts.db.Runs(demo.TenantID)
	if len(runs) != 2 || runs[1].Mode != store.ModeApply || !runs[1].Cancelled() {
		t.Fatalf("runs after the stop: %+v", runs)
	}
	for _, want := range []string{"reason=stop", "cancelled a sync in progress", "district=2", "mode=apply", "stopped"} {
		ts.waitLog(t, want)
	}
}

// previewedDemo starts a server whose engine syncs a demo roster, with the
// demo district saved (its first school connected) and previewed once;
// tweak sets the rest of the options.
func previewedDemo(t *testing.T, tweak func(*Options)) (*testServer, *classlinktest.Server, store.District) {
	roster, err := classlinktest.Demo()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(roster.Close)
	dialer := &rsync.Dialer{Demo: func() (classlink.Config, error) { return roster.OAuth1Config(classlinktest.DemoApplicationID), nil }}
	ts := startServer(t, func(o *Options) {
		o.Dialer = dialer
		o.Engine = &rsync.Engine{DB: o.DB, Dial: dialer.Dial}
		tweak(o)
	})
	demo := store.NewDemoDistrict()
	schools, err := rsync.Schools(t.Context(), dialer.Dial, demo)
	if err != nil || len(schools) == 0 {
		t.Fatal(schools, err)
	}
	demo.Schools = []string{schools[0].SourcedID}
	if _, _, err := ts.db.SaveDistrict(demo, 0, store.Actor{User: "ops"}, nil); err != nil {
		t.Fatal(err)
	}
	if res, err := ts.srv.opts.Engine.Run(t.Context(), demo.TenantID, rsync.RunOptions{DryRun: true}); err != nil || res.Run.Status != store.RunSucceeded {
		t.Fatalf("preview: %+v %v", res.Run, err)
	}
	return ts, roster, demo
}
