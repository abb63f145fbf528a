package sync

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/schoolstatus/rostersync/classlink/classlinktest"
	"github.com/schoolstatus/rostersync/guardians/sftptest"
	"github.com/schoolstatus/rostersync/store"
)

// sftpDistrict is a fixture whose guardians come from an SFTP folder on a
// real SFTP server (key login, host key pinned).
func sftpDistrict(t *testing.T) (*fixture, *sftptest.Server) {
	srv := sftptest.Start(t)
	f := newFixture(t, fixtureOptions{edit: func(d *store.District) {
		d.Settings.ManageGuardians = false
		d.Guardians = store.GuardiansSource{Source: store.GuardiansSFTP, SFTP: store.SFTPFolder{
			Host: srv.Host, Port: srv.Port, User: srv.User, PrivateKey: srv.ClientKey, Folder: "/district", HostKey: srv.HostKey}}
	}})
	return f, srv
}

func TestDailySyncReadsTheSFTPFolder(t *testing.T) {
	f, srv := sftpDistrict(t)
	s := f.roster.StudentID
	f.roster.MarkToBeDeleted(classlinktest.Users, s(5))
	file := fileHead + s(0) + ",G-1,Ana,Ruiz,ana@example.org,,,\n" + s(1) + ",G-2,Bo,Li,bo@example.org,,,\n" + s(5) + ",G-3,Cy,Ng,cy@example.org,,,\n"
	srv.Put("/district/guardians.csv", []byte(file))

	// A first preview checks the file against the directory the roster
	// plan would make: its students are known although none is stored.
	preview := f.run(RunOptions{DryRun: true})
	gf := preview.GuardiansFile
	if preview.Status != store.RunSucceeded || gf == nil || gf.Source != store.GuardiansSFTP || gf.Status != store.FileProcessed ||
		gf.Created != 2 || gf.Errors != 1 || gf.Name != "/district/guardians.csv" {
		t.Fatalf("preview = %+v %+v", preview, gf)
	}
	if n, _ := f.db.DirectoryCounts(testTenant); n != (store.DirectoryCounts{}) {
		t.Fatalf("a preview wrote: %+v", n)
	}

	r := f.mustSucceed()
	if gf := r.GuardiansFile; gf.Status != store.FileProcessed || gf.Created != 2 || gf.Errors != 1 || gf.Size != int64(len(file)) ||
		r.Counts.Students.Create != 199 || r.Counts.Guardians.Create != 2 {
		t.Fatalf("first run = %+v %+v", r.Counts, gf)
	}
	if g := f.user("G-1"); g.Source != store.SourceGuardiansFile || g.GuardianOf[0] != s(0) {
		t.Fatalf("G-1 = %+v", g)
	}

	// Nothing moved: the roster is unchanged and the file is skipped.
	reads := srv.Reads.Load()
	r = f.run(RunOptions{Trigger: store.TriggerSchedule})
	if r.Status != store.RunUnchanged || r.GuardiansFile.Status != store.FileUnchanged || r.GuardiansFile.FileSHA256 == "" || srv.Reads.Load() != reads+1 {
		t.Fatalf("unchanged day = %+v %+v", r, r.GuardiansFile)
	}

	// The student comes back in ClassLink: the same file is processed again
	// and its row for that student now links.
	modifyUser(f, s(5), func(u *classlinktest.User) { u.Status = "active" })
	r = f.mustSucceed()
	if r.GuardiansFile.Status != store.FileProcessed || r.GuardiansFile.Created != 1 || r.GuardiansFile.Errors != 0 {
		t.Fatalf("after the student returned: %+v", r.GuardiansFile)
	}

	// A changed file with an unchanged roster is applied; the run succeeds.
	srv.Put("/district/guardians.csv", []byte(file+s(2)+",G-4,Di,Ng,di@example.org,,,\n"))
	r = f.run(RunOptions{})
	if r.Status != store.RunSucceeded || r.GuardiansFile.Created != 1 || r.GuardiansFile.Unchanged != 3 {
		t.Fatalf("changed file = %+v %+v", r, r.GuardiansFile)
	}

	// A missing file is a warning and changes nothing.
	srv.Remove("/district/guardians.csv")
	before := dumpDirectory(t, f.db, testTenant)
	r = f.run(RunOptions{})
	if r.Status != store.RunUnchanged || r.GuardiansFile.Status != store.FileMissing || !strings.Contains(r.Message, "warning: there is no /district/guardians.csv") {
		t.Fatalf("missing file = %+v %+v", r, r.GuardiansFile)
	}
	if !dumpDirectory(t, f.db, testTenant).equal(before) {
		t.Fatal("a missing file changed the directory")
	}

	// A file refused as a whole fails the run and changes nothing.
	srv.Put("/district/guardians.csv", []byte("who,what\n1,2\n"))
	r = f.run(RunOptions{})
	if r.Status != store.RunFailed || r.Reason != store.ReasonGuardiansFile || r.GuardiansFile.Status != store.FileRefused {
		t.Fatalf("refused file = %+v", r)
	}
	if !dumpDirectory(t, f.db, testTenant).equal(before) {
		t.Fatal("a refused file changed the directory")
	}
}

func TestDailySyncRefusesAWrongHostKey(t *testing.T) {
	f, srv := sftpDistrict(t)
	other := sftptest.Start(t) // another server's key
	f.editDistrict(func(d *store.District) { d.Guardians.SFTP.HostKey = other.HostKey })
	srv.Put("/district/guardians.csv", []byte(fileHead+f.roster.StudentID(0)+",G-1,Ana,Ruiz,ana@example.org,,,\n"))
	r := f.run(RunOptions{})
	if r.Status != store.RunFailed || r.Reason != store.ReasonGuardiansFile || r.GuardiansFile.Status != store.FileFailed ||
		!strings.Contains(r.Message, "presents host key "+srv.HostKey) || !strings.Contains(r.Message, "refusing to connect") {
		t.Fatalf("wrong host key = %+v", r)
	}
	if srv.Logins.Load() != 0 {
		t.Fatal("logged in to a server with the wrong host key")
	}
	if r.Counts.Students.Create != 200 {
		t.Fatalf("the roster part still ran: %+v", r.Counts)
	}
	if _, err := f.db.DirectoryUser(testTenant, "G-1"); err == nil {
		t.Fatal("a guardian came from a server with the wrong host key")
	}
}

func TestSFTPConnectionTest(t *testing.T) {
	f, srv := sftpDistrict(t)
	d, _ := f.db.District(testTenant)
	d.Guardians.SFTP.HostKey = ""
	r := TestSFTP(context.Background(), nil, d, "")
	if r.OK || !r.Unpinned || r.HostKey != srv.HostKey || r.KeyType != "ssh-ed25519" || !strings.Contains(r.Error, "not pinned yet") {
		t.Fatalf("unpinned = %+v", r)
	}
	srv.Put("/district/readme.txt", []byte("the district's folder"))
	r = TestSFTP(context.Background(), nil, d, srv.HostKey)
	if !r.OK || r.Pinned || r.HostKey != srv.HostKey || r.Found {
		t.Fatalf("trusted = %+v", r)
	}
	srv.Put("/district/guardians.csv", []byte("x"))
	d.Guardians.SFTP.HostKey = srv.HostKey
	if r = TestSFTP(context.Background(), nil, d, ""); !r.OK || !r.Pinned || !r.Found || r.Size != 1 {
		t.Fatalf("pinned = %+v", r)
	}
	d.Guardians.SFTP.HostKey = sftptest.Start(t).HostKey
	if r = TestSFTP(context.Background(), nil, d, ""); r.OK || !r.Mismatch || r.HostKey != srv.HostKey {
		t.Fatalf("mismatch = %+v", r)
	}
	d.Guardians.SFTP.Host = ""
	if r = TestSFTP(context.Background(), nil, d, ""); r.OK || !strings.Contains(r.Error, "guardians.sftp.host") {
		t.Fatalf("no host = %+v", r)
	}
}

func TestFetchGuardiansSFTPKeepsTheBytesAndFollowsTheDial(t *testing.T) {
	f, srv := sftpDistrict(t)
	d, _ := f.db.District(testTenant)
	srv.Put("/district/guardians.csv", []byte("x"))
	data, path, err := f.engine.FetchGuardiansSFTP(context.Background(), d)
	if err != nil || string(data) != "x" || path != "/district/guardians.csv" {
		t.Fatalf("FetchGuardiansSFTP = %q %q %v", data, path, err)
	}
	// A served rostersync's address rules refuse the loopback server.
	reach := (&Reach{}).DialSFTP
	f.engine.SFTPDial = reach
	if _, _, err := f.engine.FetchGuardiansSFTP(context.Background(), d); err == nil {
		t.Fatal("FetchGuardiansSFTP reached a loopback server through Reach")
	}
	if r := TestSFTP(context.Background(), reach, d, ""); r.OK || r.Error == "" {
		t.Fatalf("TestSFTP through Reach = %+v", r)
	}
}

// A slow SFTP server, or one that trickles bytes without ever going idle,
// holds neither a run (in serve, its district's run slot) nor a person's
// upload without bound: reading guardians.csv has what is left of the
// run's time budget (at least SFTPFloor, or the whole budget when that is
// shorter). Past it the run fails with reason guardians_file and a
// message that says that time ran out and what to do; the roster's
// changes stand.
func TestATricklingSFTPServerIsCutOffByTheRunBudget(t *testing.T) {
	f, srv := sftpDistrict(t)
	s := f.roster.StudentID
	srv.Put("/district/guardians.csv", []byte(fileHead+strings.Repeat(s(0)+",G-1,Ana,Ruiz,ana@example.org,,,\n", 3000)))
	f.mustSucceed()
	srv.Trickle(20 * time.Millisecond)
	run := func(budget time.Duration) store.Run {
		t.Helper()
		f.engine.RunBudget = budget
		done := make(chan Result, 1)
		go func() {
			res, _ := f.engine.Run(context.Background(), testTenant, RunOptions{})
			done <- res
		}()
		select {
		case res := <-done:
			return res.Run
		case <-time.After(time.Minute): // liveness, not a timing
			t.Fatal("the run was not cut off")
		}
		return store.Run{}
	}
	outOfTime := func(r store.Run, budget string) {
		t.Helper()
		gf := r.GuardiansFile
		if r.Status != store.RunFailed || r.Reason != store.ReasonGuardiansFile || gf == nil || gf.Status != store.FileFailed ||
			!strings.Contains(r.Message, "the time for reading /district/guardians.csv from the SFTP server") ||
			!strings.Contains(r.Message, "ran out after "+budget+" (what was left of the run's time budget of "+budget) ||
			!strings.Contains(r.Message, "allow more time with --time-budget") {
			t.Fatalf("run: %s/%s %q", r.Status, r.Reason, r.Message)
		}
	}

	// Nothing changed in ClassLink: one request, then the SFTP step.
	outOfTime(run(300*time.Millisecond), "300ms")

	// The roster changed: it is applied, then the SFTP step is cut off.
	students := func() (n int) {
		for _, u := range dumpDirectory(t, f.db, testTenant).Users {
			n += btoi(u.Kind == store.KindStudent)
		}
		return n
	}
	before := students()
	f.roster.AdvanceDay(classlinktest.DayChanges{NewStudents: 2})
	r := run(1500 * time.Millisecond)
	outOfTime(r, "1.5s")
	if r.Counts.Students.Create != 2 || students() != before+2 {
		t.Fatalf("the roster's changes: %+v, %d students then %d", r.Counts, before, students())
	}

	// A person fetching the file to upload it: the same bound, said so.
	f.engine.RunBudget = 300 * time.Millisecond
	d, _ := f.db.District(testTenant)
	if _, _, err := f.engine.FetchGuardiansSFTP(context.Background(), d); err == nil ||
		!strings.Contains(err.Error(), "ran out after 300ms (5m0s, or the time budget when shorter)") {
		t.Fatalf("fetch: %v", err)
	}
	srv.Trickle(0)
	if data, _, err := f.engine.FetchGuardiansSFTP(context.Background(), d); err != nil || len(data) < 3000 {
		t.Fatalf("at full speed again: %d bytes, %v", len(data), err)
	}
}
