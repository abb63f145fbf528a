package server

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"charm.land/log/v2"

	"github.com/schoolstatus/rostersync/store"
)

func newBackupDB(t *testing.T) *store.DB {
	t.Helper()
	db, err := store.Open(filepath.Join(t.TempDir(), "rostersync.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, _, err := db.SaveDistrict(store.NewDemoDistrict(), 0, store.Actor{User: "ops"}, nil); err != nil {
		t.Fatal(err)
	}
	return db
}

// The daily backup follows the day's scheduled runs, is made at least
// every 24 hours, is private and sound, and only the newest keep stay.
func TestDailyBackupFollowsTheRunsAndKeepsTheNewest(t *testing.T) {
	db := newBackupDB(t)
	dir := filepath.Join(t.TempDir(), "backups")
	if err := PrepareBackupDir(dir); err != nil {
		t.Fatal(err)
	}
	var logs strings.Builder
	now := time.Date(2027, 1, 10, 8, 0, 0, 0, time.UTC)
	b := &dailyBackup{dir: dir, keep: 2, db: db, log: log.New(&logs), now: func() time.Time { return now }}
	step := func(after time.Duration, ran []int64, want int) {
		t.Helper()
		now = now.Add(after)
		b.afterRound(ran)
		if got := b.backups(); len(got) != want {
			t.Fatalf("at %s: %d backups %v, want %d\n%s", now, len(got), got, want, logs.String())
		}
	}
	step(0, nil, 1)                   // the first one at start
	step(time.Hour, nil, 1)           // nothing ran, it is recent
	step(10*time.Hour, []int64{2}, 1) // runs, but 11 h after the last backup
	step(2*time.Hour, []int64{2}, 2)  // runs 13 h after: backed up
	step(20*time.Hour, nil, 2)        // 20 h, no runs: not yet
	step(5*time.Hour, nil, 2)         // 25 h: backed up, the oldest removed
	names := b.backups()
	if !strings.HasSuffix(names[1], now.Format(backupStamp)+backupSuffix) {
		t.Fatalf("backups %v at %s", names, now)
	}
	for _, name := range names {
		path := filepath.Join(dir, name)
		st, err := os.Stat(path)
		if err != nil || st.Mode().Perm() != 0o600 {
			t.Fatalf("%s: %v %v", name, st.Mode(), err)
		}
		copyDB, err := store.Open(path, store.Options{ReadOnly: true})
		if err != nil {
			t.Fatal(err)
		}
		if r := copyDB.Check(); !r.OK() || r.Districts != 1 {
			t.Fatalf("%s: %+v", name, r)
		}
		copyDB.Close()
	}
	// Files that are not its backups are left alone.
	other := filepath.Join(dir, "notes.txt")
	os.WriteFile(other, []byte("keep me"), 0o600)
	step(25*time.Hour, nil, 2)
	if _, err := os.Stat(other); err != nil {
		t.Fatal("removed a file that is not a backup")
	}
}

// A damaged database makes no backup and removes none; the next try is an
// hour later, not at every round.
func TestDailyBackupOfADamagedDatabaseKeepsTheOldOnes(t *testing.T) {
	db := newBackupDB(t)
	dir := t.TempDir()
	var logs strings.Builder
	now := time.Date(2027, 1, 10, 8, 0, 0, 0, time.UTC)
	b := &dailyBackup{dir: dir, keep: 1, db: db, log: log.New(&logs), now: func() time.Time { return now }}
	b.afterRound(nil)
	first := b.backups()
	if len(first) != 1 {
		t.Fatalf("first backup: %v\n%s", first, logs.String())
	}
	if err := os.Truncate(db.Path(), 8192); err != nil { // the file is cut under the server
		t.Fatal(err)
	}
	for _, after := range []time.Duration{25 * time.Hour, time.Minute, 30 * time.Minute} {
		now = now.Add(after)
		b.afterRound(nil)
	}
	if got := b.backups(); len(got) != 1 || got[0] != first[0] {
		t.Fatalf("backups after the damage: %v", got)
	}
	if n := strings.Count(logs.String(), "daily backup failed"); n != 1 || !strings.Contains(logs.String(), "is damaged") {
		t.Fatalf("%d failures logged:\n%s", n, logs.String())
	}
	if leftovers, _ := filepath.Glob(filepath.Join(dir, ".*")); len(leftovers) != 0 {
		t.Fatalf("left behind: %v", leftovers)
	}
}
