package wizard

// Model tests for what a newcomer's walk through the product found: each
// one fails on the wizard as it was and passes now.

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/schoolstatus/rostersync/classlink/classlinktest"
	"github.com/schoolstatus/rostersync/guardians/sftptest"
	"github.com/schoolstatus/rostersync/store"
	"github.com/schoolstatus/rostersync/store/storetest"
	rsync "github.com/schoolstatus/rostersync/sync"
)

// flat is the screen with its line breaks and runs of spaces as one
// space, so that wrapped sentences can be looked for whole.
func (d *driver) flat() string { return strings.Join(strings.Fields(d.screen()), " ") }

// seeFlat is see on the flattened screen.
func (d *driver) seeFlat(want ...string) {
	d.t.Helper()
	s := d.flat()
	for _, w := range want {
		if !strings.Contains(s, w) {
			d.t.Fatalf("screen lacks %q:\n%s", w, d.screen())
		}
	}
}

// notSeeFlat is notSee on the flattened screen.
func (d *driver) notSeeFlat(unwanted ...string) {
	d.t.Helper()
	s := d.flat()
	for _, w := range unwanted {
		if strings.Contains(s, w) {
			d.t.Fatalf("screen shows %q:\n%s", w, d.screen())
		}
	}
}

// demoWithUnpinnedSFTP turns the demo district's guardians off and reads
// them from srv's folder, without a pinned host key (as a district saved
// before a save required the pin), and returns db opened again.
func demoWithUnpinnedSFTP(t *testing.T, db *store.DB, srv *sftptest.Server) *store.DB {
	t.Helper()
	dist, err := db.District(store.DemoTenantID)
	if err != nil {
		t.Fatal(err)
	}
	dist.Settings.ManageGuardians = false
	dist.Guardians = store.GuardiansSource{Source: store.GuardiansSFTP, SFTP: store.SFTPFolder{Host: srv.Host, Port: srv.Port, User: srv.User, Password: srv.Password, Folder: "/in", HostKey: srv.HostKey}}
	if _, _, err := db.SaveDistrict(dist, dist.Revision, store.Actor{User: "ben"}, nil); err != nil {
		t.Fatal(err)
	}
	path := db.Path()
	db.Close()
	storetest.Unpin(t, path, store.DemoTenantID)
	again, err := store.Open(path, store.Options{Clock: func() time.Time { return fixedNow }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { again.Close() })
	return again
}

// H1: a sync whose guardians.csv could not be read says the roster was
// applied and why the file was not read, never that ClassLink could not
// be reached and nothing changed.
func TestGuardiansFileFailureIsExplainedAsSuch(t *testing.T) {
	srv := sftptest.Start(t)
	srv.Put("/in/guardians.csv", []byte("student_id,guardian_id,first_name,last_name,email,mobile\n"))
	db := demoWithUnpinnedSFTP(t, newDriver(t, 80, 24).db, srv)
	d := newDriverOn(t, db, store.Actor{User: "ana"}, 80, 24)

	// Preview sync.
	d.keys("enter", "m", "down", "down", "enter")
	d.seeFlat("Preview failed (guardians.csv could not be read)",
		"The roster part of the preview planned", "guardians.csv was not read: the SFTP host key is not pinned yet",
		"Guardians source → Host key")
	d.notSeeFlat("ClassLink could not be reached", "nothing was changed. Try again")

	// rostersync sync --district 2, then Sync history → the run.
	res, err := d.m.opts.Engine.Run(context.Background(), store.DemoTenantID, rsync.RunOptions{Trigger: store.TriggerManual})
	if err != nil {
		t.Fatal(err)
	}
	if res.Run.Reason != store.ReasonGuardiansFile || res.Run.Counts.Changes() == 0 {
		t.Fatalf("run = %s %s, %d changes", res.Run.Status, res.Run.Reason, res.Run.Counts.Changes())
	}
	d.keys("esc", "esc")
	d.seeFlat("Last sync: sync failed (guardians.csv could not be read)")
	d.keys("m", "down", "down", "down", "down", "enter")
	d.see("Sync history")
	d.keys("enter")
	d.seeFlat("Sync failed (guardians.csv could not be read)",
		"The roster was applied (", "; guardians.csv was not read: the SFTP host key is not pinned yet",
		"--trust-host-key "+srv.HostKey)
	d.notSeeFlat("ClassLink could not be reached", "nothing was changed")
}

// H1, M3: a refused upload is named as an upload, on Home and in the
// history, and its reason is the file's, not ClassLink's.
func TestRefusedUploadIsAnUploadWithItsReason(t *testing.T) {
	d := newDriver(t, 80, 24)
	guardiansDistrict(t, d, nil)
	res, err := d.m.opts.Engine.RunGuardiansFile(context.Background(), 4021, strings.NewReader("pupil,guardian\ns-0,g-1\n"), rsync.FileOptions{DryRun: true, Name: "bad.csv"})
	if err != nil || res.Run.Reason != store.ReasonGuardiansFile {
		t.Fatalf("upload: %v %+v", err, res.Run)
	}
	d = newDriverOn(t, d.db, store.Actor{User: "ana"}, 80, 24)
	d.keys("down", "enter")
	d.seeFlat("Last sync: no sync has run yet", "Last guardians file: guardians file upload (dry run) failed (the file was refused)")
	d.notSeeFlat("Last sync: preview")
	d.keys("m", "down", "down", "down", "down", "enter")
	d.seeFlat("guardians file upload (dry run) failed (the file was refused), 0 changes")
	d.keys("enter")
	d.seeFlat("The guardians file was refused, so nothing was changed: the first line must be the header")
	d.notSeeFlat("ClassLink could not be reached", "preview failed")
}

// H1: the accessible prompts explain a preview whose guardians.csv could
// not be read as the wizard does, and still read the roster's plan out.
func TestAccessiblePreviewExplainsAGuardiansFileFailure(t *testing.T) {
	srv := sftptest.Start(t)
	db := accessibleDB(t)
	if _, _, err := db.SaveDistrict(store.NewDemoDistrict(classlinktest.DemoSchoolIDs()...), 0, store.Actor{User: "ben"}, nil); err != nil {
		t.Fatal(err)
	}
	db = demoWithUnpinnedSFTP(t, db, srv)
	text, err := runAccessible(t, db, "1", "5", "8") // the demo, Preview sync, Quit
	if err != nil {
		t.Fatalf("%v\n%s", err, text)
	}
	flat := strings.Join(strings.Fields(text), " ")
	mustSay(t, flat, "The preview failed (guardians.csv could not be read), ", "The roster part of the preview planned",
		"guardians.csv was not read: the SFTP host key is not pinned yet", "Reading the guardians file…", "Students: create")
	if strings.Contains(flat, "Guardians_file") {
		t.Fatalf("a raw phase name is read out:\n%s", text)
	}
	if strings.Contains(flat, "ClassLink could not be reached") {
		t.Fatalf("accessible preview blames ClassLink:\n%s", text)
	}
}
