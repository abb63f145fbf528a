package store

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"testing"

	bolt "go.etcd.io/bbolt"
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

// A pulled roster reads back as written across chunks and transactions;
// a new one replaces it; a failed or interrupted write leaves the
// previous one current, and its leftovers go with the next save.
func TestPulledRosterReplacesWholeOrNotAtAll(t *testing.T) {
	db := openTemp(t)
	if _, err := readPulled(t, db, 4); !errors.Is(err, ErrNotFound) {
		t.Fatalf("empty: %v", err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	first := make([]byte, 2*pulledChunk+12345)
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
	if err := save("two", first[:10], errors.New("the pull broke")); err == nil {
		t.Fatal("a failed write was saved")
	}
	// A save killed half-way: a generation that never became current.
	w := &pulledWriter{db: db, tenantID: 4, buf: make([]byte, 0, pulledChunk)}
	db.update(func(tx *bolt.Tx) error {
		b, _ := pulledBucket(tx, 4)
		w.gen, _ = b.NextSequence()
		_, err := b.CreateBucket(genKey(w.gen))
		return err
	})
	w.Write(first)
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
	db.view(func(tx *bolt.Tx) error {
		n := 0
		existingPulled(tx, 4).ForEachBucket(func([]byte) error { n++; return nil })
		if n != 1 {
			t.Errorf("%d generations kept, want 1", n)
		}
		return nil
	})
	if err := db.DropPulledRoster(4); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := db.PulledRosterMeta(4); ok {
		t.Fatal("dropped, yet still there")
	}
}
