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
// nothing is written. The stored checklist is kept: it is not configuration.
func (db *DB) SaveDistrict(d District, base int64, who Actor, notes []string) (District, AuditEntry, error) {
	if err := d.Validate(); err != nil {
		return District{}, AuditEntry{}, err
	}
	var saved District
	var entry AuditEntry
	err := db.update(func(tx *bolt.Tx) error {
		districts := tx.Bucket(bucketDistricts)
		prev, exists, err := db.getDistrict(districts, tenantKey(d.TenantID))
		if err != nil {
			return err
		}
		if exists && prev.Revision != base || !exists && base != 0 {
			since, err := auditSince(tx, d.TenantID, base)
			if err != nil {
				return err
			}
			if !exists {
				return &DistrictNotFoundError{TenantID: d.TenantID}
			}
			return &ConflictError{Current: prev, Since: since}
		}
		saved = d
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
		}
		saved.Revision = base + 1
		if !exists {
			// A district removed and added again goes on from its last
			// revision: the audit trail of the first one is kept.
			last, err := lastAuditRevision(tx, d.TenantID)
			if err != nil {
				return err
			}
			saved.Revision = last + 1
		}
		saved.SavedAt = db.now()
		saved.SavedBy = who
		entry = AuditEntry{
			TenantID: d.TenantID,
			Revision: saved.Revision,
			At:       saved.SavedAt,
			Actor:    who,
			Changes:  Diff(prev, saved),
			Notes:    notes,
			Created:  !exists,
		}
		if err := db.putDistrict(districts, saved); err != nil {
			return err
		}
		return putAudit(tx, entry)
	})
	return saved, entry, err
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
