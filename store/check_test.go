package store_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	gosync "sync"
	"testing"
	"time"

	"github.com/schoolstatus/rostersync/store"
	"github.com/schoolstatus/rostersync/store/storetest"
)

func TestCheckOfASoundDatabase(t *testing.T) {
	db, err := store.Open(seedDamageable(t), store.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	r := db.Check()
	if !r.OK() || r.Districts != 2 || r.Revisions != 2 || r.Runs != 2 || r.DirectoryRecords != 2000 || r.Pages == 0 || r.Bytes == 0 {
		t.Fatalf("report %+v", r)
	}
}

// Each damage a reader can open is found and named; none panics.
func TestCheckFindsTheDamage(t *testing.T) {
	sound := seedDamageable(t)
	for kind, want := range map[storetest.Damage]string{
		storetest.ZeroedFreelist:      "pages: ",
		storetest.ZeroedDirectoryPage: "Page expected to be",
	} {
		t.Run(string(kind), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "damaged.db")
			storetest.Copy(t, sound, path)
			storetest.Apply(t, path, kind, 4)
			db, err := store.Open(path, store.Options{ReadOnly: true})
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			r := db.Check()
			if r.OK() || !strings.Contains(strings.Join(r.Problems, "\n"), want) {
				t.Fatalf("report %+v", r)
			}
			t.Logf("%d problems (+%d), first: %s", len(r.Problems), r.More, r.Problems[0])
		})
	}
	// A record that decodes no more is found by rostersync's own check.
	path := filepath.Join(t.TempDir(), "bad-record.db")
	storetest.Copy(t, sound, path)
	storetest.Corrupt(t, path, []string{"districts"}, 5, []byte(`{"tenant_id": "five"`))
	db, err := store.Open(path, store.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	r := db.Check()
	if r.OK() || r.Districts != 1 || !strings.Contains(strings.Join(r.Problems, "\n"), "district 5: does not decode") {
		t.Fatalf("report %+v", r)
	}
}

// A running server's handle is checked while it keeps writing.
func TestCheckWhileWriting(t *testing.T) {
	db, err := store.Open(seedDamageable(t), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	stop := writeRuns(t, db)
	for range 3 {
		if r := db.Check(); !r.OK() || r.Runs < 2 {
			t.Fatalf("report %+v", r)
		}
	}
	stop()
}

// writeRuns records runs until stopped, as a busy server would.
func writeRuns(t *testing.T, db *store.DB) (stop func() int) {
	done := make(chan struct{})
	var wg gosync.WaitGroup
	n := 0
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-done:
				return
			default:
			}
			if _, err := db.RecordRun(store.Run{TenantID: 5, Mode: store.ModeDryRun, Trigger: store.TriggerManual, Status: store.RunSucceeded,
				StartedAt: time.Now(), Message: strings.Repeat("x", 500)}); err != nil {
				t.Error(err)
				return
			}
			n++
		}
	}()
	return func() int { close(done); wg.Wait(); return n }
}

func TestBackupWhileWritingIsConsistentAndPrivate(t *testing.T) {
	db, err := store.Open(seedDamageable(t), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	stop := writeRuns(t, db)
	path := filepath.Join(t.TempDir(), "backup.db")
	info, err := db.Backup(path, false)
	written := stop()
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil || st.Mode().Perm() != 0o600 || st.Size() != info.Bytes {
		t.Fatalf("backup file %v %v, info %+v", st.Mode(), err, info)
	}
	backup, err := store.Open(path, store.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	r := backup.Check()
	backup.Close()
	if !r.OK() || r.DirectoryRecords != 2000 || r.Runs < 2 || r.Runs > 2+written {
		t.Fatalf("backup's check %+v (%d runs written meanwhile)", r, written)
	}
	if leftovers, _ := filepath.Glob(filepath.Join(filepath.Dir(path), ".*partial*")); len(leftovers) != 0 {
		t.Fatalf("left behind: %v", leftovers)
	}
	// An existing file is kept unless told; the database itself never.
	var exists *store.ExistsError
	if _, err := db.Backup(path, false); !errors.As(err, &exists) || !strings.Contains(err.Error(), "--force") {
		t.Fatalf("backup over an existing file: %v", err)
	}
	if _, err := db.Backup(path, true); err != nil {
		t.Fatalf("backup with overwrite: %v", err)
	}
	if _, err := db.Backup(db.Path(), true); err == nil {
		t.Fatal("backed up over the database itself")
	}
}

func TestCompactShrinksAndKeepsEverything(t *testing.T) {
	path := seedDamageable(t)
	db, err := store.Open(path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	// Churn: a big directory written then archived by hand leaves free pages.
	for _, status := range []string{store.StatusActive, store.StatusArchived, store.StatusActive} {
		for batch := range 5 {
			var b store.DirectoryBatch
			for i := range 1000 {
				c := store.Classroom{SourcedID: fmt.Sprintf("cls-%05d", batch*1000+i), Name: strings.Repeat("Algebra ", 20), School: "org-1", Status: status, Managed: true}
				if status == store.StatusArchived {
					c.ArchivedBy = store.ArchivedBySync
				}
				b.PutClassroom(c)
			}
			if err := db.ApplyDirectory(5, &b); err != nil {
				t.Fatal(err)
			}
		}
	}
	before := db.Check()
	if _, err := store.Compact(path, store.Options{Timeout: 100 * time.Millisecond}); !errors.As(err, new(*store.InUseError)) {
		t.Fatalf("compact while the database is open: %v", err)
	}
	db.Close()
	info, err := store.Compact(path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if info.After >= info.Before {
		t.Fatalf("compaction: %+v", info)
	}
	db, err = store.Open(path, store.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	after := db.Check()
	db.Close()
	if !after.OK() || after.DirectoryRecords != before.DirectoryRecords || after.Runs != before.Runs || after.Revisions != before.Revisions {
		t.Fatalf("before %+v\nafter %+v", before, after)
	}
	// A damaged database is not compacted.
	storetest.Apply(t, path, storetest.ZeroedDirectoryPage, 4)
	if _, err := store.Compact(path, store.Options{}); err == nil || !strings.Contains(err.Error(), "not compacting") {
		t.Fatalf("compact of a damaged database: %v", err)
	}
}
