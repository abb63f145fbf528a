package wizard

import (
	"context"
	"path/filepath"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/schoolstatus/rostersync/classlink/classlinktest"
	"github.com/schoolstatus/rostersync/store"
	rsync "github.com/schoolstatus/rostersync/sync"
)

// frameWriter is a program's terminal: every write is a frame (or part of
// one) and is signalled on frames.
type frameWriter struct{ frames chan time.Time }

func (w *frameWriter) Write(p []byte) (int, error) {
	select {
	case w.frames <- time.Now():
	default:
	}
	return len(p), nil
}

// BenchmarkKeystrokeDuringSyncM measures how long a key takes to reach the
// screen (key sent to the program → the frame's first bytes written) while
// an M-tier sync of another district writes its directory (planning and
// applying) in the same process, as it
// does under `rostersync serve` when the daily schedule or another session
// runs one. The person moves and toggles on District-Level Daily Sync and
// goes back and forth to SIS Rostering (draft writes, screen changes).
// Run:
//
//	go test ./wizard -run '^$' -bench KeystrokeDuringSyncM -benchtime 3x
func BenchmarkKeystrokeDuringSyncM(b *testing.B) {
	const syncTenant, syncApp, editTenant = int64(9001), int64(901), int64(4021)
	roster, err := classlinktest.NewDistrict(classlinktest.Options{Seed: 42, Tier: classlinktest.TierM, Mess: classlinktest.DefaultMess()})
	if err != nil {
		b.Fatal(err)
	}
	srv, err := classlinktest.NewServer(classlinktest.ServerOptions{Tenants: []classlinktest.Tenant{{
		TenantID: syncTenant, ApplicationID: syncApp, Name: "bench", ConsumerKey: "k", ConsumerSecret: "s", District: roster}}})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(srv.Close)

	var latencies []time.Duration
	for b.Loop() {
		db, err := store.Open(filepath.Join(b.TempDir(), "bench.db"), store.Options{})
		if err != nil {
			b.Fatal(err)
		}
		d := store.NewDistrict(syncTenant, syncApp, "bench")
		d.Connection = store.Connection{Mode: store.ModeOAuth1, BaseURL: srv.BaseURL(), ClientID: "k", ClientSecret: "s", SignatureMethod: store.HMACSHA256}
		for p := range classlinktest.TierM.Schools {
			d.Schools = append(d.Schools, roster.SchoolID(p))
		}
		d.Settings.DeletionThresholdPercent = 100
		if _, _, err := db.SaveDistrict(d, 0, store.Actor{User: "bench"}, nil); err != nil {
			b.Fatal(err)
		}
		if _, _, err := db.SaveDistrict(store.NewDistrict(editTenant, 5, "Springfield USD"), 0, store.Actor{User: "bench"}, nil); err != nil {
			b.Fatal(err)
		}
		engine := &rsync.Engine{DB: db, Dial: (&rsync.Dialer{}).Dial}
		out := &frameWriter{frames: make(chan time.Time, 1)}
		m := New(Options{DB: db, Actor: store.Actor{User: "ana", Via: "local"}, Engine: engine,
			CanOpen: func(id int64) bool { return id == editTenant }})
		p := tea.NewProgram(m, tea.WithInput(nil), tea.WithOutput(out), tea.WithWindowSize(80, 24), tea.WithoutSignals())
		ran := make(chan error, 1)
		go func() { _, err := p.Run(); ran <- err }()

		press := func(name string) time.Duration {
			for len(out.frames) > 0 { // a frame still on its way is not this key's
				<-out.frames
			}
			sent := time.Now()
			p.Send(keyPress(name))
			select {
			case at := <-out.frames:
				return at.Sub(sent)
			case <-time.After(5 * time.Second):
				b.Fatalf("no frame 5 s after %q", name)
				return 0
			}
		}
		time.Sleep(200 * time.Millisecond)
		for _, k := range []string{"enter", "m", "enter", "enter", "enter", "down", "down"} {
			press(k)
			time.Sleep(20 * time.Millisecond)
		}

		var applying, done atomic.Bool
		go func() {
			defer done.Store(true)
			res, err := engine.Run(context.Background(), syncTenant, rsync.RunOptions{Progress: func(pr rsync.Progress) {
				// The directory is written from planning on (creates and
				// updates go as the plan goes), then in the apply phase.
				if pr.Phase == rsync.PhasePlan || pr.Phase == rsync.PhaseApply {
					applying.Store(true)
				}
			}})
			if err != nil || res.Run.Status != store.RunSucceeded {
				b.Errorf("sync: %v %+v", err, res.Run)
			}
		}()
		for !applying.Load() && !done.Load() {
			time.Sleep(5 * time.Millisecond)
		}
		// Toggle, move, and go back and forth while the run writes.
		cycle := []string{"space", "down", "space", "up", "esc", "enter", "down", "down"}
		for i := 0; !done.Load(); i++ {
			latencies = append(latencies, press(cycle[i%len(cycle)]))
			time.Sleep(10 * time.Millisecond)
		}
		p.Send(keyPress("ctrl+c"))
		p.Send(keyPress("y"))
		<-ran
		db.Close()
	}
	if len(latencies) == 0 {
		b.Fatal("no keystroke was measured while the sync applied")
	}
	slices.Sort(latencies)
	pct := func(q float64) float64 {
		return float64(latencies[int(q*float64(len(latencies)-1))].Microseconds()) / 1000
	}
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
	b.ReportMetric(float64(latencies[len(latencies)-1].Microseconds())/1000, "max-ms")
	b.ReportMetric(float64(len(latencies))/float64(b.N), "keys/op")
}
