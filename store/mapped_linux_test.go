//go:build linux

package store

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func rssFile(t *testing.T) int {
	t.Helper()
	raw, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(raw), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "RssFile:" {
			n, _ := strconv.Atoi(f[1])
			return n << 10
		}
	}
	t.Fatal("no RssFile in /proc/self/status")
	return 0
}

// Reading a database maps its pages into the process; ReleaseFilePages
// gives them back (the data stays readable), and a long walk does so as
// it goes.
func TestReleaseFilePagesShrinksResidentMemory(t *testing.T) {
	path := filepath.Join(t.TempDir(), "r.db")
	db, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	name := strings.Repeat("x", 200)
	const users = 120_000 // about 30 MB of users
	for i := 0; i < users; {
		b := NewDirectoryBatch(10_000)
		for ; b.Len() < 10_000; i++ {
			b.PutUser(DirectoryUser{SourcedID: fmt.Sprintf("usr-%07d", i), Kind: KindStudent, GivenName: name, Status: StatusActive, Managed: true})
		}
		if err := db.ApplyDirectory(4, b); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	if db, err = Open(path, Options{}); err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	start := rssFile(t)
	n := 0
	if err := db.EachDirectoryUser(4, func(u DirectoryUser) error { n++; return nil }); err != nil || n != users {
		t.Fatalf("read %d users (%v)", n, err)
	}
	read := rssFile(t)
	if read-start < 20<<20 {
		t.Fatalf("reading the users mapped only %d MB", (read-start)>>20)
	}
	if err := db.ReleaseFilePages(); err != nil {
		t.Fatal(err)
	}
	if released := rssFile(t); released-start > 5<<20 {
		t.Fatalf("after ReleaseFilePages %d MB of the file stay resident (%d MB when read)", (released-start)>>20, (read-start)>>20)
	}
	n = 0
	walked := 0
	if err := db.WalkDirectoryUsers(4, func(u DirectoryUser) error {
		if n++; u.GivenName != name {
			return fmt.Errorf("user %s reads %q", u.SourcedID, u.GivenName)
		}
		if n%1000 == 0 {
			walked = max(walked, rssFile(t)-start)
		}
		return nil
	}); err != nil || n != users {
		t.Fatalf("walked %d users (%v)", n, err)
	}
	if walked > (read-start)*3/4 {
		t.Fatalf("a walk kept %d MB of the file resident, reading it all %d MB", walked>>20, (read-start)>>20)
	}
}
