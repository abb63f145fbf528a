package server

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"io"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"charm.land/log/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/vt"
	gossh "golang.org/x/crypto/ssh"

	"github.com/schoolstatus/rostersync/classlink/classlinktest"
	"github.com/schoolstatus/rostersync/store"
	rsync "github.com/schoolstatus/rostersync/sync"
)

// testServer is `rostersync serve` in-process on a random loopback port.
type testServer struct {
	srv    *Server
	db     *store.DB
	addr   string
	dir    string
	logs   *syncBuffer
	cancel context.CancelFunc
	done   chan error
}

type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func startServer(t testing.TB, tweak func(*Options)) *testServer {
	t.Helper()
	dir := t.TempDir()
	db, err := store.Open(filepath.Join(dir, "rostersync.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ts := &testServer{db: db, dir: dir, logs: &syncBuffer{}, done: make(chan error, 1)}
	ready := make(chan net.Addr, 1)
	opts := Options{
		Dialer:      &rsync.Dialer{Demo: classlinktest.SharedDemo},
		Listen:      "127.0.0.1:0",
		HostKeyPath: filepath.Join(dir, "host_ed25519"),
		DB:          db,
		AdminSocket: filepath.Join(dir, "rostersync.db.sock"),
		Log:         log.NewWithOptions(ts.logs, log.Options{}),
		Ready:       func(a net.Addr) { ready <- a },
	}
	opts.NoSchedule = true // the schedule's own test turns it on
	if tweak != nil {
		tweak(&opts)
	}
	srv, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	ts.srv = srv
	ctx, cancel := context.WithCancel(context.Background())
	ts.cancel = cancel
	go func() { ts.done <- srv.Serve(ctx) }()
	select {
	case a := <-ready:
		ts.addr = a.String()
	case err := <-ts.done:
		t.Fatal(err)
	}
	t.Cleanup(func() { ts.stop(); db.Close() })
	return ts
}

func (ts *testServer) stop() {
	if ts.cancel != nil {
		ts.cancel()
		<-ts.done
		ts.cancel = nil
	}
}

// waitLog waits for the server to log text (handlers log after the
// client already saw the session end).
func (ts *testServer) waitLog(t testing.TB, text string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if strings.Contains(ts.logs.String(), text) {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("the server never logged %q:\n%s", text, ts.logs.String())
}

// person is an SSH key on the access list.
type person struct {
	signer gossh.Signer
	key    store.AccessKey
}

func (ts *testServer) allow(t testing.TB, name, role string, districts ...int64) person {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	signer, _ := gossh.NewSignerFromKey(priv)
	sshPub, _ := gossh.NewPublicKey(pub)
	k, err := ParseAccessKey(name, string(gossh.MarshalAuthorizedKey(sshPub)), role, districts)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ts.db.AddAccess(k); err != nil {
		t.Fatal(err)
	}
	return person{signer: signer, key: k}
}

func (ts *testServer) clientConfig(user string, auth ...gossh.AuthMethod) *gossh.ClientConfig {
	want := ts.srv.HostKeyFingerprint()
	return &gossh.ClientConfig{
		User: user,
		Auth: auth,
		HostKeyCallback: func(_ string, _ net.Addr, key gossh.PublicKey) error {
			if gossh.FingerprintSHA256(key) != want {
				return io.ErrUnexpectedEOF
			}
			return nil
		},
		Timeout: 5 * time.Second,
	}
}

// term is one SSH session with a PTY, drawn by a terminal emulator that
// also answers the program's terminal queries, as a real terminal does.
type term struct {
	t      testing.TB
	client *gossh.Client
	sess   *gossh.Session
	stdin  io.WriteCloser
	emu    *vt.SafeEmulator
	ended  chan error
}

func (ts *testServer) connect(t testing.TB, p person, user string, w, h int) *term {
	t.Helper()
	return ts.connectWith(t, p, user, w, h, "xterm-256color", nil)
}

// connectWith also sets the terminal type and sends environment variables
// (as `ssh -o SetEnv=…` does); raw, when set, gets every byte the server sent.
func (ts *testServer) connectWith(t testing.TB, p person, user string, w, h int, termType string, env map[string]string, raw ...io.Writer) *term {
	t.Helper()
	client, err := gossh.Dial("tcp", ts.addr, ts.clientConfig(user, gossh.PublicKeys(p.signer)))
	if err != nil {
		t.Fatal(err)
	}
	return openTerm(t, client, termOpts{w: w, h: h, termType: termType, env: env, raw: raw})
}

// termOpts shape a session on a connection: the emulated screen is w×h;
// the PTY asks for ptyW×ptyH when set (a client may claim any size).
type termOpts struct {
	w, h, ptyW, ptyH int
	termType         string
	env              map[string]string
	raw              []io.Writer
}

func openTerm(t testing.TB, client *gossh.Client, o termOpts) *term {
	t.Helper()
	if o.termType == "" {
		o.termType = "xterm-256color"
	}
	if o.ptyW == 0 {
		o.ptyW, o.ptyH = o.w, o.h
	}
	w, h, env, raw := o.w, o.h, o.env, o.raw
	sess, err := client.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range env {
		if err := sess.Setenv(k, v); err != nil {
			t.Fatal(err)
		}
	}
	if err := sess.RequestPty(o.termType, o.ptyH, o.ptyW, gossh.TerminalModes{gossh.ECHO: 0}); err != nil {
		t.Fatal(err)
	}
	stdin, _ := sess.StdinPipe()
	stdout, _ := sess.StdoutPipe()
	emu := vt.NewSafeEmulator(w, h)
	tm := &term{t: t, client: client, sess: sess, stdin: stdin, emu: emu, ended: make(chan error, 1)}
	go io.Copy(io.MultiWriter(append([]io.Writer{emu}, raw...)...), stdout)
	go io.Copy(stdin, emu) // the emulator's answers to queries
	if err := sess.Shell(); err != nil {
		t.Fatal(err)
	}
	go func() { tm.ended <- sess.Wait() }()
	t.Cleanup(func() { client.Close() })
	return tm
}

var termKeys = map[string]string{
	"enter": "\r", "esc": "\x1b", "space": " ", "tab": "\t", "up": "\x1b[A", "down": "\x1b[B",
	"right": "\x1b[C", "left": "\x1b[D", "ctrl+c": "\x03", "ctrl+n": "\x0e", "ctrl+u": "\x15",
}

func (tm *term) keys(keys ...string) {
	for _, k := range keys {
		b, ok := termKeys[k]
		if !ok {
			b = k
		}
		if _, err := tm.stdin.Write([]byte(b)); err != nil {
			tm.t.Fatal(err)
		}
		if k == "esc" {
			time.Sleep(60 * time.Millisecond) // a lone ESC is told from a sequence by a pause
		}
	}
}

func (tm *term) screen() string { return ansi.Strip(tm.emu.Render()) }

func (tm *term) wait(text string) {
	tm.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if strings.Contains(tm.screen(), text) {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	tm.t.Fatalf("%q never appeared; the screen is:\n%s", text, tm.screen())
}

func (tm *term) resize(w, h int) {
	tm.emu.Resize(w, h)
	if err := tm.sess.WindowChange(h, w); err != nil {
		tm.t.Fatal(err)
	}
}

// exit waits for the session to end and returns its exit status.
func (tm *term) exit() int {
	tm.t.Helper()
	select {
	case err := <-tm.ended:
		if err == nil {
			return 0
		}
		if ee, ok := err.(*gossh.ExitError); ok {
			return ee.ExitStatus()
		}
		return -1
	case <-time.After(10 * time.Second):
		tm.t.Fatal("the session did not end")
		return -1
	}
}

// waitRaw waits for the bytes a session received to hold text: the copy
// into raw can trail the end of the session.
func waitRaw(t testing.TB, raw *syncBuffer, text string) string {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(raw.String(), text) {
		if time.Now().After(deadline) {
			t.Fatalf("the session never received %q; it ended with:\n%q", text, lastBytes(raw.String(), 400))
		}
		time.Sleep(10 * time.Millisecond)
	}
	return raw.String()
}
