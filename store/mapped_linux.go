//go:build linux

package store

import (
	"syscall"

	bolt "go.etcd.io/bbolt"
)

// ReleaseFilePages drops the database file's pages from this process's
// resident memory. bbolt maps the file read-only and shared and writes it
// with pwrite, so the pages stay in the kernel's page cache and the next
// read maps them back (a minor fault); but while mapped they count in the
// process's RSS, and a sync that reads an L-tier directory touches all of
// it. It runs inside a read transaction, which holds bbolt's map in place.
func (db *DB) ReleaseFilePages() error {
	return db.view(func(tx *bolt.Tx) error {
		db.releaseIn(tx)
		return nil
	})
}

// releaseIn is ReleaseFilePages inside a transaction already open (a
// second read transaction in the same goroutine could wait on a writer
// that waits on the first).
func (db *DB) releaseIn(tx *bolt.Tx) {
	if n := tx.Size(); n > 0 {
		syscall.Syscall(syscall.SYS_MADVISE, db.bolt.Info().Data, uintptr(n), syscall.MADV_DONTNEED)
	}
}
