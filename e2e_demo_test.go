package main

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A newcomer's first steps work with nothing set up: go run . → Demo →
// Preview sync passes, and `rostersync sync --district 2` succeeds, on a
// fresh database.
func TestEndToEndTheDemoWorksFromAFreshDatabase(t *testing.T) {
	bin := binary(t)
	db := filepath.Join(t.TempDir(), "rostersync.db")
	term := startTerminal(t, 80, 24, nil, bin, "--db", db)
	term.wait("Choose a district")
	term.wait("Demo district · ClassLink Demo")
	term.keys("Enter", "m", "Down", "Down", "Enter")
	term.wait("✓ Preview succeeded")
	term.wait("the self-check (step 6) is done")
	term.keys("C-c")
	term.wait("[exited 0]")

	out, code := run(t, "", "sync", "--district", "2", "--db", db)
	if code != 0 || !strings.Contains(out, "succeeded") {
		t.Fatalf("sync --district 2: exit %d\n%s", code, out)
	}

	// With no database at all, the first sync of the demo makes one; a sync
	// of a district that is not there leaves none behind.
	first := filepath.Join(t.TempDir(), "first.db")
	if out, code := run(t, "", "sync", "--district", "2", "--db", first); code != 0 || !strings.Contains(out, "succeeded") {
		t.Fatalf("sync --district 2 with no database: exit %d\n%s", code, out)
	}
	none := filepath.Join(t.TempDir(), "none.db")
	if out, code := run(t, "", "sync", "--district", "99", "--db", none); code == 0 || !strings.Contains(out, "Tenant ID 99") {
		t.Fatalf("sync --district 99 with no database: exit %d\n%s", code, out)
	}
	if _, err := os.Stat(none); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a sync that could not happen left a database behind: %v", err)
	}

	// A database first opened by another command has the demo too.
	other := filepath.Join(t.TempDir(), "other.db")
	if out, code := run(t, "", "access", "add", "--name", "ana", "--key", testKey, "--role", "specialist", "--db", other); code != 0 {
		t.Fatalf("access add: exit %d %s", code, out)
	}
	out, code = run(t, "", "sync", "--district", "2", "--dry-run", "--json", "--db", other)
	var r struct{ Status, Reason string }
	if code != 0 || json.Unmarshal([]byte(out), &r) != nil || r.Status != "succeeded" {
		t.Fatalf("sync --dry-run on a database made by access add: exit %d\n%s", code, out)
	}
}

// testKey is an OpenSSH public key line for access commands.
const testKey = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOv7WtKNhwX4X1nLq0ed9T0b2Sx3nq5I5X7pnd4G7t0E ana@laptop"

// config import follows the guide like the wizard, and an unchanged file
// writes nothing.
func TestConfigImportFollowsTheGuide(t *testing.T) {
	db := filepath.Join(t.TempDir(), "rostersync.db")
	file := `{"tenant_id": 9, "application_id": 3, "name": "Nine",
 "settings": {"enable_daily_sync": false, "manage_guardians": true, "unarchive_reappearing_classrooms": true,
   "update_active_user_contacts": false, "deletion_threshold_percent": 10, "daily_start": "7:00", "time_zone": "america/chicago"},
 "permissions": {"district_admin": [], "school_admin": [], "teacher": [], "support_staff": []}}`
	out, code := run(t, file, "config", "import", "--district", "9", "-", "--db", db)
	if code != 0 || !strings.Contains(out, "Saved Nine as revision 1 (a new district).") {
		t.Fatalf("first import: exit %d %s", code, out)
	}
	shown, _ := run(t, "", "config", "show", "--district", "9", "--json", "--db", db)
	if !strings.Contains(shown, `"daily_start": "07:00"`) || !strings.Contains(shown, `"time_zone": "America/Chicago"`) {
		t.Fatalf("times and zones are not stored as spelled canonically:\n%s", shown)
	}

	// The same file again changes nothing and writes nothing.
	out, code = run(t, file, "config", "import", "--district", "9", "-", "--db", db)
	if code != 0 || !strings.Contains(out, "Nothing changed: Nine stays at revision 1.") {
		t.Fatalf("unchanged import: exit %d %s", code, out)
	}

	// Turning the daily sync on before the self-check needs the flag.
	on := strings.Replace(file, `"enable_daily_sync": false`, `"enable_daily_sync": true`, 1)
	out, code = run(t, on, "config", "import", "--district", "9", "-", "--db", db)
	if code == 0 || !strings.Contains(out, "settings.enable_daily_sync") || !strings.Contains(out, "--enable-before-self-check") {
		t.Fatalf("import turning the sync on early: exit %d %s", code, out)
	}
	out, code = run(t, on, "config", "import", "--district", "9", "-", "--enable-before-self-check", "--db", db)
	if code != 0 || !strings.Contains(out, "Saved Nine as revision 2 (1 change).") {
		t.Fatalf("confirmed import: exit %d %s", code, out)
	}
	hist, _ := run(t, "", "history", "--district", "9", "--json", "--db", db)
	if !strings.Contains(hist, "Enable Daily sync turned on before the self-check step was done") || strings.Count(hist, `"kind": "revision"`) != 2 {
		t.Fatalf("history:\n%s", hist)
	}
}
