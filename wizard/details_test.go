package wizard

import (
	"slices"
	"strings"
	"testing"

	"github.com/schoolstatus/rostersync/classlink"
	"github.com/schoolstatus/rostersync/store"
	rsync "github.com/schoolstatus/rostersync/sync"
)

// toDetails opens ⋮ → District details from the District Home Page.
func (d *driver) toDetails() {
	d.keys("m")
	for range 7 {
		d.keys("down")
	}
	d.keys("enter")
	d.see("District details")
}

func TestASpecialistCorrectsTheDistrictsDetails(t *testing.T) {
	srv := rosterServer(t) // ClassLink lists 4021 → 5
	t.Setenv(rsync.ProxyRootEnv, srv.URL())
	t.Setenv(classlink.TokenEnv, "partner-token")
	db := newDriver(t, 80, 24).db
	wrong := store.NewDistrict(4021, 6, "Springfeld")
	wrong.Connection = store.Connection{Mode: store.ModeProxy, BaseURL: srv.URL() + "/6/ims/oneroster/v1p1/"}
	if _, _, err := db.SaveDistrict(wrong, 0, store.Actor{User: "ops"}, nil); err != nil {
		t.Fatal(err)
	}
	d := newDriverOn(t, db, store.Actor{User: "ana"}, 100, 30)
	d.keys("down", "enter") // below the demo
	d.see("District application_id 6")
	d.keys("m", "enter", "enter", "enter", "down", "space", "esc", "esc", "esc", "esc") // an unsaved change to keep
	d.see("Unsaved changes: 1")
	d.toDetails()
	d.see("District name:", "Springfeld", "District application_id:", "    6")
	d.keys("ctrl+u")
	d.typeText("Springfield USD")
	d.keys("tab", "ctrl+u")
	d.typeText("7")
	d.keys("tab", "enter")
	d.see("7 is not District Tenant ID 4021's", "application_id 5")
	d.keys("shift+tab", "ctrl+u")
	d.typeText("5")
	d.keys("tab", "enter")
	d.see("Saved revision 2: the district's details were corrected.", "Springfield USD · Tenant 4021 · revision 2 · ● 1 change unsaved")
	d.keys("esc")
	d.see("District application_id 5", "Unsaved changes: 1") // the person's own edit goes on on top
	got, _ := db.District(4021)
	if got.Name != "Springfield USD" || got.ApplicationID != 5 || got.Connection.BaseURL != srv.URL()+"/5/ims/oneroster/v1p1/" {
		t.Fatalf("saved = %+v", got)
	}
	audit, _ := db.Audit(4021)
	last := audit[len(audit)-1]
	if last.Actor.User != "ana" || !slices.ContainsFunc(last.Notes, func(n string) bool { return strings.Contains(n, "application_id changed from 6 to 5") }) ||
		!slices.ContainsFunc(last.Notes, func(n string) bool { return strings.Contains(n, "matches ClassLink's list") }) {
		t.Fatalf("audit = %+v", last)
	}
	d.keys("t")
	d.see("✓ Connected in")
}

func TestADistrictUserCannotCorrectOrRemove(t *testing.T) {
	db := newDriver(t, 80, 24).db
	if _, _, err := db.SaveDistrict(store.NewDistrict(4021, 5, "Springfield USD"), 0, store.Actor{User: "ops"}, nil); err != nil {
		t.Fatal(err)
	}
	d := newDriverWith(t, db, Options{Actor: store.Actor{User: "dana", Key: "dana", Via: "ssh"}, Role: store.RoleDistrict, CanOpen: func(id int64) bool { return id == 4021 }}, 80, 24)
	d.keys("enter", "m")
	for range 7 {
		d.keys("down")
	}
	d.see("District details (not here)", "only an onboarding specialist can correct or remove a district")
	d.keys("enter")
	d.notSee("Type the District Tenant ID")
}

func TestRemovingADistrictAsksForItsTenantIDAndKeepsItsHistory(t *testing.T) {
	db := newDriver(t, 80, 24).db
	if _, _, err := db.SaveDistrict(store.NewDistrict(4021, 5, "Mistake USD"), 0, store.Actor{User: "ops"}, nil); err != nil {
		t.Fatal(err)
	}
	d := newDriverOn(t, db, store.Actor{User: "ana"}, 80, 24)
	d.keys("down", "enter") // below the demo
	d.toDetails()
	d.keys("down", "down", "down", "enter")
	d.see("Remove Mistake USD from rostersync?", "Type the District Tenant ID, 4021")
	d.typeText("4022")
	d.keys("enter")
	d.see("type the District Tenant ID 4021 to remove the district")
	if _, err := db.District(4021); err != nil {
		t.Fatal("a wrong Tenant ID removed it")
	}
	d.keys("esc") // keep it after all
	d.see("Remove this district…")
	d.keys("enter", "ctrl+u")
	d.typeText("4021")
	d.keys("enter")
	d.see("Choose a district", "Removed Mistake USD (Tenant 4021); its history is kept.")
	d.notSee("Mistake USD  Tenant 4021")
	if _, err := db.District(4021); err == nil {
		t.Fatal("still stored")
	}
	audit, _ := db.Audit(4021)
	if len(audit) != 2 || !audit[1].Removed || audit[1].Actor.User != "ana" {
		t.Fatalf("audit = %+v", audit)
	}
}
