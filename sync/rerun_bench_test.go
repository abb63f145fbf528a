package sync

// Daily reruns (DESIGN §7): a first sync, then a day on which about 1 % of
// the roster changed, then the timed rerun.
//
//	go test ./sync -run '^$' -bench SyncMRerun -benchtime 3x
//	ROSTERSYNC_BENCH_L=1 go test ./sync -run '^$' -bench SyncLRerun -benchtime 1x -timeout 30m
//
// Besides the time it reports what the rerun pulled (pages, records and
// bytes the server sent; of the records, how many came as changes and how
// many as sourcedIds swept) and wrote (directory changes).

import (
	"os"
	"testing"

	"github.com/schoolstatus/rostersync/classlink/classlinktest"
)

// onePercentDay is a school day touching about 1 % of a tier's users: new
// students (each with a guardian and three classes), withdrawals, purges,
// guardians' contact edits, new and dropped sections.
func onePercentDay(t classlinktest.Tier) classlinktest.DayChanges {
	return classlinktest.DayChanges{
		NewStudents:    t.Students / 200,
		Withdrawn:      t.Students / 400,
		Purged:         t.Students / 1000,
		ContactEdits:   t.Guardians / 100,
		NewClasses:     t.Classes / 200,
		DroppedClasses: t.Classes / 400,
	}
}

func benchRerun(b *testing.B, tier classlinktest.Tier) {
	srv, fresh := benchDistrict(b, tier)
	LimitMemory() // as main does
	db := fresh()
	records := 0
	syncOnce(b, db, &records)
	roster := srv.Tenant(testApp).District
	var pages, pulled, changed, ids, writes int
	var bytes int64
	mem := watchMemory() // the reruns only
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		roster.AdvanceDay(onePercentDay(tier))
		srv.ResetRequests()
		b.StartTimer()
		run := syncOnce(b, db, &records)
		b.StopTimer()
		writes += run.Counts.Changes()
		for _, r := range srv.Requests() {
			pages++
			pulled += r.Records
			bytes += r.Bytes
			switch {
			case r.Filter != "":
				changed += r.Records
			case r.Fields == "sourcedId":
				ids += r.Records
			}
		}
	}
	n := float64(b.N)
	b.ReportMetric(b.Elapsed().Seconds()/n, "s/rerun")
	b.ReportMetric(float64(pages)/n, "pages/op")
	b.ReportMetric(float64(pulled)/n, "records-pulled/op")
	b.ReportMetric(float64(changed)/n, "changed-records/op")
	b.ReportMetric(float64(ids)/n, "ids-swept/op")
	b.ReportMetric(float64(bytes)/n/(1<<20), "MiB-pulled/op")
	b.ReportMetric(float64(writes)/n, "writes/op")
	mem.report(b)
}

func BenchmarkSyncMRerun(b *testing.B) { benchRerun(b, classlinktest.TierM) }

func BenchmarkSyncLRerun(b *testing.B) {
	if os.Getenv("ROSTERSYNC_BENCH_L") == "" {
		b.Skip("set ROSTERSYNC_BENCH_L=1 to sync the L tier (a few minutes, a few GB)")
	}
	benchRerun(b, classlinktest.TierL)
}
