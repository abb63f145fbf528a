package main

// End-to-end tests for what a newcomer's walk through the CLI found.

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/schoolstatus/rostersync/guardians/sftptest"
	"github.com/schoolstatus/rostersync/store"
	"github.com/schoolstatus/rostersync/store/storetest"
)

// editDistrict saves a change to a district of the database at path (no
// rostersync process holds it).
func editDistrict(t *testing.T, path string, tenantID int64, edit func(*store.District)) {
	t.Helper()
	db, err := store.Open(path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	d, err := db.District(tenantID)
	if err != nil {
		t.Fatal(err)
	}
	edit(&d)
	if _, _, err := db.SaveDistrict(d, d.Revision, store.Actor{User: "test"}, nil); err != nil {
		t.Fatal(err)
	}
}

// H1: `sync` whose guardians.csv cannot be read says the roster was
// applied, shows what it applied, and says why the file was not read and
// how to pin the key; history says the same.
func TestSyncExplainsAGuardiansFileFailure(t *testing.T) {
	srv := sftptest.Start(t)
	db := filepath.Join(t.TempDir(), "rostersync.db")
	if out, code := run(t, "", "--db", db, "sync", "--district", "2", "--dry-run"); code != 0 {
		t.Fatalf("first sync (%d):\n%s", code, out)
	}
	editDistrict(t, db, store.DemoTenantID, func(d *store.District) {
		d.Settings.ManageGuardians = false
		d.Guardians = store.GuardiansSource{Source: store.GuardiansSFTP, SFTP: store.SFTPFolder{Host: srv.Host, Port: srv.Port, User: srv.User, Password: srv.Password, HostKey: srv.HostKey}}
	})
	storetest.Unpin(t, db, store.DemoTenantID) // saved before a save required the pin
	out, code := run(t, "", "--db", db, "sync", "--district", "2")
	flat := strings.Join(strings.Fields(out), " ")
	for _, want := range []string{"failed (guardians_file)", "The roster was applied (", "; guardians.csv was not read: the SFTP host key is not pinned yet",
		"rostersync guardians sftp test --district 2 --trust-host-key " + srv.HostKey, "TYPE CREATE UPDATE", "students"} {
		if code != 1 || !strings.Contains(flat, want) {
			t.Fatalf("sync (%d) lacks %q:\n%s", code, want, out)
		}
	}
	if strings.Contains(out, "ClassLink could not be reached") || strings.Contains(out, "dial tcp") {
		t.Fatalf("sync:\n%s", out)
	}
	hist, _ := run(t, "", "--db", db, "history", "--district", "2")
	if !strings.Contains(hist, "sync failed (guardians.csv could not be read)") || !strings.Contains(hist, "The roster was applied (") {
		t.Fatalf("history:\n%s", hist)
	}
	help, _ := run(t, "", "sync", "--help")
	if !strings.Contains(help, "guardians_file") {
		t.Fatalf("sync --help lacks guardians_file:\n%s", help)
	}
}
