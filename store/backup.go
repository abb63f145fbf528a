package store

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
)

// BackupInfo is what Backup wrote.
type BackupInfo struct {
	Path  string        `json:"path"`
	Bytes int64         `json:"bytes"`
	Took  time.Duration `json:"-"`
}

// Backup writes a consistent copy of the database to path, mode 0600,
// from one read transaction (bbolt's Tx.WriteTo): saves and syncs go on
// meanwhile and the copy is the database as it was when the backup
// began. It is written next to path first, checked (Check) and moved into
// place complete and sound, so path never holds half a backup or a
// damaged one (a *DamagedError says so). An existing file is kept unless
// overwrite is set. The copy holds secrets sealed with the secrets key,
// which is not in it (see SecretsKeyReminder).
func (db *DB) Backup(path string, overwrite bool) (BackupInfo, error) {
	start := time.Now()
	info := BackupInfo{Path: path}
	if same, _ := sameFile(path, db.path); same {
		return info, fieldErr("file", "%s is the database itself: name another file", path)
	}
	if _, err := os.Lstat(path); err == nil && !overwrite {
		return info, &ExistsError{Path: path}
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".partial-*")
	if err != nil {
		return info, fmt.Errorf("back up to %s: %w", path, err)
	}
	defer os.Remove(tmp.Name()) // gone once moved into place
	err = db.view(func(tx *bolt.Tx) error {
		n, err := tx.WriteTo(tmp)
		info.Bytes = n
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			// WriteTo reads the file itself: it ended before its pages did.
			return &DamagedError{Path: db.path, Cause: fmt.Errorf("the file ends after %d bytes, before its last page: it was cut short", n)}
		}
		return err
	})
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = db.checkCopy(tmp.Name())
	}
	if err == nil {
		err = placeFile(tmp.Name(), path, overwrite)
	}
	switch {
	case errors.Is(err, fs.ErrExist):
		return info, &ExistsError{Path: path}
	case errors.Is(err, ErrDamaged):
		return info, err
	case err != nil:
		return info, fmt.Errorf("back up to %s: %w", path, err)
	}
	info.Took = time.Since(start)
	return info, nil
}

// checkCopy checks the backup written at path: a copy of a damaged
// database is damaged too, and must not take the place of a good backup
// (serve keeps only the last few).
func (db *DB) checkCopy(path string) error {
	r, err := checkFile(path)
	if err != nil {
		var damaged *DamagedError
		if errors.As(err, &damaged) {
			return &DamagedError{Path: db.path, Cause: fmt.Errorf("its copy does not open: %w", damaged.Cause)}
		}
		return err
	}
	if !r.OK() {
		return &DamagedError{Path: db.path, Cause: fmt.Errorf("its copy has %d problems, the first: %s; no backup was written", len(r.Problems)+r.More, r.Problems[0])}
	}
	return nil
}

// checkFile opens the database file at path read-only and checks it: the
// copy a backup or a compaction wrote.
func checkFile(path string) (CheckReport, error) {
	db, err := Open(path, Options{ReadOnly: true})
	if err != nil {
		return CheckReport{}, err
	}
	defer db.Close()
	return db.Check(), nil
}

// ExistsError refuses to replace a file without being told to.
type ExistsError struct{ Path string }

func (e *ExistsError) Error() string {
	return fmt.Sprintf("%s already exists: name a new file, or pass --force to replace it", e.Path)
}

// SecretsKeyReminder is what an operator must know about a backup.
const SecretsKeyReminder = "The backup holds no usable secret on its own: client secrets and SFTP passwords and keys in it are sealed with the secrets key file " +
	"(--secrets-key, " + SecretsKeyEnv + "), which is not in the backup. Keep a copy of that key file apart from the backups; " +
	"restored without it, every secret must be entered again."

// placeFile moves the finished file tmp to path: over an existing file
// when overwrite is set, else only if path does not exist (a hard link
// fails rather than replace), then makes the move durable.
func placeFile(tmp, path string, overwrite bool) error {
	var err error
	if overwrite {
		err = os.Rename(tmp, path)
	} else if err = os.Link(tmp, path); err == nil {
		err = os.Remove(tmp)
	}
	if err != nil {
		return err
	}
	return syncDir(filepath.Dir(path))
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// sameFile reports whether a and b name the same file (a need not exist).
func sameFile(a, b string) (bool, error) {
	sa, err := os.Stat(a)
	if err != nil {
		aa, _ := filepath.Abs(a)
		bb, _ := filepath.Abs(b)
		return aa == bb, err
	}
	sb, err := os.Stat(b)
	if err != nil {
		return false, err
	}
	return os.SameFile(sa, sb), nil
}

// CompactInfo is what Compact did: the bytes the database's pages took
// before and after, and the file's size after (bbolt grows files ahead).
type CompactInfo struct {
	Before, After, FileAfter int64
	Took                     time.Duration
}

// Compact rewrites the database file at path without its free pages
// (bbolt's Compact into a new file next to it), and swaps the new file in
// only after it checks clean and holds everything the old one did. It
// opens the file for writing, so it refuses (an *InUseError) while a
// server or any other rostersync holds it, and refuses a database whose
// check finds problems: compaction would copy or drop them silently.
func Compact(path string, opt Options) (CompactInfo, error) {
	start := time.Now()
	var info CompactInfo
	db, err := Open(path, opt)
	if err != nil {
		return info, err
	}
	defer db.Close()
	before := db.Check()
	if !before.OK() {
		return info, fmt.Errorf("%s has problems (%s): not compacting it; run rostersync db check, and restore a backup", path, strings.Join(before.Problems, "; "))
	}
	info.Before = before.Pages * int64(before.PageSize)
	tmp := path + ".compacting"
	os.Remove(tmp) // left by a compaction that was killed
	defer os.Remove(tmp)
	dst, err := openBolt(tmp, &bolt.Options{Timeout: DefaultLockTimeout})
	if err != nil {
		return info, err
	}
	err = db.compactInto(dst)
	if cerr := dst.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return info, fmt.Errorf("compact %s: %w", path, err)
	}
	after, err := checkFile(tmp)
	if err != nil {
		return info, fmt.Errorf("the compacted copy does not open (%w); %s is unchanged", err, path)
	}
	if !after.OK() || !sameCounts(before, after) {
		return info, fmt.Errorf("the compacted copy does not check clean or lacks records (%s; %+v against %+v): %s is unchanged", strings.Join(after.Problems, "; "), after, before, path)
	}
	info.After = after.Pages * int64(after.PageSize)
	info.FileAfter = after.Bytes
	if err := placeFile(tmp, path, true); err != nil {
		return info, fmt.Errorf("swap the compacted copy into %s: %w", path, err)
	}
	info.Took = time.Since(start)
	return info, nil
}

func sameCounts(a, b CheckReport) bool {
	return a.Districts == b.Districts && a.Revisions == b.Revisions && a.Runs == b.Runs &&
		a.DirectoryRecords == b.DirectoryRecords && a.Drafts == b.Drafts && a.AccessKeys == b.AccessKeys
}
