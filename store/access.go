package store

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Access roles for SSH keys.
const (
	// RoleSpecialist is an onboarding specialist: every district.
	RoleSpecialist = "specialist"
	// RoleDistrict is district IT staff: only the districts listed.
	RoleDistrict = "district"
)

var bucketAccess = []byte("access") // key: name

// AccessKey lets one SSH public key into `rostersync serve`.
type AccessKey struct {
	Name string `json:"name"`
	// Key is the authorized_keys form ("ssh-ed25519 AAAA…"), comment dropped.
	Key string `json:"key"`
	// Fingerprint is the key's SHA256 fingerprint, the lookup key at login.
	Fingerprint string    `json:"fingerprint"`
	Role        string    `json:"role"`
	Districts   []int64   `json:"districts"`
	AddedAt     time.Time `json:"added_at"`
	AddedBy     string    `json:"added_by"`
}

// CanOpen says whether the key may see and change district tenantID.
func (k AccessKey) CanOpen(tenantID int64) bool {
	return k.Role == RoleSpecialist || slices.Contains(k.Districts, tenantID)
}

var accessName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$`)

// Validate checks the name, role and districts (the key itself is parsed
// by the caller, which fills Key and Fingerprint).
func (k AccessKey) Validate() error {
	if !accessName.MatchString(k.Name) {
		return fieldErr("name", "must be 1–64 letters, digits, '.', '_', '@' or '-', starting with a letter or digit, got %q", k.Name)
	}
	if k.Key == "" || k.Fingerprint == "" {
		return fieldErr("key", "is required: an OpenSSH public key such as \"ssh-ed25519 AAAA…\"")
	}
	switch k.Role {
	case RoleSpecialist:
		if len(k.Districts) > 0 {
			return fieldErr("district", "a specialist sees every district; --district is only for the district role")
		}
	case RoleDistrict:
		if len(k.Districts) == 0 {
			return fieldErr("district", "the district role needs at least one --district TENANT")
		}
		for _, d := range k.Districts {
			if err := checkID("district", "a District Tenant ID", d); err != nil {
				return err
			}
		}
	default:
		return fieldErr("role", "must be %q or %q, got %q", RoleSpecialist, RoleDistrict, k.Role)
	}
	return nil
}

// AddAccess stores a new key. Names and keys are unique.
func (db *DB) AddAccess(k AccessKey) (AccessKey, error) {
	if err := k.Validate(); err != nil {
		return k, err
	}
	k.Districts = slices.Clone(k.Districts)
	slices.Sort(k.Districts)
	k.Districts = slices.Compact(k.Districts)
	if k.AddedAt.IsZero() {
		k.AddedAt = db.now()
	}
	err := db.update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketAccess)
		if b.Get([]byte(k.Name)) != nil {
			return fieldErr("name", "%q already has a key; remove it first to replace it", k.Name)
		}
		var clash error
		b.ForEach(func(_, v []byte) error {
			var other AccessKey
			if err := json.Unmarshal(v, &other); err == nil && other.Fingerprint == k.Fingerprint {
				clash = fieldErr("key", "this key is already added as %q", other.Name)
			}
			return nil
		})
		if clash != nil {
			return clash
		}
		return putJSON(b, []byte(k.Name), k)
	})
	return k, err
}

// Access lists every key by name.
func (db *DB) Access() ([]AccessKey, error) {
	var out []AccessKey
	err := db.view(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketAccess).ForEach(func(_, v []byte) error {
			var k AccessKey
			if err := json.Unmarshal(v, &k); err != nil {
				return err
			}
			out = append(out, k)
			return nil
		})
	})
	return out, err
}

// AccessByFingerprint finds the key that is logging in.
func (db *DB) AccessByFingerprint(fp string) (AccessKey, bool, error) {
	keys, err := db.Access()
	if err != nil {
		return AccessKey{}, false, err
	}
	for _, k := range keys {
		if k.Fingerprint == fp {
			return k, true, nil
		}
	}
	return AccessKey{}, false, nil
}

// UpdateAccess changes the role or districts of the key named name; the
// name, key and fingerprint stay as they are.
func (db *DB) UpdateAccess(name string, change func(*AccessKey)) (AccessKey, error) {
	var k AccessKey
	err := db.update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketAccess)
		raw := b.Get([]byte(name))
		if raw == nil {
			return fieldErr("name", "no key is named %q (see rostersync access list)", strings.TrimSpace(name))
		}
		if err := json.Unmarshal(raw, &k); err != nil {
			return err
		}
		was := k
		change(&k)
		k.Name, k.Key, k.Fingerprint, k.AddedAt, k.AddedBy = was.Name, was.Key, was.Fingerprint, was.AddedAt, was.AddedBy
		k.Districts = slices.Compact(slices.Sorted(slices.Values(k.Districts)))
		if err := k.Validate(); err != nil {
			return err
		}
		return putJSON(b, []byte(k.Name), k)
	})
	return k, err
}

// RemoveAccess deletes a key by name.
func (db *DB) RemoveAccess(name string) error {
	return db.update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketAccess)
		if b.Get([]byte(name)) == nil {
			return fieldErr("name", "no key is named %q (see rostersync access list)", strings.TrimSpace(name))
		}
		return b.Delete([]byte(name))
	})
}

func (k AccessKey) String() string {
	if k.Role == RoleSpecialist {
		return fmt.Sprintf("%s (specialist, %s)", k.Name, k.Fingerprint)
	}
	return fmt.Sprintf("%s (district %v, %s)", k.Name, k.Districts, k.Fingerprint)
}
