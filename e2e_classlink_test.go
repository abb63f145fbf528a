package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/schoolstatus/rostersync/classlink/classlinktest"
)

func TestClassLinkCommands(t *testing.T) {
	district, err := classlinktest.NewDistrict(classlinktest.Options{Seed: 3, Tier: classlinktest.TierS})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := classlinktest.NewServer(classlinktest.ServerOptions{
		Tenants:    []classlinktest.Tenant{{TenantID: 4021, ApplicationID: 5, Name: "Springfield USD", ConsumerKey: "k", ConsumerSecret: "s3cr3t-value", District: district}},
		ProxyToken: "partner-token",
	})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	env := []string{"ROSTERSYNC_CLASSLINK_TOKEN=partner-token", "ROSTERSYNC_CLASSLINK_PROXY=" + srv.URL()}

	out, code := runEnv(t, env, "", "classlink", "districts", "--json")
	if code != 0 || !strings.Contains(out, `"tenant_name": "Springfield USD"`) || !strings.Contains(out, `"application_id": 5`) {
		t.Fatalf("districts: %d %s", code, out)
	}
	if out, code := runEnv(t, []string{"ROSTERSYNC_CLASSLINK_TOKEN=wrong", "ROSTERSYNC_CLASSLINK_PROXY=" + srv.URL()}, "", "classlink", "districts"); code == 0 || strings.Contains(out, "wrong") {
		t.Fatalf("districts with a bad token: %d %s", code, out)
	}
	if out, code := runEnv(t, []string{"ROSTERSYNC_CLASSLINK_TOKEN="}, "", "classlink", "districts"); code == 0 || !strings.Contains(out, "set ROSTERSYNC_CLASSLINK_TOKEN") {
		t.Fatalf("districts without a token: %d %s", code, out)
	}

	db := filepath.Join(t.TempDir(), "r.db")
	cfg := func(secret string) string {
		return fmt.Sprintf(`{"tenant_id": 4021, "application_id": 5, "name": "Springfield USD",
 "settings": {"enable_daily_sync": false, "manage_guardians": true, "unarchive_reappearing_classrooms": true,
   "update_active_user_contacts": false, "deletion_threshold_percent": 10, "daily_start": "02:00", "time_zone": "America/Chicago"},
 "permissions": {"district_admin": [], "school_admin": [], "teacher": [], "support_staff": []},
 "connection": {"mode": "oauth1", "base_url": %q, "client_id": "k", "client_secret": %q, "signature_method": "HMAC-SHA256"}}`, srv.BaseURL(), secret)
	}
	if out, code := run(t, cfg("s3cr3t-value"), "config", "import", "--district", "4021", "-", "--db", db); code != 0 {
		t.Fatal(out)
	}
	out, code = run(t, "", "classlink", "test", "--district", "4021", "--json", "--db", db)
	var rep struct {
		OK     bool           `json:"ok"`
		Counts map[string]int `json:"counts"`
		Rev    string         `json:"perm_rev"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil || code != 0 || !rep.OK || rep.Counts["users"] == 0 || rep.Rev == "" {
		t.Fatalf("test: %d %v %s", code, err, out)
	}
	if strings.Contains(out, "s3cr3t-value") {
		t.Fatal("the secret was printed")
	}
	// Stored sealed: the database file holds no trace of it.
	if raw, err := os.ReadFile(db); err != nil || bytes.Contains(raw, []byte("s3cr3t-value")) || bytes.Contains(raw, []byte("s3cr3t")) {
		t.Fatalf("the database file holds the secret (%v)", err)
	}
	if out, code := run(t, cfg("wrong"), "config", "import", "--district", "4021", "-", "--db", db); code != 0 {
		t.Fatal(out)
	}
	out, code = run(t, "", "classlink", "test", "--district", "4021", "--db", db)
	if code == 0 || !strings.Contains(out, "failed (credentials)") || !strings.Contains(out, "\n  detail (credentials): ") || strings.Contains(out, `\n`) {
		t.Fatalf("test with a bad secret: %d %s", code, out)
	}
}
