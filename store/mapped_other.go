//go:build !linux

package store

import bolt "go.etcd.io/bbolt"

// ReleaseFilePages drops the database file's pages from this process's
// resident memory on Linux; elsewhere it does nothing.
func (db *DB) ReleaseFilePages() error { return nil }

func (db *DB) releaseIn(*bolt.Tx) {}
