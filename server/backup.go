package server

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"charm.land/log/v2"

	"github.com/schoolstatus/rostersync/store"
)

// DefaultBackupKeep is how many daily backups serve keeps.
const DefaultBackupKeep = 7

// dailyBackup is serve's --backup-dir: a backup after the scheduled runs
// of each day, the last keep of them kept.
//
// After a round of the scheduler it backs up when the newest backup is
// 24 hours old (or there is none: the first one is made at start), or
// when the round ran scheduled syncs and the newest backup is 12 hours
// old: so a backup follows the day's first scheduled runs, and the
// database is backed up daily even when no district syncs on schedule.
// A failed backup (a damaged database never passes the copy's check) is
// logged, keeps every older backup, and is tried again an hour later.
type dailyBackup struct {
	dir  string
	keep int
	db   *store.DB
	log  *log.Logger
	now  func() time.Time

	failedAt time.Time
}

const (
	backupPrefix   = "rostersync-"
	backupSuffix   = ".db"
	backupStamp    = "20060102T150405Z"
	backupEvery    = 24 * time.Hour
	backupAfterRun = 12 * time.Hour
	backupRetry    = time.Hour
)

// PrepareBackupDir makes dir (0700) if it is missing and refuses one that
// is not a directory, so that serve fails at start rather than at 2 a.m.
func PrepareBackupDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("--backup-dir: %w", err)
	}
	st, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("--backup-dir: %w", err)
	}
	if !st.IsDir() {
		return fmt.Errorf("--backup-dir: %s is not a directory", dir)
	}
	return nil
}

// backups lists dir's backups, oldest first (their names sort by time).
func (b *dailyBackup) backups() []string {
	entries, _ := os.ReadDir(b.dir)
	var out []string
	for _, e := range entries {
		if _, ok := backupTime(e.Name()); ok && e.Type().IsRegular() {
			out = append(out, e.Name())
		}
	}
	slices.Sort(out)
	return out
}

// backupTime is when the backup named name was made; ok is false for a
// name that is not a backup's.
func backupTime(name string) (t time.Time, ok bool) {
	stamp, hasPrefix := strings.CutPrefix(name, backupPrefix)
	stamp, hasSuffix := strings.CutSuffix(stamp, backupSuffix)
	t, err := time.Parse(backupStamp, stamp)
	return t, hasPrefix && hasSuffix && err == nil
}

// afterRound backs up if one is due, then keeps the newest keep backups.
func (b *dailyBackup) afterRound(ran []int64) {
	now := b.now().UTC()
	if !b.failedAt.IsZero() && now.Sub(b.failedAt) < backupRetry {
		return
	}
	all := b.backups()
	age := time.Duration(1<<63 - 1)
	if len(all) > 0 {
		newest, _ := backupTime(all[len(all)-1])
		age = now.Sub(newest)
	}
	if age < backupEvery && (len(ran) == 0 || age < backupAfterRun) {
		return
	}
	path := filepath.Join(b.dir, backupPrefix+now.Format(backupStamp)+backupSuffix)
	info, err := b.db.Backup(path, false)
	if err != nil {
		b.failedAt = now
		b.log.Error("daily backup failed; the older backups are kept, and it is tried again in an hour", "path", path, "err", err)
		return
	}
	b.failedAt = time.Time{}
	b.log.Info("daily backup", "path", path, "bytes", info.Bytes, "took", info.Took.Round(time.Millisecond).String())
	all = append(all, filepath.Base(path))
	for _, old := range all[:max(len(all)-b.keep, 0)] {
		if err := os.Remove(filepath.Join(b.dir, old)); err != nil {
			b.log.Warn("could not remove an old backup", "path", old, "err", err)
		}
	}
}
