package store

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	bolt "go.etcd.io/bbolt"
)

func withSecret(tenant int64, secret string) District {
	d := NewDistrict(tenant, 5, "Springfield USD")
	d.Connection = Connection{Mode: ModeOAuth1, BaseURL: "https://springfield-ca-v2.oneroster.com/ims/oneroster/v1p1/",
		ClientID: "spring-key", ClientSecret: secret, SignatureMethod: HMACSHA256}
	return d
}

// printable is what `strings` finds in a file: every run of 4 or more
// printable ASCII bytes.
func printable(raw []byte) string {
	var b strings.Builder
	run := 0
	for _, c := range raw {
		if c >= 0x20 && c < 0x7f {
			b.WriteByte(c)
			run++
			continue
		}
		if run > 0 {
			b.WriteByte('\n')
		}
		run = 0
	}
	return b.String()
}

func TestSecretsAreSealedAtRest(t *testing.T) {
	dir := t.TempDir()
	path, key := filepath.Join(dir, "r.db"), filepath.Join(dir, "conf", "rostersync", "secrets.key")
	db, err := Open(path, Options{SecretsKey: key})
	if err != nil {
		t.Fatal(err)
	}
	saved, _, err := db.SaveDistrict(withSecret(4021, "Saved-Secret-4021"), 0, ana, nil)
	if err != nil {
		t.Fatal(err)
	}
	draft := saved
	draft.Connection.ClientSecret = "Draft-Secret-4021"
	if err := db.PutDraft(Draft{User: "ana", TenantID: 4021, Base: saved, District: draft}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.SetChecklistStep(4021, StepSSOApp, ChecklistItem{Done: true}); err != nil {
		t.Fatal(err)
	}
	db.Close()

	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{"Saved-Secret-4021", "Draft-Secret-4021", "Saved-Secret", "Draft-Secret"} {
		if strings.Contains(printable(raw), secret) || bytes.Contains(raw, []byte(secret)) {
			t.Errorf("strings over the database finds %q", secret)
		}
	}
	st, err := os.Stat(key)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v %v", st, err)
	}
	if st, _ := os.Stat(filepath.Dir(key)); st.Mode().Perm() != 0o700 {
		t.Errorf("a key folder rostersync made is %v, want 0700", st.Mode().Perm())
	}

	db, err = Open(path, Options{SecretsKey: key})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	got, err := db.District(4021)
	if err != nil || got.Connection.ClientSecret != "Saved-Secret-4021" || got.SecretProblem() != nil {
		t.Fatalf("with its key the secret reads back: %q %v", got.Connection.ClientSecret, err)
	}
	dr, ok, err := db.Draft("ana", 4021)
	if err != nil || !ok || dr.District.Connection.ClientSecret != "Draft-Secret-4021" || dr.Base.Connection.ClientSecret != "Saved-Secret-4021" {
		t.Fatalf("draft: %+v %v", dr.District.Connection, err)
	}
}

// A database copied without its key yields no secret, reads without a
// crash, names the district and field to enter again, and keeps the sealed
// value through other saves (the right key still opens it later).
func TestACopyWithoutItsKeyYieldsNoSecret(t *testing.T) {
	dir := t.TempDir()
	path, key, other := filepath.Join(dir, "r.db"), filepath.Join(dir, "a.key"), filepath.Join(dir, "b.key")
	db, err := Open(path, Options{SecretsKey: key})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := db.SaveDistrict(withSecret(4021, "Saved-Secret-4021"), 0, ana, nil); err != nil {
		t.Fatal(err)
	}
	db.Close()

	db, err = Open(path, Options{SecretsKey: other})
	if err != nil {
		t.Fatal(err)
	}
	d, err := db.District(4021)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(d.Connection.ClientSecret, "Saved-Secret") || !IsSealed(d.Connection.ClientSecret) {
		t.Fatalf("another key opened the secret: %q", d.Connection.ClientSecret)
	}
	var se *SecretError
	if err := d.SecretProblem(); !errors.As(err, &se) || se.TenantID != 4021 || se.Field != "connection.client_secret" ||
		!strings.Contains(err.Error(), "district 4021") || !strings.Contains(err.Error(), "enter the client secret again") {
		t.Fatalf("SecretProblem = %v", err)
	}
	if got := ExportConfig(d, false).Connection.ClientSecret; got != SecretMask {
		t.Errorf("export shows %q", got)
	}
	d.Settings.ManageGuardians = !d.Settings.ManageGuardians
	if _, _, err := db.SaveDistrict(d, d.Revision, ana, nil); err != nil {
		t.Fatal(err)
	}
	db.Close()

	db, err = Open(path, Options{SecretsKey: key})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if d, _ := db.District(4021); d.Connection.ClientSecret != "Saved-Secret-4021" || d.Revision != 2 {
		t.Fatalf("the right key no longer opens it after a save under another key: %q rev %d", d.Connection.ClientSecret, d.Revision)
	}
}

// Secrets an older version wrote in plain text are sealed by the first open.
func TestPlainSecretsAreSealedOnOpen(t *testing.T) {
	dir := t.TempDir()
	path, key := filepath.Join(dir, "r.db"), filepath.Join(dir, "k")
	db, err := Open(path, Options{SecretsKey: key})
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	// Write what schema 1 held: plain secrets in a district and a draft.
	b, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	plain := withSecret(4021, "Plain-Old-Secret")
	plain.Revision = 1
	draft := plain
	draft.Connection.ClientSecret = "Plain-Draft-Secret"
	err = b.Update(func(tx *bolt.Tx) error {
		if err := tx.Bucket(bucketMeta).Put(keySchema, []byte("1")); err != nil {
			return err
		}
		raw, _ := json.Marshal(plain)
		if err := tx.Bucket(bucketDistricts).Put(tenantKey(4021), raw); err != nil {
			return err
		}
		raw, _ = json.Marshal(Draft{User: "ana", TenantID: 4021, Base: plain, District: draft})
		return tx.Bucket(bucketDrafts).Put(draftKey("ana", 4021), raw)
	})
	b.Close()
	if err != nil {
		t.Fatal(err)
	}
	if raw, _ := os.ReadFile(path); !bytes.Contains(raw, []byte("Plain-Old-Secret")) {
		t.Fatal("the setup did not write a plain secret")
	}

	db, err = Open(path, Options{SecretsKey: key})
	if err != nil {
		t.Fatal(err)
	}
	d, _ := db.District(4021)
	dr, _, _ := db.Draft("ana", 4021)
	db.Close()
	if d.Connection.ClientSecret != "Plain-Old-Secret" || dr.District.Connection.ClientSecret != "Plain-Draft-Secret" {
		t.Fatalf("after migration: %q, %q", d.Connection.ClientSecret, dr.District.Connection.ClientSecret)
	}
	raw, _ := os.ReadFile(path)
	if strings.Contains(printable(raw), "Plain-Old-Secret") || strings.Contains(printable(raw), "Plain-Draft-Secret") {
		t.Fatal("plain secrets are still in the file after the migration")
	}
}

func TestABadKeyFileIsAClearError(t *testing.T) {
	dir := t.TempDir()
	for name, tc := range map[string]struct {
		content string
		mode    os.FileMode
		want    string
	}{
		"readable by others": {strings.Repeat("ab", 32), 0o644, "can be read by other accounts (mode 0644): run chmod 600"},
		"not a key":          {"hello", 0o600, "is not a rostersync secrets key"},
	} {
		key := filepath.Join(dir, strings.ReplaceAll(name, " ", "-"))
		if err := os.WriteFile(key, []byte(tc.content), tc.mode); err != nil {
			t.Fatal(err)
		}
		os.Chmod(key, tc.mode)
		db, err := Open(filepath.Join(dir, name+".db"), Options{SecretsKey: key})
		if err != nil {
			t.Fatal(err)
		}
		_, _, err = db.SaveDistrict(withSecret(4021, "Some-Secret"), 0, ana, nil)
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), key) {
			t.Errorf("%s: %v", name, err)
		}
		if _, err := db.District(4021); !errors.Is(err, ErrNotFound) {
			t.Errorf("%s: a save that could not seal wrote something: %v", name, err)
		}
		db.Close()
	}
}

// An existing folder keeps its permissions when the key is created in it.
func TestTheKeyFolderIsLeftAsItIs(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "shared")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	os.Chmod(dir, 0o755)
	db, err := Open(filepath.Join(t.TempDir(), "r.db"), Options{SecretsKey: filepath.Join(dir, "secrets.key")})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, _, err := db.SaveDistrict(withSecret(4021, "Some-Secret"), 0, ana, nil); err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(dir); st.Mode().Perm() != 0o755 {
		t.Fatalf("the folder became %v", st.Mode().Perm())
	}
}
