package main

import (
	"bufio"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// serveProcess is `rostersync serve` as its own process.
type serveProcess struct {
	cmd  *exec.Cmd
	addr string
	logs *strings.Builder
	done chan struct{}
}

func startServe(t testing.TB, db, hostKey string) *serveProcess {
	t.Helper()
	cmd := exec.Command(binary(t), "serve", "--db", db, "--host-key", hostKey, "--listen", "127.0.0.1:0")
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &serveProcess{cmd: cmd, logs: &strings.Builder{}, done: make(chan struct{})}
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
	term.keys("Enter")
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
