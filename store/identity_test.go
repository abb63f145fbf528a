package store

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestCheckApplicationIDIsTheTenantIsolationRule(t *testing.T) {
	listed := ListingOf(4021, map[int64]int64{4021: 5, 4022: 6}, nil)
	if note, err := CheckApplicationID(4021, 5, listed, false); err != nil || !strings.Contains(note, "matches ClassLink's list") {
		t.Errorf("a listed match: %q %v", note, err)
	}
	for _, specialist := range []bool{false, true} {
		_, err := CheckApplicationID(4021, 6, listed, specialist)
		if err == nil || !strings.Contains(err.Error(), "6 is not District Tenant ID 4021's") || !strings.Contains(err.Error(), "application_id 5") {
			t.Errorf("another district's application_id (specialist %v): %v", specialist, err)
		}
	}
	if _, err := CheckApplicationID(4021, 5, Listing{Pending: true}, true); err == nil || !strings.Contains(err.Error(), "has not arrived yet") {
		t.Errorf("a list still on its way decides nothing: %v", err)
	}
	unlisted := ListingOf(4099, map[int64]int64{4021: 5}, nil)
	unavailable := ListingOf(4021, nil, errors.New("HTTP 503"))
	for _, l := range []Listing{NoListing, unlisted, unavailable} {
		if _, err := CheckApplicationID(l2t(l), 7, l, false); err == nil || !strings.Contains(err.Error(), "only an onboarding specialist") {
			t.Errorf("a district user without the list (%s): %v", l.Why, err)
		}
		note, err := CheckApplicationID(l2t(l), 7, l, true)
		if err != nil || !strings.Contains(note, "set by a specialist without ClassLink's list") || !strings.Contains(note, l.Why) {
			t.Errorf("a specialist without the list: %q %v", note, err)
		}
	}
}

func l2t(l Listing) int64 {
	if strings.Contains(l.Why, "4099") {
		return 4099
	}
	return 4021
}

func TestAddingAndImportingFollowTheRule(t *testing.T) {
	db := openTemp(t)
	listed := ListingOf(4021, map[int64]int64{4021: 5}, nil)
	if _, _, err := db.AddDistrict(NewDistrict(4021, 6, "Springfield USD"), listed, ana, true); err == nil {
		t.Fatal("a specialist added another district's application_id")
	}
	if _, _, err := db.AddDistrict(NewDistrict(4021, 5, "Springfield USD"), NoListing, Actor{User: "dana", Via: "ssh"}, false); err == nil {
		t.Fatal("a district user set an application_id with nothing to check it against")
	}
	if _, err := db.District(4021); !errors.Is(err, ErrNotFound) {
		t.Fatalf("a refused add wrote: %v", err)
	}
	_, entry, err := db.AddDistrict(NewDistrict(4021, 5, "Springfield USD"), NoListing, ana, true, "district added in the wizard")
	if err != nil || !slices.ContainsFunc(entry.Notes, func(n string) bool { return strings.Contains(n, "set by a specialist without ClassLink's list") }) {
		t.Fatalf("a specialist's add records it: %v %v", entry.Notes, err)
	}

	cfg := ExportConfig(NewDistrict(4022, 9, "Shelbyville USD"), false)
	other := ListingOf(4022, map[int64]int64{4022: 6}, nil)
	if _, _, err := db.ImportConfig(4022, cfg.MarshalIndent(), ana, ImportOptions{Specialist: true, Listing: &other}); err == nil || !strings.Contains(err.Error(), "application_id 6") {
		t.Fatalf("import of another district's application_id: %v", err)
	}
	if _, _, err := db.ImportConfig(4022, cfg.MarshalIndent(), ana, ImportOptions{}); err == nil || !strings.Contains(err.Error(), "only an onboarding specialist") {
		t.Fatalf("import without the list, not a specialist: %v", err)
	}
	if _, err := db.District(4022); !errors.Is(err, ErrNotFound) {
		t.Fatalf("a refused import wrote: %v", err)
	}
}

func TestCorrectIdentityIsForSpecialistsAndAudited(t *testing.T) {
	db := openTemp(t)
	d := NewDistrict(4021, 6, "Springfeld USD")
	d.Connection = Connection{Mode: ModeProxy, BaseURL: "https://oneroster-proxy.classlink.io/6/ims/oneroster/v1p1/"}
	saved, _, err := db.SaveDistrict(d, 0, ana, nil)
	if err != nil {
		t.Fatal(err)
	}
	listed := ListingOf(4021, map[int64]int64{4021: 5}, nil)
	fix := Identity{Name: "Springfield USD", ApplicationID: 5, Listing: listed, ProxyBaseURL: "https://oneroster-proxy.classlink.io/5/ims/oneroster/v1p1/"}
	if _, _, err := db.CorrectIdentity(4021, saved.Revision, fix, Actor{User: "dana"}, false); err == nil || !strings.Contains(err.Error(), "only an onboarding specialist") {
		t.Fatalf("a district user corrected IDs: %v", err)
	}
	wrong := fix
	wrong.ApplicationID = 7
	if _, _, err := db.CorrectIdentity(4021, saved.Revision, wrong, ana, true); err == nil || !strings.Contains(err.Error(), "application_id 5") {
		t.Fatalf("a correction to an application_id ClassLink does not list: %v", err)
	}
	got, entry, err := db.CorrectIdentity(4021, saved.Revision, fix, ana, true)
	if err != nil {
		t.Fatal(err)
	}
	if got.Name != "Springfield USD" || got.ApplicationID != 5 || got.Connection.BaseURL != fix.ProxyBaseURL || got.Revision != 2 {
		t.Fatalf("corrected = %+v", got)
	}
	fields := map[string]Change{}
	for _, c := range entry.Changes {
		fields[c.Field] = c
	}
	if fields["application_id"].From != "6" || fields["application_id"].To != "5" || fields["name"].To != "Springfield USD" ||
		!slices.ContainsFunc(entry.Notes, func(n string) bool { return strings.Contains(n, "application_id changed from 6 to 5") }) {
		t.Fatalf("audit entry = %+v", entry)
	}
}

func TestRemoveDistrictKeepsTheAuditTrail(t *testing.T) {
	db := openTemp(t)
	saved, _, err := db.SaveDistrict(NewDistrict(4021, 5, "Mistake USD"), 0, ana, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, who := range []string{"ana", "key:dana"} {
		if err := db.PutDraft(Draft{User: who, TenantID: 4021, Base: saved, District: saved}); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.PutDraft(Draft{User: "ana", TenantID: 40210, Base: saved, District: saved}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.RemoveDistrict(4021, saved.Revision, "4021", Actor{User: "dana"}, false); err == nil {
		t.Fatal("a district user removed a district")
	}
	if _, err := db.RemoveDistrict(4021, saved.Revision, "402", ana, true); err == nil || !strings.Contains(err.Error(), "type the District Tenant ID 4021") {
		t.Fatalf("a wrong confirmation: %v", err)
	}
	entry, err := db.RemoveDistrict(4021, saved.Revision, " 4021 ", ana, true)
	if err != nil || !entry.Removed || entry.Revision != 2 {
		t.Fatalf("remove: %+v %v", entry, err)
	}
	if _, err := db.District(4021); !errors.Is(err, ErrNotFound) {
		t.Fatalf("still stored: %v", err)
	}
	for _, who := range []string{"ana", "key:dana"} {
		if _, ok, _ := db.Draft(who, 4021); ok {
			t.Errorf("%s's draft of the removed district is kept", who)
		}
	}
	if _, ok, _ := db.Draft("ana", 40210); !ok {
		t.Error("a draft of another district went too")
	}
	audit, _ := db.Audit(4021)
	if len(audit) != 2 || !audit[1].Removed || audit[0].Revision != 1 {
		t.Fatalf("audit trail = %+v", audit)
	}
	// Added again, it goes on from the history instead of overwriting it.
	again, _, err := db.SaveDistrict(NewDistrict(4021, 5, "Springfield USD"), 0, ana, nil)
	if err != nil || again.Revision != 3 {
		t.Fatalf("re-added: rev %d %v", again.Revision, err)
	}
	if audit, _ := db.Audit(4021); len(audit) != 3 || audit[0].Changes == nil || !audit[1].Removed {
		t.Fatalf("audit after re-adding = %+v", audit)
	}
}
