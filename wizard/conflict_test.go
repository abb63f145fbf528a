package wizard

import (
	"testing"

	"github.com/schoolstatus/rostersync/store"
)

// twoEditors opens the demo district in two sessions on one database.
func twoEditors(t *testing.T) (ana, ben *driver) {
	ana = newDriver(t, 80, 24)
	ana.keys("enter")
	ben = newDriverOn(t, ana.db, store.Actor{User: "ben", Fingerprint: "SHA256:ben", Key: "ben", Via: "ssh"}, 80, 24)
	ben.keys("enter")
	ben.see("ClassLink Demo", "revision 1")
	return ana, ben
}

func TestSecondSaveIsToldAndCanReapplyOnTop(t *testing.T) {
	ana, ben := twoEditors(t)
	ana.toDailySync()
	ana.keys("down", "space", "ctrl+n", "ctrl+n", "y")
	ana.see("Saved revision 2")

	ben.toThreshold()
	ben.clearAndType("40")
	ben.keys("ctrl+n", "ctrl+n", "y")
	ben.see("Someone else saved revision 2 while you were editing", "Revision 2 by ana",
		"Allow sync to manage Guardians: on → off", "Not saved yet: your 1 change.")
	if d, _ := ben.db.District(store.DemoTenantID); d.Revision != 2 || d.Settings.DeletionThresholdPercent != 10 {
		t.Fatalf("the conflicting save wrote: %+v", d)
	}
	ben.keys("a")
	ben.see("Review changes against revision 2", "10 → 40", "Your changes are now on top of revision 2")
	ben.notSee("Allow sync to manage Guardians")
	ben.keys("y")
	ben.see("Saved revision 3")

	got, _ := ben.db.District(store.DemoTenantID)
	if got.Settings.ManageGuardians || got.Settings.DeletionThresholdPercent != 40 {
		t.Fatalf("after re-apply: %+v (both changes must be kept)", got.Settings)
	}
	audit, _ := ben.db.Audit(store.DemoTenantID)
	last := audit[len(audit)-1]
	if last.Actor.User != "ben" || last.Actor.Fingerprint != "SHA256:ben" || len(last.Changes) != 1 {
		t.Fatalf("revision 3 audit = %+v", last)
	}
}

func TestSecondSaveCanReloadAndDropItsChanges(t *testing.T) {
	ana, ben := twoEditors(t)
	ana.toThreshold()
	ana.clearAndType("20")
	ana.keys("ctrl+n", "ctrl+n", "y")

	ben.toThreshold()
	ben.clearAndType("30")
	ben.keys("ctrl+n", "ctrl+n", "y")
	ben.see("You both changed: Deletion threshold (%)")
	// Dropping changes takes y only (H3): enter, n and esc keep them.
	for _, keep := range []string{"enter", "n", "esc"} {
		ben.keys("r")
		ben.see("Drop your 1 change and load revision 2?", "y drop them, load theirs")
		ben.keys(keep)
		ben.see("You both changed: Deletion threshold (%)")
	}
	ben.keys("r", "y")
	ben.see("Step 2 of 8", "Reloaded revision 2; your changes were dropped.", "revision 2")
	if _, ok, _ := ben.db.Draft("key:ben", store.DemoTenantID); ok {
		t.Fatal("reload kept ben's draft")
	}
	if d, _ := ben.db.District(store.DemoTenantID); d.Settings.DeletionThresholdPercent != 20 {
		t.Fatalf("threshold = %d, want ana's 20", d.Settings.DeletionThresholdPercent)
	}
}

func TestDraftsArePerPersonAndDistrict(t *testing.T) {
	ana, ben := twoEditors(t)
	ana.toDailySync()
	ana.keys("down", "space", "esc")
	ben.toDailySync()
	ben.keys("down", "down", "space", "esc")
	a, okA, _ := ana.db.Draft("ana", store.DemoTenantID)
	b, okB, _ := ana.db.Draft("key:ben", store.DemoTenantID)
	if !okA || !okB || a.District.Settings.ManageGuardians || !b.District.Settings.ManageGuardians || b.District.Settings.UnarchiveReappearingClassrooms {
		t.Fatalf("drafts: ana %v %+v / ben %v %+v", okA, a.District.Settings, okB, b.District.Settings)
	}
}
