package server

import (
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	gossh "golang.org/x/crypto/ssh"

	"github.com/schoolstatus/rostersync/classlink/classlinktest"
	"github.com/schoolstatus/rostersync/store"
	rsync "github.com/schoolstatus/rostersync/sync"
	"github.com/schoolstatus/rostersync/wizard"
)

func TestSSHSessionWalksAndSavesWithTheKeyInTheAudit(t *testing.T) {
	ts := startServer(t, nil)
	ana := ts.allow(t, "ana.lopez", store.RoleSpecialist)
	tm := ts.connect(t, ana, "ana", 80, 24)
	tm.wait("Choose a district")
	tm.keys("enter")
	tm.wait("Setup checklist")
	tm.keys("m", "enter", "enter", "enter")
	tm.wait("Allow sync to manage Guardians")
	tm.keys("down", "space", "ctrl+n")
	tm.wait("Permissions for synced staff")
	tm.resize(100, 30) // a resize re-renders at the new size
	tm.wait("Permissions Admin")
	tm.keys("ctrl+n")
	tm.wait("Save as revision 2?")
	tm.keys("y")
	tm.wait("Saved revision 2")
	tm.wait("saved by ana.lopez (key SHA256:") // the access name, not the SSH user typed
	tm.keys("ctrl+c")
	if code := tm.exit(); code != 0 {
		t.Fatalf("exit status %d", code)
	}

	d, err := ts.db.District(store.DemoTenantID)
	if err != nil || d.Settings.ManageGuardians {
		t.Fatalf("saved = %+v, %v", d.Settings, err)
	}
	audit, _ := ts.db.Audit(store.DemoTenantID)
	last := audit[len(audit)-1]
	if last.Actor.User != "ana" || last.Actor.Fingerprint != ana.key.Fingerprint || last.Actor.Key != "ana.lopez" || last.Actor.Via != "ssh" {
		t.Fatalf("audit actor = %+v", last.Actor)
	}
	for _, want := range []string{"connected", "disconnected", "fingerprint=" + ana.key.Fingerprint, "key=ana.lopez", "remote=127.0.0.1:"} {
		ts.waitLog(t, want)
	}
	st, _ := os.Stat(filepath.Join(ts.dir, "host_ed25519"))
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("host key mode %v", st.Mode().Perm())
	}
}

func TestHostKeyIsKeptAcrossRestarts(t *testing.T) {
	dir := t.TempDir()
	key := filepath.Join(dir, "hk")
	first := startServer(t, func(o *Options) { o.HostKeyPath = key })
	fp := first.srv.HostKeyFingerprint()
	first.stop()
	second := startServer(t, func(o *Options) { o.HostKeyPath = key })
	if fp == "" || second.srv.HostKeyFingerprint() != fp {
		t.Fatalf("host key changed: %s → %s", fp, second.srv.HostKeyFingerprint())
	}
}

func TestUnknownKeyAndPasswordsAreRefused(t *testing.T) {
	ts := startServer(t, nil)
	ts.allow(t, "ana", store.RoleSpecialist)
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	signer, _ := gossh.NewSignerFromKey(priv)
	stranger := person{signer: signer}
	if _, err := gossh.Dial("tcp", ts.addr, ts.clientConfig("eve", gossh.PublicKeys(stranger.signer))); err == nil {
		t.Fatal("an unknown key got in")
	}
	if _, err := gossh.Dial("tcp", ts.addr, ts.clientConfig("ana", gossh.Password("hunter2"))); err == nil {
		t.Fatal("a password got in")
	}
	ki := gossh.KeyboardInteractive(func(string, string, []string, []bool) ([]string, error) { return []string{"hunter2"}, nil })
	if _, err := gossh.Dial("tcp", ts.addr, ts.clientConfig("ana", ki)); err == nil {
		t.Fatal("keyboard-interactive got in")
	}
	if logs := ts.logs.String(); !strings.Contains(logs, "refused unknown key") || strings.Contains(logs, "hunter2") {
		t.Fatalf("logs:\n%s", logs)
	}
}

func TestASessionWithoutAPTYIsRefusedWithAMessage(t *testing.T) {
	ts := startServer(t, nil)
	ana := ts.allow(t, "ana", store.RoleSpecialist)
	client, err := gossh.Dial("tcp", ts.addr, ts.clientConfig("ana", gossh.PublicKeys(ana.signer)))
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	sess, _ := client.NewSession()
	out, err := sess.CombinedOutput("")
	var exit *gossh.ExitError
	if !errors.As(err, &exit) || exit.ExitStatus() != 1 {
		t.Fatalf("err = %v", err)
	}
	if strings.TrimSpace(string(out)) != "rostersync needs a terminal: connect with ssh -t" {
		t.Fatalf("output %q", out)
	}
}

func TestDistrictUserSeesAndOpensOnlyTheirDistricts(t *testing.T) {
	ts := startServer(t, nil)
	for _, d := range []store.District{store.NewDistrict(11, 1, "Clark County"), store.NewDistrict(12, 1, "Washoe County")} {
		if _, _, err := ts.db.SaveDistrict(d, 0, store.Actor{User: "ops"}, nil); err != nil {
			t.Fatal(err)
		}
	}
	dana := ts.allow(t, "dana", store.RoleDistrict, 12)
	tm := ts.connect(t, dana, "dana", 80, 24)
	tm.wait("Washoe County")
	if s := tm.screen(); strings.Contains(s, "Clark County") || strings.Contains(s, "Demo district") {
		t.Fatalf("a district user sees other districts:\n%s", s)
	}
	// Typing another district's Tenant ID in the add form is refused too.
	tm.keys("down", "enter")
	tm.wait("Add a district")
	tm.keys("1", "1")
	tm.wait("you do not have access to district 11")
	tm.keys("tab", "5", "tab", "enter")
	tm.wait("you do not have access to district 11")
	if d, err := ts.db.District(11); err != nil || d.Revision != 1 {
		t.Fatalf("district 11 = %+v, %v", d, err)
	}
	if audit, _ := ts.db.Audit(11); len(audit) != 1 {
		t.Fatalf("district 11 has %d revisions, want the one from setup", len(audit))
	}
	tm.keys("ctrl+c")
	tm.exit()
}

func TestAccessChangesApplyToTheNextLoginWithoutRestart(t *testing.T) {
	ts := startServer(t, nil)
	ana := ts.allow(t, "ana", store.RoleSpecialist)
	// Removing the key through the admin socket, as `rostersync access
	// remove` does while the server holds the database.
	if _, err := AskServer(filepath.Join(ts.dir, "rostersync.db.sock"), AdminRequest{Op: "remove", Name: "ana"}); err != nil {
		t.Fatal(err)
	}
	if _, err := gossh.Dial("tcp", ts.addr, ts.clientConfig("ana", gossh.PublicKeys(ana.signer))); err == nil {
		t.Fatal("a removed key still got in")
	}
	if _, err := AskServer(filepath.Join(ts.dir, "rostersync.db.sock"), AdminRequest{Op: "add", Key: ana.key}); err != nil {
		t.Fatal(err)
	}
	tm := ts.connect(t, ana, "ana", 80, 24)
	tm.wait("Choose a district")
	_, err := AskServer(filepath.Join(ts.dir, "rostersync.db.sock"), AdminRequest{Op: "add", Key: ana.key})
	var fe *store.FieldError
	if !errors.As(err, &fe) || fe.Field != "name" {
		t.Fatalf("adding a duplicate through the socket: %v", err)
	}
}

func TestTwoSSHSessionsOnOneDistrictLoseNothing(t *testing.T) {
	ts := startServer(t, nil)
	ana := ts.allow(t, "ana", store.RoleSpecialist)
	ben := ts.allow(t, "ben", store.RoleSpecialist)
	a := ts.connect(t, ana, "ana", 80, 24)
	b := ts.connect(t, ben, "ben", 80, 24)
	a.wait("Choose a district")
	a.keys("enter")
	a.wait("Setup checklist")
	b.wait("Choose a district")
	b.keys("enter")
	b.wait("Setup checklist")
	for _, tm := range []*term{a, b} {
		tm.keys("m", "enter", "enter", "enter")
		tm.wait("Allow sync to manage Guardians")
	}
	a.keys("down", "space", "ctrl+n", "ctrl+n", "y")
	a.wait("Saved revision 2")
	b.keys("down", "down", "space", "ctrl+n", "ctrl+n", "y")
	b.wait("Someone else saved revision 2")
	b.wait("Revision 2 by ana")
	b.keys("a")
	b.wait("Review changes against revision 2")
	b.keys("y")
	b.wait("Saved revision 3")
	d, _ := ts.db.District(store.DemoTenantID)
	if d.Revision != 3 || d.Settings.ManageGuardians || d.Settings.UnarchiveReappearingClassrooms {
		t.Fatalf("after both saves: revision %d %+v", d.Revision, d.Settings)
	}
	audit, _ := ts.db.Audit(store.DemoTenantID)
	if audit[1].Actor.Key != "ana" || audit[2].Actor.Key != "ben" {
		t.Fatalf("audit actors: %+v / %+v", audit[1].Actor, audit[2].Actor)
	}
}

func TestIdleSessionIsClosedAndItsDraftKept(t *testing.T) {
	ts := startServer(t, func(o *Options) { o.IdleTimeout = 1500 * time.Millisecond })
	ana := ts.allow(t, "ana", store.RoleSpecialist)
	tm := ts.connect(t, ana, "ana", 80, 24)
	tm.wait("Choose a district")
	tm.keys("enter", "m", "enter", "enter", "enter")
	tm.wait("Allow sync to manage Guardians")
	tm.keys("down", "space")
	tm.wait("[ ] Allow sync to manage Guardians")
	tm.exit()
	draft, ok, err := ts.db.Draft("key:ana", store.DemoTenantID)
	if err != nil || !ok || draft.District.Settings.ManageGuardians || draft.Screen != "daily_sync" {
		t.Fatalf("draft after idle close: %v %+v %v", ok, draft, err)
	}
}

// panicky is a session model that panics on "!".
type panicky struct{ *wizard.Model }

func (p panicky) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	if k, ok := msg.(tea.KeyPressMsg); ok && k.String() == "!" {
		panic("boom")
	}
	_, cmd := p.Model.Update(msg)
	return p, cmd
}

func TestAPanicEndsOnlyItsSession(t *testing.T) {
	ts := startServer(t, func(o *Options) {
		o.newModel = func(opts wizard.Options) tea.Model { return panicky{wizard.New(opts)} }
	})
	ana := ts.allow(t, "ana", store.RoleSpecialist)
	ben := ts.allow(t, "ben", store.RoleSpecialist)
	a := ts.connect(t, ana, "ana", 80, 24)
	b := ts.connect(t, ben, "ben", 80, 24)
	a.wait("Choose a district")
	b.wait("Choose a district")
	a.keys("!")
	if code := a.exit(); code == 0 {
		t.Fatal("the panicking session ended with status 0")
	}
	b.keys("enter")
	b.wait("Setup checklist")
	ts.waitLog(t, "session panicked")
	// New sessions still work.
	c := ts.connect(t, ana, "ana", 80, 24)
	c.wait("Choose a district")
}

func TestStopKeepsDraftsAndSaysGoodbye(t *testing.T) {
	ts := startServer(t, nil)
	ana := ts.allow(t, "ana", store.RoleSpecialist)
	tm := ts.connect(t, ana, "ana", 80, 24)
	tm.wait("Choose a district")
	tm.keys("enter", "m", "enter", "enter", "enter")
	tm.wait("Allow sync to manage Guardians")
	tm.keys("down", "space")
	tm.wait("[ ] Allow sync to manage Guardians")
	ts.stop()
	tm.exit()
	if _, ok, _ := ts.db.Draft("key:ana", store.DemoTenantID); !ok {
		t.Fatal("stopping the server lost the session's draft")
	}
	if logs := ts.logs.String(); !strings.Contains(logs, "stopping") || !strings.Contains(logs, "stopped") {
		t.Fatalf("logs:\n%s", logs)
	}
}

// stoppedClock is a scheduler clock that stays at one instant.
type stoppedClock struct{ at time.Time }

func (c stoppedClock) Now() time.Time                     { return c.at }
func (stoppedClock) After(time.Duration) <-chan time.Time { return make(chan time.Time) }

func TestServeRunsTheDailySyncOfEnabledDistrictsOnly(t *testing.T) {
	savedAt := time.Date(2026, 11, 28, 7, 0, 0, 0, time.UTC) // 01:00 in Chicago
	clock := stoppedClock{at: savedAt.Add(90 * time.Minute)} // 02:30 in Chicago
	dir := t.TempDir()
	db, err := store.Open(filepath.Join(dir, "r.db"), store.Options{Clock: func() time.Time { return savedAt }})
	if err != nil {
		t.Fatal(err)
	}
	demo := store.NewDemoDistrict()
	dialer := &rsync.Dialer{Demo: classlinktest.SharedDemo}
	schools, err := rsync.Schools(t.Context(), dialer.Dial, demo)
	if err != nil || len(schools) == 0 {
		t.Fatal(schools, err)
	}
	demo.Schools = []string{schools[0].SourcedID}
	demo.Settings.EnableDailySync = true
	demo.Settings.DailyStart = "02:00"
	demo.Settings.TimeZone = "America/Chicago"
	if _, _, err := db.SaveDistrict(demo, 0, store.Actor{User: "ops"}, []string{store.NoteEnabledBeforeSelfCheck}); err != nil {
		t.Fatal(err)
	}
	off := demo
	off.TenantID, off.ApplicationID, off.Demo, off.Name = 99, 57, false, "Off"
	off.Settings.EnableDailySync = false
	if _, _, err := db.SaveDistrict(off, 0, store.Actor{User: "ops"}, nil); err != nil {
		t.Fatal(err)
	}
	db.Close()

	ts := startServer(t, func(o *Options) {
		o.DB.Close() // serve this test's database instead
		o.DB, _ = store.Open(filepath.Join(dir, "r.db"), store.Options{})
		o.NoSchedule = false
		o.Clock = clock
		o.Engine = &rsync.Engine{DB: o.DB, Now: clock.Now, Dial: dialer.Dial}
	})
	ts.waitLog(t, "daily sync")
	ts.stop()
	runs, _ := ts.srv.opts.DB.Runs(store.DemoTenantID)
	if len(runs) != 1 || runs[0].Trigger != store.TriggerSchedule || runs[0].Status != store.RunSucceeded || runs[0].Mode != store.ModeApply {
		t.Fatalf("demo runs = %+v", runs)
	}
	if off, _ := ts.srv.opts.DB.Runs(99); len(off) != 0 {
		t.Fatalf("a district with the daily sync off ran: %+v", off)
	}
	ts.srv.opts.DB.Close()
}

// Each session takes its colours from its own client: NO_COLOR or a dumb
// terminal get none, while another session at the same time keeps them.
func TestEachSessionGetsItsClientsColours(t *testing.T) {
	ts := startServer(t, nil)
	ana := ts.allow(t, "ana", store.RoleSpecialist)
	var plain, dumb, colour syncBuffer
	a := ts.connectWith(t, ana, "ana", 80, 24, "xterm-256color", map[string]string{"NO_COLOR": "1"}, &plain)
	b := ts.connectWith(t, ana, "ana", 80, 24, "xterm-256color", nil, &colour)
	c := ts.connectWith(t, ana, "ana", 80, 24, "dumb", nil, &dumb)
	for _, tm := range []*term{a, b, c} {
		tm.wait("Choose a district")
		tm.keys("enter")
		tm.wait("Setup checklist")
	}
	if strings.Contains(plain.String(), "\x1b[38;") || strings.Contains(dumb.String(), "\x1b[38;") {
		t.Fatal("a NO_COLOR or dumb session got colours")
	}
	if !strings.Contains(colour.String(), "\x1b[38;") {
		t.Fatal("the colour session got none")
	}
	if !strings.Contains(a.screen(), "› [ ] 1. Rostering app shared") {
		t.Fatalf("focus marker missing without colour:\n%s", a.screen())
	}
}
