package server

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	gossh "golang.org/x/crypto/ssh"

	"github.com/schoolstatus/rostersync/store"
	"github.com/schoolstatus/rostersync/wizard"
)

// sizeSpy records every window size its session's model is given.
type sizeSpy struct {
	*wizard.Model
	mu    *sync.Mutex
	sizes *[]tea.WindowSizeMsg
}

func (s sizeSpy) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	if w, ok := msg.(tea.WindowSizeMsg); ok {
		s.mu.Lock()
		*s.sizes = append(*s.sizes, w)
		s.mu.Unlock()
	}
	_, cmd := s.Model.Update(msg)
	return s, cmd
}

// A client may claim any window. Every way a size reaches the session (the
// PTY request, a window change, a size report typed into the input) is
// clamped to 400×200, so one client cannot make the server allocate
// gigabytes of screen.
func TestAHugeWindowIsClampedOnEveryPath(t *testing.T) {
	var mu sync.Mutex
	var sizes []tea.WindowSizeMsg
	ts := startServer(t, func(o *Options) {
		o.newModel = func(opts wizard.Options) tea.Model { return sizeSpy{wizard.New(opts), &mu, &sizes} }
	})
	ana := ts.allow(t, "ana", store.RoleSpecialist)
	client, err := gossh.Dial("tcp", ts.addr, ts.clientConfig("ana", gossh.PublicKeys(ana.signer)))
	if err != nil {
		t.Fatal(err)
	}
	// The emulator draws what the server sends at the clamped 400×200 (a
	// smaller one breaks on the renderer's line moves below its last row);
	// the PTY claims 4000×2000.
	tm := openTerm(t, client, termOpts{w: 400, h: 200, ptyW: 4000, ptyH: 2000})
	tm.wait("Choose a district")
	if err := tm.sess.WindowChange(3000, 5000); err != nil {
		t.Fatal(err)
	}
	tm.keys("\x1b[8;1000;1000t") // an xterm window-size report: 1000×1000 cells
	seen := func() []tea.WindowSizeMsg {
		mu.Lock()
		defer mu.Unlock()
		return append([]tea.WindowSizeMsg(nil), sizes...)
	}
	deadline := time.Now().Add(5 * time.Second)
	for len(seen()) < 3 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	got := seen()
	if len(got) < 3 {
		t.Fatalf("the model saw %d sizes, want the PTY's, the window change's and the report's: %v", len(got), got)
	}
	for _, s := range got {
		if s.Width != 400 || s.Height != 200 {
			t.Fatalf("the model was given %dx%d, want every size clamped to 400x200: %v", s.Width, s.Height, got)
		}
	}
	tm.keys("ctrl+c")
	tm.exit()
	ts.waitLog(t, "window clamped")
}

// rawConn opens a TCP connection that never starts the SSH handshake and
// says whether the server admitted it: an admitted connection gets the
// server's version line, a refused one is closed at once.
func rawConn(t *testing.T, addr string) (net.Conn, bool) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetReadDeadline(time.Now().Add(3 * time.Second))
	line, err := bufio.NewReader(c).ReadString('\n')
	c.SetReadDeadline(time.Time{})
	if err != nil {
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			t.Fatal("the server neither answered nor closed the connection")
		}
		return c, false
	}
	return c, strings.HasPrefix(line, "SSH-2.0-")
}

// closedWithin says whether the server closes c within d.
func closedWithin(c net.Conn, d time.Duration) bool {
	c.SetReadDeadline(time.Now().Add(d))
	buf := make([]byte, 512)
	for {
		if _, err := c.Read(buf); err != nil {
			var ne net.Error
			return !(errors.As(err, &ne) && ne.Timeout())
		}
	}
}

func TestAConnectionThatNeverLogsInIsClosedAtTheHandshakeDeadline(t *testing.T) {
	ts := startServer(t, func(o *Options) { o.HandshakeTimeout = 300 * time.Millisecond })
	c, ok := rawConn(t, ts.addr)
	if !ok {
		t.Fatal("the connection was not admitted")
	}
	if !closedWithin(c, 5*time.Second) {
		t.Fatal("a connection that never logged in was still open 5s after a 300ms handshake deadline")
	}
	// A slow but real login within the deadline still works.
	ana := ts.allow(t, "ana", store.RoleSpecialist)
	tm := ts.connect(t, ana, "ana", 80, 24)
	tm.wait("Choose a district")
}

func TestConnectionsNotLoggedInAreCapped(t *testing.T) {
	ts := startServer(t, func(o *Options) { o.MaxUnauthenticated = 2; o.HandshakeTimeout = time.Minute })
	ana := ts.allow(t, "ana", store.RoleSpecialist)
	// Logged-in connections do not count against the cap.
	a := ts.connect(t, ana, "ana", 80, 24)
	b := ts.connect(t, ana, "ana", 80, 24)
	a.wait("Choose a district")
	b.wait("Choose a district")
	first, ok1 := rawConn(t, ts.addr)
	_, ok2 := rawConn(t, ts.addr)
	if !ok1 || !ok2 {
		t.Fatal("the first two connections that have not logged in were refused")
	}
	if _, ok := rawConn(t, ts.addr); ok {
		t.Fatal("a third connection that has not logged in was admitted over a cap of 2")
	}
	if _, err := gossh.Dial("tcp", ts.addr, ts.clientConfig("ana", gossh.PublicKeys(ana.signer))); err == nil {
		t.Fatal("a login got in while the cap was full")
	}
	ts.waitLog(t, "too many connections have not logged in yet")
	// A place frees up when a waiting connection goes away.
	first.Close()
	deadline := time.Now().Add(5 * time.Second)
	for {
		client, err := gossh.Dial("tcp", ts.addr, ts.clientConfig("ana", gossh.PublicKeys(ana.signer)))
		if err == nil {
			client.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no login got in after a waiting connection left: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestOneAddressIsRateLimited(t *testing.T) {
	ts := startServer(t, func(o *Options) { o.RateLimit = 0.001; o.RateBurst = 3 })
	ana := ts.allow(t, "ana", store.RoleSpecialist)
	// Sessions: one connection opening sessions one after another.
	client, err := gossh.Dial("tcp", ts.addr, ts.clientConfig("ana", gossh.PublicKeys(ana.signer)))
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	var outs []string
	for range 4 {
		sess, err := client.NewSession()
		if err != nil {
			t.Fatal(err)
		}
		out, _ := sess.CombinedOutput("")
		outs = append(outs, strings.TrimSpace(string(out)))
	}
	for i, out := range outs[:3] {
		if out != "rostersync needs a terminal: connect with ssh -t" {
			t.Fatalf("session %d: %q", i+1, out)
		}
	}
	if !strings.Contains(outs[3], "rate limit exceeded") {
		t.Fatalf("the 4th session in a burst of 3 was not refused: %q", outs[3])
	}
	// Connections: the first one above and two more are the burst; the
	// 4th is closed before its handshake.
	for i := range 2 {
		if _, ok := rawConn(t, ts.addr); !ok {
			t.Fatalf("connection %d of a burst of 3 was refused", i+2)
		}
	}
	if _, ok := rawConn(t, ts.addr); ok {
		t.Fatal("a 4th connection in a burst of 3 was admitted")
	}
	ts.waitLog(t, "too many from this address")
}

// Idle means nobody typed: keystrokes keep a session open, keepalives
// (ServerAliveInterval) do not. The session leaves the client's terminal
// as it found it and says why it ended.
func TestKeepalivesDoNotKeepAnIdleSessionOpen(t *testing.T) {
	ts := startServer(t, func(o *Options) { o.IdleTimeout = time.Second })
	ana := ts.allow(t, "ana", store.RoleSpecialist)
	var raw syncBuffer
	tm := ts.connectWith(t, ana, "ana", 80, 24, "", nil, &raw)
	tm.wait("Choose a district")
	tm.keys("enter", "m", "enter", "enter", "enter")
	tm.wait("Allow sync to manage Guardians")
	tm.keys("down", "space") // a change: the draft to keep
	// Typing keeps it open well past the idle timeout.
	for range 8 {
		time.Sleep(300 * time.Millisecond)
		tm.keys("down")
	}
	select {
	case err := <-tm.ended:
		t.Fatalf("a session someone typed in was closed: %v", err)
	default:
	}
	// Keepalives alone do not.
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		for {
			select {
			case <-stop:
				return
			case <-time.After(100 * time.Millisecond):
				tm.client.SendRequest("keepalive@openssh.com", true, nil)
			}
		}
	}()
	select {
	case <-tm.ended:
	case <-time.After(6 * time.Second):
		t.Fatal("keepalives kept a session nobody typed in open past the idle timeout")
	}
	out := waitRaw(t, &raw, "nothing was typed for 1s. Your unsaved changes are kept as a draft")
	assertTerminalRestored(t, out)
	if _, ok, _ := ts.db.Draft("key:ana", store.DemoTenantID); !ok {
		t.Fatal("the idle session's draft was not kept")
	}
	ts.waitLog(t, "reason=idle")
}

// assertTerminalRestored checks the last thing the server did to the
// terminal was to leave the alternate screen and show the cursor.
func assertTerminalRestored(t *testing.T, out string) {
	t.Helper()
	if strings.LastIndex(out, "\x1b[?1049h") > strings.LastIndex(out, "\x1b[?1049l") {
		t.Fatalf("the client was left in the alternate screen:\n%q", lastBytes(out, 400))
	}
	if strings.LastIndex(out, "\x1b[?25l") > strings.LastIndex(out, "\x1b[?25h") {
		t.Fatalf("the client's cursor was left hidden:\n%q", lastBytes(out, 400))
	}
}

func lastBytes(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return fmt.Sprintf("…%s", s[len(s)-n:])
}

// A client that starts a paste and never ends it is cut off at maxPaste:
// the wizard sees the paste end, the rest is dropped until the client's
// own end, and the session goes on.
func TestAPasteThatNeverEndsIsCutAndTheSessionGoesOn(t *testing.T) {
	ts := startServer(t, nil)
	ana := ts.allow(t, "ana.lopez", store.RoleSpecialist)
	tm := ts.connect(t, ana, "ana", 200, 30)
	tm.wait("Choose a district")
	tm.keys("/", "\x1b[200~"+strings.Repeat("y", maxPaste+2<<10)) // no end
	waitLong(tm, `No district matches "`+strings.Repeat("y", 100)+`"`)
	tm.keys("more of the paste, dropped", "\x1b[201~", "ctrl+u", "zq")
	tm.wait(`No district matches "zq"`)
}

// One key opens at most MaxSessionsPerKey sessions at once, whatever
// addresses it comes from; another key is not held back by it.
func TestOneKeyHasAtMostItsShareOfSessions(t *testing.T) {
	ts := startServer(t, func(o *Options) { o.MaxSessionsPerKey = 2 })
	ana := ts.allow(t, "ana.lopez", store.RoleSpecialist)
	ben := ts.allow(t, "ben.ito", store.RoleSpecialist)
	first := ts.connect(t, ana, "ana", 80, 24)
	first.wait("Choose a district")
	second := ts.connect(t, ana, "ana", 80, 24)
	second.wait("Choose a district")
	third := ts.connect(t, ana, "ana", 80, 24)
	third.wait("this key already has 2 rostersync sessions open")
	if code := third.exit(); code == 0 {
		t.Fatal("the refused session ended with status 0")
	}
	ts.waitLog(t, "too many sessions for the key")
	other := ts.connect(t, ben, "ben", 80, 24)
	other.wait("Choose a district")

	first.keys("ctrl+c")
	first.exit()
	again := ts.connect(t, ana, "ana", 80, 24)
	again.wait("Choose a district")
}
