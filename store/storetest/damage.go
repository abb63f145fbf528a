// Package storetest damages real database files in the ways disks and
// people damage them, for tests of how rostersync copes. Production code
// never imports it.
package storetest

import (
	"encoding/binary"
	"fmt"
	"os"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Damage is one way of damaging a database file.
type Damage string

const (
	// Truncated cuts the file to half its pages, as a full disk or an
	// interrupted copy does: pages still referenced lie past its end.
	Truncated Damage = "truncated"
	// ZeroedMeta zeroes both meta pages: the file no longer opens.
	ZeroedMeta Damage = "zeroed-meta"
	// ZeroedRoot zeroes the page of the root bucket, which holds the
	// top-level buckets (districts, runs, directory, …).
	ZeroedRoot Damage = "zeroed-root"
	// ZeroedFreelist zeroes the freelist page, which a writer loads at open.
	ZeroedFreelist Damage = "zeroed-freelist"
	// ZeroedDirectoryPage zeroes the first leaf page of one district's
	// directory users: the rest of the file is sound.
	ZeroedDirectoryPage Damage = "zeroed-directory-page"
)

// Damages lists every kind, in the order reports show them.
var Damages = []Damage{Truncated, ZeroedMeta, ZeroedRoot, ZeroedFreelist, ZeroedDirectoryPage}

// TB is the part of testing.TB that Apply uses.
type TB interface {
	Helper()
	Fatalf(format string, args ...any)
}

// Apply damages the closed database file at path in the given way; tenantID
// picks the district for ZeroedDirectoryPage, whose directory must span
// more than one page.
func Apply(t TB, path string, kind Damage, tenantID int64) {
	t.Helper()
	if err := apply(path, kind, tenantID); err != nil {
		t.Fatalf("damage %s (%s): %v", path, kind, err)
	}
}

// Copy copies the file at src to dst (mode 0600), e.g. to damage a copy of
// one synced database in several ways.
func Copy(t TB, src, dst string) {
	t.Helper()
	raw, err := os.ReadFile(src)
	if err == nil {
		err = os.WriteFile(dst, raw, 0o600)
	}
	if err != nil {
		t.Fatalf("copy %s: %v", src, err)
	}
}

func apply(path string, kind Damage, tenantID int64) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	m, pageSize, err := activeMeta(f)
	if err != nil {
		return err
	}
	zero := func(id uint64) error {
		if id < 2 && kind != ZeroedMeta || id >= m.pgid {
			return fmt.Errorf("page %d is not a page to zero (high-water mark %d)", id, m.pgid)
		}
		_, err := f.WriteAt(make([]byte, pageSize), int64(id)*int64(pageSize))
		return err
	}
	switch kind {
	case Truncated:
		return f.Truncate(int64(m.pgid/2) * int64(pageSize))
	case ZeroedMeta:
		if err := zero(0); err != nil {
			return err
		}
		return zero(1)
	case ZeroedRoot:
		return zero(m.root)
	case ZeroedFreelist:
		return zero(m.freelist)
	case ZeroedDirectoryPage:
		id, err := directoryLeaf(f, path, pageSize, tenantID)
		if err != nil {
			return err
		}
		return zero(id)
	}
	return fmt.Errorf("unknown damage %q", kind)
}

// meta is what Apply needs of bbolt's meta page (internal/common/meta.go):
// after the 16-byte page header come magic, version, page size and flags
// (4 bytes each), the root bucket's page and sequence, the freelist page,
// the high-water mark and the transaction id (8 bytes each).
type meta struct {
	pageSize uint32
	root     uint64
	freelist uint64
	pgid     uint64
	txid     uint64
}

const magic = 0xED0CDAED

func readMeta(buf []byte) (meta, bool) {
	le := binary.LittleEndian
	if len(buf) < 80 || le.Uint32(buf[16:]) != magic {
		return meta{}, false
	}
	return meta{pageSize: le.Uint32(buf[24:]), root: le.Uint64(buf[32:]), freelist: le.Uint64(buf[48:]),
		pgid: le.Uint64(buf[56:]), txid: le.Uint64(buf[64:])}, true
}

// activeMeta reads the meta page bbolt uses: the valid one with the
// higher transaction id.
func activeMeta(f *os.File) (meta, int, error) {
	head := make([]byte, 80)
	if _, err := f.ReadAt(head, 0); err != nil {
		return meta{}, 0, err
	}
	m0, ok := readMeta(head)
	if !ok {
		return meta{}, 0, fmt.Errorf("meta page 0 is not a bbolt meta page")
	}
	if _, err := f.ReadAt(head, int64(m0.pageSize)); err != nil {
		return meta{}, 0, err
	}
	if m1, ok := readMeta(head); ok && m1.txid > m0.txid {
		return m1, int(m1.pageSize), nil
	}
	return m0, int(m0.pageSize), nil
}

// directoryLeaf follows the district's users section from its root page
// down the first branch elements to a leaf page.
func directoryLeaf(f *os.File, path string, pageSize int, tenantID int64) (uint64, error) {
	b, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, Timeout: time.Second})
	if err != nil {
		return 0, err
	}
	key := make([]byte, 8)
	binary.BigEndian.PutUint64(key, uint64(tenantID))
	var root uint64
	err = b.View(func(tx *bolt.Tx) error {
		dir := tx.Bucket([]byte("directory"))
		if dir = dir.Bucket(key); dir == nil {
			return fmt.Errorf("district %d has no directory", tenantID)
		}
		root = uint64(dir.Bucket([]byte("users")).Root())
		return nil
	})
	b.Close()
	if err != nil {
		return 0, err
	}
	if root == 0 {
		return 0, fmt.Errorf("district %d's users fit inline in their parent page: sync more users", tenantID)
	}
	page := make([]byte, pageSize)
	for id := root; ; {
		if _, err := f.ReadAt(page, int64(id)*int64(pageSize)); err != nil {
			return 0, err
		}
		switch flags := binary.LittleEndian.Uint16(page[8:]); flags {
		case 0x02: // leaf
			return id, nil
		case 0x01: // branch: the first element (pos, ksize uint32; pgid uint64) follows the header
			id = binary.LittleEndian.Uint64(page[16+8:])
		default:
			return 0, fmt.Errorf("page %d has flags %#x, not a branch or leaf", id, flags)
		}
	}
}

// Corrupt replaces one record with raw bytes, as a bug or a bit flip
// leaves it: the record under the 8-byte big-endian key in the bucket
// path (e.g. "districts", tenant 5). The pages stay sound.
func Corrupt(t TB, path string, buckets []string, key int64, raw []byte) {
	t.Helper()
	b, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatalf("corrupt %s: %v", path, err)
	}
	defer b.Close()
	k := make([]byte, 8)
	binary.BigEndian.PutUint64(k, uint64(key))
	err = b.Update(func(tx *bolt.Tx) error {
		bucket := tx.Bucket([]byte(buckets[0]))
		for _, name := range buckets[1:] {
			if bucket == nil {
				break
			}
			bucket = bucket.Bucket([]byte(name))
		}
		if bucket == nil {
			return fmt.Errorf("no bucket %v", buckets)
		}
		return bucket.Put(k, raw)
	})
	if err != nil {
		t.Fatalf("corrupt %s: %v", path, err)
	}
}
