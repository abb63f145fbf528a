package store

import (
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// DirectoryBatch collects directory writes to commit in one transaction.
// Records are encoded into one buffer as they are added; NewDirectoryBatch
// sizes it up front and Reset reuses it, so a sync that commits batch
// after batch allocates its buffer once.
type DirectoryBatch struct {
	buf  []byte
	puts []directoryPut
	err  error
	// users says the batch writes a user (see GuardiansFileApplied).
	users bool
	// run and progress, when set (ForRun), are noted in the same commit.
	run      *Run
	progress RunProgress
}

// ForRun makes the batch's commit also note p on the started run r, so a
// run killed between batches shows how far it got at no extra commit.
func (b *DirectoryBatch) ForRun(r Run, p RunProgress) {
	b.run, b.progress = &r, p
}

// directoryPut is one write: key and value lie back to back in buf. An
// archive carries no value: it archives what the record is at commit.
type directoryPut struct {
	section  uint8 // index into putSections
	archive  bool
	at       uint32
	keyLen   uint32
	valueLen uint32
}

// NewDirectoryBatch is an empty batch with room for n writes of typical
// size.
func NewDirectoryBatch(n int) *DirectoryBatch {
	return &DirectoryBatch{buf: make([]byte, 0, n*64), puts: make([]directoryPut, 0, n)}
}

// Reset empties the batch, keeping its buffers.
func (b *DirectoryBatch) Reset() {
	b.buf, b.puts, b.err = b.buf[:0], b.puts[:0], nil
	b.users, b.run = false, nil
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

// archive adds an archive of the record under the key.
func (b *DirectoryBatch) archive(section uint8, key1, key2 string) {
	b.add(section, key1, key2, nil, nil)
	b.puts[len(b.puts)-1].archive = true
}

// ArchiveUser archives the user, if still active when the batch commits.
func (b *DirectoryBatch) ArchiveUser(id string) { b.archive(putUser, id, "") }

// ArchiveClassroom archives the classroom as the sync does (archived_by
// "sync"), if still active when the batch commits.
func (b *DirectoryBatch) ArchiveClassroom(id string) { b.archive(putClassroom, id, "") }

// ArchiveMembership archives the membership, if still active when the
// batch commits.
func (b *DirectoryBatch) ArchiveMembership(classroomID, userID string) {
	b.archive(putMembership, classroomID, userID)
}

// ArchiveSchool archives the school, if still active when the batch commits.
func (b *DirectoryBatch) ArchiveSchool(id string) { b.archive(putSchool, id, "") }

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
			if p.archive {
				var err error
				if value, err = archived(p.section, key, sections[p.section].Get(key)); err != nil {
					return err
				}
				if value == nil {
					continue // gone, or archived meanwhile (by hand)
				}
			}
			if err := sections[p.section].Put(key, value); err != nil {
				return err
			}
		}
		if b.users {
			if err := bumpUsers(dir); err != nil {
				return err
			}
		}
		if b.run != nil {
			return noteProgress(tx, *b.run, b.progress)
		}
		return nil
	})
}

// archived is the stored record raw as the sync archives it, nil when
// there is none or it is archived already.
func archived(section uint8, key, raw []byte) ([]byte, error) {
	if raw == nil {
		return nil, nil
	}
	id := string(key)
	switch section {
	case putUser:
		u, err := decodeUser(id, raw)
		if err != nil || !u.Active() {
			return nil, err
		}
		u.Status = StatusArchived
		return encodeUser(u)
	case putClassroom:
		c, err := decodeClassroom(id, raw)
		if err != nil || !c.Active() {
			return nil, err
		}
		c.Status, c.ArchivedBy = StatusArchived, ArchivedBySync
		return encodeClassroom(c)
	case putMembership:
		m, err := decodeMembership(key, raw)
		if err != nil || m.Status != StatusActive {
			return nil, err
		}
		m.Status = StatusArchived
		return encodeMembership(m)
	case putSchool:
		s, err := decodeSchool(id, raw)
		if err != nil || s.Status != StatusActive {
			return nil, err
		}
		s.Status = StatusArchived
		return encodeSchool(s)
	}
	return nil, fmt.Errorf("store: no directory section %d", section)
}
