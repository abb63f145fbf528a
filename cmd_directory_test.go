package main

import (
	"bytes"
	"os/exec"
	"testing"

	"github.com/schoolstatus/rostersync/classlink/classlinktest"
	"github.com/schoolstatus/rostersync/store"
)

// directoryDB is an S-tier district synced in this process, plus users
// whose JSON needs escaping, in a database file the caller closes.
func directoryDB(t *testing.T) (*store.DB, string) {
	t.Helper()
	srv, roster := syncServer(t, classlinktest.TierS)
	path := seedSyncDB(t, srv, roster)
	db, err := store.Open(path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	syncInProcess(t, db)
	var b store.DirectoryBatch
	b.PutUser(store.DirectoryUser{SourcedID: "zz-<odd>&", Kind: store.KindGuardian, GivenName: "Zoë \"Z\"", FamilyName: "O'Brien\u2028<b>",
		Email: "z&o@example.org", Status: store.StatusArchived, Permissions: []string{}, GuardianOf: []string{"usr-1", "usr-2"}})
	b.PutUser(store.DirectoryUser{SourcedID: "zz-staff", Kind: store.KindStaff, RoleGroup: "teacher", GivenName: "Tab\there",
		Status: store.StatusActive, Joined: true, Permissions: []string{"family_access", "engagement_visibility"}, GuardianOf: []string{}})
	if err := db.ApplyDirectory(9, &b); err != nil {
		t.Fatal(err)
	}
	return db, path
}

// The streamed listing is byte for byte what printing the whole listing
// at once gave, at any page size, filtered or not, and when empty.
func TestDirectoryJSONStreamsTheSameBytes(t *testing.T) {
	db, _ := directoryDB(t)
	defer db.Close()
	for _, f := range []store.UserFilter{{}, {Kind: store.KindGuardian}, {Search: "zz-"}, {Search: "nobody matches this"}} {
		all, err := allPages(func(after string) ([]store.DirectoryUser, string, error) { return db.DirectoryUsers(9, f, after, 0) })
		if err != nil {
			t.Fatal(err)
		}
		var want bytes.Buffer
		if err := printJSON(&want, all); err != nil {
			t.Fatal(err)
		}
		for _, size := range []int{1, 7, directoryPage} {
			var got bytes.Buffer
			err := streamJSON(&got, func(after string) ([]store.DirectoryUser, string, error) { return db.DirectoryUsers(9, f, after, size) })
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got.Bytes(), want.Bytes()) {
				t.Fatalf("filter %+v, pages of %d: streamed %d bytes differ from the whole listing's %d:\n%.300s\nwant\n%.300s",
					f, size, got.Len(), want.Len(), got.String(), want.String())
			}
		}
		if f.Search == "" && len(all) < 500 {
			t.Fatalf("only %d users: the test district did not sync", len(all))
		}
	}
	classes, err := allPages(func(after string) ([]store.Classroom, string, error) {
		return db.DirectoryClassrooms(9, store.ClassroomFilter{}, after, 0)
	})
	if err != nil {
		t.Fatal(err)
	}
	var want, got bytes.Buffer
	printJSON(&want, classes)
	if err := streamJSON(&got, func(after string) ([]store.Classroom, string, error) {
		return db.DirectoryClassrooms(9, store.ClassroomFilter{}, after, 5)
	}); err != nil || !bytes.Equal(got.Bytes(), want.Bytes()) {
		t.Fatalf("classrooms streamed differently (%v)", err)
	}
}

// The command prints the streamed form.
func TestDirectoryUsersCommandPrintsTheWholeListing(t *testing.T) {
	db, path := directoryDB(t)
	all, err := allPages(func(after string) ([]store.DirectoryUser, string, error) {
		return db.DirectoryUsers(9, store.UserFilter{}, after, 0)
	})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	var want bytes.Buffer
	printJSON(&want, all)
	out, err := exec.Command(binary(t), "--db", path, "directory", "users", "--district", "9", "--json").Output()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out, want.Bytes()) {
		t.Fatalf("directory users --json printed %d bytes, the listing is %d", len(out), want.Len())
	}
}
