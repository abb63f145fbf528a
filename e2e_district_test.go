package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

// district set and district remove: the CLI's District details.
func TestDistrictCommandsCorrectAndRemoveWithAnAuditTrail(t *testing.T) {
	db := filepath.Join(t.TempDir(), "rostersync.db")
	nine := `{"tenant_id": 9, "application_id": 3, "name": "Nien",
 "settings": {"enable_daily_sync": false, "manage_guardians": true, "unarchive_reappearing_classrooms": true,
   "update_active_user_contacts": false, "deletion_threshold_percent": 10, "daily_start": "02:00", "time_zone": "America/Chicago"},
 "permissions": {"district_admin": [], "school_admin": [], "teacher": [], "support_staff": []}}`
	if out, code := run(t, nine, "config", "import", "--district", "9", "-", "--db", db); code != 0 {
		t.Fatal(out)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"district", "set", "--district", "9"}, "give --name, --application-id or both"},
		{[]string{"district", "set", "--district", "9", "--application-id", "x"}, `--application-id: application_id: District application_id must be a positive whole number no larger than 9007199254740991, got "x"`},
		{[]string{"district", "set", "--district", "9", "--name", "Nine\x1b[2J"}, "name: must not contain control characters"},
		{[]string{"district", "remove", "--district", "9", "--confirm", "8"}, "type the District Tenant ID 9 to remove the district"},
		{[]string{"district", "remove", "--district", "9"}, `required flag(s) "confirm" not set`},
	} {
		if out, code := run(t, "", append(c.args, "--db", db)...); code == 0 || !strings.Contains(out, c.want) {
			t.Errorf("%v: exit %d %q, want %q", c.args, code, out, c.want)
		}
	}
	out, code := run(t, "", "district", "set", "--district", "9", "--name", "Nine", "--application-id", "4", "--db", db)
	if code != 0 || !strings.Contains(out, "Saved Nine (Tenant ID 9, application_id 4) as revision 2.") {
		t.Fatalf("set: %d %s", code, out)
	}
	out, code = run(t, "", "district", "remove", "--district", "9", "--confirm", "9", "--db", db)
	if code != 0 || !strings.Contains(out, "Removed Nine (Tenant ID 9); its history is kept") {
		t.Fatalf("remove: %d %s", code, out)
	}
	if out, code := run(t, "", "config", "show", "--district", "9", "--db", db); code == 0 || !strings.Contains(out, "no district with Tenant ID 9") {
		t.Fatalf("show after remove: %d %s", code, out)
	}
	out, code = run(t, "", "history", "--district", "9", "--json", "--db", db)
	var items []struct {
		Revision int64             `json:"revision"`
		Removed  bool              `json:"removed"`
		Notes    []string          `json:"notes"`
		Changes  []json.RawMessage `json:"changes"`
	}
	if err := json.Unmarshal([]byte(out), &items); err != nil || code != 0 || len(items) != 3 || !items[0].Removed || items[0].Revision != 3 ||
		!strings.Contains(strings.Join(items[1].Notes, " "), "application_id changed from 3 to 4") ||
		!strings.Contains(strings.Join(items[1].Notes, " "), "set by a specialist without ClassLink's list") {
		t.Fatalf("history: %v %s", err, out)
	}
}
