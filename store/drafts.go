package store

import (
	"bytes"
	"strconv"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Draft is unsaved work of one person on one district, kept when they leave
// mid-way so the next start can resume where they left off.
type Draft struct {
	User     string `json:"user"`
	TenantID int64  `json:"tenant_id"`
	// Screen is where the person was (the wizard's screen name).
	Screen string `json:"screen"`
	// Base is the saved revision the edits started from; District is the
	// edited copy. Keeping both lets a resume show, and re-apply, exactly
	// what the person changed.
	Base     District `json:"base"`
	District District `json:"district"`
	// Notes are decisions already confirmed (e.g. the Enable Daily sync guard).
	Notes     []string  `json:"notes,omitempty"`
	UpdatedAt time.Time `json:"updated_at"`
}

func draftKey(user string, tenantID int64) []byte {
	return []byte(user + "\x00" + strconv.FormatInt(tenantID, 10))
}

// PutDraft stores or replaces the person's draft for a district. User is
// the owner (Actor.Owner).
func (db *DB) PutDraft(d Draft) error {
	if d.UpdatedAt.IsZero() {
		d.UpdatedAt = db.now()
	}
	return db.update(func(tx *bolt.Tx) error {
		return db.putDraft(tx.Bucket(bucketDrafts), d)
	})
}

// DeleteDraft forgets a draft (after a save, or "start over").
func (db *DB) DeleteDraft(user string, tenantID int64) error {
	return db.update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketDrafts).Delete(draftKey(user, tenantID))
	})
}

// Draft returns the person's draft for one district, if any.
func (db *DB) Draft(owner string, tenantID int64) (Draft, bool, error) {
	var d Draft
	var ok bool
	err := db.view(func(tx *bolt.Tx) error {
		raw := tx.Bucket(bucketDrafts).Get(draftKey(owner, tenantID))
		if raw == nil {
			return nil
		}
		var err error
		d, err = db.decodeDraft(raw)
		ok = err == nil
		return err
	})
	return d, ok, err
}

// LatestDraft returns the person's most recently updated draft, if any.
func (db *DB) LatestDraft(user string) (Draft, bool, error) {
	var best Draft
	found := false
	err := db.view(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketDrafts).Cursor()
		prefix := []byte(user + "\x00")
		for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			d, err := db.decodeDraft(v)
			if err != nil {
				return err
			}
			if !found || d.UpdatedAt.After(best.UpdatedAt) {
				best, found = d, true
			}
		}
		return nil
	})
	return best, found, err
}
