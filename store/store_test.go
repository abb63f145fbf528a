package store

import (
	"bufio"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

func openTemp(t *testing.T) *DB {
	t.Helper()
	db, err := Open(filepath.Join(t.TempDir(), "rostersync.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

var ana = Actor{User: "ana", Via: "local"}

func TestOpenCreatesPrivateFileWithSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "r.db")
	db, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("database mode = %v, want 0600", st.Mode().Perm())
	}
	b, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	b.View(func(tx *bolt.Tx) error {
		if got := string(tx.Bucket(bucketMeta).Get(keySchema)); got != strconv.Itoa(SchemaVersion) {
			t.Errorf("schema_version = %q, want %d", got, SchemaVersion)
		}
		return nil
	})
}

// Opening a database whose schema is current writes nothing (no write
// transaction, so no fsync before the wizard's first frame); a file
// missing one of the buckets still gets it.
func TestOpenOfACurrentSchemaWritesNothing(t *testing.T) {
	path := filepath.Join(t.TempDir(), "r.db")
	db, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	txid := func() int {
		b, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second, ReadOnly: true})
		if err != nil {
			t.Fatal(err)
		}
		defer b.Close()
		var id int
		b.View(func(tx *bolt.Tx) error { id = tx.ID(); return nil })
		return id
	}
	before := txid()
	for range 3 {
		db, err := Open(path, Options{})
		if err != nil {
			t.Fatal(err)
		}
		db.Close()
	}
	if after := txid(); after != before {
		t.Fatalf("opening a current database committed %d transaction(s)", after-before)
	}

	b, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	b.Update(func(tx *bolt.Tx) error { return tx.DeleteBucket(bucketRuns) })
	b.Close()
	db, err = Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.view(func(tx *bolt.Tx) error {
		if tx.Bucket(bucketRuns) == nil {
			t.Error("Open did not recreate a missing bucket")
		}
		return nil
	})
}

func TestOpenRefusesNewerSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "r.db")
	b, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	b.Update(func(tx *bolt.Tx) error {
		m, _ := tx.CreateBucketIfNotExists(bucketMeta)
		return m.Put(keySchema, []byte("99"))
	})
	b.Close()
	_, err = Open(path, Options{})
	if err == nil || !strings.Contains(err.Error(), "schema version 99") {
		t.Fatalf("Open of a newer schema: err = %v", err)
	}
}

func TestSaveIncrementsRevisionAndAudits(t *testing.T) {
	db := openTemp(t)
	d := NewDistrict(42, 7, "Springfield USD")
	saved, entry, err := db.SaveDistrict(d, 0, ana, nil)
	if err != nil {
		t.Fatal(err)
	}
	if saved.Revision != 1 || !entry.Created || entry.Revision != 1 {
		t.Fatalf("first save: revision %d created %v", saved.Revision, entry.Created)
	}
	saved.Settings.ManageGuardians = false
	saved.Permissions.Toggle(Teacher, EngagementVisibility)
	second, entry, err := db.SaveDistrict(saved, 1, Actor{User: "ben", Fingerprint: "SHA256:abc", Via: "ssh"}, []string{"note"})
	if err != nil {
		t.Fatal(err)
	}
	if second.Revision != 2 {
		t.Fatalf("revision = %d, want 2", second.Revision)
	}
	want := []Change{
		{Field: "settings.manage_guardians", From: "on", To: "off"},
		{Field: "permissions.teacher.engagement_visibility", From: "off", To: "on"},
	}
	if len(entry.Changes) != len(want) || entry.Changes[0] != want[0] || entry.Changes[1] != want[1] {
		t.Fatalf("changes = %+v, want %+v", entry.Changes, want)
	}
	audit, err := db.Audit(42)
	if err != nil {
		t.Fatal(err)
	}
	if len(audit) != 2 || audit[1].Actor.Fingerprint != "SHA256:abc" || audit[1].Notes[0] != "note" {
		t.Fatalf("audit = %+v", audit)
	}
	got, err := db.District(42)
	if err != nil {
		t.Fatal(err)
	}
	if got.Settings.ManageGuardians || !got.Permissions.Has(Teacher, EngagementVisibility) || got.SavedBy.User != "ben" {
		t.Fatalf("stored district = %+v", got)
	}
}

func TestSaveFromStaleRevisionIsAConflict(t *testing.T) {
	db := openTemp(t)
	d, _, _ := db.SaveDistrict(NewDistrict(5, 6, "X"), 0, ana, nil)
	mine := d
	theirs := d
	theirs.Settings.DeletionThresholdPercent = 25
	if _, _, err := db.SaveDistrict(theirs, d.Revision, Actor{User: "ben"}, nil); err != nil {
		t.Fatal(err)
	}
	mine.Settings.TimeZone = "America/Denver"
	_, _, err := db.SaveDistrict(mine, d.Revision, ana, nil)
	var conflict *ConflictError
	if !errors.As(err, &conflict) {
		t.Fatalf("err = %v, want *ConflictError", err)
	}
	if conflict.Current.Revision != 2 || len(conflict.Since) != 1 || conflict.Since[0].Actor.User != "ben" {
		t.Fatalf("conflict = %+v", conflict)
	}
	stored, _ := db.District(5)
	if stored.Settings.TimeZone != "America/Chicago" || stored.Settings.DeletionThresholdPercent != 25 {
		t.Fatalf("a refused save wrote something: %+v", stored.Settings)
	}
	if _, _, err := db.SaveDistrict(NewDistrict(5, 6, "X"), 0, ana, nil); !errors.As(err, &conflict) {
		t.Fatalf("creating an existing district: err = %v", err)
	}
}

func TestSaveRefusesInvalidDistrict(t *testing.T) {
	db := openTemp(t)
	d := NewDistrict(9, 1, "Y")
	d.Settings.DeletionThresholdPercent = 101
	_, _, err := db.SaveDistrict(d, 0, ana, nil)
	var fe *FieldError
	if !errors.As(err, &fe) || fe.Field != "settings.deletion_threshold_percent" {
		t.Fatalf("err = %v", err)
	}
	if _, err := db.District(9); !errors.Is(err, ErrNotFound) {
		t.Fatalf("invalid district was stored: %v", err)
	}
}

func TestChecklistChangesKeepTheRevision(t *testing.T) {
	db := openTemp(t)
	d, _, _ := db.SaveDistrict(NewDistrict(3, 4, "Z"), 0, ana, nil)
	got, err := db.SetChecklistStep(3, StepSelfCheck, ChecklistItem{Done: true, By: "ana"})
	if err != nil {
		t.Fatal(err)
	}
	if got.Revision != d.Revision || !got.Checklist[StepSelfCheck].Done || got.Checklist[StepSelfCheck].At.IsZero() {
		t.Fatalf("after checklist: %+v", got)
	}
	// A later configuration save keeps the stored checklist, whatever the
	// caller's copy says.
	d.Settings.EnableDailySync = true
	saved, _, err := db.SaveDistrict(d, d.Revision, ana, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !saved.Checklist[StepSelfCheck].Done {
		t.Fatal("save dropped the checklist")
	}
	if _, err := db.SetChecklistStep(77, StepSSOApp, ChecklistItem{Done: true}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("checklist of a missing district: %v", err)
	}
}

func TestDraftsArePerUserAndResumeTheLatest(t *testing.T) {
	db := openTemp(t)
	old := Draft{User: "ana", TenantID: 1, Screen: "dailysync", UpdatedAt: time.Now().Add(-time.Hour)}
	newer := Draft{User: "ana", TenantID: 2, Screen: "permissions", Base: District{Revision: 3}, District: NewDistrict(2, 57, "Demo")}
	newer.District.Settings.ManageGuardians = false
	other := Draft{User: "anabel", TenantID: 3, Screen: "review"}
	for _, d := range []Draft{old, newer, other} {
		if err := db.PutDraft(d); err != nil {
			t.Fatal(err)
		}
	}
	got, ok, err := db.LatestDraft("ana")
	if err != nil || !ok {
		t.Fatal(ok, err)
	}
	if got.TenantID != 2 || got.Screen != "permissions" || got.Base.Revision != 3 || got.District.Settings.ManageGuardians {
		t.Fatalf("latest draft = %+v", got)
	}
	if err := db.DeleteDraft("ana", 2); err != nil {
		t.Fatal(err)
	}
	got, _, _ = db.LatestDraft("ana")
	if got.TenantID != 1 {
		t.Fatalf("after delete, latest = %d", got.TenantID)
	}
	if _, ok, _ := db.LatestDraft("ben"); ok {
		t.Fatal("ben has no drafts")
	}
}

// The helper process modes below run inside a re-executed test binary so
// that locks and kills are between real processes.
func TestMain(m *testing.M) {
	// Secrets are sealed with a key of the test's own, never the person's.
	if os.Getenv(SecretsKeyEnv) == "" {
		dir, err := os.MkdirTemp("", "rostersync-store-test")
		if err != nil {
			panic(err)
		}
		os.Setenv(SecretsKeyEnv, filepath.Join(dir, "secrets.key"))
	}
	switch os.Getenv("STORE_TEST_CHILD") {
	case "hold-lock":
		db, err := Open(os.Getenv("STORE_TEST_DB"), Options{})
		if err != nil {
			os.Exit(3)
		}
		defer db.Close()
		os.Stdout.WriteString("locked\n")
		time.Sleep(time.Minute)
		os.Exit(0)
	case "die-before-commit":
		db, err := Open(os.Getenv("STORE_TEST_DB"), Options{})
		if err != nil {
			os.Exit(3)
		}
		d, _ := db.District(11)
		d.Settings.ManageGuardians = false
		d.Settings.DeletionThresholdPercent = 50
		db.beforeCommit = func() {
			os.Stdout.WriteString("writing\n")
			time.Sleep(time.Minute) // killed here, mid-transaction
		}
		db.SaveDistrict(d, d.Revision, ana, nil)
		os.Exit(4)
	case "die-during-save-edit":
		db, err := Open(os.Getenv("STORE_TEST_DB"), Options{})
		if err != nil {
			os.Exit(3)
		}
		draft, _, _ := db.Draft(ana.Owner(), 11)
		db.beforeCommit = func() {
			os.Stdout.WriteString("writing\n")
			time.Sleep(time.Minute) // killed here, between the save and the commit
		}
		db.SaveEdit(ana.Owner(), draft.District, draft.Base.Revision, ana, nil)
		os.Exit(4)
	}
	code := m.Run()
	if dir := filepath.Dir(os.Getenv(SecretsKeyEnv)); strings.HasPrefix(filepath.Base(dir), "rostersync-store-test") {
		os.RemoveAll(dir)
	}
	os.Exit(code)
}

func startChild(t *testing.T, mode, path, wantLine string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "STORE_TEST_CHILD="+mode, "STORE_TEST_DB="+path)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || strings.TrimSpace(line) != wantLine {
		t.Fatalf("child said %q, %v", line, err)
	}
	return cmd
}

func TestSecondProcessGetsInUseErrorNotAHang(t *testing.T) {
	path := filepath.Join(t.TempDir(), "r.db")
	child := startChild(t, "hold-lock", path, "locked")
	start := time.Now()
	_, err := Open(path, Options{Timeout: 200 * time.Millisecond})
	var inUse *InUseError
	if !errors.As(err, &inUse) {
		t.Fatalf("err = %v, want *InUseError", err)
	}
	if time.Since(start) > 10*time.Second {
		t.Fatal("Open waited far past its timeout")
	}
	if inUse.PID != child.Process.Pid {
		t.Errorf("pid = %d, want the holder %d", inUse.PID, child.Process.Pid)
	}
	want := "the database " + path + " is in use by another rostersync process (pid "
	if !strings.HasPrefix(err.Error(), want) {
		t.Errorf("message = %q", err)
	}
}

func TestKillDuringSaveLeavesPreviousRevision(t *testing.T) {
	path := filepath.Join(t.TempDir(), "r.db")
	db, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := db.SaveDistrict(NewDistrict(11, 12, "Before"), 0, ana, nil); err != nil {
		t.Fatal(err)
	}
	db.Close()

	child := startChild(t, "die-before-commit", path, "writing")
	if err := child.Process.Kill(); err != nil { // SIGKILL: no deferred cleanup runs
		t.Fatal(err)
	}
	child.Wait()

	db, err = Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	d, err := db.District(11)
	if err != nil {
		t.Fatal(err)
	}
	if d.Revision != 1 || !d.Settings.ManageGuardians || d.Settings.DeletionThresholdPercent != 10 {
		t.Fatalf("after kill: revision %d settings %+v", d.Revision, d.Settings)
	}
	if audit, _ := db.Audit(11); len(audit) != 1 {
		t.Fatalf("audit has %d entries, want 1", len(audit))
	}
}

func TestRebaseKeepsEveryFieldTheOtherPersonChanged(t *testing.T) {
	base := NewDistrict(1, 2, "X")
	base.Schools = []string{"S0"}
	base.Connection = Connection{Mode: ModeOAuth1, BaseURL: "https://a/", ClientID: "C1", ClientSecret: "s", SignatureMethod: HMACSHA256}
	theirs, mine := base, base
	theirs.Schools = []string{"S0", "S1"}
	theirs.Connection.ClientID = "C2"
	theirs.Settings.DeletionThresholdPercent = 30
	mine.Schools = []string{"S2", "S0"}
	mine.Connection.BaseURL = "https://b/"
	mine.Settings.TimeZone = "America/Denver"
	got := Rebase(base, mine, theirs)
	if !slices.Equal(got.Schools, []string{"S0", "S1", "S2"}) {
		t.Errorf("schools = %v, want both additions", got.Schools)
	}
	if got.Connection.ClientID != "C2" || got.Connection.BaseURL != "https://b/" || got.Connection.ClientSecret != "s" {
		t.Errorf("connection = %+v", got.Connection)
	}
	if got.Settings.DeletionThresholdPercent != 30 || got.Settings.TimeZone != "America/Denver" {
		t.Errorf("settings = %+v", got.Settings)
	}
	// A removal on my side removes it from theirs too.
	mine.Schools = nil
	if got := Rebase(base, mine, theirs); !slices.Equal(got.Schools, []string{"S1"}) {
		t.Errorf("after my removal of S0: %v", got.Schools)
	}
	// Re-applying no changes changes nothing, and the review names schools.
	if ch := Diff(theirs, Rebase(base, base, theirs)); len(ch) != 0 {
		t.Errorf("a rebase of no changes changes %v", ch)
	}
	ch := Diff(base, theirs)
	if last := ch[len(ch)-1]; last.To != "2 schools (added S1)" {
		t.Errorf("schools change = %+v", last)
	}
}
