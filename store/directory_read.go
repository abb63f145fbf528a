package store

import (
	"bytes"
	"strings"

	bolt "go.etcd.io/bbolt"
)

// UserFilter narrows DirectoryUsers; zero fields match everything.
type UserFilter struct {
	Kind   string // student, staff, guardian
	Status string // active, archived
	// Search matches a case-insensitive part of the names, email or sourcedId.
	Search string
}

// Validate names the field that holds a value the directory never has.
func (f UserFilter) Validate() error {
	if f.Kind != "" && f.Kind != KindStudent && f.Kind != KindStaff && f.Kind != KindGuardian {
		return fieldErr("kind", "must be student, staff or guardian, got %q", f.Kind)
	}
	return validStatusFilter(f.Status)
}

func (f UserFilter) match(u DirectoryUser) bool {
	if f.Kind != "" && u.Kind != f.Kind || f.Status != "" && u.Status != f.Status {
		return false
	}
	return f.Search == "" || containsFold(f.Search, u.SourcedID, u.GivenName+" "+u.FamilyName, u.Email)
}

// ClassroomFilter narrows DirectoryClassrooms; zero fields match everything.
type ClassroomFilter struct {
	School string // org sourcedId
	Status string // active, archived
	Search string // part of the name or sourcedId
}

// Validate names the field that holds a value the directory never has.
func (f ClassroomFilter) Validate() error { return validStatusFilter(f.Status) }

func (f ClassroomFilter) match(c Classroom) bool {
	if f.School != "" && c.School != f.School || f.Status != "" && c.Status != f.Status {
		return false
	}
	return f.Search == "" || containsFold(f.Search, c.SourcedID, c.Name)
}

func validStatusFilter(s string) error {
	if s != "" && s != StatusActive && s != StatusArchived {
		return fieldErr("status", "must be active or archived, got %q", s)
	}
	return nil
}

func containsFold(needle string, hay ...string) bool {
	needle = strings.ToLower(needle)
	for _, h := range hay {
		if strings.Contains(strings.ToLower(h), needle) {
			return true
		}
	}
	return false
}

// DirectoryUsers returns up to limit users matching f whose sourcedId sorts
// after `after` ("" starts at the beginning), in sourcedId order, and the
// value of after for the next page ("" when no further user matches).
// A limit ≤ 0 returns every match.
func (db *DB) DirectoryUsers(tenantID int64, f UserFilter, after string, limit int) ([]DirectoryUser, string, error) {
	if err := f.Validate(); err != nil {
		return nil, "", err
	}
	return pageOf(db, tenantID, sectionUsers, after, limit,
		func(k, v []byte) (DirectoryUser, error) { return decodeUser(string(k), v) },
		f.match, func(u DirectoryUser) string { return u.SourcedID })
}

// DirectoryClassrooms pages through classrooms as DirectoryUsers does users.
func (db *DB) DirectoryClassrooms(tenantID int64, f ClassroomFilter, after string, limit int) ([]Classroom, string, error) {
	if err := f.Validate(); err != nil {
		return nil, "", err
	}
	return pageOf(db, tenantID, sectionClasses, after, limit,
		func(k, v []byte) (Classroom, error) { return decodeClassroom(string(k), v) },
		f.match, func(c Classroom) string { return c.SourcedID })
}

// pageOf collects up to limit+1 matches after the key `after`: the extra
// one only tells that a next page exists.
func pageOf[T any](db *DB, tenantID int64, name []byte, after string, limit int,
	decode func(k, v []byte) (T, error), match func(T) bool, id func(T) string) ([]T, string, error) {
	out := []T{}
	err := db.view(func(tx *bolt.Tx) error {
		b := section(tenantDirectory(tx, tenantID), name)
		if b == nil {
			return nil
		}
		c := b.Cursor()
		for k, v := firstAfter(c, []byte(after)); k != nil && (limit <= 0 || len(out) <= limit); k, v = c.Next() {
			r, err := decode(k, v)
			if err != nil {
				return err
			}
			if match(r) {
				out = append(out, r)
			}
		}
		return nil
	})
	if err != nil || limit <= 0 || len(out) <= limit {
		return out, "", err
	}
	out = out[:limit]
	return out, id(out[limit-1]), nil
}

// ClassroomMembers lists one classroom's memberships in user order.
func (db *DB) ClassroomMembers(tenantID int64, classroomID string) ([]Membership, error) {
	out := []Membership{}
	err := db.view(func(tx *bolt.Tx) error {
		b := section(tenantDirectory(tx, tenantID), sectionMembers)
		if b == nil {
			return nil
		}
		prefix := append([]byte(classroomID), 0)
		c := b.Cursor()
		for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			m, err := decodeMembership(k, v)
			if err != nil {
				return err
			}
			out = append(out, m)
		}
		return nil
	})
	return out, err
}

// DirectoryUser reads one user.
func (db *DB) DirectoryUser(tenantID int64, id string) (DirectoryUser, error) {
	var u DirectoryUser
	err := db.view(func(tx *bolt.Tx) error {
		b := section(tenantDirectory(tx, tenantID), sectionUsers)
		var raw []byte
		if b != nil {
			raw = b.Get([]byte(id))
		}
		if raw == nil {
			return &DirectoryNotFoundError{TenantID: tenantID, What: "user", ID: id}
		}
		var err error
		u, err = decodeUser(id, raw)
		return err
	})
	return u, err
}

// DirectoryClassroom reads one classroom.
func (db *DB) DirectoryClassroom(tenantID int64, id string) (Classroom, error) {
	var c Classroom
	err := db.view(func(tx *bolt.Tx) error {
		b := section(tenantDirectory(tx, tenantID), sectionClasses)
		var raw []byte
		if b != nil {
			raw = b.Get([]byte(id))
		}
		if raw == nil {
			return &DirectoryNotFoundError{TenantID: tenantID, What: "classroom", ID: id}
		}
		var err error
		c, err = decodeClassroom(id, raw)
		return err
	})
	return c, err
}

// StatusCount counts active and archived records.
type StatusCount struct {
	Active   int `json:"active"`
	Archived int `json:"archived"`
}

func (s *StatusCount) add(active bool) {
	if active {
		s.Active++
	} else {
		s.Archived++
	}
}

// DirectoryCounts summarises a district's directory, e.g. for the Home page.
type DirectoryCounts struct {
	Schools     StatusCount `json:"schools"`
	Students    StatusCount `json:"students"`
	Staff       StatusCount `json:"staff"`
	Guardians   StatusCount `json:"guardians"`
	Classrooms  StatusCount `json:"classrooms"`
	Memberships StatusCount `json:"memberships"`
}

// DirectoryCounts counts every section (it reads the whole directory).
func (db *DB) DirectoryCounts(tenantID int64) (DirectoryCounts, error) {
	var n DirectoryCounts
	err := db.EachDirectorySchool(tenantID, func(s School) error { n.Schools.add(s.Status == StatusActive); return nil })
	if err == nil {
		err = db.EachDirectoryUser(tenantID, func(u DirectoryUser) error {
			switch u.Kind {
			case KindStudent:
				n.Students.add(u.Active())
			case KindStaff:
				n.Staff.add(u.Active())
			case KindGuardian:
				n.Guardians.add(u.Active())
			}
			return nil
		})
	}
	if err == nil {
		err = db.EachClassroom(tenantID, func(c Classroom) error { n.Classrooms.add(c.Active()); return nil })
	}
	if err == nil {
		err = db.EachMembership(tenantID, func(m Membership) error { n.Memberships.add(m.Status == StatusActive); return nil })
	}
	return n, err
}

// The Each functions walk a whole section in key order inside one read
// transaction; fn must not write to the database (bbolt cannot grow the
// file while the read is open). The sync plans with them. A damaged page
// ends the walk with a *DamagedError; a panic of fn itself goes on as it was.

// EachDirectoryUser walks users in sourcedId order.
func (db *DB) EachDirectoryUser(tenantID int64, fn func(DirectoryUser) error) error {
	return db.each(tenantID, sectionUsers, func(k, v []byte) error {
		u, err := decodeUser(string(k), v)
		if err != nil {
			return err
		}
		return guardCallback(fn, u)
	})
}

// EachClassroom walks classrooms in sourcedId order.
func (db *DB) EachClassroom(tenantID int64, fn func(Classroom) error) error {
	return db.each(tenantID, sectionClasses, func(k, v []byte) error {
		c, err := decodeClassroom(string(k), v)
		if err != nil {
			return err
		}
		return guardCallback(fn, c)
	})
}

// EachMembership walks memberships in (classroom, user) order.
func (db *DB) EachMembership(tenantID int64, fn func(Membership) error) error {
	return db.each(tenantID, sectionMembers, func(k, v []byte) error {
		m, err := decodeMembership(k, v)
		if err != nil {
			return err
		}
		return guardCallback(fn, m)
	})
}

// EachDirectorySchool walks schools in sourcedId order.
func (db *DB) EachDirectorySchool(tenantID int64, fn func(School) error) error {
	return db.each(tenantID, sectionSchools, func(k, v []byte) error {
		s, err := decodeSchool(string(k), v)
		if err != nil {
			return err
		}
		return guardCallback(fn, s)
	})
}

func (db *DB) each(tenantID int64, name []byte, fn func(k, v []byte) error) error {
	return db.view(func(tx *bolt.Tx) error {
		b := section(tenantDirectory(tx, tenantID), name)
		if b == nil {
			return nil
		}
		return b.ForEach(fn)
	})
}

// walkChunk is how many records a Walk reads per read transaction.
const walkChunk = 1024

// The Walk functions visit a whole section in key order like the Each
// functions, but read it a chunk at a time, each chunk in a short read
// transaction, and call fn outside of it: fn may write to the database
// (the sync commits its writes as it plans). Writes fn makes must not sort
// after the record it was called with, or the walk may meet them.

// WalkDirectoryUsers walks users in sourcedId order.
func (db *DB) WalkDirectoryUsers(tenantID int64, fn func(DirectoryUser) error) error {
	return walk(db, tenantID, sectionUsers, func(k, v []byte) (DirectoryUser, error) { return decodeUser(string(k), v) }, fn)
}

// WalkClassrooms walks classrooms in sourcedId order.
func (db *DB) WalkClassrooms(tenantID int64, fn func(Classroom) error) error {
	return walk(db, tenantID, sectionClasses, func(k, v []byte) (Classroom, error) { return decodeClassroom(string(k), v) }, fn)
}

// WalkMemberships walks memberships in (classroom, user) order.
func (db *DB) WalkMemberships(tenantID int64, fn func(Membership) error) error {
	// Memberships of one classroom are adjacent and roles are few: the
	// strings of the membership before are reused (an L-tier district has
	// millions of memberships).
	var prev Membership
	return walk(db, tenantID, sectionMembers, func(k, v []byte) (Membership, error) {
		m, err := decodeMembershipAfter(&prev, k, v)
		prev = m
		return m, err
	}, fn)
}

// WalkDirectorySchools walks schools in sourcedId order.
func (db *DB) WalkDirectorySchools(tenantID int64, fn func(School) error) error {
	return walk(db, tenantID, sectionSchools, func(k, v []byte) (School, error) { return decodeSchool(string(k), v) }, fn)
}

func walk[T any](db *DB, tenantID int64, name []byte, decode func(k, v []byte) (T, error), fn func(T) error) error {
	chunk := make([]T, 0, walkChunk)
	chunks := 0
	var after []byte // the last key read, copied out of the transaction
	for {
		chunk = chunk[:0]
		more := false
		err := db.view(func(tx *bolt.Tx) error {
			b := section(tenantDirectory(tx, tenantID), name)
			if b == nil {
				return nil
			}
			c := b.Cursor()
			for k, v := firstAfter(c, after); k != nil; k, v = c.Next() {
				if len(chunk) == walkChunk {
					more = true
					break
				}
				r, err := decode(k, v)
				if err != nil {
					return err
				}
				chunk = append(chunk, r)
				after = append(after[:0], k...)
			}
			return nil
		})
		if err != nil {
			return err
		}
		for _, r := range chunk {
			if err := fn(r); err != nil {
				return err
			}
		}
		if !more {
			return nil
		}
		if chunks++; chunks%releaseEvery == 0 {
			if err := db.ReleaseFilePages(); err != nil {
				return err
			}
		}
	}
}

// releaseEvery is how many chunks a walk reads between two
// ReleaseFilePages: a walk over a large directory would otherwise keep
// the whole file resident.
const releaseEvery = 64

// firstAfter places c on the first key after `after` (on the first key
// when after is empty): where the next page or chunk starts.
func firstAfter(c *bolt.Cursor, after []byte) (k, v []byte) {
	if len(after) == 0 {
		return c.First()
	}
	k, v = c.Seek(after)
	if k != nil && bytes.Equal(k, after) {
		k, v = c.Next()
	}
	return k, v
}
