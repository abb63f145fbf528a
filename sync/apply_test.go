package sync

import (
	"context"
	"testing"

	"github.com/schoolstatus/rostersync/classlink/classlinktest"
	"github.com/schoolstatus/rostersync/store"
)

func directorySize(t *testing.T, db *store.DB) (records, archived int) {
	t.Helper()
	n, err := db.DirectoryCounts(testTenant)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []store.StatusCount{n.Schools, n.Students, n.Staff, n.Guardians, n.Classrooms, n.Memberships} {
		records += c.Active + c.Archived
		archived += c.Archived
	}
	return records, archived
}

// Creates, updates and unarchives are committed batch by batch while the
// plan walks the directory, long before it is done; archives wait until
// the deletion threshold has been checked.
func TestWritesAreCommittedAsThePlanGoesAndArchivesAfterIt(t *testing.T) {
	f := newFixture(t, fixtureOptions{}) // batches of 100
	var commits []int
	res, err := f.engine.Run(context.Background(), testTenant, RunOptions{Progress: func(p Progress) {
		if p.Phase != PhasePlan || p.Applied == 0 {
			return
		}
		records, _ := directorySize(t, f.db)
		last := 0
		if len(commits) > 0 {
			last = commits[len(commits)-1]
		}
		if records != p.Applied || p.Applied <= last || p.Applied > last+f.engine.BatchSize {
			t.Errorf("commit %d: %d writes reported, %d records in the directory, after %v", len(commits), p.Applied, records, commits)
		}
		commits = append(commits, p.Applied)
	}})
	if err != nil || res.Run.Status != store.RunSucceeded {
		t.Fatalf("first run: %+v %v", res.Run, err)
	}
	total, _ := directorySize(t, f.db)
	if want := (total - 1) / f.engine.BatchSize; len(commits) < want || total < 1000 {
		t.Fatalf("%d commits reported while planning %d writes; want at least %d", len(commits), total, want)
	}

	// Ten students leave: none is archived while the walk commits, all
	// ten once the run is done.
	for s := range 10 {
		f.roster.MarkToBeDeleted(classlinktest.Users, f.roster.StudentID(s))
	}
	f.roster.AdvanceDay(classlinktest.DayChanges{NewStudents: 40})
	planCommits, applyReports := 0, 0
	res, err = f.engine.Run(context.Background(), testTenant, RunOptions{Progress: func(p Progress) {
		switch {
		case p.Phase == PhasePlan && p.Applied > 0:
			planCommits++
			if _, archived := directorySize(t, f.db); archived != 0 {
				t.Errorf("%d records archived before the threshold was checked", archived)
			}
		case p.Phase == PhaseApply:
			applyReports++
		}
	}})
	if err != nil || res.Run.Status != store.RunSucceeded || res.Run.Counts.Students.Archive != 10 {
		t.Fatalf("second run: %+v %v", res.Run, err)
	}
	if _, archived := directorySize(t, f.db); planCommits == 0 || applyReports < 2 || archived < 10 {
		t.Fatalf("%d commits while planning, %d apply reports, %d archived", planCommits, applyReports, archived)
	}
}
