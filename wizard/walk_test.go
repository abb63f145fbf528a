package wizard

import (
	"testing"

	"github.com/schoolstatus/rostersync/classlink/classlinktest"
	"github.com/schoolstatus/rostersync/screens"
	"github.com/schoolstatus/rostersync/store"
)

// toDailySync walks from the District Home Page to the Daily Sync screen
// the way a person does: ⋮ menu, Settings, SIS Rostering, Daily Sync.
func (d *driver) toDailySync() {
	d.t.Helper()
	d.keys("m")
	d.see("⋮ District Home Page", "Settings", "Export")
	d.keys("enter")
	d.see("Step 4 of 8", "SIS Rostering")
	d.keys("enter")
	d.see("Step 5 of 8", "District-Level Daily Sync", "School connection to SIS", "Classroom connections")
	d.keys("enter")
	d.see("Step 6 of 8", "] Enable Daily sync")
}

// toThreshold is toDailySync with the focus on the deletion threshold.
func (d *driver) toThreshold() {
	d.t.Helper()
	d.toDailySync()
	d.keys("tab", "tab", "tab", "tab")
}

// clearAndType replaces the focused field's text.
func (d *driver) clearAndType(s string) {
	d.keys("ctrl+u")
	d.typeText(s)
}

func TestWalkDemoDistrictChangeEverySettingAndSave(t *testing.T) {
	d := newDriver(t, 80, 24)
	d.see("Step 1 of 8", "Choose a district", "Demo district", "connectsupport@schoolstatus.com")
	d.keys("enter")
	d.see("Step 2 of 8", "District ▸ Home", "ClassLink Demo", "DEMO", "Setup checklist", "[ ] 6. Self-check")

	// Step 6 is only marked after a passed preview of the saved revision.
	d.keys("down", "down", "down", "down", "down", "space")
	d.see("Step 6 is the self-check: ⋮ → Preview sync of revision 1")
	d.see("[ ] 6. Self-check")
	// A passed preview recorded elsewhere (another session) ticks it; the
	// page shows it when it is back on top.
	if _, err := d.db.RecordRun(store.Run{TenantID: store.DemoTenantID, Mode: store.ModeDryRun, Trigger: store.TriggerManual,
		Status: store.RunSucceeded, ConfigRevision: 1, StartedAt: fixedNow, FinishedAt: fixedNow}); err != nil {
		t.Fatal(err)
	}
	d.keys("m", "esc")
	d.see("[x] 6. Self-check: preview the sync ✓ verified")
	// The self-check is done, so enabling the daily sync needs no warning.
	d.toDailySync()

	d.keys("space") // Enable Daily sync
	d.notSee("Enable Daily sync before the self-check?")
	d.see("[x] Enable Daily sync")
	d.keys("down", "space") // guardians off
	d.see("[ ] Allow sync to manage Guardians", "guardians.csv", "SFTP guardians sync", screens.GuardiansOffNote[:40])
	d.keys("down")
	d.notSee(screens.GuardiansOffNote[:40]) // the note goes with the focus
	d.keys("up")
	d.keys("down", "space") // unarchive off
	d.keys("down", "space") // update active contacts on
	d.see("the sync overwrites the name, email and phones")
	d.keys("down")
	d.clearAndType("25")
	d.keys("tab")
	d.clearAndType("03:30")
	d.keys("tab")
	d.clearAndType("America/Denver")
	d.see("Daily start time:     03:30", "America/Denver", "SMS field becomes the user's mobile phone")
	d.keys("ctrl+n")

	d.see("Step 7 of 8", "Permissions for synced staff", "Permissions Admin", "District", "Support")
	// Teacher (column 3) gains Content Moderator (row 4); then the whole
	// Users Manager row; then every permission of Support staff.
	d.keys("down", "down", "down", "right", "right", "space")
	d.see("Content Moderator · Teacher: granted")
	d.keys("down", "r")
	d.keys("right", "c")
	d.keys("ctrl+n")

	d.see("Step 8 of 8", "Review changes against revision 1", "Save as revision 2?",
		"Enable Daily sync", "off → on", "Deletion threshold (%)", "10 → 25")
	d.keys("enter", "enter") // enter never saves
	d.see("Review changes against revision 1")
	d.keys("y")
	d.see("Step 2 of 8", "Saved revision 2", "Revision 2 · saved by ana")

	got, err := d.db.District(store.DemoTenantID)
	if err != nil {
		t.Fatal(err)
	}
	want := store.Settings{EnableDailySync: true, ManageGuardians: false, UnarchiveReappearingClassrooms: false,
		UpdateActiveUserContacts: true, DeletionThresholdPercent: 25, DailyStart: "03:30", TimeZone: "America/Denver"}
	if got.Settings != want {
		t.Fatalf("settings = %+v, want %+v", got.Settings, want)
	}
	perms := store.DefaultPermissions()
	perms.Set(store.Teacher, store.ContentModerator, true)
	for _, g := range store.RoleGroups {
		perms.Set(g, store.UsersManager, true)
	}
	for _, p := range store.AllPermissions {
		perms.Set(store.SupportStaff, p, true)
	}
	if got.Permissions != perms {
		t.Fatalf("permissions = %v, want %v", got.Permissions, perms)
	}
	audit, _ := d.db.Audit(store.DemoTenantID)
	last := audit[len(audit)-1]
	if last.Revision != 2 || last.Actor.User != "ana" || len(last.Changes) != len(store.Diff(store.NewDemoDistrict(classlinktest.DemoSchoolIDs()...), got)) {
		t.Fatalf("audit entry = %+v", last)
	}
	if _, ok, _ := d.db.LatestDraft("ana"); ok {
		t.Fatal("a draft is left after saving")
	}
}

func TestAddDistrictRefusesBadIDsInline(t *testing.T) {
	d := newDriver(t, 80, 24)
	d.keys("down", "enter") // "+ Add a district…" is below the demo
	d.see("Add a district", "District Tenant ID:", "District application_id:", "connectsupport@schoolstatus.com")
	d.typeText("abc")
	d.see("District Tenant ID must be a positive whole number no larger", `9007199254740991, got "abc"`)
	d.clearAndType("-4")
	d.see(`got "-4"`)
	d.clearAndType("0")
	d.see(`got "0"`)
	// 20 digits are refused with the field's message, not cut to 18.
	d.clearAndType("12345678901234567890")
	d.see(`got "12345678901234567890"`)
	d.keys("tab", "tab", "tab", "ctrl+n")
	if ds, _ := d.db.Districts(); len(ds) != 1 {
		t.Fatalf("a 20-digit Tenant ID was stored: %+v", ds)
	}
	d.clearAndType("4021")
	d.notSee("District Tenant ID must")
	d.keys("tab")
	d.typeText("5x")
	d.see("District application_id must be a positive whole number no", `got "5x"`)
	// Submitting with an invalid field keeps the form and stores nothing.
	d.keys("tab", "enter")
	d.see("Add a district")
	if ds, _ := d.db.Districts(); len(ds) != 1 {
		t.Fatalf("stored %d districts from an invalid form", len(ds)-1)
	}
	// The failed submit put the cursor on the field in error.
	d.keys("backspace")
	d.notSee("application_id must")
	d.keys("tab")
	d.typeText("Springfield USD")
	d.keys("enter")
	d.see("Step 2 of 8", "Springfield USD", "District Tenant ID 4021 · District application_id 5", "Connection: not set up yet")

	// The same tenant cannot be added twice.
	d.keys("esc")
	d.see("Springfield USD", "Tenant 4021 · application_id 5 · revision 1")
	d.keys("down", "down", "enter")
	d.typeText("4021")
	d.see(`district 4021 is already stored as "Springfield USD"`)
	d.keys("esc")
	d.see("Choose a district")

	// A newly added district walks and saves like the demo.
	d.keys("up", "enter")
	d.see("Springfield USD")
	d.toDailySync()
	d.keys("down", "down", "space") // unarchive off
	d.keys("ctrl+n")
	d.keys("space") // Permissions Admin · District administrator off
	d.keys("ctrl+n", "y")
	d.see("Saved revision 2")
	got, _ := d.db.District(4021)
	if got.Settings.UnarchiveReappearingClassrooms || got.Permissions.Has(store.DistrictAdmin, store.PermissionsAdmin) || got.ApplicationID != 5 {
		t.Fatalf("stored = %+v", got)
	}
}

func TestFilterNarrowsTheDropdown(t *testing.T) {
	d := newDriver(t, 80, 24)
	for _, x := range []store.District{store.NewDistrict(11, 1, "Clark County"), store.NewDistrict(12, 1, "Washoe County"), store.NewDistrict(13, 1, "Elko")} {
		if _, _, err := d.db.SaveDistrict(x, 0, store.Actor{User: "ana"}, nil); err != nil {
			t.Fatal(err)
		}
	}
	d = newDriverOn(t, d.db, store.Actor{User: "ana"}, 80, 24)
	d.see("Clark County", "Washoe County", "Elko")
	d.keys("/")
	d.typeText("county")
	d.see("Clark County", "Washoe County", "+ Add a district")
	d.notSee("Elko")
	d.keys("ctrl+u")
	d.paste("wash") // a bracketed paste types into the filter
	d.notSee("Clark")
	d.keys("enter", "enter") // done filtering, then open
	d.see("Step 2 of 8", "Washoe County")
	d.keys("esc")
	d.see("Choose a district")
	d.keys("/")
	d.typeText("zzz")
	d.see(`No district matches "zzz"`)
	d.keys("esc")
	d.see("Elko")
	// With no field focused, k moves up and q quits.
	d.keys("j", "k")
	d.see("› Clark County")
	d.keys("q")
	if !d.m.quitting {
		t.Fatal("q did not quit on the dropdown")
	}
}

func TestEnableDailySyncBeforeSelfCheckNeedsASecondConfirmation(t *testing.T) {
	d := newDriver(t, 80, 24)
	d.keys("enter")
	d.toDailySync()
	d.keys("space")
	d.see("Enable Daily sync before the self-check?", "do not enable the daily sync until the self-check is done")
	d.keys("n")
	d.see("[ ] Enable Daily sync")
	d.notSee("before the self-check?")
	d.keys("space")
	d.see("before the self-check?")
	d.keys("esc")
	d.see("[ ] Enable Daily sync")
	d.keys("enter") // enter toggles a checkbox too
	d.see("before the self-check?", "y enable anyway")
	d.keys("enter") // but never confirms: the warning takes y only
	d.see("before the self-check?")
	d.keys("y")
	d.see("[x] Enable Daily sync")
	d.keys("ctrl+n", "ctrl+n")
	d.see("Note for the audit: Enable Daily sync turned on before the")
	d.keys("y")
	audit, _ := d.db.Audit(store.DemoTenantID)
	last := audit[len(audit)-1]
	if len(last.Notes) != 1 || last.Notes[0] != screens.NoteEnabledBeforeSelfCheck {
		t.Fatalf("audit notes = %q", last.Notes)
	}
	got, _ := d.db.District(store.DemoTenantID)
	if !got.Settings.EnableDailySync {
		t.Fatal("daily sync not enabled")
	}

	// Turning it off again drops the note; on again (still no self-check)
	// asks again.
	d.toDailySync()
	d.keys("space")
	d.see("[ ] Enable Daily sync")
	d.keys("space")
	d.see("before the self-check?")
}

func TestInvalidSettingsBlockContinue(t *testing.T) {
	d := newDriver(t, 80, 24)
	d.keys("enter")
	d.toThreshold()
	d.clearAndType("101")
	d.see("must be a whole number from 0 to 100")
	d.keys("tab")
	d.clearAndType("25:61")
	d.see("must be a 24-hour time HH:MM")
	d.keys("tab")
	d.clearAndType("Mars/Base")
	d.see(`unknown IANA time zone "Mars/Base"`)
	d.keys("ctrl+n")
	d.see("Step 6 of 8", "Fix the field marked ✗ before continuing.")
	// The draft keeps the last valid values, never the invalid text.
	e := d.m.Edit()
	if s := e.Draft.Settings; s.DeletionThresholdPercent != 10 || s.DailyStart != "02:00" || s.TimeZone != "America/Chicago" {
		t.Fatalf("invalid input reached the draft: %+v", s)
	}
	// Continue put the cursor on the first field in error.
	d.clearAndType("0")
	d.keys("tab")
	d.clearAndType("23:59")
	d.keys("tab")
	d.clearAndType("Pacific/Honolulu")
	d.keys("ctrl+n")
	d.see("Step 7 of 8")
}

func TestEveryMatrixCellToggles(t *testing.T) {
	d := newDriver(t, 80, 24)
	d.keys("enter")
	d.toDailySync()
	d.keys("ctrl+n")
	for r := range store.AllPermissions {
		for c := range store.RoleGroups {
			d.keys("space")
			if c < len(store.RoleGroups)-1 {
				d.keys("right")
			}
			_ = c
		}
		d.keys("left", "left", "left")
		if r < len(store.AllPermissions)-1 {
			d.keys("down")
		}
	}
	d.keys("ctrl+n")
	d.see("28 changes")
	d.keys("down", "down")
	d.see("lines 3–")
	d.keys("y")
	got, _ := d.db.District(store.DemoTenantID)
	def := store.DefaultPermissions()
	for _, g := range store.RoleGroups {
		for _, p := range store.AllPermissions {
			if got.Permissions.Has(g, p) == def.Has(g, p) {
				t.Errorf("%s/%s was not toggled", g, p)
			}
		}
	}
}

func TestMatrixDescribesEngagementVisibilityOnAndOff(t *testing.T) {
	d := newDriver(t, 80, 24)
	d.keys("enter")
	d.toDailySync()
	d.keys("ctrl+n")
	for range 6 {
		d.keys("down")
	}
	d.keys("right", "right")
	d.see("Engagement Visibility · Teacher: not granted",
		"On: Sees all engagement logs of students in their scope.",
		"Off: Sees only conversations they take part in.")
	d.keys("space")
	d.see("Engagement Visibility · Teacher: granted")
}

func TestEscGoesBackOneScreenAtATimeAndKeepsEdits(t *testing.T) {
	d := newDriver(t, 80, 24)
	d.keys("enter")
	d.toDailySync()
	d.keys("down", "space")
	d.keys("ctrl+n")
	steps := []string{"Step 6 of 8", "Step 5 of 8", "Step 4 of 8", "Step 3 of 8", "Step 2 of 8", "Step 1 of 8"}
	for _, s := range steps {
		d.keys("esc")
		d.see(s)
	}
	d.see("Unsaved changes to ClassLink Demo are kept as a draft.")
	draft, ok, _ := d.db.LatestDraft("ana")
	if !ok || draft.District.Settings.ManageGuardians {
		t.Fatalf("draft = %+v, %v", draft, ok)
	}
	// Opening the district again restores the change.
	d.keys("enter")
	d.see("Your unsaved changes to this district were restored.", "● 1 change unsaved")
}

func TestQuitWithUnsavedChangesAsksAndKeepsADraftToResume(t *testing.T) {
	d := newDriver(t, 80, 24)
	d.keys("enter")
	d.toDailySync()
	d.keys("down", "down", "space")
	d.keys("ctrl+c")
	d.see("Quit with unsaved changes?", "1 change to ClassLink Demo", "y quit and keep the draft", "n/esc stay")
	d.keys("enter") // not an answer: the dialog stays
	d.see("Quit with unsaved changes?")
	d.keys("n")
	d.notSee("Quit with unsaved changes?")
	d.see("Step 6 of 8")
	d.keys("ctrl+c", "y")
	if !d.m.quitting {
		t.Fatal("did not quit")
	}

	// The next start offers to resume, and resuming lands on the same screen
	// with the change, with the whole way back intact.
	next := newDriverOn(t, d.db, store.Actor{User: "ana"}, 80, 24)
	next.see("You left unsaved changes", "ClassLink Demo (Tenant 2): 1 change on top of revision 1",
		"Unarchive classrooms that reappear in the roster data: on → off", "Resume where I left off", "Start over")
	next.keys("enter")
	next.see("Step 6 of 8", "[ ] Unarchive classrooms")
	next.keys("esc", "esc", "esc", "esc", "esc")
	next.see("Step 1 of 8")

	// Another person's start shows no resume prompt.
	other := newDriverOn(t, d.db, store.Actor{User: "ben"}, 80, 24)
	other.see("Choose a district")

	// H3: starting over asks again, and only y discards the draft: enter,
	// n and esc keep it.
	again := newDriverOn(t, d.db, store.Actor{User: "ana"}, 50, 16)
	for _, keep := range []string{"enter", "n", "esc"} {
		again.keys("down", "enter")
		again.see("Discard your 1 change to", "cannot be brought back", "n/esc keep the draft", "y discard it and start over")
		again.keys(keep)
		again.see("You left unsaved changes", "Resume where I left off")
		if _, ok, _ := d.db.LatestDraft("ana"); !ok {
			t.Fatalf("%s discarded the draft", keep)
		}
	}
	again.keys("down", "enter", "y")
	again.see("Choose a district")
	if _, ok, _ := d.db.LatestDraft("ana"); ok {
		t.Fatal("start over kept the draft")
	}
}

func TestQuitWithoutChangesDoesNotAsk(t *testing.T) {
	d := newDriver(t, 80, 24)
	d.keys("enter", "ctrl+c")
	if !d.m.quitting {
		t.Fatal("ctrl+c without changes did not quit")
	}
}

func TestHelpTogglesOnEveryScreen(t *testing.T) {
	d := newDriver(t, 80, 24)
	d.see("? help", "q quit")
	d.keys("?")
	d.see("Keys on this screen", "filter the list")
	d.keys("?")
	d.keys("enter")
	d.keys("?")
	d.see("mark step done / not done", "choose another district")
	d.keys("?")
	d.toDailySync()
	d.keys("?")
	d.see("continue to permissions", "back (changes are kept)")
	d.keys("?", "ctrl+n", "?")
	d.see("toggle the permission for every group", "toggle every permission of the group")
}

func TestTooSmallTerminalSaysSo(t *testing.T) {
	d := newDriver(t, 40, 12)
	d.see("Terminal too small: 40×12.", "at least 50×16")
	d.notSee("Choose a district")
	d.resize(80, 24)
	d.see("Choose a district")
}
