package sync

// Benchmarks of whole syncs against the in-process server (DESIGN §7):
//
//	go test ./sync -run '^$' -bench 'SyncM' -benchtime 3x
//	ROSTERSYNC_BENCH_L=1 go test ./sync -run '^$' -bench SyncL -benchtime 1x -timeout 30m
//
// SyncM is a first sync of the M tier into an empty directory (every
// record created); SyncMAgain re-syncs an unchanged M roster (pull and
// plan, nothing written). SyncL is the L tier's first sync; it reports the
// wall time, the peak Go heap in use and the process's peak RSS (with
// -benchtime 2x, over a second first sync in the same process). The
// loopback server generating and encoding the pages runs in the same
// process, on the same cores, so the numbers include its work.

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/schoolstatus/rostersync/classlink"
	"github.com/schoolstatus/rostersync/classlink/classlinktest"
	"github.com/schoolstatus/rostersync/store"
)

// benchDistrict serves tier and saves a district for it in a fresh db.
func benchDistrict(b *testing.B, tier classlinktest.Tier) (*classlinktest.Server, func() *store.DB) {
	roster := benchRoster(b, tier)
	srv := benchServer(b, roster)
	return srv, benchDBs(b, roster, srv.BaseURL())
}

// benchRoster is the benchmarks' district of tier.
func benchRoster(tb testing.TB, tier classlinktest.Tier) *classlinktest.District {
	roster, err := classlinktest.NewDistrict(classlinktest.Options{Seed: 42, Tier: tier, Mess: classlinktest.DefaultMess()})
	if err != nil {
		tb.Fatal(err)
	}
	return roster
}

// benchServer serves roster as the benchmarks' tenant until tb ends.
func benchServer(tb testing.TB, roster *classlinktest.District) *classlinktest.Server {
	srv, err := classlinktest.NewServer(classlinktest.ServerOptions{Tenants: []classlinktest.Tenant{{
		TenantID: testTenant, ApplicationID: testApp, Name: "bench", ConsumerKey: "k", ConsumerSecret: "s", District: roster}}})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(srv.Close)
	return srv
}

// benchDBs makes a fresh db, with the district of roster (served at url)
// saved in it, each time it is called.
func benchDBs(b *testing.B, roster *classlinktest.District, url string) func() *store.DB {
	return func() *store.DB {
		db, err := store.Open(filepath.Join(b.TempDir(), "bench.db"), store.Options{})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { db.Close() })
		d := store.NewDistrict(testTenant, testApp, "bench")
		d.Connection = store.Connection{Mode: store.ModeOAuth1, BaseURL: url, ClientID: "k", ClientSecret: "s", SignatureMethod: store.HMACSHA256}
		d.Schools = roster.SchoolIDs()
		d.Settings.DeletionThresholdPercent = 100
		if _, _, err := db.SaveDistrict(d, 0, store.Actor{User: "bench"}, nil); err != nil {
			b.Fatal(err)
		}
		return db
	}
}

// pulled counts the records a run's progress reports.
func countPulled(total *int) func(Progress) {
	last := map[classlink.Collection]int{}
	return func(p Progress) {
		if p.Phase == PhasePull {
			*total += p.Records - last[p.Collection]
			last[p.Collection] = p.Records
		}
	}
}

func syncOnce(b *testing.B, db *store.DB, records *int) store.Run {
	e := &Engine{DB: db, Dial: (&Dialer{}).Dial}
	res, err := e.Run(context.Background(), testTenant, RunOptions{Progress: countPulled(records)})
	if err != nil {
		b.Fatal(err)
	}
	if res.Run.Status != store.RunSucceeded {
		b.Fatalf("run: %+v", res.Run)
	}
	return res.Run
}

func BenchmarkSyncM(b *testing.B) {
	_, fresh := benchDistrict(b, classlinktest.TierM)
	b.ReportAllocs()
	records := 0
	var run store.Run
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		db := fresh()
		b.StartTimer()
		run = syncOnce(b, db, &records)
	}
	b.ReportMetric(float64(records)/b.Elapsed().Seconds(), "records/s")
	b.ReportMetric(float64(run.Counts.Changes()), "writes/op")
}

func BenchmarkSyncMAgain(b *testing.B) {
	srv, fresh := benchDistrict(b, classlinktest.TierM)
	db := fresh()
	records := 0
	syncOnce(b, db, &records)
	records = 0
	roster := srv.Tenant(testApp).District
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		roster.BumpRevision() // not "unchanged": a full pull and plan
		if r := syncOnce(b, db, &records); r.Counts.Changes() != 0 {
			b.Fatalf("an unchanged roster changed %+v", r.Counts)
		}
	}
	b.ReportMetric(float64(records)/b.Elapsed().Seconds(), "records/s")
}

func BenchmarkSyncL(b *testing.B) {
	if os.Getenv("ROSTERSYNC_BENCH_L") == "" {
		b.Skip("set ROSTERSYNC_BENCH_L=1 to sync the L tier (a few minutes, a few GB)")
	}
	_, fresh := benchDistrict(b, classlinktest.TierL)
	LimitMemory() // as main does
	records := 0
	mem := watchMemory()
	b.ResetTimer()
	var run store.Run
	for range b.N {
		b.StopTimer()
		db := fresh()
		b.StartTimer()
		run = syncOnce(b, db, &records)
	}
	b.StopTimer()
	mem.report(b)
	b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/sync")
	b.ReportMetric(float64(records)/b.Elapsed().Seconds(), "records/s")
	b.ReportMetric(float64(run.Counts.Changes()), "writes/op")
}
