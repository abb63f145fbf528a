package store

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
)

func readPulled(t *testing.T, db *DB, tenant int64) ([]byte, error) {
	t.Helper()
	var got []byte
	err := db.ReadPulledRoster(tenant, func(r io.Reader) error {
		var err error
		got, err = io.ReadAll(r)
		return err
	})
	return got, err
}

// A pulled roster reads back as written; a new one replaces it; a failed
// or interrupted write leaves the previous one, and its leftovers go with
// the next save. Its files are the owner's alone.
func TestPulledRosterReplacesWholeOrNotAtAll(t *testing.T) {
	db := openTemp(t)
	if _, err := readPulled(t, db, 4); !errors.Is(err, ErrNotFound) {
		t.Fatalf("empty: %v", err)
	}
	if _, ok, err := db.PulledRosterMeta(4); ok || err != nil {
		t.Fatalf("meta of none: %v %v", ok, err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	first := make([]byte, 3<<20+12345)
	for i := range first {
		first[i] = byte(rng.IntN(256))
	}
	save := func(meta string, data []byte, fail error) error {
		return db.SavePulledRoster(4, []byte(meta), func(w io.Writer) error {
			for p := data; len(p) > 0; {
				n := min(len(p), 1000+rng.IntN(100000))
				if _, err := w.Write(p[:n]); err != nil {
					return err
				}
				p = p[n:]
			}
			return fail
		})
	}
	if err := save("one", first, nil); err != nil {
		t.Fatal(err)
	}
	if got, err := readPulled(t, db, 4); err != nil || !bytes.Equal(got, first) {
		t.Fatalf("read back %d bytes (%v), wrote %d", len(got), err, len(first))
	}
	for _, p := range []string{db.PulledDir(), db.pulledFile(4)} {
		if st, err := os.Stat(p); err != nil || st.Mode().Perm()&0o077 != 0 {
			t.Fatalf("%s: %v %v", p, st.Mode(), err)
		}
	}
	if err := save("two", first[:10], errors.New("the pull broke")); err == nil {
		t.Fatal("a failed write was saved")
	}
	// A save killed half-way leaves its temporary file.
	killed := filepath.Join(db.PulledDir(), "4.123.tmp")
	os.WriteFile(killed, first[:1000], 0o600)
	if meta, ok, _ := db.PulledRosterMeta(4); !ok || string(meta) != "one" {
		t.Fatalf("meta after failures: %q %v", meta, ok)
	}
	if got, _ := readPulled(t, db, 4); !bytes.Equal(got, first) {
		t.Fatal("a failed or killed save changed the pulled roster")
	}
	if err := save("three", []byte("small"), nil); err != nil {
		t.Fatal(err)
	}
	if got, _ := readPulled(t, db, 4); string(got) != "small" {
		t.Fatalf("after the third save: %.20q", got)
	}
	if left, _ := filepath.Glob(filepath.Join(db.PulledDir(), "*.tmp")); len(left) != 0 {
		t.Errorf("leftovers: %v", left)
	}
	// A file that is not one reads as none.
	os.WriteFile(db.pulledFile(5), []byte("garbage"), 0o600)
	if _, ok, err := db.PulledRosterMeta(5); ok || err != nil {
		t.Fatalf("a damaged file: %v %v", ok, err)
	}
	if err := db.DropPulledRoster(4); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := db.PulledRosterMeta(4); ok {
		t.Fatal("dropped, yet still there")
	}
}

// A database's ID is made once and kept: the same after a reopen and in
// a backup, another for any other database (one made again at the same
// path included).
func TestEachDatabaseHasItsOwnID(t *testing.T) {
	path := filepath.Join(t.TempDir(), "rostersync.db")
	db, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	id, err := db.DatabaseID()
	if again, _ := db.DatabaseID(); err != nil || len(id) < 20 || again != id {
		t.Fatalf("ID %q then %q (%v)", id, again, err)
	}
	backup := filepath.Join(t.TempDir(), "backup.db")
	if _, err := db.Backup(backup, false); err != nil {
		t.Fatal(err)
	}
	db.Close()
	for _, p := range []string{path, backup} {
		other, err := Open(p, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if got, err := other.DatabaseID(); err != nil || got != id {
			t.Errorf("%s: ID %q (%v), want %q", p, got, err, id)
		}
		other.Close()
	}
	os.Remove(path)
	made, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer made.Close()
	if got, err := made.DatabaseID(); err != nil || got == id || got == "" {
		t.Errorf("a database made again at the same path: ID %q (%v), the old one %q", got, err, id)
	}
}

// A pulled roster ends with a checksum of all it holds: a byte changed
// anywhere after the header, or a file cut short, reads as damaged once
// the stream was read, whatever the reader made of it.
func TestPulledRosterChecksum(t *testing.T) {
	db := openTemp(t)
	data := bytes.Repeat([]byte("roster "), 5000)
	if err := db.SavePulledRoster(4, []byte(`{"format":2}`), func(w io.Writer) error { _, err := w.Write(data); return err }); err != nil {
		t.Fatal(err)
	}
	if got, err := readPulled(t, db, 4); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("intact: %v", err)
	}
	good, err := os.ReadFile(db.pulledFile(4))
	if err != nil {
		t.Fatal(err)
	}
	for _, at := range []int{len(pulledMagic) + 3, len(good) / 2, len(good) - 2} {
		bad := bytes.Clone(good)
		bad[at] ^= 0x10
		os.WriteFile(db.pulledFile(4), bad, 0o600)
		if _, err := readPulled(t, db, 4); !errors.Is(err, ErrPulledDamaged) {
			t.Errorf("byte %d of %d changed: %v", at, len(good), err)
		}
	}
	os.WriteFile(db.pulledFile(4), good[:len(good)-100], 0o600)
	if _, err := readPulled(t, db, 4); !errors.Is(err, ErrPulledDamaged) {
		t.Errorf("cut short: %v", err)
	}
	// A reader that stops early still has the checksum checked.
	os.WriteFile(db.pulledFile(4), good, 0o600)
	if err := db.ReadPulledRoster(4, func(io.Reader) error { return nil }); err != nil {
		t.Errorf("intact, read in part: %v", err)
	}
}
