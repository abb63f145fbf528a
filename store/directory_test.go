package store

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

func sampleUsers() []DirectoryUser {
	return []DirectoryUser{
		{SourcedID: "usr-1", Kind: KindStaff, RoleGroup: "teacher", GivenName: "Ana", FamilyName: "Ruiz", Email: "ana@x.org",
			Mobile: "+12128741234", Status: StatusActive, Permissions: []string{"family_access"}, GuardianOf: []string{}, Managed: true, Source: SourceClassLink},
		{SourcedID: "usr-2", Kind: KindStudent, GivenName: "Bo", FamilyName: "Li", Status: StatusArchived, Permissions: []string{}, GuardianOf: []string{}, Managed: true, Source: SourceClassLink},
		{SourcedID: "usr-3", Kind: KindGuardian, GivenName: "Cy", FamilyName: "Li", Email: "cy@mail.org", HomePhone: "+13125550000", Joined: true,
			Status: StatusActive, Permissions: []string{}, GuardianOf: []string{"usr-2", "usr-9"}, Language: "es-MX", Source: SourceGuardiansFile},
	}
}

func seedDirectory(t *testing.T, db *DB) {
	t.Helper()
	var b DirectoryBatch
	for _, u := range sampleUsers() {
		b.PutUser(u)
	}
	b.PutClassroom(Classroom{SourcedID: "cls-1", Name: "Algebra I", School: "org-1", Status: StatusActive, Managed: true})
	b.PutClassroom(Classroom{SourcedID: "cls-2", Name: "Art", School: "org-2", Status: StatusArchived, ArchivedBy: ArchivedBySync, Managed: true})
	b.PutMembership(Membership{ClassroomID: "cls-1", UserID: "usr-1", Role: "teacher", Status: StatusActive})
	b.PutMembership(Membership{ClassroomID: "cls-1", UserID: "usr-2", Role: "student", Status: StatusActive})
	b.PutMembership(Membership{ClassroomID: "cls-10", UserID: "usr-2", Role: "student", Status: StatusArchived})
	b.PutSchool(School{SourcedID: "org-1", Name: "Lincoln High", Status: StatusActive})
	if err := db.ApplyDirectory(4, &b); err != nil {
		t.Fatal(err)
	}
}

func TestDirectoryRoundTripAndPaging(t *testing.T) {
	db := openTemp(t)
	seedDirectory(t, db)
	all, next, err := db.DirectoryUsers(4, UserFilter{}, "", 0)
	if err != nil || next != "" || !reflect.DeepEqual(all, sampleUsers()) {
		t.Fatalf("users = %+v, %q, %v", all, next, err)
	}
	page, next, _ := db.DirectoryUsers(4, UserFilter{}, "", 2)
	if len(page) != 2 || next != "usr-2" {
		t.Fatalf("first page %d, next %q", len(page), next)
	}
	page, next, _ = db.DirectoryUsers(4, UserFilter{}, next, 2)
	if len(page) != 1 || page[0].SourcedID != "usr-3" || next != "" {
		t.Fatalf("second page %+v, next %q", page, next)
	}
	// A filtered page that fills exactly says there is no next page.
	if page, next, _ := db.DirectoryUsers(4, UserFilter{Search: "li"}, "", 2); len(page) != 2 || next != "" {
		t.Fatalf("search li: %d, %q", len(page), next)
	}
	if page, _, _ := db.DirectoryUsers(4, UserFilter{Kind: KindGuardian, Status: StatusActive}, "", 10); len(page) != 1 || page[0].SourcedID != "usr-3" {
		t.Fatalf("guardians: %+v", page)
	}
	var fe *FieldError
	if _, _, err := db.DirectoryUsers(4, UserFilter{Kind: "parent"}, "", 10); !errors.As(err, &fe) || fe.Field != "kind" {
		t.Fatalf("bad kind: %v", err)
	}
	classes, _, _ := db.DirectoryClassrooms(4, ClassroomFilter{Status: StatusArchived}, "", 0)
	if len(classes) != 1 || classes[0].ArchivedBy != ArchivedBySync {
		t.Fatalf("archived classrooms: %+v", classes)
	}
	// cls-1's members only, not cls-10's.
	if m, _ := db.ClassroomMembers(4, "cls-1"); len(m) != 2 || m[0].UserID != "usr-1" || m[1].Role != "student" {
		t.Fatalf("members: %+v", m)
	}
	n, _ := db.DirectoryCounts(4)
	want := DirectoryCounts{Schools: StatusCount{1, 0}, Students: StatusCount{0, 1}, Staff: StatusCount{1, 0}, Guardians: StatusCount{1, 0},
		Classrooms: StatusCount{1, 1}, Memberships: StatusCount{2, 1}}
	if n != want {
		t.Fatalf("counts = %+v", n)
	}
	if other, _, _ := db.DirectoryUsers(5, UserFilter{}, "", 0); len(other) != 0 {
		t.Fatal("another district sees the users")
	}
}

func TestDirectoryBatchRefusesBadRecordsWholly(t *testing.T) {
	db := openTemp(t)
	var b DirectoryBatch
	b.PutUser(sampleUsers()[0])
	b.PutUser(DirectoryUser{SourcedID: "x", Kind: "teacher", Status: StatusActive})
	if err := db.ApplyDirectory(4, &b); err == nil || !strings.Contains(err.Error(), "kind") {
		t.Fatalf("err = %v", err)
	}
	if u, _, _ := db.DirectoryUsers(4, UserFilter{}, "", 0); len(u) != 0 {
		t.Fatal("half a batch was written")
	}
	for _, c := range []Classroom{{SourcedID: "c", Status: StatusArchived}, {SourcedID: "c", Status: StatusActive, ArchivedBy: ArchivedByHand}} {
		var b DirectoryBatch
		b.PutClassroom(c)
		if err := db.ApplyDirectory(4, &b); err == nil {
			t.Errorf("accepted %+v", c)
		}
	}
}

func TestHandEdits(t *testing.T) {
	db := openTemp(t)
	seedDirectory(t, db)
	if at, _ := db.HandEditedAt(4); !at.IsZero() {
		t.Fatal("hand edit time before any edit")
	}
	before := time.Now().Add(-time.Second)
	c, err := db.ArchiveClassroom(4, "cls-1")
	if err != nil || c.Status != StatusArchived || c.ArchivedBy != ArchivedByHand {
		t.Fatalf("archive: %+v %v", c, err)
	}
	if at, _ := db.HandEditedAt(4); !at.After(before) {
		t.Fatalf("hand edit time %v", at)
	}
	if _, err := db.ArchiveClassroom(4, "cls-1"); err == nil || !strings.Contains(err.Error(), "already archived (by hand)") {
		t.Fatalf("archiving twice: %v", err)
	}
	if c, err := db.UnarchiveClassroom(4, "cls-1"); err != nil || c.Status != StatusActive || c.ArchivedBy != "" {
		t.Fatalf("unarchive: %+v %v", c, err)
	}
	if _, err := db.UnarchiveClassroom(4, "cls-nope"); !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), `"cls-nope"`) {
		t.Fatalf("unknown classroom: %v", err)
	}
	if u, err := db.MarkJoined(4, "usr-1"); err != nil || !u.Joined {
		t.Fatalf("mark joined: %+v %v", u, err)
	}
	if _, err := db.MarkJoined(4, "usr-1"); err == nil {
		t.Fatal("marked joined twice")
	}
	if _, err := db.MarkJoined(7, "usr-1"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("other district: %v", err)
	}
	g := DirectoryUser{SourcedID: "csv-1", Kind: KindGuardian, GivenName: "Dee", Status: StatusActive, Managed: true}
	if err := db.AddHandUser(4, g); err != nil {
		t.Fatal(err)
	}
	if u, _ := db.DirectoryUser(4, "csv-1"); u.Managed || u.GivenName != "Dee" {
		t.Fatalf("hand user: %+v", u)
	}
	if err := db.AddHandUser(4, g); err == nil {
		t.Fatal("added the same sourcedId twice")
	}
}

func FuzzDecodeDirectoryRecords(f *testing.F) {
	for _, u := range sampleUsers() {
		v, _ := encodeUser(u)
		f.Add(v)
	}
	v, _ := encodeClassroom(Classroom{SourcedID: "c", Name: "n", School: "s", Status: StatusArchived, ArchivedBy: ArchivedByHand})
	f.Add(v)
	f.Fuzz(func(t *testing.T, raw []byte) {
		// A damaged file gives an error, never a panic; whatever decodes
		// encodes again and decodes to the same record.
		if u, err := decodeUser("id", raw); err == nil {
			again, err := encodeUser(u)
			if err != nil {
				t.Fatalf("decoded user %+v does not encode: %v", u, err)
			}
			if back, err := decodeUser("id", again); err != nil || !reflect.DeepEqual(back, u) {
				t.Fatalf("user %+v round-trips to %+v, %v", u, back, err)
			}
		}
		if c, err := decodeClassroom("id", raw); err == nil {
			again, err := encodeClassroom(c)
			if err != nil {
				t.Fatalf("decoded classroom %+v does not encode: %v", c, err)
			}
			if back, err := decodeClassroom("id", again); err != nil || back != c {
				t.Fatalf("classroom %+v round-trips to %+v, %v", c, back, err)
			}
		}
		decodeMembership([]byte("c\x00u"), raw)
		decodeSchool("id", raw)
	})
}

// An archive in a batch archives what the record is when the batch
// commits: other fields stay, a record archived meanwhile (by hand) keeps
// who archived it, a missing one stays missing, and the rest of the batch
// still commits.
func TestBatchArchivesTheRecordAsItIsAtCommit(t *testing.T) {
	db := openTemp(t)
	seedDirectory(t, db)
	if _, err := db.ArchiveClassroom(4, "cls-1"); err != nil {
		t.Fatal(err)
	}
	b := NewDirectoryBatch(4)
	b.ArchiveUser("usr-1")
	b.ArchiveUser("usr-404")
	b.ArchiveClassroom("cls-1")
	b.ArchiveMembership("cls-1", "usr-2")
	b.ArchiveSchool("org-1")
	b.PutClassroom(Classroom{SourcedID: "cls-3", Name: "Band", School: "org-1", Status: StatusActive, Managed: true})
	if err := db.ApplyDirectory(4, b); err != nil {
		t.Fatal(err)
	}
	want := sampleUsers()[0]
	want.Status = StatusArchived
	if u, _ := db.DirectoryUser(4, "usr-1"); !reflect.DeepEqual(u, want) {
		t.Errorf("archived user = %+v, want %+v", u, want)
	}
	if _, err := db.DirectoryUser(4, "usr-404"); err == nil {
		t.Error("archiving a missing user created it")
	}
	if c, _ := db.DirectoryClassroom(4, "cls-1"); c.Status != StatusArchived || c.ArchivedBy != ArchivedByHand {
		t.Errorf("classroom archived by hand meanwhile: %+v", c)
	}
	if m, _ := db.ClassroomMembers(4, "cls-1"); len(m) != 2 || m[0].Status != StatusActive || m[1].Status != StatusArchived || m[1].Role != "student" {
		t.Errorf("memberships: %+v", m)
	}
	if c, err := db.DirectoryClassroom(4, "cls-3"); err != nil || c.Name != "Band" {
		t.Errorf("the put after the archives: %+v %v", c, err)
	}
	var schools []School
	db.EachDirectorySchool(4, func(s School) error { schools = append(schools, s); return nil })
	if len(schools) != 1 || schools[0].Status != StatusArchived || schools[0].Name != "Lincoln High" {
		t.Errorf("schools: %+v", schools)
	}
	b.Reset()
	if b.Len() != 0 {
		t.Error("Reset kept writes")
	}
}

// A walk may write to the database between records (bbolt would deadlock
// on a write inside a read transaction), and sees every record once, in
// order, across its chunks.
func TestWalkAllowsWritesBetweenRecords(t *testing.T) {
	db := openTemp(t)
	b := NewDirectoryBatch(3 * walkChunk)
	for i := range 3*walkChunk + 5 {
		b.PutMembership(Membership{ClassroomID: fmt.Sprintf("cls-%05d", i), UserID: "usr-1", Role: "student", Status: StatusActive})
	}
	if err := db.ApplyDirectory(4, b); err != nil {
		t.Fatal(err)
	}
	var seen []string
	archived := 0
	err := db.WalkMemberships(4, func(m Membership) error {
		seen = append(seen, m.ClassroomID)
		if len(seen)%300 != 1 { // a write now and then is enough: each one syncs the file
			return nil
		}
		archived++
		w := NewDirectoryBatch(1)
		w.ArchiveMembership(m.ClassroomID, m.UserID)
		return db.ApplyDirectory(4, w)
	})
	if err != nil || len(seen) != 3*walkChunk+5 || !slices.IsSorted(seen) || len(slices.Compact(slices.Clone(seen))) != len(seen) {
		t.Fatalf("walk saw %d memberships (%v)", len(seen), err)
	}
	n, _ := db.DirectoryCounts(4)
	if n.Memberships.Archived != archived || archived < 10 {
		t.Fatalf("counts after the walk: %+v, %d archived", n.Memberships, archived)
	}
}
