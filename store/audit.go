package store

import (
	"encoding/binary"
	"encoding/json"
	"time"

	bolt "go.etcd.io/bbolt"
)

// AuditEntry records one saved revision: who, when, and what changed.
type AuditEntry struct {
	TenantID int64     `json:"tenant_id"`
	Revision int64     `json:"revision"`
	At       time.Time `json:"at"`
	Actor    Actor     `json:"actor"`
	Changes  []Change  `json:"changes"`
	// Notes record decisions made on the way, such as enabling the daily
	// sync before the self-check step was done.
	Notes   []string `json:"notes,omitempty"`
	Created bool     `json:"created,omitempty"`
	// Removed marks the entry of a district removed from rostersync (its
	// history stays).
	Removed bool `json:"removed,omitempty"`
}

func putAudit(tx *bolt.Tx, e AuditEntry) error {
	b, err := tx.Bucket(bucketAudit).CreateBucketIfNotExists(tenantKey(e.TenantID))
	if err != nil {
		return err
	}
	return putJSON(b, tenantKey(e.Revision), e)
}

// auditSince returns the entries after revision base, oldest first.
func auditSince(tx *bolt.Tx, tenantID, base int64) ([]AuditEntry, error) {
	b := tx.Bucket(bucketAudit).Bucket(tenantKey(tenantID))
	if b == nil {
		return nil, nil
	}
	var out []AuditEntry
	c := b.Cursor()
	for k, v := c.Seek(tenantKey(base + 1)); k != nil; k, v = c.Next() {
		var e AuditEntry
		if err := json.Unmarshal(v, &e); err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, nil
}

// Audit lists a district's saved revisions, oldest first.
func (db *DB) Audit(tenantID int64) ([]AuditEntry, error) {
	var out []AuditEntry
	err := db.view(func(tx *bolt.Tx) error {
		var err error
		out, err = auditSince(tx, tenantID, 0)
		return err
	})
	return out, err
}

// lastAuditRevision is the newest revision in a district's audit trail, 0
// when it has none.
func lastAuditRevision(tx *bolt.Tx, tenantID int64) (int64, error) {
	b := tx.Bucket(bucketAudit).Bucket(tenantKey(tenantID))
	if b == nil {
		return 0, nil
	}
	k, _ := b.Cursor().Last()
	if k == nil {
		return 0, nil
	}
	return int64(binary.BigEndian.Uint64(k)), nil
}
