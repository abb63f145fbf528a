package sync

import (
	"testing"

	"github.com/schoolstatus/rostersync/store"
)

func TestFirstRunCreatesTheWholeRoster(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	r := f.mustSucceed()
	want := store.RunCounts{
		Students: store.Counts{Create: 200}, Staff: store.Counts{Create: 16}, Guardians: store.Counts{Create: 300},
		Classrooms: store.Counts{Create: 20}, Memberships: store.Counts{Create: 620},
	}
	if r.Counts != want {
		t.Fatalf("counts = %+v\nwant %+v", r.Counts, want)
	}
	if r.Warnings != (store.RunWarnings{}) || r.PermRev != f.roster.Revision() || r.ConfigRevision != 1 || r.Mode != store.ModeApply || r.Trigger != store.TriggerManual {
		t.Fatalf("run = %+v", r)
	}
	n, err := f.db.DirectoryCounts(testTenant)
	if err != nil {
		t.Fatal(err)
	}
	if n.Students.Active != 200 || n.Staff.Active != 16 || n.Guardians.Active != 300 || n.Classrooms.Active != 20 || n.Memberships.Active != 620 || n.Schools.Active != 2 {
		t.Fatalf("directory counts = %+v", n)
	}
}
