package wizard

import (
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/schoolstatus/rostersync/guardians/sftptest"
	"github.com/schoolstatus/rostersync/screens"
	"github.com/schoolstatus/rostersync/store"
)

// sftpFolderDistrict saves district 4021 with srv as its pinned SFTP folder.
func sftpFolderDistrict(t *testing.T, d *driver, srv *sftptest.Server) {
	guardiansDistrict(t, d, func(dist *store.District) {
		dist.Guardians = store.GuardiansSource{Source: store.GuardiansSFTP, SFTP: store.SFTPFolder{Host: srv.Host, Port: srv.Port, User: srv.User,
			Password: srv.Password, Folder: "/in", HostKey: srv.HostKey}}
	})
}

// background runs cmd (and the commands of a batch) away from the model,
// as Bubble Tea does, and hands back the messages they end with.
func background(cmd tea.Cmd) <-chan tea.Msg {
	out := make(chan tea.Msg, 8)
	var run func(tea.Cmd)
	run = func(c tea.Cmd) {
		if c == nil {
			return
		}
		switch msg := c().(type) {
		case tea.BatchMsg:
			for _, c := range msg {
				run(c)
			}
		default:
			out <- msg
		}
	}
	go func() { run(cmd); close(out) }()
	return out
}

// messages waits for the SFTP reads and tests background hands back.
func messages(t *testing.T, ch <-chan tea.Msg, within time.Duration) []tea.Msg {
	t.Helper()
	var got []tea.Msg
	deadline := time.After(within)
	for {
		select {
		case msg, ok := <-ch:
			if !ok {
				return got
			}
			switch msg.(type) {
			case screens.GuardiansFileReadMsg, screens.SFTPTestedMsg:
				got = append(got, msg)
			}
		case <-deadline:
			t.Fatalf("still connecting after %s", within)
		}
	}
}

// Upload Guardians over SSH: one SFTP read at a time per session, and
// leaving the screen (esc) or ending the session cancels it at once; its
// result is dropped, never shown on a later screen.
func TestSFTPReadIsOnePerSessionAndEndsWithItsScreen(t *testing.T) {
	srv := sftptest.Start(t)
	srv.Put("/in/guardians.csv", []byte(strings.Repeat("x", 4000)))
	srv.Trickle(20 * time.Millisecond) // 80 s for the whole file
	d := newDriver(t, 80, 24)
	sftpFolderDistrict(t, d, srv)
	d = newDriverWith(t, d.db, Options{Actor: store.Actor{User: "ana", Via: "ssh"}}, 80, 24)
	d.toSISRostering()
	d.keys("down", "down", "down", "down", "enter")
	d.see("File: SFTP /in/guardians.csv")

	_, cmd := d.m.Update(keyPress("enter"))
	d.see("Reading the file…")
	reading := background(cmd)
	dist, _ := d.db.District(4021)
	again := messages(t, background(d.m.readGuardians(dist, "")), 5*time.Second)
	if len(again) != 1 || !strings.Contains(again[0].(screens.GuardiansFileReadMsg).Err.Error(), "this session is already connecting") {
		t.Fatalf("a second read while one is in flight: %+v", again)
	}
	start := time.Now()
	d.keys("esc")
	d.notSee("Reading the file…")
	if got := messages(t, reading, 5*time.Second); len(got) != 0 {
		t.Fatalf("a read whose screen was left still reported: %+v", got)
	}
	t.Logf("cancelled %s after esc", time.Since(start).Round(time.Millisecond))

	// Back on Upload Guardians a new read may start; ending the session
	// cancels it.
	d.keys("down", "down", "down", "down", "enter")
	_, cmd = d.m.Update(keyPress("enter"))
	reading = background(cmd)
	d.m.End()
	if got := messages(t, reading, 5*time.Second); len(got) != 0 {
		t.Fatalf("a read of an ended session still reported: %+v", got)
	}
	if cmd := d.m.readGuardians(dist, ""); cmd != nil {
		t.Fatal("an ended session starts a read")
	}
}

// A session may start TestsPerMinute connection tests a minute; the next
// is refused, saying when to try again, and connects nowhere.
func TestConnectionTestsAreLimitedPerSession(t *testing.T) {
	srv := sftptest.Start(t)
	srv.Put("/in/readme.txt", []byte("x"))
	d := newDriver(t, 80, 24)
	sftpFolderDistrict(t, d, srv)
	d = newDriverOn(t, d.db, store.Actor{User: "ana"}, 80, 24)
	d.toSISRostering()
	d.keys("down", "down", "down", "enter")
	for range 9 {
		d.keys("down")
	}
	for i := range TestsPerMinute {
		d.keys("enter")
		d.see("✓ connected to")
		if n := srv.Logins.Load(); n != int64(i+1) {
			t.Fatalf("test %d: %d logins", i+1, n)
		}
	}
	d.keys("enter")
	d.see("this session has started 5 connection tests in the last minute", "try again in 1m0s")
	if n := srv.Logins.Load(); n != TestsPerMinute {
		t.Fatalf("the refused test connected: %d logins", n)
	}
	// The minute over (the clock moves), a test may start again.
	later := fixedNow.Add(time.Minute)
	d.m.out.now = func() time.Time { return later }
	d.keys("enter")
	d.see("✓ connected to")
}
