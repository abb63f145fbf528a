package store_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/schoolstatus/rostersync/store"
	"github.com/schoolstatus/rostersync/store/storetest"
)

// seedDamageable writes a database with two districts, a run each and a
// directory for district 4 large enough to span many pages.
func seedDamageable(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "sound.db")
	db, err := store.Open(path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, id := range []int64{4, 5} {
		if _, _, err := db.SaveDistrict(store.NewDistrict(id, id*10, fmt.Sprintf("District %d", id)), 0, store.Actor{User: "ana"}, nil); err != nil {
			t.Fatal(err)
		}
		if _, err := db.RecordRun(store.Run{TenantID: id, Mode: store.ModeApply, Trigger: store.TriggerManual, Status: store.RunSucceeded,
			ConfigRevision: 1, StartedAt: time.Now(), FinishedAt: time.Now()}); err != nil {
			t.Fatal(err)
		}
	}
	var b store.DirectoryBatch
	for i := range 2000 {
		b.PutUser(store.DirectoryUser{SourcedID: fmt.Sprintf("usr-%05d", i), Kind: store.KindStudent, GivenName: "Given",
			FamilyName: fmt.Sprintf("Family %d", i), Email: fmt.Sprintf("s%d@example.org", i), Status: store.StatusActive, Managed: true})
	}
	if err := db.ApplyDirectory(4, &b); err != nil {
		t.Fatal(err)
	}
	return path
}

// operations are the store calls a command, a session or a run makes.
var operations = []struct {
	name string
	do   func(db *store.DB) error
}{
	{"District", func(db *store.DB) error { _, err := db.District(4); return err }},
	{"Districts", func(db *store.DB) error { _, err := db.Districts(); return err }},
	{"History", func(db *store.DB) error { _, err := db.History(4); return err }},
	{"LastAppliedRun", func(db *store.DB) error { _, _, err := db.LastAppliedRun(4); return err }},
	{"DirectoryUsers", func(db *store.DB) error { _, _, err := db.DirectoryUsers(4, store.UserFilter{}, "", 0); return err }},
	{"EachDirectoryUser", func(db *store.DB) error {
		return db.EachDirectoryUser(4, func(store.DirectoryUser) error { return nil })
	}},
	{"Access", func(db *store.DB) error { _, err := db.Access(); return err }},
	{"RecordRun", func(db *store.DB) error {
		_, err := db.RecordRun(store.Run{TenantID: 5, Mode: store.ModeDryRun, Trigger: store.TriggerManual, Status: store.RunSucceeded})
		return err
	}},
	{"PutDraft", func(db *store.DB) error {
		return db.PutDraft(store.Draft{User: "ana", TenantID: 5, District: store.NewDistrict(5, 50, "District 5")})
	}},
}

// Every damage either fails the open or fails operations with a
// *DamagedError naming the file; none panics, and after a failed
// operation the handle still serves the next one.
func TestDamagedFileGivesDamagedErrorNotPanic(t *testing.T) {
	sound := seedDamageable(t)
	for _, kind := range storetest.Damages {
		for _, readOnly := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/readonly=%v", kind, readOnly), func(t *testing.T) {
				path := filepath.Join(t.TempDir(), "damaged.db")
				storetest.Copy(t, sound, path)
				storetest.Apply(t, path, kind, 4)
				db, err := store.Open(path, store.Options{ReadOnly: readOnly})
				damaged := 0
				check := func(op string, err error) {
					t.Helper()
					if err == nil {
						return
					}
					var de *store.DamagedError
					if !errors.As(err, &de) || !errors.Is(err, store.ErrDamaged) || de.Path != path {
						t.Fatalf("%s: err = %v (%T), want a *store.DamagedError for %s", op, err, err, path)
					}
					want := "the database " + path + " is damaged ("
					if !strings.HasPrefix(err.Error(), want) || !strings.HasSuffix(err.Error(), "); run rostersync db check") {
						t.Fatalf("%s: message %q", op, err)
					}
					t.Logf("%s: %v", op, err)
					damaged++
				}
				check("Open", err)
				if err != nil {
					return
				}
				defer db.Close()
				failed := map[string]bool{}
				for _, op := range operations {
					if readOnly && (op.name == "RecordRun" || op.name == "PutDraft") {
						continue
					}
					before := damaged
					check(op.name, op.do(db))
					failed[op.name] = damaged > before
				}
				if damaged == 0 && !(readOnly && kind == storetest.ZeroedFreelist) {
					// Only a writer loads the freelist: readers of a file
					// whose freelist alone is damaged read sound pages.
					t.Fatal("no operation noticed the damage")
				}
				if kind == storetest.ZeroedDirectoryPage {
					// Only district 4's directory is damaged: everything
					// else, writes included, keeps working.
					for op, f := range failed {
						if f != (op == "DirectoryUsers" || op == "EachDirectoryUser") {
							t.Errorf("%s failed = %v", op, f)
						}
					}
				}
			})
		}
	}
}

// A panic in the caller's own callback is a bug in the caller, not damage:
// it goes on as it was, and the database stays usable.
func TestCallbackPanicIsNotDamage(t *testing.T) {
	db, err := store.Open(seedDamageable(t), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	func() {
		defer func() {
			if p := recover(); p != "caller bug" {
				t.Fatalf("recovered %v, want the callback's own panic", p)
			}
		}()
		db.EachDirectoryUser(4, func(store.DirectoryUser) error { panic("caller bug") })
	}()
	if _, err := db.RecordRun(store.Run{TenantID: 4, Mode: store.ModeDryRun, Status: store.RunSucceeded}); err != nil {
		t.Fatal(err)
	}
}

// A file cut while it is open makes reads of its mapped pages fault
// (SIGBUS); the fault becomes a *DamagedError too, not a crash.
func TestFileCutWhileOpenFaultsIntoDamagedError(t *testing.T) {
	path := seedDamageable(t)
	db, err := store.Open(path, store.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := os.Truncate(path, 2*4096); err != nil {
		t.Fatal(err)
	}
	_, _, err = db.DirectoryUsers(4, store.UserFilter{}, "", 0)
	if !errors.Is(err, store.ErrDamaged) || !strings.Contains(err.Error(), "fault") {
		t.Fatalf("err = %v, want a *store.DamagedError for the fault", err)
	}
}

// Every transaction goes through view or update: a direct bbolt call
// elsewhere would let a damaged file's panic escape again.
func TestEveryTransactionGoesThroughTheWrappers(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if f == "damaged.go" || strings.HasSuffix(f, "_test.go") {
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, call := range []string{".bolt.View(", ".bolt.Update(", ".bolt.Begin(", ".bolt.Batch(", "bolt.Open(", "bolt.Compact("} {
			if strings.Contains(string(src), call) {
				t.Errorf("%s calls %s outside damaged.go's wrappers", f, call)
			}
		}
	}
}
