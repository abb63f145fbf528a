package store

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func TestExportMasksSecretUnlessAsked(t *testing.T) {
	d := NewDistrict(2, 57, "ClassLink Demo")
	d.Connection = Connection{Mode: ModeOAuth1, BaseURL: "https://demo-ca-v2.oneroster.com/ims/oneroster/v1p1/", ClientID: "key", ClientSecret: "s3cr3t", SignatureMethod: HMACSHA256}
	masked := string(ExportConfig(d, false).MarshalIndent())
	if strings.Contains(masked, "s3cr3t") || !strings.Contains(masked, `"client_secret": "********"`) {
		t.Fatalf("masked export:\n%s", masked)
	}
	if !strings.Contains(string(ExportConfig(d, true).MarshalIndent()), "s3cr3t") {
		t.Fatal("--include-secrets export lacks the secret")
	}
	var generic map[string]any
	if err := json.Unmarshal([]byte(masked), &generic); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"tenant_id", "application_id", "name", "revision", "settings", "permissions", "connection", "schools"} {
		if _, ok := generic[k]; !ok {
			t.Errorf("export lacks contract key %q", k)
		}
	}
	perms := generic["permissions"].(map[string]any)
	if got := perms["teacher"].([]any); len(got) != 1 || got[0] != "family_access" {
		t.Errorf("teacher permissions = %v", got)
	}
}

func TestImportRoundTripAndMaskedSecretKept(t *testing.T) {
	db := openTemp(t)
	d := NewDistrict(2, 57, "ClassLink Demo")
	d.Connection = Connection{Mode: ModeOAuth1, BaseURL: "https://demo-ca-v2.oneroster.com/ims/oneroster/v1p1/", ClientID: "key", ClientSecret: "s3cr3t", SignatureMethod: HMACSHA1}
	d.Schools = []string{"org-2", "org-1"}
	saved, _, err := db.SaveDistrict(d, 0, ana, nil)
	if err != nil {
		t.Fatal(err)
	}
	// Edit the masked export the way a person would, then import it.
	cfg := ExportConfig(saved, false)
	cfg.Settings.UpdateActiveUserContacts = true
	cfg.Settings.TimeZone = "America/New_York"
	cfg.Permissions["support_staff"] = []string{"content_moderator", "users_manager"}
	cfg.Permissions["district_admin"] = []string{}
	got, entry, err := db.ImportConfig(2, cfg.MarshalIndent(), Actor{User: "ana", Via: "import"}, ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got.Revision != 2 || got.Connection.ClientSecret != "s3cr3t" {
		t.Fatalf("import: revision %d secret kept %v", got.Revision, got.Connection.ClientSecret == "s3cr3t")
	}
	if !got.Settings.UpdateActiveUserContacts || got.Settings.TimeZone != "America/New_York" ||
		!got.Permissions.Has(SupportStaff, ContentModerator) || !got.Permissions.Has(SupportStaff, UsersManager) ||
		len(got.Permissions.Granted(DistrictAdmin)) != 0 {
		t.Fatalf("imported district = %+v", got)
	}
	for _, c := range entry.Changes {
		if strings.Contains(c.From+c.To, "s3cr3t") {
			t.Fatal("audit entry shows the secret")
		}
	}
	// Export → import with no edits is a no-op in content.
	again, entry, err := db.ImportConfig(2, ExportConfig(got, true).MarshalIndent(), ana, ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(entry.Changes) != 0 || again.Settings != got.Settings || again.Permissions != got.Permissions {
		t.Fatalf("round trip changed %+v", entry.Changes)
	}
}

func validConfig() map[string]any {
	var m map[string]any
	raw := ExportConfig(NewDistrict(8, 9, "Valid"), false).MarshalIndent()
	json.Unmarshal(raw, &m)
	m["connection"] = map[string]any{"mode": "oauth1", "base_url": "https://x-ca-v2.oneroster.com/ims/oneroster/v1p1/", "client_id": "k", "client_secret": "s", "signature_method": "HMAC-SHA256"}
	return m
}

func TestImportRejectsBadInputAndWritesNothing(t *testing.T) {
	set := func(path string, v any) func(map[string]any) {
		return func(m map[string]any) {
			parts := strings.Split(path, ".")
			cur := m
			for _, p := range parts[:len(parts)-1] {
				cur = cur[p].(map[string]any)
			}
			if v == nil {
				delete(cur, parts[len(parts)-1])
			} else {
				cur[parts[len(parts)-1]] = v
			}
		}
	}
	cases := []struct {
		name, field string
		edit        func(map[string]any)
		raw         string
	}{
		{"unknown top key", "colour", set("colour", "blue"), ""},
		{"unknown settings key", "settings.enable_nightly", set("settings.enable_nightly", true), ""},
		{"missing setting", "settings.manage_guardians", set("settings.manage_guardians", nil), ""},
		{"string boolean", "settings.enable_daily_sync", set("settings.enable_daily_sync", "yes"), ""},
		{"threshold over 100", "settings.deletion_threshold_percent", set("settings.deletion_threshold_percent", 150), ""},
		{"negative threshold", "settings.deletion_threshold_percent", set("settings.deletion_threshold_percent", -1), ""},
		{"fractional threshold", "settings.deletion_threshold_percent", set("settings.deletion_threshold_percent", 12.5), ""},
		{"bad time", "settings.daily_start", set("settings.daily_start", "25:00"), ""},
		{"bad zone", "settings.time_zone", set("settings.time_zone", "Mars/Olympus"), ""},
		{"local zone", "settings.time_zone", set("settings.time_zone", "Local"), ""},
		{"unknown role group", "permissions.janitor", set("permissions.janitor", []any{}), ""},
		{"missing role group", "permissions.teacher", set("permissions.teacher", nil), ""},
		{"unknown permission", "permissions.teacher", set("permissions.teacher", []any{"superuser"}), ""},
		{"null permissions", "permissions.teacher", set("permissions.teacher", "family_access"), ""},
		{"http url", "connection.base_url", set("connection.base_url", "http://x-ca-v2.oneroster.com/ims/oneroster/v1p1/"), ""},
		{"ftp url", "connection.base_url", set("connection.base_url", "ftp://x/"), ""},
		{"bad mode", "connection.mode", set("connection.mode", "ldap"), ""},
		{"bad signature", "connection.signature_method", set("connection.signature_method", "PLAINTEXT"), ""},
		{"tenant mismatch", "tenant_id", set("tenant_id", 999), ""},
		{"tenant zero", "tenant_id", set("tenant_id", 0), ""},
		{"app id change", "application_id", set("application_id", 10), ""},
		{"stale revision", "revision", set("revision", 7), ""},
		{"negative revision", "revision", set("revision", -1), ""},
		{"duplicate school", "schools[1]", set("schools", []any{"a", "a"}), ""},
		{"not json", "(top level)", nil, "{not json"},
		{"trailing data", "(top level)", nil, `{"tenant_id":8}{}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			db := openTemp(t)
			before, _, err := db.SaveDistrict(NewDistrict(8, 9, "Valid"), 0, ana, nil)
			if err != nil {
				t.Fatal(err)
			}
			raw := []byte(tc.raw)
			if tc.edit != nil {
				m := validConfig()
				tc.edit(m)
				raw, _ = json.Marshal(m)
			}
			_, _, err = db.ImportConfig(8, raw, ana, ImportOptions{})
			var fe *FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("err = %v, want a *FieldError", err)
			}
			if fe.Field != tc.field {
				t.Fatalf("field = %q (%v), want %q", fe.Field, err, tc.field)
			}
			after, _ := db.District(8)
			if after.Revision != before.Revision {
				t.Fatalf("a refused import wrote revision %d", after.Revision)
			}
		})
	}
	// The valid base of the table is itself accepted, so each case fails
	// for its own reason.
	db := openTemp(t)
	raw, _ := json.Marshal(validConfig())
	if _, _, err := db.ImportConfig(8, raw, ana, ImportOptions{}); err != nil {
		t.Fatalf("valid config refused: %v", err)
	}
}

func TestLoopbackHTTPIsAllowed(t *testing.T) {
	for _, u := range []string{"http://127.0.0.1:8080/ims/oneroster/v1p1/", "http://localhost/x", "http://[::1]:9/"} {
		if err := ValidateBaseURL(u); err != nil {
			t.Errorf("%s: %v", u, err)
		}
	}
	if err := ValidateBaseURL("https://user:pw@example.com/"); err == nil {
		t.Error("credentials in the URL were accepted")
	}
}

func FuzzParseConfig(f *testing.F) {
	f.Add(ExportConfig(NewDistrict(1, 2, "a"), false).MarshalIndent())
	raw, _ := json.Marshal(validConfig())
	f.Add(raw)
	f.Add([]byte(`{"tenant_id":1,"settings":{},"permissions":{}}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		ci, err := ParseConfig(data)
		if err != nil {
			var fe *FieldError
			if !errors.As(err, &fe) || fe.Field == "" {
				t.Fatalf("error without a field: %v", err)
			}
			return
		}
		// Whatever is accepted must be a valid district once applied.
		d, err := ci.ApplyTo(NewDistrict(ci.TenantID, 1, "x"), true)
		if err != nil {
			var fe *FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("apply error without a field: %v", err)
			}
			return
		}
		if err := d.Validate(); err != nil {
			t.Fatalf("accepted config is invalid: %v", err)
		}
	})
}

func TestImportOfAStaleExportNeedsForce(t *testing.T) {
	db := openTemp(t)
	d, _, _ := db.SaveDistrict(NewDistrict(8, 9, "Valid"), 0, ana, nil)
	stale := ExportConfig(d, true) // revision 1
	d.Settings.ManageGuardians = false
	if _, _, err := db.SaveDistrict(d, 1, Actor{User: "ben"}, nil); err != nil {
		t.Fatal(err)
	}
	_, _, err := db.ImportConfig(8, stale.MarshalIndent(), ana, ImportOptions{})
	var fe *FieldError
	if !errors.As(err, &fe) || fe.Field != "revision" || !strings.Contains(fe.Msg, "saved by ben") {
		t.Fatalf("stale import: %v", err)
	}
	got, _, err := db.ImportConfig(8, stale.MarshalIndent(), ana, ImportOptions{Force: true})
	if err != nil || got.Revision != 3 || !got.Settings.ManageGuardians {
		t.Fatalf("forced import: %+v %v", got.Settings, err)
	}
	// The caller's own rules run last, and a refusal writes nothing.
	refuse := errors.New("no")
	cur := ExportConfig(got, true)
	if _, _, err := db.ImportConfig(8, cur.MarshalIndent(), ana, ImportOptions{Check: func(District) error { return refuse }}); err != refuse {
		t.Fatalf("check: %v", err)
	}
	if now, _ := db.District(8); now.Revision != 3 {
		t.Fatalf("a refused import wrote revision %d", now.Revision)
	}
}
