package store

import (
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Hand edits: what a person does to the directory in Connect itself. Each
// is one transaction and stamps hand_edit_at, so the next sync runs in full
// even when the roster did not change.

// ArchiveClassroom archives an active classroom by hand (archived_by "hand").
func (db *DB) ArchiveClassroom(tenantID int64, id string) (Classroom, error) {
	return db.editClassroom(tenantID, id, func(c *Classroom) error {
		if !c.Active() {
			return fmt.Errorf("classroom %q is already archived (by %s)", id, c.ArchivedBy)
		}
		c.Status, c.ArchivedBy = StatusArchived, ArchivedByHand
		return nil
	})
}

// UnarchiveClassroom makes an archived classroom active again by hand. A
// later sync archives it again if the roster no longer has it.
func (db *DB) UnarchiveClassroom(tenantID int64, id string) (Classroom, error) {
	return db.editClassroom(tenantID, id, func(c *Classroom) error {
		if c.Active() {
			return fmt.Errorf("classroom %q is not archived", id)
		}
		c.Status, c.ArchivedBy = StatusActive, ""
		return nil
	})
}

// MarkJoined records that the user activated their Connect account.
func (db *DB) MarkJoined(tenantID int64, userID string) (DirectoryUser, error) {
	var u DirectoryUser
	err := db.handEdit(tenantID, func(dir *bolt.Bucket) error {
		users := dir.Bucket(sectionUsers)
		raw := users.Get([]byte(userID))
		if raw == nil {
			return &DirectoryNotFoundError{TenantID: tenantID, What: "user", ID: userID}
		}
		var err error
		if u, err = decodeUser(userID, raw); err != nil {
			return err
		}
		if u.Joined {
			return fmt.Errorf("user %q has already joined", userID)
		}
		u.Joined = true
		v, err := encodeUser(u)
		if err != nil {
			return err
		}
		return users.Put([]byte(userID), v)
	})
	return u, err
}

// AddHandUser adds a user the sync does not manage, as a guardians.csv
// upload or a person in Connect does. It refuses a sourcedId already used.
func (db *DB) AddHandUser(tenantID int64, u DirectoryUser) error {
	u.Managed = false
	if u.SourcedID == "" {
		return fieldErr("sourced_id", "is required")
	}
	v, err := encodeUser(u)
	if err != nil {
		return err
	}
	return db.handEdit(tenantID, func(dir *bolt.Bucket) error {
		users := dir.Bucket(sectionUsers)
		if users.Get([]byte(u.SourcedID)) != nil {
			return fmt.Errorf("district %d already has a user with sourcedId %q", tenantID, u.SourcedID)
		}
		return users.Put([]byte(u.SourcedID), v)
	})
}

func (db *DB) editClassroom(tenantID int64, id string, edit func(*Classroom) error) (Classroom, error) {
	var c Classroom
	err := db.handEdit(tenantID, func(dir *bolt.Bucket) error {
		classes := dir.Bucket(sectionClasses)
		raw := classes.Get([]byte(id))
		if raw == nil {
			return &DirectoryNotFoundError{TenantID: tenantID, What: "classroom", ID: id}
		}
		var err error
		if c, err = decodeClassroom(id, raw); err != nil {
			return err
		}
		if err := edit(&c); err != nil {
			return err
		}
		v, err := encodeClassroom(c)
		if err != nil {
			return err
		}
		return classes.Put([]byte(id), v)
	})
	return c, err
}

func (db *DB) handEdit(tenantID int64, edit func(dir *bolt.Bucket) error) error {
	return db.update(func(tx *bolt.Tx) error {
		dir, err := createTenantDirectory(tx, tenantID)
		if err != nil {
			return err
		}
		if err := edit(dir); err != nil {
			return err
		}
		at := time.Now().UTC().Format(time.RFC3339Nano)
		if err := dir.Bucket(sectionMeta).Put(keyHandEditAt, []byte(at)); err != nil {
			return err
		}
		return bumpUsers(dir)
	})
}
