package main

import (
	"bufio"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/vt"
	gossh "golang.org/x/crypto/ssh"

	"github.com/schoolstatus/rostersync/classlink/classlinktest"
	"github.com/schoolstatus/rostersync/server"
)

// serveProcess is `rostersync serve` as its own process.
type serveProcess struct {
	cmd  *exec.Cmd
	addr string
	logs *serveLog
	done chan struct{}
}

// serveLog is the server's stderr so far, safe to read while it runs.
type serveLog struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *serveLog) WriteString(s string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.b.WriteString(s)
}

func (l *serveLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// waitLog waits for the server to log text.
func (s *serveProcess) waitLog(t testing.TB, text string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(s.logs.String(), text) {
		if time.Now().After(deadline) {
			t.Fatalf("the server never logged %q:\n%s", text, s.logs)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func startServe(t testing.TB, db, hostKey string, flags ...string) *serveProcess {
	t.Helper()
	return startServeEnv(t, nil, db, hostKey, flags...)
}

// startServeEnv also gives the server extra environment variables.
func startServeEnv(t testing.TB, env []string, db, hostKey string, flags ...string) *serveProcess {
	t.Helper()
	cmd := exec.Command(binary(t), append([]string{"serve", "--db", db, "--host-key", hostKey, "--listen", "127.0.0.1:0"}, flags...)...)
	cmd.Env = append(os.Environ(), env...)
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &serveProcess{cmd: cmd, logs: &serveLog{}, done: make(chan struct{})}
	addrs := make(chan string, 1)
	go func() {
		defer close(s.done)
		sc := bufio.NewScanner(stderr)
		re := regexp.MustCompile(`address=(\S+)`)
		for sc.Scan() {
			s.logs.WriteString(sc.Text() + "\n")
			if m := re.FindStringSubmatch(sc.Text()); m != nil {
				addrs <- m[1]
			}
		}
		io.Copy(io.Discard, stderr)
	}()
	select {
	case s.addr = <-addrs:
	case <-time.After(15 * time.Second):
		t.Fatal("serve did not start listening")
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	return s
}

// stop sends SIGTERM and waits for a clean exit.
func (s *serveProcess) stop(t testing.TB) {
	t.Helper()
	s.cmd.Process.Signal(syscall.SIGTERM)
	<-s.done
	if err := s.cmd.Wait(); err != nil {
		t.Fatalf("serve exited with %v\n%s", err, s.logs)
	}
}

func TestEndToEndOpenSSHClient(t *testing.T) {
	if _, err := exec.LookPath("ssh"); err != nil {
		t.Fatal("the OpenSSH client is required for this test (.ci/run installs openssh-client): ", err)
	}
	dir := t.TempDir()
	db := filepath.Join(dir, "rostersync.db")
	hostKey := filepath.Join(dir, "host_ed25519")
	id := filepath.Join(dir, "id_ana")
	if out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "ana@laptop", "-f", id).CombinedOutput(); err != nil {
		t.Fatalf("ssh-keygen: %v %s", err, out)
	}
	pub, _ := os.ReadFile(id + ".pub")
	if out, code := run(t, "", "access", "add", "--db", db, "--name", "ana", "--key", string(pub), "--role", "specialist"); code != 0 {
		t.Fatalf("access add: %s", out)
	}
	fpOut, _ := exec.Command("ssh-keygen", "-l", "-E", "sha256", "-f", id+".pub").Output()
	fingerprint := strings.Fields(string(fpOut))[1]

	srv := startServe(t, db, hostKey)
	host, port, _ := strings.Cut(srv.addr, ":")
	knownHosts := filepath.Join(dir, "known_hosts")
	sshArgs := func(strict string) []string {
		return []string{"ssh", "-tt", "-i", id, "-p", port, "-o", "IdentitiesOnly=yes", "-o", "StrictHostKeyChecking=" + strict,
			"-o", "UserKnownHostsFile=" + knownHosts, "-o", "HostKeyAlias=rostersync-e2e", "-o", "PasswordAuthentication=no", "ana@" + host}
	}

	// While the server runs: the CLI fails fast, access changes go through.
	if out, code := run(t, "", "config", "show", "--district", "2", "--db", db); code == 0 || !strings.Contains(out, "in use by another rostersync process") {
		t.Fatalf("config show while serving: %d %s", code, out)
	}
	if out, code := run(t, "", "access", "list", "--db", db); code != 0 || !strings.Contains(out, fingerprint) {
		t.Fatalf("access list while serving: %d %s", code, out)
	}

	term := startTerminal(t, 80, 24, []string{"TERM=xterm-256color"}, sshArgs("accept-new")...)
	term.wait("Choose a district")
	term.keys("Enter")
	term.wait("Setup checklist")
	term.keys("m", "Enter", "Enter", "Enter")
	term.wait("District-Level Daily Sync")
	term.keys("Down", "Space", "C-n")
	term.wait("Permissions for synced staff")
	term.keys("C-n")
	term.wait("Save as revision 2?")
	term.keys("y")
	term.wait("Saved revision 2")
	term.keys("C-c")
	term.wait("[exited 0]")
	srv.stop(t)
	for _, want := range []string{"connected", "disconnected", "fingerprint=" + fingerprint, "stopped"} {
		if !strings.Contains(srv.logs.String(), want) {
			t.Errorf("server log lacks %q:\n%s", want, srv.logs)
		}
	}

	// The saved revision names the SSH user and key.
	out, code := run(t, "", "history", "--district", "2", "--json", "--db", db)
	if code != 0 {
		t.Fatal(out)
	}
	var items []struct {
		Kind     string `json:"kind"`
		Revision int    `json:"revision"`
		Actor    struct{ User, Fingerprint, Key, Via string }
	}
	if err := json.Unmarshal([]byte(out), &items); err != nil {
		t.Fatal(err, out)
	}
	if items[0].Revision != 2 || items[0].Actor.User != "ana" || items[0].Actor.Fingerprint != fingerprint || items[0].Actor.Via != "ssh" {
		t.Fatalf("history: %+v", items[0])
	}

	// The host key is reused: a strict client still trusts the restarted server.
	srv = startServe(t, db, hostKey)
	_, port, _ = strings.Cut(srv.addr, ":")
	again := startTerminal(t, 80, 24, nil, sshArgs("yes")...)
	again.wait("Choose a district")
	again.keys("C-c")
	again.wait("[exited 0]")

	// No PTY: a one-line message and a failing exit status.
	noPTY := exec.Command("ssh", "-T", "-i", id, "-p", port, "-o", "IdentitiesOnly=yes", "-o", "StrictHostKeyChecking=yes",
		"-o", "UserKnownHostsFile="+knownHosts, "-o", "HostKeyAlias=rostersync-e2e", "ana@"+host)
	msg, err := noPTY.CombinedOutput()
	if err == nil || !strings.Contains(string(msg), "rostersync needs a terminal") {
		t.Fatalf("without a PTY: %v %q", err, msg)
	}
	srv.stop(t)
}

// sshTerm is one SSH session from Go's client, drawn by a terminal
// emulator that also answers the program's queries.
type sshTerm struct {
	t      *testing.T
	client *gossh.Client
	stdin  io.Writer
	emu    *vt.SafeEmulator
}

func dialTerm(t *testing.T, addr string, signer gossh.Signer, w, h int) *sshTerm {
	t.Helper()
	client, err := gossh.Dial("tcp", addr, &gossh.ClientConfig{User: "e2e", Auth: []gossh.AuthMethod{gossh.PublicKeys(signer)},
		HostKeyCallback: gossh.InsecureIgnoreHostKey(), Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close() })
	sess, err := client.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	if err := sess.RequestPty("xterm-256color", h, w, gossh.TerminalModes{}); err != nil {
		t.Fatal(err)
	}
	stdin, _ := sess.StdinPipe()
	stdout, _ := sess.StdoutPipe()
	emu := vt.NewSafeEmulator(w, h)
	go io.Copy(emu, stdout)
	go io.Copy(stdin, emu)
	if err := sess.Shell(); err != nil {
		t.Fatal(err)
	}
	return &sshTerm{t: t, client: client, stdin: stdin, emu: emu}
}

func (st *sshTerm) keys(keys ...string) {
	for _, k := range keys {
		st.stdin.Write([]byte(k))
	}
}

func (st *sshTerm) wait(text string) {
	st.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		if strings.Contains(ansi.Strip(st.emu.Render()), text) {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	st.t.Fatalf("%q never appeared; the screen is:\n%s", text, ansi.Strip(st.emu.Render()))
}

// The real server, SIGTERM'd after a session that started "Run sync now"
// lost its connection mid-run: it cancels the run, says so, records it,
// and exits within --shutdown-grace plus the bounded wait.
func TestEndToEndSIGTERMAfterADroppedSessionMidRun(t *testing.T) {
	roster, err := classlinktest.NewServer(classlinktest.ServerOptions{Tenants: []classlinktest.Tenant{{
		TenantID: 77, ApplicationID: 7, Name: "Pinecrest Unified", ConsumerKey: "pine-key", ConsumerSecret: "pine-secret", District: classlinktest.DemoDistrict()}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(roster.Close) // after the server is killed: it may hold a request open
	// Over SSH the server reaches only https rosters: serve this one with
	// TLS, trusted by the server through SSL_CERT_FILE.
	tlsRoster := httptest.NewTLSServer(roster)
	t.Cleanup(tlsRoster.Close)
	dir := t.TempDir()
	certFile := filepath.Join(dir, "roster.pem")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: tlsRoster.Certificate().Raw}), 0o600)
	env := []string{"SSL_CERT_FILE=" + certFile}

	db := filepath.Join(dir, "rostersync.db")
	cfg := fmt.Sprintf(`{"tenant_id": 77, "application_id": 7, "name": "Pinecrest Unified",
 "settings": {"enable_daily_sync": false, "manage_guardians": true, "unarchive_reappearing_classrooms": true,
   "update_active_user_contacts": false, "deletion_threshold_percent": 10, "daily_start": "02:00", "time_zone": "America/Chicago"},
 "permissions": {"district_admin": [], "school_admin": [], "teacher": [], "support_staff": []},
 "connection": {"mode": "oauth1", "base_url": %q, "client_id": "pine-key", "client_secret": "pine-secret", "signature_method": "HMAC-SHA256"},
 "schools": [%q]}`, tlsRoster.URL+classlinktest.OneRosterPath, roster.Tenant(7).District.SchoolID(0))
	if out, code := runEnv(t, env, cfg, "config", "import", "--district", "77", "-", "--db", db); code != 0 {
		t.Fatal(out)
	}
	if out, code := runEnv(t, env, "", "sync", "--dry-run", "--district", "77", "--db", db); code != 0 {
		t.Fatalf("the preview that Run sync now needs: %s", out)
	}
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	signer, _ := gossh.NewSignerFromKey(priv)
	sshPub, _ := gossh.NewPublicKey(pub)
	if out, code := run(t, "", "access", "add", "--db", db, "--name", "ana", "--key", string(gossh.MarshalAuthorizedKey(sshPub)), "--role", "specialist"); code != 0 {
		t.Fatal(out)
	}
	// The connection probe's users request goes through; the run's pull waits.
	roster.Inject(classlinktest.Fault{Kind: classlinktest.FaultDelay, Endpoint: "users", Skip: 1, Delay: time.Minute})

	const grace = time.Second
	srv := startServeEnv(t, env, db, filepath.Join(dir, "hk"), "--shutdown-grace", grace.String(),
		"--roster-hosts", "127.0.0.1", "--roster-allow-net", "127.0.0.0/8") // the roster is on loopback here
	term := dialTerm(t, srv.addr, signer, 80, 24)
	term.wait("Choose a district")
	term.keys("/", "Pinecrest", "\r", "\r") // filter, done, open
	term.wait("Setup checklist")
	term.keys("m", "\x1b[B", "\x1b[B", "\x1b[B", "\r")
	term.wait("Apply it now?")
	term.keys("y")
	term.wait("Pulling…")
	term.client.Close() // the link drops mid-run
	srv.waitLog(t, "reason=dropped")

	began := time.Now()
	srv.cmd.Process.Signal(syscall.SIGTERM)
	<-srv.done
	err = srv.cmd.Wait()
	took := time.Since(began)
	t.Logf("SIGTERM to exit: %s", took.Round(time.Millisecond))
	if err != nil {
		t.Fatalf("serve exited with %v\n%s", err, srv.logs)
	}
	if bound := grace + server.StopWait; took > bound+3*time.Second {
		t.Fatalf("serve took %s to exit, over --shutdown-grace plus the bounded wait (%s)\n%s", took, bound, srv.logs)
	}
	for _, want := range []string{"reason=dropped", "cancelled a sync in progress", "district=77", "mode=apply", "stopped"} {
		if !strings.Contains(srv.logs.String(), want) {
			t.Errorf("the server log lacks %q:\n%s", want, srv.logs)
		}
	}
	out, code := run(t, "", "history", "--district", "77", "--json", "--db", db)
	var items []struct {
		Kind    string `json:"kind"`
		Mode    string `json:"mode"`
		Message string `json:"message"`
	}
	if err := json.Unmarshal([]byte(out), &items); err != nil || code != 0 {
		t.Fatal(err, out)
	}
	if len(items) == 0 || items[0].Kind != "run" || items[0].Mode != "apply" || !strings.HasPrefix(items[0].Message, "cancelled") {
		t.Fatalf("the newest history item is not the cancelled run: %+v", items)
	}
}
