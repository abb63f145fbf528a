package store

import (
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// The Connect directory replica: per district, what the sync (and people by
// hand) made of the roster, keyed by OneRoster sourcedId. Layout:
//
//	directory/<tenant>/schools      sourcedId → School
//	directory/<tenant>/classrooms   sourcedId → Classroom
//	directory/<tenant>/users        sourcedId → DirectoryUser
//	directory/<tenant>/memberships  classroom \x00 user → Membership
//	directory/<tenant>/meta         hand_edit_at → RFC 3339 time
//
// Values use a compact binary form (directory_codec.go): an L-tier
// district holds millions of memberships and the sync reads them all.

var (
	bucketDirectory = []byte("directory")
	sectionSchools  = []byte("schools")
	sectionClasses  = []byte("classrooms")
	sectionUsers    = []byte("users")
	sectionMembers  = []byte("memberships")
	sectionMeta     = []byte("meta")
	keyHandEditAt   = []byte("hand_edit_at")
)

var directorySections = [][]byte{sectionSchools, sectionClasses, sectionUsers, sectionMembers, sectionMeta}

// Directory statuses and kinds, as the JSON contract spells them (DESIGN §5).
const (
	StatusActive   = "active"
	StatusArchived = "archived"

	KindStudent  = "student"
	KindStaff    = "staff"
	KindGuardian = "guardian"

	ArchivedBySync = "sync"
	ArchivedByHand = "hand"

	// Where a user came from: the roster sync, or a guardians file.
	SourceClassLink     = "classlink"
	SourceGuardiansFile = "guardians_file"
)

// DirectoryUser is a student, staff member or guardian in Connect.
type DirectoryUser struct {
	SourcedID string `json:"sourced_id"`
	Kind      string `json:"kind"`
	// RoleGroup is the staff role group key, "" for students and guardians.
	RoleGroup  string `json:"role_group"`
	GivenName  string `json:"given_name"`
	FamilyName string `json:"family_name"`
	Email      string `json:"email"`
	Mobile     string `json:"mobile"`     // E.164, from the SMS field
	HomePhone  string `json:"home_phone"` // E.164, from the Phone field
	// Joined: the person activated their Connect account.
	Joined      bool     `json:"joined"`
	Status      string   `json:"status"`
	Permissions []string `json:"permissions"`
	// GuardianOf lists the students a guardian is linked to. A staff
	// member linked by a guardians file row lists them too.
	GuardianOf []string `json:"guardian_of"`
	// Language is a guardian's preferred language (BCP 47), from a
	// guardians file; Connect translates messages into it.
	Language string `json:"language,omitempty"`
	// Source is SourceClassLink or SourceGuardiansFile.
	Source string `json:"source"`
	// Managed says the sync owns the record (SIS-managed): only managed
	// records count toward, and can be archived under, the deletion
	// threshold. Users added by hand or from guardians.csv are not managed.
	Managed bool `json:"-"`
}

// Classroom is a Connect classroom made from a OneRoster class.
type Classroom struct {
	SourcedID string `json:"sourced_id"`
	Name      string `json:"name"`
	School    string `json:"school"`
	Status    string `json:"status"`
	// ArchivedBy is "sync", "hand" or "" (active).
	ArchivedBy string `json:"archived_by"`
	Managed    bool   `json:"-"`
}

// Membership puts a user in a classroom.
type Membership struct {
	ClassroomID string `json:"classroom"`
	UserID      string `json:"user"`
	Role        string `json:"role"`
	Status      string `json:"status"`
}

// School is a connected school as the directory knows it.
type School struct {
	SourcedID string `json:"sourced_id"`
	Name      string `json:"name"`
	Status    string `json:"status"`
}

// Active reports whether the user is not archived.
func (u DirectoryUser) Active() bool { return u.Status == StatusActive }

// FromFile reports a guardian created by a guardians file.
func (u DirectoryUser) FromFile() bool { return u.Source == SourceGuardiansFile }

// Active reports whether the classroom is not archived.
func (c Classroom) Active() bool { return c.Status == StatusActive }

// Membership keys are classroom \x00 user: memberships of one classroom
// are adjacent, and key order is (classroom, user) order because
// sourcedIds never contain NUL (the sync drops ids that do).

// tenantDirectory returns the district's directory bucket, nil when the
// sync never wrote one.
func tenantDirectory(tx *bolt.Tx, tenantID int64) *bolt.Bucket {
	return tx.Bucket(bucketDirectory).Bucket(tenantKey(tenantID))
}

// createTenantDirectory makes the district's directory bucket and sections.
func createTenantDirectory(tx *bolt.Tx, tenantID int64) (*bolt.Bucket, error) {
	b, err := tx.Bucket(bucketDirectory).CreateBucketIfNotExists(tenantKey(tenantID))
	if err != nil {
		return nil, err
	}
	for _, s := range directorySections {
		if _, err := b.CreateBucketIfNotExists(s); err != nil {
			return nil, err
		}
	}
	return b, nil
}

func section(dir *bolt.Bucket, name []byte) *bolt.Bucket {
	if dir == nil {
		return nil
	}
	return dir.Bucket(name)
}

// HandEditedAt is when a person last changed the district's directory by
// hand (archive, unarchive, mark joined); zero when never. The sync uses it
// to know that an unchanged roster may still need a run.
func (db *DB) HandEditedAt(tenantID int64) (time.Time, error) {
	var at time.Time
	err := db.view(func(tx *bolt.Tx) error {
		meta := section(tenantDirectory(tx, tenantID), sectionMeta)
		if meta == nil {
			return nil
		}
		if raw := meta.Get(keyHandEditAt); raw != nil {
			var err error
			at, err = time.Parse(time.RFC3339Nano, string(raw))
			return err
		}
		return nil
	})
	return at, err
}

// DirectoryNotFoundError names a record a hand edit could not find.
type DirectoryNotFoundError struct {
	TenantID int64
	What     string // "classroom" or "user"
	ID       string
}

func (e *DirectoryNotFoundError) Error() string {
	return fmt.Sprintf("district %d has no %s with sourcedId %q in its directory", e.TenantID, e.What, e.ID)
}

func (e *DirectoryNotFoundError) Unwrap() error { return ErrNotFound }
