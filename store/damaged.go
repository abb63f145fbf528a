package store

import (
	"errors"
	"fmt"
	"os"
	"runtime/debug"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// ErrDamaged matches every *DamagedError: errors.Is(err, store.ErrDamaged).
var ErrDamaged = errors.New("database damaged")

// DamagedError says the database file is damaged: bbolt panicked on a page
// that is not what it should be, the mapped file faulted (a truncated file),
// or the file cannot be opened as a database at all. The operation failed;
// the process, and operations on undamaged parts of the file, go on.
type DamagedError struct {
	Path  string
	Cause error
}

func (e *DamagedError) Error() string {
	return fmt.Sprintf("the database %s is damaged (%v); run rostersync db check", e.Path, e.Cause)
}

func (e *DamagedError) Is(target error) bool { return target == ErrDamaged }
func (e *DamagedError) Unwrap() error        { return e.Cause }

// view runs fn in a read transaction. Every bbolt transaction goes through
// view or update: they are the boundary at which a damaged file's panics
// (and memory faults, which SetPanicOnFault turns into panics) become a
// *DamagedError, so nothing outside store ever sees one.
func (db *DB) view(fn func(*bolt.Tx) error) (err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() { err = db.recovered(recover(), err) }()
	return db.bolt.View(fn)
}

// update runs fn in one write transaction, calling the test hook last.
// bbolt rolls the transaction back when fn panics, so the database stays
// usable for the next one.
func (db *DB) update(fn func(*bolt.Tx) error) (err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() { err = db.recovered(recover(), err) }()
	return db.bolt.Update(func(tx *bolt.Tx) error {
		if err := fn(tx); err != nil {
			return err
		}
		if db.beforeCommit != nil {
			db.beforeCommit()
		}
		return nil
	})
}

// recovered turns a recovered panic into a *DamagedError; a panic of the
// caller's own callback (see guardCallback) goes on as it was.
func (db *DB) recovered(p any, err error) error {
	if p == nil {
		return err
	}
	if cp, ok := p.(*callbackPanic); ok {
		panic(cp.value)
	}
	return &DamagedError{Path: db.path, Cause: panicCause(p)}
}

func panicCause(p any) error {
	if f, ok := p.(interface{ Addr() uintptr }); ok {
		// SetPanicOnFault's panic: a read past the end of the mapped file.
		return fmt.Errorf("memory fault at %#x reading the file: it is shorter than its pages", f.Addr())
	}
	if e, ok := p.(error); ok {
		return e
	}
	return fmt.Errorf("%v", p)
}

// callbackPanic carries a panic of code outside store that a walk called
// (an Each function's fn): a bug there is not damage to the file.
type callbackPanic struct{ value any }

// guardCallback calls fn, marking its panic as the caller's own.
func guardCallback[T, R any](fn func(T) R, v T) R {
	defer func() {
		if p := recover(); p != nil {
			panic(&callbackPanic{value: p})
		}
	}()
	return fn(v)
}

// openBolt opens the file, turning a panic while bbolt loads a damaged
// freelist, and the open errors that mean the file is not a sound database,
// into a *DamagedError.
func openBolt(path string, opt *bolt.Options) (b *bolt.DB, err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if p := recover(); p != nil {
			b, err = nil, &DamagedError{Path: path, Cause: panicCause(p)}
		}
	}()
	b, err = bolt.Open(path, 0o600, opt)
	if err != nil && damagedOnOpen(path, err) {
		return nil, &DamagedError{Path: path, Cause: err}
	}
	return b, err
}

// damagedOnOpen tells an open error caused by the file's contents (both
// meta pages invalid, a file cut shorter than its two meta pages) from one
// caused by its surroundings (permissions, a lock, a missing directory).
func damagedOnOpen(path string, err error) bool {
	if errors.Is(err, berrors.ErrInvalid) || errors.Is(err, berrors.ErrChecksum) || errors.Is(err, berrors.ErrVersionMismatch) {
		return true
	}
	var pathErr *os.PathError
	if errors.As(err, &pathErr) || errors.Is(err, berrors.ErrTimeout) {
		return false
	}
	st, statErr := os.Stat(path)
	return statErr == nil && st.Mode().IsRegular() && st.Size() > 0 && st.Size() < 2*int64(os.Getpagesize())
}

// compactInto copies the database key by key into dst (bolt.Compact),
// turning a damaged source's panic into a *DamagedError. It commits every
// compactTxBytes, so that an L-tier file is not copied in one transaction.
func (db *DB) compactInto(dst *bolt.DB) (err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() { err = db.recovered(recover(), err) }()
	return bolt.Compact(dst, db.bolt, compactTxBytes)
}

const compactTxBytes = 64 << 20
