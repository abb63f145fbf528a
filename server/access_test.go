package server

import (
	"crypto/ed25519"
	"crypto/rand"
	"os"
	"os/user"
	"path/filepath"
	"strings"
	"testing"
	"time"

	gossh "golang.org/x/crypto/ssh"

	"github.com/schoolstatus/rostersync/store"
)

func TestRemovingAKeyEndsItsOpenSessionsKeepingTheirDrafts(t *testing.T) {
	ts := startServer(t, nil)
	ana := ts.allow(t, "ana", store.RoleSpecialist)
	ben := ts.allow(t, "ben", store.RoleSpecialist)
	var raw syncBuffer
	a := ts.connectWith(t, ana, "ana", 80, 24, "", nil, &raw)
	b := ts.connect(t, ben, "ben", 80, 24)
	a.wait("Choose a district")
	b.wait("Choose a district")
	a.keys("enter", "m", "enter", "enter", "enter")
	a.wait("Allow sync to manage Guardians")
	a.keys("down", "space")
	a.wait("[ ] Allow sync to manage Guardians")

	if _, err := AskServer(filepath.Join(ts.dir, "rostersync.db.sock"), AdminRequest{Op: "remove", Name: "ana"}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-a.ended:
	case <-time.After(5 * time.Second):
		t.Fatal("the removed key's session was still open 5s later")
	}
	out := waitRaw(t, &raw, "no longer on rostersync's access list")
	if !strings.Contains(out, ana.key.Fingerprint) {
		t.Fatalf("the message does not name the key:\n%q", lastBytes(out, 400))
	}
	assertTerminalRestored(t, out)
	draft, ok, _ := ts.db.Draft("key:ana", store.DemoTenantID)
	if !ok || draft.District.Settings.ManageGuardians {
		t.Fatalf("the revoked session's draft was not kept: %v %+v", ok, draft.District.Settings)
	}
	// The connection is closed too: it cannot open another session.
	if _, err := a.client.NewSession(); err == nil {
		t.Fatal("the removed key's connection could still open a session")
	}
	ts.waitLog(t, "access removed: ending the session")
	if !strings.Contains(ts.logs.String(), "fingerprint="+ana.key.Fingerprint) {
		t.Fatalf("the log does not name the fingerprint:\n%s", ts.logs)
	}
	// Other people's sessions go on.
	b.keys("enter")
	b.wait("Setup checklist")
}

// Narrowing a key's districts closes a district it may no longer open (the
// draft is kept) and drops the session to the Dropdown with a message; the
// session itself goes on with what is still allowed.
func TestNarrowingAKeyTakesAwayDistrictsInOpenSessions(t *testing.T) {
	ts := startServer(t, nil)
	for _, d := range []store.District{store.NewDistrict(11, 1, "Clark County"), store.NewDistrict(12, 1, "Washoe County")} {
		if _, _, err := ts.db.SaveDistrict(d, 0, store.Actor{User: "ops"}, nil); err != nil {
			t.Fatal(err)
		}
	}
	dana := ts.allow(t, "dana", store.RoleDistrict, 11, 12)
	tm := ts.connect(t, dana, "dana", 80, 24)
	tm.wait("Washoe County")
	tm.keys("/", "Washoe", "enter", "enter") // filter, done, open
	tm.wait("Setup checklist")
	tm.keys("m", "enter", "enter", "enter")
	tm.wait("Allow sync to manage Guardians")
	tm.keys("down", "space")
	tm.wait("[ ] Allow sync to manage Guardians")

	keys, err := AskServer(filepath.Join(ts.dir, "rostersync.db.sock"), AdminRequest{Op: "update", Name: "dana", Key: store.AccessKey{Districts: []int64{11}}})
	if err != nil || len(keys) != 1 || len(keys[0].Districts) != 1 || keys[0].Districts[0] != 11 {
		t.Fatalf("update: %+v %v", keys, err)
	}
	tm.wait("you can no longer open district 12")
	tm.wait("Clark County")
	if s := tm.screen(); strings.Contains(s, "Washoe County") {
		t.Fatalf("the dropdown still offers the district taken away:\n%s", s)
	}
	if _, ok, _ := ts.db.Draft("key:dana", 12); !ok {
		t.Fatal("the unsaved changes to the district taken away were not kept")
	}
	tm.keys("/", "Clark", "enter", "enter")
	tm.wait("Setup checklist")
	tm.keys("ctrl+c")
	if code := tm.exit(); code != 0 {
		t.Fatalf("exit status %d", code)
	}
	ts.waitLog(t, "access changed")
}

// The admin socket works out a key's fingerprint from the key it is sent
// and records who added it from the socket's peer, not from the request.
func TestTheAdminSocketTrustsNothingButTheKey(t *testing.T) {
	ts := startServer(t, nil)
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	sshPub, _ := gossh.NewPublicKey(pub)
	signer, _ := gossh.NewSignerFromKey(priv)
	_, otherPub, _ := ed25519.GenerateKey(rand.Reader)
	other, _ := gossh.NewPublicKey(otherPub.Public().(ed25519.PublicKey))
	lie := store.AccessKey{Name: "mallory", Key: strings.TrimSpace(string(gossh.MarshalAuthorizedKey(sshPub))), Role: store.RoleSpecialist,
		Fingerprint: gossh.FingerprintSHA256(other), AddedBy: "someone.else", AddedAt: time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC)}
	keys, err := AskServer(filepath.Join(ts.dir, "rostersync.db.sock"), AdminRequest{Op: "add", Key: lie})
	if err != nil {
		t.Fatal(err)
	}
	stored, ok, err := ts.db.AccessByFingerprint(gossh.FingerprintSHA256(sshPub))
	if err != nil || !ok {
		t.Fatalf("the key is not stored under its own fingerprint: %v %v", ok, err)
	}
	if _, ok, _ := ts.db.AccessByFingerprint(lie.Fingerprint); ok {
		t.Fatal("the fingerprint sent with the key was stored")
	}
	me, _ := user.Current()
	if stored.AddedBy != me.Username || keys[0].AddedBy != me.Username {
		t.Fatalf("added_by = %q, want the socket peer's account %q", stored.AddedBy, me.Username)
	}
	if stored.AddedAt.Year() == 2001 {
		t.Fatal("the time sent with the key was stored")
	}
	// The key logs in by what it is.
	tm := ts.connect(t, person{signer: signer}, "mallory", 80, 24)
	tm.wait("Choose a district")
}

// What people read as who did it is the key's access name, not the SSH
// user name the client typed.
func TestScreensShowTheAccessNameNotTheSSHUser(t *testing.T) {
	ts := startServer(t, nil)
	ana := ts.allow(t, "ana.lopez", store.RoleSpecialist)
	tm := ts.connect(t, ana, "ben", 80, 24) // ana's key, another person's user name
	tm.wait("rostersync · ana.lopez")
	tm.keys("enter")
	tm.wait("Setup checklist")
	tm.keys("space") // mark step 1 done: the checklist names who
	tm.keys("m", "enter", "enter", "enter")
	tm.wait("Allow sync to manage Guardians")
	tm.keys("down", "space", "ctrl+n", "ctrl+n", "y")
	tm.wait("saved by ana.lopez (key")
	tm.wait("(ana.lopez, just now)")
	if s := tm.screen(); strings.Contains(s, "ben") {
		t.Fatalf("the typed SSH user is shown:\n%s", s)
	}
	tm.keys("m", "down", "down", "down", "down", "enter")
	tm.wait("Sync history")
	tm.wait("revision 2 by ana.lopez")
	// The audit keeps both.
	audit, _ := ts.db.Audit(store.DemoTenantID)
	last := audit[len(audit)-1].Actor
	if last.User != "ben" || last.Key != "ana.lopez" || last.Name() != "ana.lopez" {
		t.Fatalf("audit actor = %+v", last)
	}
}

// The first start creates the host key 0600 and leaves the mode of the
// folder it is in alone (a shared 1777 folder stays 1777).
func TestTheHostKeyFolderIsNotTouched(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "shared")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o777|os.ModeSticky); err != nil {
		t.Fatal(err)
	}
	key := filepath.Join(dir, "host_ed25519")
	first := startServer(t, func(o *Options) { o.HostKeyPath = key })
	st, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode()&(os.ModePerm|os.ModeSticky) != 0o777|os.ModeSticky {
		t.Fatalf("the folder holding the host key is now %v, was drwxrwxrwt", st.Mode())
	}
	kst, _ := os.Stat(key)
	if kst.Mode().Perm() != 0o600 {
		t.Fatalf("host key mode %v", kst.Mode().Perm())
	}
	raw, _ := os.ReadFile(key + ".pub")
	pub, _, _, _, err := gossh.ParseAuthorizedKey(raw)
	if err != nil || gossh.FingerprintSHA256(pub) != first.srv.HostKeyFingerprint() {
		t.Fatalf("host_ed25519.pub does not hold the host key: %v", err)
	}
	// A folder that does not exist yet is made private.
	fresh := filepath.Join(t.TempDir(), "new", "keys", "hk")
	startServer(t, func(o *Options) { o.HostKeyPath = fresh })
	if st, err := os.Stat(filepath.Dir(fresh)); err != nil || st.Mode().Perm() != 0o700 {
		t.Fatalf("a new key folder: %v %v", st.Mode(), err)
	}
}
