package wizard

import (
	"bytes"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"

	"github.com/schoolstatus/rostersync/screens"
	"github.com/schoolstatus/rostersync/store"
)

func accessibleDB(t *testing.T) *store.DB {
	t.Helper()
	db, err := store.Open(filepath.Join(t.TempDir(), "r.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestAccessiblePromptsSaveThroughTheSameEdit(t *testing.T) {
	db := accessibleDB(t)
	answers := strings.Join([]string{
		"1",      // Demo district
		"y", "y", // Enable Daily sync, and again past the guide's warning
		"n",         // manage guardians off
		"",          // unarchive: keep the default (on)
		"y",         // update active contacts on
		"150", "20", // threshold: refused, then accepted
		"4:15", "04:15", // start: refused, then accepted
		"Mars/Base", "America/New_York",
		"",       // guardians are off: keep the guardians source
		"1", "0", // district admin: drop Permissions Admin
		"0",      // school admin unchanged
		"4", "0", // teacher: add Content Moderator
		"0", // support staff unchanged
		"y", // save
	}, "\n") + "\n"
	var out bytes.Buffer
	err := RunAccessible(Options{DB: db, Actor: store.Actor{User: "ana", Via: "local"}}, strings.NewReader(answers), &out)
	text := ansi.Strip(out.String())
	if err != nil {
		t.Fatalf("%v\n%s", err, text)
	}
	for _, want := range []string{
		"Step 1 of 8", "Choose a district", "Enable Daily sync?", "do not enable the daily sync until the self-check is done",
		screens.GuardiansOffNote, "must be a whole number from 0 to 100", "must be a 24-hour time", `unknown IANA time zone "Mars/Base"`,
		"District administrator permissions", "Support staff permissions", "Step 8 of 8", "Save these", "Saved revision 2.",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	if strings.Contains(out.String(), "\x1b[") {
		t.Error("accessible output contains escape codes")
	}
	got, err := db.District(store.DemoTenantID)
	if err != nil {
		t.Fatal(err)
	}
	want := store.Settings{EnableDailySync: true, ManageGuardians: false, UnarchiveReappearingClassrooms: true,
		UpdateActiveUserContacts: true, DeletionThresholdPercent: 20, DailyStart: "04:15", TimeZone: "America/New_York"}
	if got.Settings != want {
		t.Fatalf("settings = %+v, want %+v", got.Settings, want)
	}
	perms := store.DefaultPermissions()
	perms.Set(store.DistrictAdmin, store.PermissionsAdmin, false)
	perms.Set(store.Teacher, store.ContentModerator, true)
	if got.Permissions != perms {
		t.Fatalf("permissions = %v, want %v", got.Permissions, perms)
	}
	audit, _ := db.Audit(store.DemoTenantID)
	if n := audit[len(audit)-1].Notes; len(n) != 1 || n[0] != screens.NoteEnabledBeforeSelfCheck {
		t.Fatalf("audit notes = %q", n)
	}
}

func TestAccessibleInputEndingEarlySavesNothing(t *testing.T) {
	db := accessibleDB(t)
	var out bytes.Buffer
	err := RunAccessible(Options{DB: db, Actor: store.Actor{User: "ana"}}, strings.NewReader("1\nn\nn\n"), &out)
	if !errors.Is(err, ErrInputEnded) || !strings.Contains(err.Error(), "district 2 was added, but none of its settings were saved") {
		t.Fatalf("err = %v, want ErrInputEnded naming the added district", err)
	}
	d, _ := db.District(store.DemoTenantID)
	if d.Revision != 1 || !d.Settings.ManageGuardians {
		t.Fatalf("input that ended early saved something: %+v", d)
	}
}

func TestAccessibleAddDistrictValidatesIDs(t *testing.T) {
	db := accessibleDB(t)
	answers := "2\nabc\n0\n77\nx\n9\nSpringfield\n" + strings.Repeat("\n", 7) + "0\n0\n0\n0\n"
	var out bytes.Buffer
	if err := RunAccessible(Options{DB: db, Actor: store.Actor{User: "ana"}}, strings.NewReader(answers), &out); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	text := ansi.Strip(out.String())
	for _, want := range []string{`District Tenant ID must be a positive whole number, got "abc"`, `got "0"`, `District application_id must be a positive whole number, got "x"`, "Nothing changed since revision 1"} {
		if !strings.Contains(text, want) {
			t.Errorf("output lacks %q\n%s", want, text)
		}
	}
	d, err := db.District(77)
	if err != nil || d.ApplicationID != 9 || d.Name != "Springfield" {
		t.Fatalf("district 77 = %+v, %v", d, err)
	}
}
