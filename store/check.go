package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync/atomic"

	bolt "go.etcd.io/bbolt"
)

// CheckReport is what Check found: counts of what it read and every
// problem, each naming where it is.
type CheckReport struct {
	Path     string `json:"path"`
	Bytes    int64  `json:"bytes"`
	Pages    int64  `json:"pages"` // bbolt's high-water mark
	PageSize int    `json:"page_size"`
	// What decoded and passed its checks.
	Districts        int `json:"districts"`
	Revisions        int `json:"revisions"`
	Runs             int `json:"runs"`
	DirectoryRecords int `json:"directory_records"`
	Drafts           int `json:"drafts"`
	AccessKeys       int `json:"access_keys"`
	// Problems lists the first MaxCheckProblems findings; More counts the
	// rest.
	Problems []string `json:"problems"`
	More     int      `json:"more_problems"`
}

// MaxCheckProblems bounds the findings a report lists: one bad page can
// make thousands.
const MaxCheckProblems = 50

// OK reports a sound database.
func (r CheckReport) OK() bool { return len(r.Problems) == 0 }

func (r *CheckReport) problem(format string, args ...any) {
	// bbolt's checker reports a recovered panic as "panic: …": it is a
	// finding like the others, often the one the walk made already.
	p := strings.Replace(fmt.Sprintf(format, args...), "panic: ", "", 1)
	switch {
	case slices.Contains(r.Problems, p):
	case len(r.Problems) < MaxCheckProblems:
		r.Problems = append(r.Problems, p)
	default:
		r.More++
	}
}

// Check reads the whole database and reports what is wrong with it,
// writing nothing: bbolt's page check (every page reachable once, free
// pages free, keys in order) and rostersync's own (the schema version,
// every district decodes and validates, each district's revisions run
// 1, 2, 3… up to its current one, runs are keyed by their IDs below their
// sequence, directory records, drafts and access keys decode). Damage
// found in one part does not stop the check of the others. Secrets are
// checked for shape only: Check needs no secrets key.
//
// On a read-only handle it reads in one read transaction; on a handle
// that may write (a running server's) bbolt's page check runs in a write
// transaction it rolls back, as bbolt requires while other writers may
// commit: saves wait for it.
func (db *DB) Check() CheckReport {
	r := CheckReport{Path: db.path}
	if st, err := os.Stat(db.path); err == nil {
		r.Bytes = st.Size()
	}
	faulted := false
	if err := db.view(func(tx *bolt.Tx) error {
		// Info reads the memory map: only inside a transaction is it safe
		// from a writer growing the file meanwhile.
		r.PageSize = db.bolt.Info().PageSize
		r.Pages = tx.Size() / int64(r.PageSize)
		return walkAll(tx)
	}); err != nil {
		r.problem("pages: %v", causeOf(err))
		var de *DamagedError
		faulted = errors.As(err, &de) && isFault(de.Cause)
	}
	if !faulted {
		// bbolt's checker runs in a goroutine of its own, where a memory
		// fault cannot be recovered: it runs only once the walk above read
		// every page without one.
		check := func(tx *bolt.Tx) error {
			for err := range tx.Check() {
				r.problem("pages: %v", err)
			}
			return errRollback
		}
		run := db.view
		if !db.bolt.IsReadOnly() {
			run = db.update
		}
		if err := run(check); err != nil && !errors.Is(err, errRollback) {
			r.problem("pages: %v", causeOf(err))
		}
	}
	for _, part := range []struct {
		name  string
		check func(*bolt.Tx, *CheckReport)
	}{{"schema", checkSchema}, {"districts and revisions", checkDistricts}, {"runs", checkRuns}, {"directory", checkDirectory}, {"drafts and access keys", checkDraftsAndAccess}} {
		if err := db.view(func(tx *bolt.Tx) error { part.check(tx, &r); return nil }); err != nil {
			r.problem("%s: %v", part.name, causeOf(err))
		}
	}
	return r
}

// errRollback ends the write transaction of the page check unwritten.
var errRollback = errors.New("rollback")

func causeOf(err error) error {
	var de *DamagedError
	if errors.As(err, &de) {
		return de.Cause
	}
	return err
}

func isFault(err error) bool {
	var f interface{ Addr() uintptr }
	return errors.As(err, &f)
}

// walkAll reads every key and value of every bucket, touching the last
// byte of each value: a damaged page panics (or faults) here, in a
// goroutine that recovers, before bbolt's checker reads it in its own.
func walkAll(tx *bolt.Tx) error {
	var sum byte
	var walk func(b *bolt.Bucket) error
	walk = func(b *bolt.Bucket) error {
		return b.ForEach(func(k, v []byte) error {
			if v == nil {
				if child := b.Bucket(k); child != nil {
					return walk(child)
				}
				return nil
			}
			if len(v) > 0 {
				sum ^= v[len(v)-1]
			}
			return nil
		})
	}
	err := tx.ForEach(func(_ []byte, b *bolt.Bucket) error { return walk(b) })
	touched.Add(uint32(sum))
	return err
}

// touched keeps walkAll's reads from being optimised away.
var touched atomic.Uint32

func checkSchema(tx *bolt.Tx, r *CheckReport) {
	meta := tx.Bucket(bucketMeta)
	if meta == nil {
		r.problem("schema: no meta bucket: not a rostersync database, or its root page is damaged")
		return
	}
	if v := string(meta.Get(keySchema)); v != fmt.Sprint(SchemaVersion) {
		r.problem("schema: version %q, this rostersync reads %d", v, SchemaVersion)
	}
	for _, name := range topBuckets {
		if tx.Bucket(name) == nil {
			r.problem("schema: the %s bucket is missing", name)
		}
	}
}

// checkDistricts checks each district and its revisions.
func checkDistricts(tx *bolt.Tx, r *CheckReport) {
	districts, audit := tx.Bucket(bucketDistricts), tx.Bucket(bucketAudit)
	if districts == nil || audit == nil {
		return // reported by checkSchema
	}
	districts.ForEach(func(k, v []byte) error {
		id := keyTenant(k)
		var d District
		if err := json.Unmarshal(v, &d); err != nil {
			r.problem("district %d: does not decode: %v", id, err)
			return nil
		}
		if d.TenantID != id {
			r.problem("district %d: its record says tenant %d", id, d.TenantID)
		} else if err := d.Validate(); err != nil {
			r.problem("district %d: %v", id, err)
		} else {
			r.Districts++
		}
		revisions := audit.Bucket(k)
		if revisions == nil {
			r.problem("district %d: no revisions recorded (its record is at revision %d)", id, d.Revision)
			return nil
		}
		want := int64(1)
		revisions.ForEach(func(k, v []byte) error {
			var e AuditEntry
			switch err := json.Unmarshal(v, &e); {
			case err != nil:
				r.problem("district %d: revision %d does not decode: %v", id, keyTenant(k), err)
			case e.Revision != keyTenant(k) || e.TenantID != id:
				r.problem("district %d: the entry keyed revision %d says district %d revision %d", id, keyTenant(k), e.TenantID, e.Revision)
			case e.Revision != want:
				r.problem("district %d: revision %d follows revision %d", id, e.Revision, want-1)
			default:
				r.Revisions++
			}
			want = keyTenant(k) + 1
			return nil
		})
		if want-1 != d.Revision {
			r.problem("district %d: at revision %d, but its last recorded revision is %d", id, d.Revision, want-1)
		}
		return nil
	})
}

// checkRuns checks that every run decodes, is keyed by its ID and lies
// below its bucket's sequence (else a new run would take its ID).
func checkRuns(tx *bolt.Tx, r *CheckReport) {
	runs := tx.Bucket(bucketRuns)
	if runs == nil {
		return
	}
	runs.ForEachBucket(func(k []byte) error {
		id := keyTenant(k)
		b := runs.Bucket(k)
		b.ForEach(func(k, v []byte) error {
			seq := keyTenant(k)
			var run Run
			switch err := json.Unmarshal(v, &run); {
			case err != nil:
				r.problem("district %d: run %s does not decode: %v", id, runID(id, uint64(seq)), err)
			case run.ID != runID(id, uint64(seq)):
				r.problem("district %d: the run keyed %s says it is %q", id, runID(id, uint64(seq)), run.ID)
			case uint64(seq) > b.Sequence():
				r.problem("district %d: run %s is past the run sequence %d: the next run would reuse an ID", id, run.ID, b.Sequence())
			default:
				r.Runs++
			}
			return nil
		})
		return nil
	})
}

// checkDirectory decodes every record of every district's directory.
func checkDirectory(tx *bolt.Tx, r *CheckReport) {
	dir := tx.Bucket(bucketDirectory)
	if dir == nil {
		return
	}
	dir.ForEachBucket(func(k []byte) error {
		id := keyTenant(k)
		tenant := dir.Bucket(k)
		sections := []struct {
			name   []byte
			decode func(k, v []byte) error
		}{
			{sectionSchools, func(k, v []byte) error { _, err := decodeSchool(string(k), v); return err }},
			{sectionClasses, func(k, v []byte) error { _, err := decodeClassroom(string(k), v); return err }},
			{sectionUsers, func(k, v []byte) error { _, err := decodeUser(string(k), v); return err }},
			{sectionMembers, func(k, v []byte) error { _, err := decodeMembership(k, v); return err }},
		}
		for _, s := range sections {
			b := tenant.Bucket(s.name)
			if b == nil {
				r.problem("district %d: the directory has no %s section", id, s.name)
				continue
			}
			b.ForEach(func(k, v []byte) error {
				if err := s.decode(k, v); err != nil {
					r.problem("district %d: directory %s %q does not decode: %v", id, s.name, k, err)
				} else {
					r.DirectoryRecords++
				}
				return nil
			})
		}
		return nil
	})
}

func checkDraftsAndAccess(tx *bolt.Tx, r *CheckReport) {
	if drafts := tx.Bucket(bucketDrafts); drafts != nil {
		drafts.ForEach(func(k, v []byte) error {
			var d Draft
			if err := json.Unmarshal(v, &d); err != nil {
				r.problem("draft %q does not decode: %v", k, err)
			} else {
				r.Drafts++
			}
			return nil
		})
	}
	if access := tx.Bucket(bucketAccess); access != nil {
		access.ForEach(func(k, v []byte) error {
			var a AccessKey
			if err := json.Unmarshal(v, &a); err != nil {
				r.problem("access key %q does not decode: %v", k, err)
			} else if err := a.Validate(); err != nil {
				r.problem("access key %q: %v", k, err)
			} else {
				r.AccessKeys++
			}
			return nil
		})
	}
}
