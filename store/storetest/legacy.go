package storetest

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Unpin clears the pinned SFTP host key of district tenantID in the
// (closed) database at path, leaving everything else as stored: a district
// saved before a save required the pin (store.GuardiansSource.CheckPinned),
// which rostersync still reads and syncs.
func Unpin(t TB, path string, tenantID int64) {
	t.Helper()
	b, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatalf("unpin %s: %v", path, err)
	}
	defer b.Close()
	k := make([]byte, 8)
	binary.BigEndian.PutUint64(k, uint64(tenantID))
	err = b.Update(func(tx *bolt.Tx) error {
		bucket := tx.Bucket([]byte("districts"))
		if bucket == nil {
			return fmt.Errorf("no districts bucket")
		}
		var d map[string]any
		if err := json.Unmarshal(bucket.Get(k), &d); err != nil {
			return fmt.Errorf("district %d: %v", tenantID, err)
		}
		g, _ := d["guardians"].(map[string]any)
		sftp, _ := g["sftp"].(map[string]any)
		if sftp == nil {
			return fmt.Errorf("district %d has no SFTP folder", tenantID)
		}
		sftp["host_key"] = ""
		raw, err := json.Marshal(d)
		if err != nil {
			return err
		}
		return bucket.Put(k, raw)
	})
	if err != nil {
		t.Fatalf("unpin %s: %v", path, err)
	}
}
