package store

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	gosync "sync"
	"syscall"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// SchemaVersion is the layout this code reads and writes. Open migrates older
// files forward and refuses newer ones.
const SchemaVersion = 2

var (
	bucketMeta      = []byte("meta")
	bucketDistricts = []byte("districts")
	bucketAudit     = []byte("audit")  // one sub-bucket per tenant, keyed by revision
	bucketDrafts    = []byte("drafts") // key: user \x00 tenant
	keySchema       = []byte("schema_version")
)

// DefaultLockTimeout is how long Open waits for another process's lock.
const DefaultLockTimeout = 750 * time.Millisecond

// Options tune Open.
type Options struct {
	// Timeout bounds the wait for the file lock; zero means DefaultLockTimeout.
	// It is never unbounded: a second process must fail, not hang.
	Timeout time.Duration
	// ReadOnly opens without taking the write lock exclusively.
	ReadOnly bool
	// Clock stamps saves, checklist changes and drafts; nil is time.Now.
	// Tests fix it so that views and histories are stable.
	Clock func() time.Time
	// SecretsKey is the key file that seals stored secrets (created 0600
	// on first use); empty means $ROSTERSYNC_SECRETS_KEY, then
	// DefaultSecretsKeyPath.
	SecretsKey string
}

// DB is an open rostersync database.
type DB struct {
	bolt  *bolt.DB
	path  string
	clock func() time.Time
	// secrets seals what districts and drafts hold at rest; sealedPlain
	// says the migration sealed plain secrets an older version wrote.
	secrets     *secretBox
	sealedPlain bool
	// liveRuns holds the IDs of runs started through this handle and not
	// finished yet: every other "running" record is interrupted.
	liveRuns gosync.Map
	// beforeCommit runs inside a write transaction just before it commits;
	// tests use it to kill the process at the worst moment.
	beforeCommit func()
}

// InUseError says another process holds the database.
type InUseError struct {
	Path string
	PID  int // 0 when unknown
}

func (e *InUseError) Error() string {
	if e.PID > 0 {
		return fmt.Sprintf("the database %s is in use by another rostersync process (pid %d); stop it or use --db to pick another file", e.Path, e.PID)
	}
	return fmt.Sprintf("the database %s is in use by another rostersync process; stop it or use --db to pick another file", e.Path)
}

// Open opens or creates the database file (mode 0600) and brings its schema
// up to date.
func Open(path string, opt Options) (*DB, error) {
	timeout := opt.Timeout
	if timeout <= 0 {
		timeout = DefaultLockTimeout
	}
	boltOpts := &bolt.Options{Timeout: timeout, ReadOnly: opt.ReadOnly}
	b, err := openBolt(path, boltOpts)
	if errors.Is(err, berrors.ErrTimeout) {
		return nil, &InUseError{Path: path, PID: lockHolder(path)}
	}
	if errors.Is(err, ErrDamaged) {
		return nil, err
	}
	if err != nil {
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	db := &DB{bolt: b, path: path, clock: opt.Clock, secrets: &secretBox{path: opt.SecretsKey, readOnly: opt.ReadOnly}}
	if db.clock == nil {
		db.clock = time.Now
	}
	check := db.checkSchema
	if !opt.ReadOnly {
		check = db.migrate
	}
	err = db.checkLength()
	if err == nil {
		err = check()
	}
	if err == nil && db.sealedPlain {
		err = db.rewriteClean(boltOpts)
	}
	if err != nil {
		db.bolt.Close()
		return nil, err
	}
	return db, nil
}

// checkLength refuses a file cut shorter than the pages its meta page
// counts (a full disk, an interrupted copy) before anything reads past
// its end or writes to it.
func (db *DB) checkLength() error {
	st, err := os.Stat(db.path)
	if err != nil {
		return err
	}
	return db.view(func(tx *bolt.Tx) error {
		if tx.Size() > st.Size() {
			return &DamagedError{Path: db.path, Cause: fmt.Errorf("the file is %d bytes but its pages reach %d bytes: it was cut short", st.Size(), tx.Size())}
		}
		return nil
	})
}

// checkSchema is migrate for a read-only open: it can only refuse a file
// whose schema this code does not read as it is.
func (db *DB) checkSchema() error {
	return db.view(func(tx *bolt.Tx) error {
		v, err := db.schemaVersion(tx)
		if err == nil && v < SchemaVersion {
			err = fmt.Errorf("database %s has schema version %d and needs an upgrade, which a read-only open cannot make: open it once with a command that writes (rostersync, rostersync serve)", db.path, v)
		}
		return err
	})
}

// schemaVersion reads the file's schema version, refusing a newer one.
func (db *DB) schemaVersion(tx *bolt.Tx) (int, error) {
	v := 0
	if meta := tx.Bucket(bucketMeta); meta != nil {
		if raw := meta.Get(keySchema); raw != nil {
			v, _ = strconv.Atoi(string(raw))
		}
	}
	if v > SchemaVersion {
		return v, fmt.Errorf("database %s has schema version %d; this rostersync understands up to %d: upgrade rostersync", db.path, v, SchemaVersion)
	}
	return v, nil
}

// now is the store's clock, in UTC to the second (what JSON shows).
func (db *DB) now() time.Time { return db.clock().UTC().Truncate(time.Second) }

// Path is the database file.
func (db *DB) Path() string { return db.path }

// Close releases the file and its lock.
func (db *DB) Close() error { return db.bolt.Close() }

// topBuckets are the buckets schema version 1 creates.
var topBuckets = [][]byte{bucketDistricts, bucketAudit, bucketDrafts, bucketAccess, bucketDirectory, bucketRuns}

// migrate brings the schema up to date. A current file is only read: a
// write transaction costs two fsyncs, and every start of the wizard opens
// the database before its first frame.
func (db *DB) migrate() error {
	current := false
	err := db.view(func(tx *bolt.Tx) error {
		v, err := db.schemaVersion(tx)
		current = v == SchemaVersion
		for _, name := range topBuckets {
			current = current && tx.Bucket(name) != nil
		}
		return err
	})
	if err != nil || current {
		return err
	}
	return db.update(func(tx *bolt.Tx) error {
		v, err := db.schemaVersion(tx)
		if err != nil {
			return err
		}
		meta, err := tx.CreateBucketIfNotExists(bucketMeta)
		if err != nil {
			return err
		}
		// Version 0 → 1 creates the buckets; later versions add steps here.
		for _, name := range topBuckets {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return err
			}
		}
		// 1 → 2 seals the secrets older versions stored in plain text.
		if v < 2 {
			if err := db.sealPlainSecrets(tx); err != nil {
				return err
			}
		}
		return meta.Put(keySchema, []byte(strconv.Itoa(SchemaVersion)))
	})
}

func tenantKey(id int64) []byte {
	k := make([]byte, 8)
	binary.BigEndian.PutUint64(k, uint64(id))
	return k
}

// keyTenant reads a key tenantKey made; -1 for any other key.
func keyTenant(k []byte) int64 {
	if len(k) != 8 {
		return -1
	}
	return int64(binary.BigEndian.Uint64(k))
}

func getJSON(b *bolt.Bucket, key []byte, v any) (bool, error) {
	raw := b.Get(key)
	if raw == nil {
		return false, nil
	}
	return true, json.Unmarshal(raw, v)
}

func putJSON(b *bolt.Bucket, key []byte, v any) error {
	raw, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return b.Put(key, raw)
}

// lockHolder finds the pid holding a flock on path from /proc/locks (Linux),
// or 0 when it cannot tell.
func lockHolder(path string) int {
	var st syscall.Stat_t
	if err := syscall.Stat(path, &st); err != nil {
		return 0
	}
	f, err := os.Open("/proc/locks")
	if err != nil {
		return 0
	}
	defer f.Close()
	// Lines look like: "1: FLOCK  ADVISORY  WRITE 1234 fd:01:5678 0 EOF".
	want := ":" + strconv.FormatUint(st.Ino, 10)
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 6 || fields[1] != "FLOCK" {
			continue
		}
		if strings.HasSuffix(fields[5], want) {
			if pid, err := strconv.Atoi(fields[4]); err == nil {
				return pid
			}
		}
	}
	return 0
}
