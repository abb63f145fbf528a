package store

import (
	bolt "go.etcd.io/bbolt"
)

// DirectoryBatch collects directory writes to commit in one transaction.
// Records are encoded into one buffer as they are added, so a batch held
// in memory costs about what it will cost on disk (a planned L-tier sync
// holds millions of writes until the deletion threshold is checked).
type DirectoryBatch struct {
	buf  []byte
	puts []directoryPut
	err  error
	// users says the batch writes a user (see GuardiansFileApplied).
	users bool
}

// directoryPut is one write: key and value lie back to back in buf.
type directoryPut struct {
	section  uint8 // index into directorySections
	at       uint32
	keyLen   uint32
	valueLen uint32
}

const (
	putSchool uint8 = iota
	putClassroom
	putUser
	putMembership
)

func (b *DirectoryBatch) add(section uint8, key1, key2 string, value []byte, err error) {
	if err != nil {
		if b.err == nil {
			b.err = err
		}
		return
	}
	p := directoryPut{section: section, at: uint32(len(b.buf)), keyLen: uint32(len(key1)), valueLen: uint32(len(value))}
	b.buf = append(b.buf, key1...)
	if section == putMembership {
		b.buf = append(b.buf, 0)
		b.buf = append(b.buf, key2...)
		p.keyLen += 1 + uint32(len(key2))
	}
	b.buf = append(b.buf, value...)
	b.puts = append(b.puts, p)
}

// PutUser adds or replaces a user.
func (b *DirectoryBatch) PutUser(u DirectoryUser) {
	v, err := encodeUser(u)
	b.add(putUser, u.SourcedID, "", v, err)
	b.users = true
}

// PutClassroom adds or replaces a classroom.
func (b *DirectoryBatch) PutClassroom(c Classroom) {
	v, err := encodeClassroom(c)
	b.add(putClassroom, c.SourcedID, "", v, err)
}

// PutMembership adds or replaces a membership.
func (b *DirectoryBatch) PutMembership(m Membership) {
	v, err := encodeMembership(m)
	b.add(putMembership, m.ClassroomID, m.UserID, v, err)
}

// PutSchool adds or replaces a school.
func (b *DirectoryBatch) PutSchool(s School) {
	v, err := encodeSchool(s)
	b.add(putSchool, s.SourcedID, "", v, err)
}

// Len is the number of writes in the batch.
func (b *DirectoryBatch) Len() int { return len(b.puts) }

var putSections = [...][]byte{putSchool: sectionSchools, putClassroom: sectionClasses, putUser: sectionUsers, putMembership: sectionMembers}

// ApplyDirectory commits the batch to the district's directory in one
// transaction: all of it or, on any error, none of it.
func (db *DB) ApplyDirectory(tenantID int64, b *DirectoryBatch) error {
	if b.err != nil {
		return b.err
	}
	return db.update(func(tx *bolt.Tx) error {
		dir, err := createTenantDirectory(tx, tenantID)
		if err != nil {
			return err
		}
		var sections [len(putSections)]*bolt.Bucket
		for i, name := range putSections {
			sections[i] = dir.Bucket(name)
			// The sync writes in key order: fill pages instead of splitting
			// them half empty.
			sections[i].FillPercent = 0.9
		}
		for _, p := range b.puts {
			key := b.buf[p.at : p.at+p.keyLen]
			value := b.buf[p.at+p.keyLen : p.at+p.keyLen+p.valueLen]
			if err := sections[p.section].Put(key, value); err != nil {
				return err
			}
		}
		if b.users {
			return bumpUsers(dir)
		}
		return nil
	})
}
