package store

import (
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestEnablingBeforeTheSelfCheckNeedsTheConfirmationNote(t *testing.T) {
	db := openTemp(t)
	d, _, err := db.SaveDistrict(NewDistrict(11, 12, "Elko"), 0, ana, nil)
	if err != nil {
		t.Fatal(err)
	}
	on := d
	on.Settings.EnableDailySync = true
	var early *EnableBeforeSelfCheckError
	if _, _, err := db.SaveDistrict(on, d.Revision, ana, []string{"imported"}); !errors.As(err, &early) || !strings.Contains(err.Error(), "settings.enable_daily_sync") {
		t.Fatalf("save without the note: %v", err)
	}
	if got, _ := db.District(11); got.Revision != 1 || got.Settings.EnableDailySync {
		t.Fatalf("a refused save wrote: %+v", got)
	}
	saved, entry, err := db.SaveDistrict(on, d.Revision, ana, []string{"imported", NoteEnabledBeforeSelfCheck})
	if err != nil || !saved.Settings.EnableDailySync || !slices.Contains(entry.Notes, NoteEnabledBeforeSelfCheck) {
		t.Fatalf("confirmed save: %v %+v", err, entry)
	}

	// After the self-check, the same change needs no note, and a note that
	// is not true is not recorded.
	off := saved
	off.Settings.EnableDailySync = false
	saved, _, err = db.SaveDistrict(off, saved.Revision, ana, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.SetChecklistStep(11, StepSelfCheck, ChecklistItem{Done: true}); err != nil {
		t.Fatal(err)
	}
	saved.Settings.EnableDailySync = true
	_, entry, err = db.SaveDistrict(saved, saved.Revision, ana, []string{NoteEnabledBeforeSelfCheck})
	if err != nil || len(entry.Notes) != 0 {
		t.Fatalf("after the self-check: %v, notes %q", err, entry.Notes)
	}
}

func TestSavingSettingsTicksStepFive(t *testing.T) {
	db := openTemp(t)
	d, _, _ := db.SaveDistrict(NewDistrict(11, 12, "Elko"), 0, ana, nil)
	if d.Checklist[StepSyncSettings].Done {
		t.Fatal("adding a district ticked step 5")
	}
	d.Name = "Elko County"
	d, _, _ = db.SaveDistrict(d, d.Revision, ana, nil)
	if d.Checklist[StepSyncSettings].Done {
		t.Fatal("renaming ticked step 5")
	}
	d.Settings.DeletionThresholdPercent = 20
	d, _, err := db.SaveDistrict(d, d.Revision, ana, nil)
	if err != nil || !d.Checklist[StepSyncSettings].Done || d.Checklist[StepSyncSettings].By != "ana" {
		t.Fatalf("saving a setting: %v %+v", err, d.Checklist[StepSyncSettings])
	}
	if got, _ := db.District(11); !got.Checklist[StepSyncSettings].Done {
		t.Fatal("step 5 was not stored")
	}
}

func TestRunsTickTheSelfCheckAndTheLaunchOnlyWhenTheyMeanIt(t *testing.T) {
	db := openTemp(t)
	d, _, _ := db.SaveDistrict(NewDistrict(11, 12, "Elko"), 0, ana, nil)
	run := func(mode, status string, rev int64) District {
		t.Helper()
		if _, err := db.RecordRun(Run{TenantID: 11, Mode: mode, Trigger: TriggerManual, Status: status, ConfigRevision: rev}); err != nil {
			t.Fatal(err)
		}
		got, _ := db.District(11)
		return got
	}
	if got := run(ModeDryRun, RunFailed, 1); got.Checklist[StepSelfCheck].Done {
		t.Fatal("a failed preview ticked the self-check")
	}
	if got := run(ModeDryRun, RunSucceeded, 0); got.Checklist[StepSelfCheck].Done {
		t.Fatal("a preview of an older revision ticked the self-check")
	}
	got := run(ModeDryRun, RunSucceeded, 1)
	if c := got.Checklist[StepSelfCheck]; !c.Done || !c.Verified || c.By != RunChecker {
		t.Fatalf("self-check = %+v", c)
	}
	// A manual run while Enable Daily sync is off is not the launch.
	if got := run(ModeApply, RunSucceeded, 1); got.Checklist[StepEnable].Done {
		t.Fatal("a run with the daily sync off ticked step 7")
	}
	d = got
	d.Settings.EnableDailySync = true
	d, _, err := db.SaveDistrict(d, d.Revision, ana, nil) // the self-check is done: no note needed
	if err != nil {
		t.Fatal(err)
	}
	if got := run(ModeApply, RunFailed, d.Revision); got.Checklist[StepEnable].Done {
		t.Fatal("a failed run ticked step 7")
	}
	got = run(ModeApply, RunSucceeded, d.Revision)
	if c := got.Checklist[StepEnable]; !c.Done || !c.Verified {
		t.Fatalf("step 7 = %+v", c)
	}
	// Turning the daily sync off takes the verification back.
	got.Settings.EnableDailySync = false
	got, _, _ = db.SaveDistrict(got, got.Revision, ana, nil)
	if got.Checklist[StepEnable].Done || got.Checklist[StepEnable].Verified {
		t.Fatalf("step 7 after turning the sync off = %+v", got.Checklist[StepEnable])
	}
}

func TestImportingAnUnchangedFileWritesNothing(t *testing.T) {
	db := openTemp(t)
	d, _, _ := db.SaveDistrict(NewDistrict(11, 12, "Elko"), 0, ana, nil)
	file := ExportConfig(d, false).MarshalIndent()
	got, entry, err := db.ImportConfig(11, file, ana, ImportOptions{})
	if err != nil || entry.Revision != 0 || got.Revision != 1 {
		t.Fatalf("unchanged import: %v, entry %+v, revision %d", err, entry, got.Revision)
	}
	if audit, _ := db.Audit(11); len(audit) != 1 {
		t.Fatalf("an unchanged import added %d audit entries", len(audit)-1)
	}
	// The same file still imports after a change, so older exports keep working.
	changed := strings.Replace(string(file), `"deletion_threshold_percent": 10`, `"deletion_threshold_percent": 15`, 1)
	if _, entry, err := db.ImportConfig(11, []byte(changed), ana, ImportOptions{}); err != nil || entry.Revision != 2 || len(entry.Changes) != 1 {
		t.Fatalf("changed import: %v %+v", err, entry)
	}
}

func TestImportFollowsTheEnableRule(t *testing.T) {
	db := openTemp(t)
	d, _, _ := db.SaveDistrict(NewDistrict(11, 12, "Elko"), 0, ana, nil)
	file := strings.Replace(string(ExportConfig(d, false).MarshalIndent()), `"enable_daily_sync": false`, `"enable_daily_sync": true`, 1)
	var early *EnableBeforeSelfCheckError
	if _, _, err := db.ImportConfig(11, []byte(file), ana, ImportOptions{}); !errors.As(err, &early) {
		t.Fatalf("import turning the sync on early: %v", err)
	}
	_, entry, err := db.ImportConfig(11, []byte(file), ana, ImportOptions{EnableBeforeSelfCheck: true})
	if err != nil || !slices.Contains(entry.Notes, NoteEnabledBeforeSelfCheck) {
		t.Fatalf("confirmed import: %v %+v", err, entry)
	}
}

func TestIDsStayBelowTwoToThe53(t *testing.T) {
	for _, s := range []string{"12345678901234567890", "9007199254740992", "0", "-1", "1e3"} {
		if _, err := ParseTenantID(s); err == nil || !strings.Contains(err.Error(), "no larger than 9007199254740991") {
			t.Errorf("ParseTenantID(%q) = %v", s, err)
		}
	}
	if n, err := ParseApplicationID(" 9007199254740991 "); err != nil || n != MaxID {
		t.Errorf("the largest ID: %d %v", n, err)
	}
	for _, file := range []string{
		`{"tenant_id": 12345678901234567890, "settings": {}, "permissions": {}}`,
		`{"tenant_id": 9007199254740992, "settings": {}, "permissions": {}}`,
		`{"tenant_id": 5, "application_id": 12345678901234567890, "settings": {}, "permissions": {}}`,
	} {
		_, err := ParseConfig([]byte(file))
		var fe *FieldError
		if !errors.As(err, &fe) || !strings.Contains(fe.Msg, "no larger than 9007199254740991") {
			t.Errorf("ParseConfig(%s) = %v", file, err)
		}
	}
	if err := NewDistrict(MaxID+1, 1, "").Validate(); err == nil {
		t.Error("a district above MaxID validates")
	}
}

func TestTimeZonesMatchInAnyCaseAndStoreTheCanonicalName(t *testing.T) {
	for in, want := range map[string]string{"america/chicago": "America/Chicago", "AMERICA/NEW_YORK": "America/New_York", "utc": "UTC", "america/port-au-prince": "America/Port-au-Prince"} {
		if got, err := CanonicalTimeZone(in); err != nil || got != want {
			t.Errorf("CanonicalTimeZone(%q) = %q, %v", in, got, err)
		}
	}
	for _, bad := range []string{"local", "", "Mars/Base"} {
		if _, err := CanonicalTimeZone(bad); err == nil {
			t.Errorf("CanonicalTimeZone(%q) accepted", bad)
		}
	}
	for in, want := range map[string]string{"7:00": "07:00", "07:00": "07:00", " 23:59": "23:59"} {
		if got, err := CanonicalDailyStart(in); err != nil || got != want {
			t.Errorf("CanonicalDailyStart(%q) = %q, %v", in, got, err)
		}
	}
	for _, bad := range []string{"24:00", "7:0", "700", "07:000"} {
		if _, err := CanonicalDailyStart(bad); err == nil {
			t.Errorf("CanonicalDailyStart(%q) accepted", bad)
		}
	}
	db := openTemp(t)
	d := NewDistrict(11, 12, "Elko")
	d.Settings.TimeZone, d.Settings.DailyStart = "america/denver", "7:30"
	saved, _, err := db.SaveDistrict(d, 0, ana, nil)
	if err != nil || saved.Settings.TimeZone != "America/Denver" || saved.Settings.DailyStart != "07:30" {
		t.Fatalf("saved %v %+v", err, saved.Settings)
	}
	for _, z := range ZoneNames() {
		if _, err := LoadTimeZone(z); err != nil {
			t.Errorf("zone list holds %q, which does not load: %v", z, err)
		}
	}
}

func TestTheDemoDistrictIsAddedOnceWithItsSchools(t *testing.T) {
	db := openTemp(t)
	if err := db.AddDemo([]string{"org-1", "org-2"}); err != nil {
		t.Fatal(err)
	}
	d, err := db.District(DemoTenantID)
	if err != nil || !d.Demo || d.Revision != 1 || !slices.Equal(d.Schools, []string{"org-1", "org-2"}) || d.SavedBy != DemoActor {
		t.Fatalf("demo = %+v, %v", d, err)
	}
	d.Schools = []string{}
	if _, _, err := db.SaveDistrict(d, 1, ana, nil); err != nil {
		t.Fatal(err)
	}
	// Later opens leave what people did to it alone.
	if err := db.AddDemo([]string{"org-1", "org-2"}); err != nil {
		t.Fatal(err)
	}
	if got, _ := db.District(DemoTenantID); got.Revision != 2 || len(got.Schools) != 0 {
		t.Fatalf("a second AddDemo changed the demo: %+v", got)
	}
}

func TestKillBetweenSaveAndCommitKeepsTheDraftWithTheOldRevision(t *testing.T) {
	path := filepath.Join(t.TempDir(), "r.db")
	db, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	base, _, _ := db.SaveDistrict(NewDistrict(11, 12, "Before"), 0, ana, nil)
	mine := base
	mine.Settings.DeletionThresholdPercent = 30
	if err := db.PutDraft(Draft{User: ana.Owner(), TenantID: 11, Screen: "review", Base: base, District: mine}); err != nil {
		t.Fatal(err)
	}
	db.Close()

	child := startChild(t, "die-during-save-edit", path, "writing")
	child.Process.Kill()
	child.Wait()

	db, err = Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	got, _ := db.District(11)
	_, draftKept, _ := db.Draft(ana.Owner(), 11)
	if got.Revision != 1 || !draftKept {
		t.Fatalf("after a kill: revision %d, draft kept %v; want 1 and the draft", got.Revision, draftKept)
	}
	// The same save, not killed, stores the revision and drops the draft together.
	if _, _, err := db.SaveEdit(ana.Owner(), mine, base.Revision, ana, nil); err != nil {
		t.Fatal(err)
	}
	got, _ = db.District(11)
	_, draftKept, _ = db.Draft(ana.Owner(), 11)
	if got.Revision != 2 || draftKept {
		t.Fatalf("after the save: revision %d, draft kept %v", got.Revision, draftKept)
	}
	// A refused save (a conflict) keeps the draft.
	if err := db.PutDraft(Draft{User: ana.Owner(), TenantID: 11, Base: base, District: mine}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := db.SaveEdit(ana.Owner(), mine, base.Revision, ana, nil); err == nil {
		t.Fatal("a stale save was accepted")
	}
	if _, ok, _ := db.Draft(ana.Owner(), 11); !ok {
		t.Fatal("a refused save deleted the draft")
	}
}
