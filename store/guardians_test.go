package store

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"
)

func testKey(t *testing.T, passphrase string) (text, fingerprint string) {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	var block *pem.Block
	if passphrase == "" {
		block, err = ssh.MarshalPrivateKey(priv, "")
	} else {
		block, err = ssh.MarshalPrivateKeyWithPassphrase(priv, "", []byte(passphrase))
	}
	if err != nil {
		t.Fatal(err)
	}
	k, _ := ssh.NewPublicKey(pub)
	return string(pem.EncodeToMemory(block)), ssh.FingerprintSHA256(k)
}

func TestGuardiansSourceExportImport(t *testing.T) {
	db := openTemp(t)
	key, fp := testKey(t, "")
	d := NewDistrict(2, 57, "ClassLink Demo")
	if c := ExportConfig(d, false); c.Guardians.Source != GuardiansNone {
		t.Fatalf("a district without a guardians source exports %q, want none", c.Guardians.Source)
	}
	d.Settings.ManageGuardians = false
	d.Guardians = GuardiansSource{Source: GuardiansSFTP, SFTP: SFTPFolder{Host: "sftp.example.org", Port: 2022, User: "washoe",
		Password: "pa55word", PrivateKey: key, Folder: "/in", HostKey: fp}}
	saved, _, err := db.SaveDistrict(d, 0, ana, nil)
	if err != nil {
		t.Fatal(err)
	}
	masked := string(ExportConfig(saved, false).MarshalIndent())
	if strings.Contains(masked, "pa55word") || strings.Contains(masked, "PRIVATE KEY") ||
		!strings.Contains(masked, `"password": "********"`) || !strings.Contains(masked, `"private_key": "********"`) ||
		!strings.Contains(masked, `"host_key": "`+fp+`"`) || !strings.Contains(masked, `"source": "sftp"`) {
		t.Fatalf("masked export:\n%s", masked)
	}
	if full := string(ExportConfig(saved, true).MarshalIndent()); !strings.Contains(full, "pa55word") || !strings.Contains(full, "OPENSSH PRIVATE KEY") {
		t.Fatal("--include-secrets export lacks the SFTP secrets")
	}

	// The masked export, edited and imported, keeps both stored secrets.
	cfg := ExportConfig(saved, false)
	cfg.Guardians.SFTP.Folder = "/guardians"
	got, entry, err := db.ImportConfig(2, cfg.MarshalIndent(), ana, ImportOptions{Specialist: true})
	if err != nil {
		t.Fatal(err)
	}
	if got.Guardians.SFTP.Password != "pa55word" || got.Guardians.SFTP.PrivateKey != key || got.Guardians.SFTP.Folder != "/guardians" {
		t.Fatalf("imported guardians = %+v", got.Guardians.Masked())
	}
	if len(entry.Changes) != 1 || entry.Changes[0].Field != "guardians.sftp.folder" || entry.Changes[0].Label() != "SFTP folder" {
		t.Fatalf("changes = %+v", entry.Changes)
	}

	// A new password shows as changed, never in clear.
	cfg = ExportConfig(got, false)
	cfg.Guardians.SFTP.Password = "n3w-pa55"
	_, entry, err = db.ImportConfig(2, cfg.MarshalIndent(), ana, ImportOptions{Specialist: true})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(entry)
	if len(entry.Changes) != 1 || entry.Changes[0].To != "******** (changed)" || strings.Contains(string(b), "n3w-pa55") {
		t.Fatalf("audit of a password change = %s", b)
	}
}

func TestGuardiansSourceRefusesBadInput(t *testing.T) {
	_, fp := testKey(t, "")
	locked, _ := testKey(t, "hunter2")
	good := map[string]any{"host": "sftp.example.org", "port": 22, "user": "u", "password": "p", "folder": "/in", "host_key": fp}
	with := func(k string, v any) map[string]any {
		m := map[string]any{}
		for a, b := range good {
			m[a] = b
		}
		if v == nil {
			delete(m, k)
		} else {
			m[k] = v
		}
		return m
	}
	for _, tc := range []struct {
		name      string
		guardians any
		field     string
	}{
		{"unknown source", map[string]any{"source": "ftp"}, "guardians.source"},
		{"no source", map[string]any{"sftp": good}, "guardians.source"},
		{"unknown key", map[string]any{"source": "none", "when": 1}, "guardians.when"},
		{"encoding", map[string]any{"source": "upload", "encoding": "utf-16"}, "guardians.encoding"},
		{"sftp without host", map[string]any{"source": "sftp", "sftp": with("host", nil)}, "guardians.sftp.host"},
		{"host with scheme", map[string]any{"source": "sftp", "sftp": with("host", "sftp://x.org")}, "guardians.sftp.host"},
		{"host with port", map[string]any{"source": "sftp", "sftp": with("host", "x.org:22")}, "guardians.sftp.host"},
		{"port", map[string]any{"source": "sftp", "sftp": with("port", 65536)}, "guardians.sftp.port"},
		{"port type", map[string]any{"source": "sftp", "sftp": with("port", "22")}, "guardians.sftp.port"},
		{"no user", map[string]any{"source": "sftp", "sftp": with("user", nil)}, "guardians.sftp.user"},
		{"no secret", map[string]any{"source": "sftp", "sftp": with("password", nil)}, "guardians.sftp.password"},
		{"key path", map[string]any{"source": "sftp", "sftp": with("private_key", "~/.ssh/id_ed25519")}, "guardians.sftp.private_key"},
		{"key with passphrase", map[string]any{"source": "sftp", "sftp": with("private_key", locked)}, "guardians.sftp.private_key"},
		{"host key", map[string]any{"source": "sftp", "sftp": with("host_key", "SHA256:short")}, "guardians.sftp.host_key"},
		{"sftp unknown key", map[string]any{"source": "sftp", "sftp": with("path", "/x")}, "guardians.sftp.path"},
		{"escape in host", map[string]any{"source": "sftp", "sftp": with("host", "x\x1b[31m.org")}, "guardians.sftp.host"},
		{"line break in password", map[string]any{"source": "sftp", "sftp": with("password", "a\nb")}, "guardians.sftp.password"},
		{"escape in folder", map[string]any{"source": "sftp", "sftp": with("folder", "/in\x1b]0;x\x07")}, "guardians.sftp.folder"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db := openTemp(t)
			m := validConfig()
			m["guardians"] = tc.guardians
			data, _ := json.Marshal(m)
			_, _, err := db.ImportConfig(2, data, ana, ImportOptions{Specialist: true})
			var fe *FieldError
			if !errors.As(err, &fe) || fe.Field != tc.field {
				t.Fatalf("import = %v, want a FieldError on %s", err, tc.field)
			}
			if strings.Contains(err.Error(), "hunter2") || strings.Contains(err.Error(), "PRIVATE KEY") {
				t.Fatalf("the message quotes a secret: %v", err)
			}
			if _, err := db.District(2); !errors.Is(err, ErrNotFound) {
				t.Fatalf("a refused import wrote the district: %v", err)
			}
		})
	}
	// SFTP settings kept while uploads are the source need not be complete.
	var g GuardiansSource
	g.Source, g.SFTP.Host = GuardiansUpload, "sftp.example.org"
	if err := g.Validate(); err != nil {
		t.Fatalf("partial SFTP settings under source upload: %v", err)
	}
}

func TestDirectorySourceAndLanguageRoundTrip(t *testing.T) {
	db := openTemp(t)
	var b DirectoryBatch
	b.PutUser(DirectoryUser{SourcedID: "g-1", Kind: KindGuardian, GivenName: "Ana", Status: StatusActive,
		Permissions: []string{}, GuardianOf: []string{"s-1"}, Language: "es", Source: SourceGuardiansFile})
	b.PutUser(DirectoryUser{SourcedID: "t-1", Kind: KindStaff, RoleGroup: "teacher", Status: StatusActive, Managed: true,
		Permissions: []string{}, GuardianOf: []string{"s-1"}})
	if err := db.ApplyDirectory(4, &b); err != nil {
		t.Fatal(err)
	}
	g, _ := db.DirectoryUser(4, "g-1")
	s, _ := db.DirectoryUser(4, "t-1")
	if g.Source != SourceGuardiansFile || g.Language != "es" || !g.FromFile() || s.Source != SourceClassLink || s.Language != "" || s.GuardianOf[0] != "s-1" {
		t.Fatalf("users = %+v %+v", g, s)
	}
	out, _ := json.Marshal(g)
	if !strings.Contains(string(out), `"source":"guardians_file"`) || !strings.Contains(string(out), `"language":"es"`) {
		t.Fatalf("json = %s", out)
	}
	var bad DirectoryBatch
	bad.PutUser(DirectoryUser{SourcedID: "x", Kind: KindGuardian, Status: StatusActive, Source: "csv"})
	if err := db.ApplyDirectory(4, &bad); err == nil || !strings.Contains(err.Error(), "source") {
		t.Fatalf("unknown source stored: %v", err)
	}
}

func TestGuardiansFileRunsAreNotRosterRuns(t *testing.T) {
	db := openTemp(t)
	roster, _ := db.RecordRun(Run{TenantID: 3, Mode: ModeApply, Trigger: TriggerManual, Status: RunSucceeded, PermRev: "r1"})
	db.RecordRun(Run{TenantID: 3, Mode: ModeDryRun, Trigger: TriggerManual, Status: RunSucceeded})
	upload, _ := db.RecordRun(Run{TenantID: 3, Mode: ModeApply, Trigger: TriggerGuardiansFile, Status: RunSucceeded,
		GuardiansFile: &GuardiansFileRun{Source: GuardiansUpload, Status: FileProcessed, Rows: 4, Created: 3, FileSHA256: "ab"}})
	db.RecordRun(Run{TenantID: 3, Mode: ModeDryRun, Trigger: TriggerGuardiansFile, Status: RunSucceeded})
	if r, _, _ := db.LastAppliedRun(3); r.ID != roster.ID {
		t.Fatalf("LastAppliedRun = %s, want the roster run %s", r.ID, roster.ID)
	}
	if r, _, _ := db.LastPreview(3); r.Trigger != TriggerManual {
		t.Fatalf("LastPreview = %+v", r)
	}
	r, ok, _ := db.FindRun(3, func(r Run) bool { return r.GuardiansFile != nil && r.Mode == ModeApply })
	if !ok || r.ID != upload.ID || r.GuardiansFile.Created != 3 {
		t.Fatalf("FindRun = %+v", r)
	}
	runs, _ := db.Runs(3)
	if runs[0].GuardiansFile != nil {
		t.Fatal("a run without a file has a guardians_file section")
	}
}

func TestSFTPSecretsAreSealedAtRest(t *testing.T) {
	dir := t.TempDir()
	path, key, other := filepath.Join(dir, "r.db"), filepath.Join(dir, "a.key"), filepath.Join(dir, "b.key")
	db, err := Open(path, Options{SecretsKey: key})
	if err != nil {
		t.Fatal(err)
	}
	privateKey, fp := testKey(t, "")
	d := withSecret(4022, "client-secret-4022")
	d.Settings.ManageGuardians = false
	d.Guardians = GuardiansSource{Source: GuardiansSFTP, SFTP: SFTPFolder{Host: "sftp.example.org", User: "u",
		Password: "Sftp-Password-4022", PrivateKey: privateKey, HostKey: fp}}
	if _, _, err := db.SaveDistrict(d, 0, ana, nil); err != nil {
		t.Fatal(err)
	}
	db.Close()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	keyBody := strings.Split(privateKey, "\n")[1]
	for _, secret := range []string{"Sftp-Password-4022", keyBody, "OPENSSH PRIVATE KEY"} {
		if strings.Contains(printable(raw), secret) {
			t.Errorf("strings over the database finds %q", secret)
		}
	}
	// Another key opens nothing; the roster's connection and the SFTP
	// folder report their own problem.
	db, err = Open(path, Options{SecretsKey: other})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	got, err := db.District(4022)
	if err != nil {
		t.Fatal(err)
	}
	var se *SecretError
	if err := got.SecretProblemOf("guardians."); !errors.As(err, &se) || se.Field != "guardians.sftp.password" ||
		!strings.Contains(err.Error(), "enter the SFTP password again (wizard SIS Rostering → Guardians source") {
		t.Fatalf("SecretProblemOf(guardians.) = %v", err)
	}
	if c := ExportConfig(got, false).Guardians.SFTP; c.Password != SecretMask || c.PrivateKey != SecretMask {
		t.Fatalf("export = %+v", c)
	}
	// A save under the wrong key keeps the sealed values as they were.
	got.Guardians.SFTP.Folder = "/in"
	if _, _, err := db.SaveDistrict(got, got.Revision, ana, nil); err != nil {
		t.Fatal(err)
	}
}

// A stored SFTP secret is kept only for the host, port and user it was
// stored for: one rule for the form's empty field and the file's mask.
func TestKeepStoredSecretsOnlyForTheSameAccount(t *testing.T) {
	key, _ := testKey(t, "")
	stored := GuardiansSource{Source: GuardiansSFTP, SFTP: SFTPFolder{Host: "sftp.example.org", User: "washoe", Password: "pa55word", PrivateKey: key}}
	for _, c := range []struct {
		name       string
		edit       func(*SFTPFolder)
		keep       string
		wantPass   string
		wantKey    string
		wantField  string
		wantReason string
	}{
		{"same account, form", func(s *SFTPFolder) { s.Password, s.PrivateKey, s.Folder = "", "", "/in" }, "", "pa55word", key, "", ""},
		{"port 0 is 22, host case", func(s *SFTPFolder) { s.Password, s.PrivateKey, s.Port, s.Host = "", "", 22, "SFTP.example.org" }, "", "pa55word", key, "", ""},
		{"same account, import", func(s *SFTPFolder) { s.Password, s.PrivateKey = SecretMask, SecretMask }, SecretMask, "pa55word", key, "", ""},
		{"new host, form, nothing entered", func(s *SFTPFolder) { s.Host, s.Password, s.PrivateKey = "evil.example.net", "", "" }, "",
			"", "", "guardians.sftp.password", "guardians.sftp.host changed"},
		{"new port, form", func(s *SFTPFolder) { s.Port, s.Password, s.PrivateKey = 2222, "", "" }, "", "", "", "guardians.sftp.password", "guardians.sftp.port changed"},
		{"new user, import", func(s *SFTPFolder) { s.User, s.Password, s.PrivateKey = "root", SecretMask, "" }, SecretMask,
			"", "", "guardians.sftp.password", "guardians.sftp.user changed"},
		{"new host, import keeps the key", func(s *SFTPFolder) { s.Host, s.Password, s.PrivateKey = "evil.example.net", "n3w", SecretMask }, SecretMask,
			"", "", "guardians.sftp.private_key", "never sent to another server"},
		// A new password for the new server: the old key is not carried.
		{"new host, form, new password", func(s *SFTPFolder) { s.Host, s.Password, s.PrivateKey = "new.example.org", "n3w", "" }, "", "n3w", "", "", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			next := stored
			c.edit(&next.SFTP)
			got, err := next.KeepStoredSecrets(stored, c.keep)
			var fe *FieldError
			if c.wantField != "" {
				if !errors.As(err, &fe) || fe.Field != c.wantField || !strings.Contains(err.Error(), c.wantReason) {
					t.Fatalf("err = %v, want %s saying %q", err, c.wantField, c.wantReason)
				}
				if strings.Contains(err.Error(), "pa55word") {
					t.Fatal("the message quotes the secret")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.SFTP.Password != c.wantPass || got.SFTP.PrivateKey != c.wantKey {
				t.Fatalf("password %q, key kept %v; want %q, %v", got.SFTP.Password, got.SFTP.PrivateKey != "", c.wantPass, c.wantKey != "")
			}
		})
	}
}

// config import: "********" keeps the stored password only while the file
// names the same account; pointing it elsewhere needs the password itself,
// and nothing is written.
func TestImportMaskForAnotherServerIsRefused(t *testing.T) {
	db := openTemp(t)
	d := NewDistrict(2, 57, "ClassLink Demo")
	d.Settings.ManageGuardians = false
	d.Guardians = GuardiansSource{Source: GuardiansSFTP, SFTP: SFTPFolder{Host: "sftp.example.org", User: "washoe", Password: "pa55word",
		HostKey: "SHA256:uNiVztksCsDhcc0u9e8BujQXVUpKZIDTMczCvj3tD2s"}}
	saved, _, err := db.SaveDistrict(d, 0, ana, nil)
	if err != nil {
		t.Fatal(err)
	}
	cfg := ExportConfig(saved, false)
	cfg.Guardians.SFTP.Host = "127.0.0.1"
	_, _, err = db.ImportConfig(2, cfg.MarshalIndent(), ana, ImportOptions{Specialist: true})
	var fe *FieldError
	if !errors.As(err, &fe) || fe.Field != "guardians.sftp.password" || !strings.Contains(err.Error(), "guardians.sftp.host changed") {
		t.Fatalf("import to another host with the mask: %v", err)
	}
	if now, _ := db.District(2); now.Revision != saved.Revision || now.Guardians.SFTP.Host != "sftp.example.org" {
		t.Fatalf("a refused import wrote: revision %d host %q", now.Revision, now.Guardians.SFTP.Host)
	}
	cfg.Guardians.SFTP.Password = "other-pass"
	got, _, err := db.ImportConfig(2, cfg.MarshalIndent(), ana, ImportOptions{Specialist: true})
	if err != nil || got.Guardians.SFTP.Password != "other-pass" || got.Guardians.SFTP.Host != "127.0.0.1" {
		t.Fatalf("import with the password given: %v", err)
	}
}
