package store

import (
	"encoding/json"
	"errors"
	"fmt"
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
	got, entry, err := db.ImportConfig(2, cfg.MarshalIndent(), Actor{User: "ana", Via: "import"}, ImportOptions{Specialist: true})
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
	again, entry, err := db.ImportConfig(2, ExportConfig(got, true).MarshalIndent(), ana, ImportOptions{Specialist: true})
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

func manySchools(n int) []any {
	out := make([]any, n)
	for i := range out {
		out[i] = fmt.Sprintf("org-%d", i)
	}
	return out
}

func manyStrings(s string, n int) []any {
	out := make([]any, n)
	for i := range out {
		out[i] = s
	}
	return out
}

// dupSettings carries two settings objects: the second one used to win
// silently, dropping enable_daily_sync.
const dupSettings = `{"tenant_id": 8, "settings": {"enable_daily_sync": true, "manage_guardians": true, "unarchive_reappearing_classrooms": true, "update_active_user_contacts": false, "deletion_threshold_percent": 10, "daily_start": "02:00", "time_zone": "America/Chicago"},
 "permissions": {"district_admin": [], "school_admin": [], "teacher": [], "support_staff": []},
 "settings": {"manage_guardians": true, "unarchive_reappearing_classrooms": true, "update_active_user_contacts": false, "deletion_threshold_percent": 10, "daily_start": "02:00", "time_zone": "America/Chicago", "enable_daily_sync": false}}`

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
		{"name with an escape", "name", set("name", "Evil\x1b[2J\x1b]0;owned\x07USD"), ""},
		{"name with a line break", "name", set("name", "Two\r\nLines"), ""},
		{"name with NUL", "name", set("name", "nul\x00"), ""},
		{"huge name", "name", set("name", strings.Repeat("N", 100_000)), ""},
		{"school with an escape", "schools[0]", set("schools", []any{"org\x1b[31m"}), ""},
		{"long school id", "schools[0]", set("schools", []any{strings.Repeat("s", 300)}), ""},
		{"too many schools", "schools", set("schools", manySchools(MaxSchools+1)), ""},
		{"too many permissions", "permissions.teacher", set("permissions.teacher", manyStrings("family_access", MaxListLength+1)), ""},
		{"client id with CR", "connection.client_id", set("connection.client_id", "k\rk"), ""},
		{"secret with LF", "connection.client_secret", set("connection.client_secret", "s\ns"), ""},
		{"long secret", "connection.client_secret", set("connection.client_secret", strings.Repeat("s", 300)), ""},
		{"dot segment url", "connection.base_url", set("connection.base_url", "https://x-ca-v2.oneroster.com/ims/../oneroster/v1p1/"), ""},
		{"url with a query", "connection.base_url", set("connection.base_url", "https://x-ca-v2.oneroster.com/ims/oneroster/v1p1/?a=1"), ""},
		{"url port 99999", "connection.base_url", set("connection.base_url", "https://x-ca-v2.oneroster.com:99999/ims/oneroster/v1p1/"), ""},
		{"url with a fragment", "connection.base_url", set("connection.base_url", "https://x-ca-v2.oneroster.com/ims/oneroster/v1p1/#frag"), ""},
		{"duplicate top key", "tenant_id", nil, `{"tenant_id": 8, "tenant_id": 8}`},
		{"duplicate settings object", "settings", nil, dupSettings},
		{"duplicate nested key", "settings.enable_daily_sync", nil, strings.Replace(dupSettings, `"enable_daily_sync": true,`, `"enable_daily_sync": true, "enable_daily_sync": false,`, 1)},
		{"duplicate key in a list's object", "x[1].a", nil, `{"x": [1, {"a": 1, "a": 2}], "tenant_id": 8}`},
		{"duplicate key spelled with an escape", "name", nil, `{"name": "a", "n\u0061me": "b", "tenant_id": 8}`},
		{"file too big", "(file)", nil, `{"name": "` + strings.Repeat("x", MaxImportBytes) + `"}`},
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
			_, _, err = db.ImportConfig(8, raw, ana, ImportOptions{Specialist: true})
			var fe *FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("err = %v, want a *FieldError", err)
			}
			if fe.Field != tc.field {
				t.Fatalf("field = %q (%.300v), want %q", fe.Field, err, tc.field)
			}
			// A bad value is echoed as a short prefix at most, escaped.
			if len(err.Error()) > 400 || strings.ContainsAny(err.Error(), "\x1b\r\x00") {
				t.Fatalf("the message echoes too much: %d bytes: %.300q", len(err.Error()), err)
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
	if _, _, err := db.ImportConfig(8, raw, ana, ImportOptions{Specialist: true}); err != nil {
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
	_, _, err := db.ImportConfig(8, stale.MarshalIndent(), ana, ImportOptions{Specialist: true})
	var fe *FieldError
	if !errors.As(err, &fe) || fe.Field != "revision" || !strings.Contains(fe.Msg, "saved by ben") {
		t.Fatalf("stale import: %v", err)
	}
	got, _, err := db.ImportConfig(8, stale.MarshalIndent(), ana, ImportOptions{Force: true, Specialist: true})
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

// M7: "********" is the placeholder show and export print; importing it
// where no secret is stored (a new district, or one without that secret)
// is refused with the field named, and nothing is written.
func TestImportRefusesTheMaskWhereNoSecretIsStored(t *testing.T) {
	db := openTemp(t)
	d := NewDistrict(2, 57, "ClassLink Demo")
	d.Connection = Connection{Mode: ModeOAuth1, BaseURL: "https://demo-ca-v2.oneroster.com/ims/oneroster/v1p1/", ClientID: "key", ClientSecret: "s3cr3t", SignatureMethod: HMACSHA1}
	saved, _, err := db.SaveDistrict(d, 0, ana, nil)
	if err != nil {
		t.Fatal(err)
	}
	shown := ExportConfig(saved, false)
	// The same file for a district that is not stored: its secret is the mask.
	fresh := shown
	fresh.TenantID, fresh.Revision = 3, 0
	_, _, err = db.ImportConfig(3, fresh.MarshalIndent(), ana, ImportOptions{Specialist: true})
	var fe *FieldError
	if !errors.As(err, &fe) || fe.Field != "connection.client_secret" || !strings.Contains(err.Error(), "district 3 has no client secret stored: give the client secret itself") {
		t.Fatalf("new district with the mask: %v", err)
	}
	if _, err := db.District(3); err == nil {
		t.Fatal("district 3 was written")
	}
	// An SFTP password or key given as the mask, where none is stored.
	for _, field := range []string{"password", "private_key"} {
		cfg := shown
		g := GuardiansSource{Source: GuardiansSFTP, SFTP: SFTPFolder{Host: "sftp.example.org", User: "u", Password: "pw"}}
		if field == "password" {
			g.SFTP.Password = SecretMask
		} else {
			g.SFTP.PrivateKey = SecretMask
		}
		cfg.Guardians = g
		_, _, err := db.ImportConfig(2, cfg.MarshalIndent(), ana, ImportOptions{Specialist: true})
		if !errors.As(err, &fe) || fe.Field != "guardians.sftp."+field || !strings.Contains(err.Error(), "district 2 has no SFTP") {
			t.Fatalf("SFTP %s as the mask: %v", field, err)
		}
	}
	if now, _ := db.District(2); now.Revision != saved.Revision {
		t.Fatalf("a refused import wrote revision %d", now.Revision)
	}
}
