package store

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"

	bolt "go.etcd.io/bbolt"
)

// A district's identity (its name and application_id) is corrected, and a
// district added by mistake removed, only by onboarding specialists; both
// are revisions in the audit trail.

// Identity is a correction of a district's name and application_id.
type Identity struct {
	Name          string
	ApplicationID int64
	// Listing is what ClassLink's list says about the tenant (NoListing
	// without a partner token).
	Listing Listing
	// ProxyBaseURL is the ClassLink proxy URL built for ApplicationID; a
	// district connected through the proxy is moved to it.
	ProxyBaseURL string
}

// errSpecialistsOnly refuses a district user what only specialists may do.
func errSpecialistsOnly(what string) error {
	return fieldErr("role", "only an onboarding specialist can %s; ask your specialist or connectsupport@schoolstatus.com", what)
}

// CorrectIdentity saves district tenantID with a corrected name and
// application_id as the revision after base. The application_id follows
// CheckApplicationID, and the audit entry records what it said.
func (db *DB) CorrectIdentity(tenantID, base int64, id Identity, who Actor, specialist bool) (District, AuditEntry, error) {
	if !specialist {
		return District{}, AuditEntry{}, errSpecialistsOnly("correct a district's name or application_id")
	}
	cur, err := db.District(tenantID)
	if err != nil {
		return District{}, AuditEntry{}, err
	}
	if cur.Demo {
		return District{}, AuditEntry{}, fieldErr("tenant_id", "the built-in demo district's IDs are fixed")
	}
	next := cur
	next.Name = strings.TrimSpace(id.Name)
	notes := []string{"district details corrected"}
	if id.ApplicationID != cur.ApplicationID {
		note, err := CheckApplicationID(tenantID, id.ApplicationID, id.Listing, specialist)
		if err != nil {
			return District{}, AuditEntry{}, err
		}
		notes = append(notes, fmt.Sprintf("application_id changed from %d to %d", cur.ApplicationID, id.ApplicationID), note)
		next.ApplicationID = id.ApplicationID
		if next.Connection.Mode == ModeProxy {
			if id.ProxyBaseURL == "" {
				return District{}, AuditEntry{}, fieldErr("connection.base_url", "the ClassLink proxy URL for application_id %d cannot be built", id.ApplicationID)
			}
			next.Connection.BaseURL = id.ProxyBaseURL
		}
	}
	if len(Diff(cur, next)) == 0 {
		return cur, AuditEntry{}, nil
	}
	return db.SaveDistrict(next, base, who, notes)
}

// RemoveDistrict removes district tenantID, saved at revision base, from
// rostersync: its configuration and everyone's drafts of it go; its audit
// trail and sync runs stay, with an entry saying who removed it. confirm is
// the District Tenant ID as the person typed it, to be sure.
func (db *DB) RemoveDistrict(tenantID, base int64, confirm string, who Actor, specialist bool) (AuditEntry, error) {
	if !specialist {
		return AuditEntry{}, errSpecialistsOnly("remove a district")
	}
	if strings.TrimSpace(confirm) != strconv.FormatInt(tenantID, 10) {
		return AuditEntry{}, fieldErr("tenant_id", "type the District Tenant ID %d to remove the district, got %q", tenantID, confirm)
	}
	var entry AuditEntry
	err := db.update(func(tx *bolt.Tx) error {
		districts := tx.Bucket(bucketDistricts)
		cur, ok, err := db.getDistrict(districts, tenantKey(tenantID))
		if err != nil {
			return err
		}
		if !ok {
			return &DistrictNotFoundError{TenantID: tenantID}
		}
		if cur.Revision != base {
			since, err := auditSince(tx, tenantID, base)
			if err != nil {
				return err
			}
			return &ConflictError{Current: cur, Since: since}
		}
		if err := districts.Delete(tenantKey(tenantID)); err != nil {
			return err
		}
		drafts := tx.Bucket(bucketDrafts)
		suffix := []byte("\x00" + strconv.FormatInt(tenantID, 10))
		var gone [][]byte
		drafts.ForEach(func(k, _ []byte) error {
			if bytes.HasSuffix(k, suffix) {
				gone = append(gone, bytes.Clone(k))
			}
			return nil
		})
		for _, k := range gone {
			if err := drafts.Delete(k); err != nil {
				return err
			}
		}
		entry = AuditEntry{
			TenantID: tenantID,
			Revision: cur.Revision + 1,
			At:       db.now(),
			Actor:    who,
			Changes:  []Change{{Field: "district", From: fmt.Sprintf("%s (application_id %d)", cur.Name, cur.ApplicationID), To: "removed"}},
			Notes:    []string{fmt.Sprintf("district %d removed from rostersync; its history is kept", tenantID)},
			Removed:  true,
		}
		return putAudit(tx, entry)
	})
	return entry, err
}
