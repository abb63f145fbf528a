package store

import (
	"encoding/binary"

	bolt "go.etcd.io/bbolt"
)

// A guardians file only needs processing again when the file, the
// settings or the users it is checked against changed. The directory
// counts every commit that touched a user (users_generation), and keeps
// what the last fully applied guardians file was checked against.
var (
	keyUsersGeneration = []byte("users_generation")
	keyGuardiansFile   = []byte("guardians_file")
)

// GuardiansFileState is what the last fully applied guardians file was:
// its checksum, the configuration revision and Abandon it was applied
// with, and the users generation after it was applied.
type GuardiansFileState struct {
	SHA256          string `json:"sha256"`
	ConfigRevision  int64  `json:"config_revision"`
	Abandon         bool   `json:"abandon"`
	UsersGeneration uint64 `json:"users_generation"`
}

// bumpUsers counts one more commit that changed users.
func bumpUsers(dir *bolt.Bucket) error {
	meta := dir.Bucket(sectionMeta)
	n := uint64(0)
	if raw := meta.Get(keyUsersGeneration); len(raw) == 8 {
		n = binary.BigEndian.Uint64(raw)
	}
	return meta.Put(keyUsersGeneration, binary.BigEndian.AppendUint64(nil, n+1))
}

func usersGeneration(dir *bolt.Bucket) uint64 {
	if raw := section(dir, sectionMeta).Get(keyUsersGeneration); len(raw) == 8 {
		return binary.BigEndian.Uint64(raw)
	}
	return 0
}

// GuardiansFileApplied is the state of the last fully applied guardians
// file; Current says whether the directory's users are still as they were
// right after it.
func (db *DB) GuardiansFileApplied(tenantID int64) (state GuardiansFileState, current bool, err error) {
	err = db.view(func(tx *bolt.Tx) error {
		dir := tenantDirectory(tx, tenantID)
		if dir == nil {
			return nil
		}
		ok, err := getJSON(section(dir, sectionMeta), keyGuardiansFile, &state)
		current = ok && state.UsersGeneration == usersGeneration(dir)
		return err
	})
	return state, current, err
}

// MarkGuardiansFileApplied records a guardians file as fully applied to
// the directory as it is now.
func (db *DB) MarkGuardiansFileApplied(tenantID int64, state GuardiansFileState) error {
	return db.update(func(tx *bolt.Tx) error {
		dir, err := createTenantDirectory(tx, tenantID)
		if err != nil {
			return err
		}
		state.UsersGeneration = usersGeneration(dir)
		return putJSON(dir.Bucket(sectionMeta), keyGuardiansFile, state)
	})
}
