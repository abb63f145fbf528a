package store

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"strconv"

	bolt "go.etcd.io/bbolt"
)

// The pulled roster: what the sync keeps of a district's last pull (every
// class, user and enrollment as it arrived, compacted), so that a daily
// run can pull only what changed since. It is a cache, not part of the
// directory: one file per district in the folder PATH.pulled beside the
// database (0700, files 0600), holding the sync's meta and its opaque
// stream; delete it and the next run pulls everything. It lives outside
// the bbolt file because it is rewritten whole on every run (a hundred MB
// at the L tier): as bbolt values it would cost that again in page
// buffers and leave as much free space in the file. A file is written
// under a temporary name, synced and renamed over the old one, so a kill
// leaves the previous one.

// keyDatabaseID is the meta key of the database's own random identity.
var keyDatabaseID = []byte("database_id")

// DatabaseID is this database's own identity, random, made the first time
// it is asked for and kept in the file (so in its backups and compacted
// copies too): the sync notes it in each pulled roster it keeps, so that a
// roster kept beside a database that was deleted and made again is never
// taken for one of the new database's.
func (db *DB) DatabaseID() (string, error) {
	var id string
	if err := db.view(func(tx *bolt.Tx) error {
		id = string(tx.Bucket(bucketMeta).Get(keyDatabaseID))
		return nil
	}); err != nil || id != "" {
		return id, err
	}
	err := db.update(func(tx *bolt.Tx) error {
		meta := tx.Bucket(bucketMeta)
		if id = string(meta.Get(keyDatabaseID)); id != "" {
			return nil
		}
		id = rand.Text()
		return meta.Put(keyDatabaseID, []byte(id))
	})
	return id, err
}

// pulledMagic starts every pulled roster file. Version 2 ends with a
// CRC-32C (Castagnoli) of all that comes before it, big-endian: a file
// written before it reads as none, and costs one whole pull.
const pulledMagic = "rostersync pulled roster 2\n"

// pulledTrailer is the size of the checksum that ends the file.
const pulledTrailer = 4

var pulledCRC = crc32.MakeTable(crc32.Castagnoli)

// ErrPulledDamaged: a pulled roster file's checksum does not match what
// it holds (a bad disk, a byte changed by hand). It is a cache: the sync
// pulls in full instead.
var ErrPulledDamaged = errors.New("the pulled roster kept from the last run is damaged (its checksum does not match)")

// PulledDir is the folder of the database's pulled rosters.
func (db *DB) PulledDir() string { return db.path + ".pulled" }

func (db *DB) pulledFile(tenantID int64) string {
	return filepath.Join(db.PulledDir(), strconv.FormatInt(tenantID, 10))
}

// SavePulledRoster writes the stream write produces as the district's
// pulled roster, with meta, replacing the current one. If write fails
// nothing changes.
func (db *DB) SavePulledRoster(tenantID int64, meta []byte, write func(w io.Writer) error) (err error) {
	if err := os.MkdirAll(db.PulledDir(), 0o700); err != nil {
		return err
	}
	final := db.pulledFile(tenantID)
	// Leftovers of a save that was killed.
	stale, _ := filepath.Glob(final + ".*.tmp")
	for _, s := range stale {
		os.Remove(s)
	}
	f, err := os.CreateTemp(db.PulledDir(), filepath.Base(final)+".*.tmp")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	w := bufio.NewWriterSize(f, 1<<20)
	sum := crc32.New(pulledCRC)
	hw := io.MultiWriter(w, sum)
	io.WriteString(hw, pulledMagic)
	hw.Write(binary.AppendUvarint(nil, uint64(len(meta))))
	hw.Write(meta)
	if err := write(hw); err != nil {
		return err
	}
	w.Write(binary.BigEndian.AppendUint32(nil, sum.Sum32()))
	if err := w.Flush(); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(f.Name(), final); err != nil {
		return err
	}
	syncDir(db.PulledDir()) // best effort: the new file is in place either way
	return nil
}

// PulledRosterMeta is the meta of the district's pulled roster; ok is
// false when there is none (or its file is not one).
func (db *DB) PulledRosterMeta(tenantID int64) (meta []byte, ok bool, err error) {
	pf, err := db.openPulled(tenantID)
	if errors.Is(err, ErrNotFound) || errors.Is(err, errPulledHeader) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	pf.f.Close()
	return pf.meta, true, nil
}

// ReadPulledRoster hands read the district's pulled roster stream;
// ErrNotFound when there is none. The file's checksum is checked once
// read returns, before its result may be used: ErrPulledDamaged (wrapped)
// when it does not match, whatever read returned. The meta alone
// (PulledRosterMeta) is not checked; the same checksum covers it.
func (db *DB) ReadPulledRoster(tenantID int64, read func(r io.Reader) error) error {
	pf, err := db.openPulled(tenantID)
	if err != nil {
		return err
	}
	defer pf.f.Close()
	stream := io.TeeReader(io.LimitReader(pf.r, pf.stream), pf.sum)
	err = read(stream)
	// What read left unread counts too; then the trailer.
	if _, cerr := io.Copy(io.Discard, stream); cerr != nil {
		return cerr
	}
	var trailer [pulledTrailer]byte
	if _, terr := io.ReadFull(pf.r, trailer[:]); terr != nil || binary.BigEndian.Uint32(trailer[:]) != pf.sum.Sum32() {
		return fmt.Errorf("%s: %w", pf.f.Name(), ErrPulledDamaged)
	}
	return err
}

// DropPulledRoster forgets the district's pulled roster.
func (db *DB) DropPulledRoster(tenantID int64) error {
	if err := os.Remove(db.pulledFile(tenantID)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}

var errPulledHeader = errors.New("not a pulled roster file")

// pulledReader is an open pulled roster file read up to its stream: the
// meta, the checksum so far, and the stream's length.
type pulledReader struct {
	f      *os.File
	r      *bufio.Reader
	meta   []byte
	sum    hash.Hash32
	stream int64
}

func (db *DB) openPulled(tenantID int64) (_ *pulledReader, err error) {
	f, err := os.Open(db.pulledFile(tenantID))
	if errors.Is(err, os.ErrNotExist) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			f.Close()
		}
	}()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	r := bufio.NewReaderSize(f, 1<<20)
	notOne := fmt.Errorf("%s: %w", f.Name(), errPulledHeader)
	head := make([]byte, len(pulledMagic))
	if _, err := io.ReadFull(r, head); err != nil || !bytes.Equal(head, []byte(pulledMagic)) {
		return nil, notOne
	}
	n, err := binary.ReadUvarint(r)
	if err != nil || n > 1<<20 {
		return nil, notOne
	}
	meta := make([]byte, n)
	if _, err := io.ReadFull(r, meta); err != nil {
		return nil, notOne
	}
	sum := crc32.New(pulledCRC)
	sum.Write(head)
	sum.Write(binary.AppendUvarint(nil, n))
	sum.Write(meta)
	stream := st.Size() - int64(len(head)+len(binary.AppendUvarint(nil, n))+len(meta)+pulledTrailer)
	if stream < 0 {
		return nil, notOne
	}
	return &pulledReader{f: f, r: r, meta: meta, sum: sum, stream: stream}, nil
}
