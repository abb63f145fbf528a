package store

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"

	bolt "go.etcd.io/bbolt"
)

// The pulled roster: what the sync keeps of a district's last pull (every
// class, user and enrollment as it arrived, compacted), so that a daily
// run can pull only what changed since. It is the sync's opaque stream,
// not part of the directory, and can be dropped at any time (the next run
// then pulls everything). Layout:
//
//	pulled/<tenant>/meta       the sync's meta of the current stream
//	pulled/<tenant>/current    generation of the current stream (8 bytes)
//	pulled/<tenant>/<gen>/     the stream in chunks, keyed by sequence
//
// A stream is written to a new generation over several transactions (it
// can be a hundred MB at the L tier) and becomes current in the last one,
// so a kill leaves the previous stream current.

var (
	bucketPulled = []byte("pulled")
	keyMeta      = []byte("meta")
	keyCurrent   = []byte("current")
)

// pulledChunk is how much of a stream one transaction writes.
const pulledChunk = 4 << 20

// SavePulledRoster writes the stream write produces as the district's
// pulled roster, with meta, replacing the current one. If write fails
// nothing changes.
func (db *DB) SavePulledRoster(tenantID int64, meta []byte, write func(w io.Writer) error) error {
	var gen uint64
	err := db.update(func(tx *bolt.Tx) error {
		b, err := pulledBucket(tx, tenantID)
		if err != nil {
			return err
		}
		// Leftovers of a save that was killed, then a fresh generation.
		var stale [][]byte
		cur := b.Get(keyCurrent)
		b.ForEachBucket(func(k []byte) error {
			if !bytes.Equal(k, cur) {
				stale = append(stale, bytes.Clone(k))
			}
			return nil
		})
		for _, k := range stale {
			if err := b.DeleteBucket(k); err != nil {
				return err
			}
		}
		gen, err = b.NextSequence()
		if err != nil {
			return err
		}
		_, err = b.CreateBucket(genKey(gen))
		return err
	})
	if err != nil {
		return err
	}
	w := &pulledWriter{db: db, tenantID: tenantID, gen: gen, buf: make([]byte, 0, pulledChunk)}
	if err := write(w); err != nil {
		w.abandon()
		return err
	}
	if err := w.finish(meta); err != nil {
		return err
	}
	return db.ReleaseFilePages()
}

// PulledRosterMeta is the meta of the district's pulled roster; ok is
// false when there is none.
func (db *DB) PulledRosterMeta(tenantID int64) (meta []byte, ok bool, err error) {
	err = db.view(func(tx *bolt.Tx) error {
		b := existingPulled(tx, tenantID)
		if b == nil || b.Get(keyCurrent) == nil {
			return nil
		}
		meta, ok = bytes.Clone(b.Get(keyMeta)), true
		return nil
	})
	return meta, ok, err
}

// ReadPulledRoster hands read the district's pulled roster stream, inside
// one read transaction (read must not write to the database).
func (db *DB) ReadPulledRoster(tenantID int64, read func(r io.Reader) error) error {
	err := db.view(func(tx *bolt.Tx) error {
		b := existingPulled(tx, tenantID)
		var chunks *bolt.Bucket
		if b != nil {
			if cur := b.Get(keyCurrent); cur != nil {
				chunks = b.Bucket(cur)
			}
		}
		if chunks == nil {
			return ErrNotFound
		}
		return read(&chunkReader{c: chunks.Cursor(), release: func() { db.releaseIn(tx) }})
	})
	if err == nil {
		err = db.ReleaseFilePages()
	}
	return err
}

// DropPulledRoster forgets the district's pulled roster.
func (db *DB) DropPulledRoster(tenantID int64) error {
	return db.update(func(tx *bolt.Tx) error {
		top := tx.Bucket(bucketPulled)
		if top == nil || top.Bucket(tenantKey(tenantID)) == nil {
			return nil
		}
		return top.DeleteBucket(tenantKey(tenantID))
	})
}

func pulledBucket(tx *bolt.Tx, tenantID int64) (*bolt.Bucket, error) {
	top, err := tx.CreateBucketIfNotExists(bucketPulled)
	if err != nil {
		return nil, err
	}
	return top.CreateBucketIfNotExists(tenantKey(tenantID))
}

func existingPulled(tx *bolt.Tx, tenantID int64) *bolt.Bucket {
	top := tx.Bucket(bucketPulled)
	if top == nil {
		return nil
	}
	return top.Bucket(tenantKey(tenantID))
}

func genKey(gen uint64) []byte { return binary.BigEndian.AppendUint64(nil, gen) }

// pulledWriter cuts a stream into chunks, each chunk its own transaction.
type pulledWriter struct {
	db       *DB
	tenantID int64
	gen      uint64
	seq      uint64
	buf      []byte
}

func (w *pulledWriter) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		k := min(len(p), pulledChunk-len(w.buf))
		w.buf = append(w.buf, p[:k]...)
		p = p[k:]
		if len(w.buf) == pulledChunk {
			if err := w.db.update(w.put); err != nil {
				return n - len(p), err
			}
		}
	}
	return n, nil
}

// put adds the buffered chunk to the new generation.
func (w *pulledWriter) put(tx *bolt.Tx) error {
	if len(w.buf) == 0 {
		return nil
	}
	b := existingPulled(tx, w.tenantID)
	if b == nil || b.Bucket(genKey(w.gen)) == nil {
		return errors.New("store: the pulled roster being written was dropped")
	}
	w.seq++
	if err := b.Bucket(genKey(w.gen)).Put(genKey(w.seq), w.buf); err != nil {
		return err
	}
	w.buf = w.buf[:0]
	return nil
}

// finish writes the last chunk and makes the generation current, in one
// transaction, dropping the previous one.
func (w *pulledWriter) finish(meta []byte) error {
	return w.db.update(func(tx *bolt.Tx) error {
		if err := w.put(tx); err != nil {
			return err
		}
		b := existingPulled(tx, w.tenantID)
		if old := b.Get(keyCurrent); old != nil && b.Bucket(old) != nil {
			if err := b.DeleteBucket(bytes.Clone(old)); err != nil {
				return err
			}
		}
		if err := b.Put(keyCurrent, genKey(w.gen)); err != nil {
			return err
		}
		return b.Put(keyMeta, meta)
	})
}

// abandon drops the generation being written.
func (w *pulledWriter) abandon() {
	w.db.update(func(tx *bolt.Tx) error {
		if b := existingPulled(tx, w.tenantID); b != nil && b.Bucket(genKey(w.gen)) != nil {
			return b.DeleteBucket(genKey(w.gen))
		}
		return nil
	})
}

// chunkReader reads a generation's chunks in order as one stream, giving
// the file's pages back every few chunks.
type chunkReader struct {
	c       *bolt.Cursor
	release func()
	read    int
	cur     []byte
}

func (r *chunkReader) Read(p []byte) (int, error) {
	for len(r.cur) == 0 {
		var v []byte
		if r.read == 0 {
			_, v = r.c.First()
		} else {
			_, v = r.c.Next()
		}
		if v == nil {
			return 0, io.EOF
		}
		if r.read++; r.read%8 == 0 {
			r.release()
		}
		r.cur = v
	}
	n := copy(p, r.cur)
	r.cur = r.cur[n:]
	return n, nil
}
