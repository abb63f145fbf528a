package store

import (
	"errors"
	"fmt"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"
)

// ErrNotFound is returned for a district that is not stored.
var ErrNotFound = errors.New("not found")

// DistrictNotFoundError names the tenant that is missing.
type DistrictNotFoundError struct{ TenantID int64 }

func (e *DistrictNotFoundError) Error() string {
	return fmt.Sprintf("no district with Tenant ID %d is stored (add it in the wizard, or import a config for it)", e.TenantID)
}

func (e *DistrictNotFoundError) Unwrap() error { return ErrNotFound }

// ConflictError says someone else saved the district after the revision a
// save started from. It carries what they did so the person can decide.
type ConflictError struct {
	Current District     // as stored now
	Since   []AuditEntry // every revision after the caller's base, oldest first
}

func (e *ConflictError) Error() string {
	last := e.Current.SavedBy.String()
	return fmt.Sprintf("district %d was saved by %s at %s (revision %d) after you started editing", e.Current.TenantID, last, e.Current.SavedAt.Local().Format(time.DateTime), e.Current.Revision)
}

// District reads one district.
func (db *DB) District(tenantID int64) (District, error) {
	var d District
	err := db.view(func(tx *bolt.Tx) error {
		var ok bool
		var err error
		d, ok, err = db.getDistrict(tx.Bucket(bucketDistricts), tenantKey(tenantID))
		if err == nil && !ok {
			err = &DistrictNotFoundError{TenantID: tenantID}
		}
		return err
	})
	return d, err
}

// Districts lists every stored district by Tenant ID.
func (db *DB) Districts() ([]District, error) {
	var out []District
	err := db.view(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketDistricts).ForEach(func(_, v []byte) error {
			d, err := db.decodeDistrict(v)
			if err != nil {
				return err
			}
			out = append(out, d)
			return nil
		})
	})
	return out, err
}

// SaveDistrict stores d as the next revision after base, with an audit entry
// of what changed, in one transaction. base is the revision the caller
// started from (0 for a district that does not exist yet); if the stored
// revision is different the save is refused with a *ConflictError and
// nothing is written. The stored checklist is kept (it is not
// configuration), apart from what the guide's rules change (guide.go).
func (db *DB) SaveDistrict(d District, base int64, who Actor, notes []string) (District, AuditEntry, error) {
	return db.SaveEdit("", d, base, who, notes)
}

// SaveEdit is SaveDistrict that also deletes owner's draft of the district
// in the same transaction, so a crash can never leave a saved draft behind
// to be offered again. An empty owner deletes no draft.
func (db *DB) SaveEdit(owner string, d District, base int64, who Actor, notes []string) (District, AuditEntry, error) {
	d.Settings = d.Settings.Canonical()
	if err := d.Validate(); err != nil {
		return District{}, AuditEntry{}, err
	}
	var saved District
	var entry AuditEntry
	err := db.update(func(tx *bolt.Tx) error {
		var err error
		saved, entry, err = db.saveDistrict(tx, d, base, who, notes)
		if err == nil && owner != "" {
			err = tx.Bucket(bucketDrafts).Delete(draftKey(owner, d.TenantID))
		}
		return err
	})
	return saved, entry, err
}

func (db *DB) saveDistrict(tx *bolt.Tx, d District, base int64, who Actor, notes []string) (District, AuditEntry, error) {
	districts := tx.Bucket(bucketDistricts)
	prev, exists, err := db.getDistrict(districts, tenantKey(d.TenantID))
	if err != nil {
		return District{}, AuditEntry{}, err
	}
	if exists && prev.Revision != base || !exists && base != 0 {
		since, err := auditSince(tx, d.TenantID, base)
		if err != nil {
			return District{}, AuditEntry{}, err
		}
		if !exists {
			return District{}, AuditEntry{}, &DistrictNotFoundError{TenantID: d.TenantID}
		}
		return District{}, AuditEntry{}, &ConflictError{Current: prev, Since: since}
	}
	saved := d
	saved.Schools = slices.Clone(d.Schools)
	if saved.Schools == nil {
		saved.Schools = []string{}
	}
	if exists {
		saved.Checklist = prev.Checklist
		saved.Demo = prev.Demo
	} else {
		// A new district's audit entry lists what differs from the defaults.
		prev = NewDistrict(d.TenantID, d.ApplicationID, d.Name)
		prev.Demo = d.Demo
	}
	// A district saved before the pin rule keeps its folder until the
	// folder or its key changes; the sync explains the unpinned key.
	if err := saved.Guardians.CheckPinnedSince(prev.Guardians); err != nil {
		return District{}, AuditEntry{}, err
	}
	notes, err = checkGuide(prev, saved, notes)
	if err != nil {
		return District{}, AuditEntry{}, err
	}
	saved.Revision = base + 1
	if !exists {
		// A district removed and added again goes on from its last
		// revision: the audit trail of the first one is kept.
		last, err := lastAuditRevision(tx, d.TenantID)
		if err != nil {
			return District{}, AuditEntry{}, err
		}
		saved.Revision = last + 1
	}
	saved.SavedAt = db.now()
	saved.SavedBy = who
	entry := AuditEntry{
		TenantID: d.TenantID,
		Revision: saved.Revision,
		At:       saved.SavedAt,
		Actor:    who,
		Changes:  Diff(prev, saved),
		Notes:    notes,
		Created:  !exists,
	}
	followGuideOnSave(&saved, entry.Changes, who, saved.SavedAt)
	if err := db.putDistrict(districts, saved); err != nil {
		return District{}, AuditEntry{}, err
	}
	return saved, entry, putAudit(tx, entry)
}

// SetChecklistStep marks one guide step done or not done, and whether
// rostersync verified it. It does not make a new revision.
func (db *DB) SetChecklistStep(tenantID int64, step GuideStep, item ChecklistItem) (District, error) {
	var d District
	err := db.update(func(tx *bolt.Tx) error {
		districts := tx.Bucket(bucketDistricts)
		var ok bool
		var err error
		d, ok, err = db.getDistrict(districts, tenantKey(tenantID))
		if err != nil {
			return err
		}
		if !ok {
			return &DistrictNotFoundError{TenantID: tenantID}
		}
		if item.At.IsZero() {
			item.At = db.now()
		}
		d.Checklist[step] = item
		return db.putDistrict(districts, d)
	})
	return d, err
}

// keyDemoAdded marks a database the demo district was added to once, so
// that a demo someone removed on purpose stays removed.
var keyDemoAdded = []byte("demo_added")

// DemoActor is who adds the built-in demo district.
var DemoActor = Actor{User: "rostersync", Via: "setup"}

// AddDemo stores the built-in demo district, with schools connected, the
// first time a database is opened for writing, so that a newcomer's first
// Preview sync (or `rostersync sync --district 2`) works with no other
// step. It does nothing after the first time, or when a district already
// has the demo's Tenant ID.
func (db *DB) AddDemo(schools []string) error {
	added := false
	if err := db.view(func(tx *bolt.Tx) error {
		added = tx.Bucket(bucketMeta).Get(keyDemoAdded) != nil
		return nil
	}); err != nil || added {
		return err // an open that has nothing to add writes nothing
	}
	return db.update(func(tx *bolt.Tx) error {
		meta := tx.Bucket(bucketMeta)
		if meta.Get(keyDemoAdded) != nil {
			return nil
		}
		if err := meta.Put(keyDemoAdded, []byte("1")); err != nil {
			return err
		}
		if tx.Bucket(bucketDistricts).Get(tenantKey(DemoTenantID)) != nil {
			return nil
		}
		_, _, err := db.saveDistrict(tx, NewDemoDistrict(schools...), 0, DemoActor, []string{DemoNote})
		return err
	})
}
