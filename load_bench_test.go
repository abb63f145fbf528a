package main

import (
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/vt"
	gossh "golang.org/x/crypto/ssh"

	"github.com/schoolstatus/rostersync/server"
	"github.com/schoolstatus/rostersync/store"
)

// BenchmarkSSHLoad50 is the load check: 50 concurrent SSH sessions against
// the real `rostersync serve` process, each walking to the permissions
// matrix of its own district and saving. It reports the p50/p99
// keystroke-to-frame latency (key written → first frame bytes back), the
// server's RSS and the memory per session. Run:
//
//	go test -run '^$' -bench SSHLoad50 -benchtime 1x .
func BenchmarkSSHLoad50(b *testing.B) {
	const sessions = 50
	dir := b.TempDir()
	dbPath := filepath.Join(dir, "rostersync.db")
	db, err := store.Open(dbPath, store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	signer := allowSpecialist(b, db, "load")
	for i := 1; i <= sessions; i++ {
		if _, _, err := db.SaveDistrict(store.NewDistrict(int64(1000+i), 1, fmt.Sprintf("Load District %03d", i)), 0, store.Actor{User: "seed"}, nil); err != nil {
			b.Fatal(err)
		}
	}
	db.Close()

	for b.Loop() {
		// Fifty people at once from one address: lift the per-address
		// limits that would otherwise (rightly) refuse most of them.
		srv := startServe(b, dbPath, filepath.Join(dir, "hk"), "--rate-limit", "0", "--max-unauthenticated", "100", "--max-sessions-per-key", "100")
		idle := rssKB(srv.cmd.Process.Pid)
		var (
			mu        sync.Mutex
			latencies []time.Duration
			wg        sync.WaitGroup
			failures  []string
			atMatrix  sync.WaitGroup
			peak      int
		)
		atMatrix.Add(sessions)
		release := make(chan struct{})
		for i := 1; i <= sessions; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				lat, err := walkAndSave(srv.addr, signer, fmt.Sprintf("Load District %03d", i), &atMatrix, release)
				mu.Lock()
				defer mu.Unlock()
				latencies = append(latencies, lat...)
				if err != nil {
					failures = append(failures, err.Error())
				}
			}()
		}
		// Every session is open on the matrix: that is the peak.
		atMatrix.Wait()
		peak = rssKB(srv.cmd.Process.Pid)
		close(release)
		wg.Wait()
		srv.cmd.Process.Signal(os.Interrupt)
		<-srv.done
		srv.cmd.Wait()
		if len(failures) > 0 {
			b.Fatalf("%d sessions failed, first: %s", len(failures), failures[0])
		}
		slices.Sort(latencies)
		pct := func(p float64) float64 {
			return float64(latencies[int(p*float64(len(latencies)-1))].Microseconds()) / 1000
		}
		b.ReportMetric(pct(0.50), "p50-ms")
		b.ReportMetric(pct(0.99), "p99-ms")
		b.ReportMetric(float64(peak)/1024, "server-RSS-MB")
		b.ReportMetric(float64(peak-idle)/sessions, "KB/session")
		b.ReportMetric(float64(len(latencies)), "keystrokes")
	}
}

// rssKB reads a process's resident set size.
func rssKB(pid int) int { return statusKB(pid, "VmRSS:") }

// peakKB reads a process's peak resident set size.
func peakKB(pid int) int { return statusKB(pid, "VmHWM:") }

func statusKB(pid int, field string) int {
	raw, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	for _, l := range strings.Split(string(raw), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == field {
			n, _ := strconv.Atoi(f[1])
			return n
		}
	}
	return 0
}

// walkAndSave is one person's session: open their district, go to the
// matrix, wait there for everyone, toggle a cell and save.
func walkAndSave(addr string, signer gossh.Signer, district string, atMatrix *sync.WaitGroup, release <-chan struct{}) ([]time.Duration, error) {
	reached := false
	defer func() {
		if !reached {
			atMatrix.Done()
		}
	}()
	client, err := gossh.Dial("tcp", addr, &gossh.ClientConfig{User: "load", Auth: []gossh.AuthMethod{gossh.PublicKeys(signer)},
		HostKeyCallback: gossh.InsecureIgnoreHostKey(), Timeout: 30 * time.Second})
	if err != nil {
		return nil, err
	}
	defer client.Close()
	sess, err := client.NewSession()
	if err != nil {
		return nil, err
	}
	if err := sess.RequestPty("xterm-256color", 24, 80, gossh.TerminalModes{}); err != nil {
		return nil, err
	}
	stdin, _ := sess.StdinPipe()
	stdout, _ := sess.StdoutPipe()
	emu := vt.NewSafeEmulator(80, 24)
	frames := make(chan struct{}, 1)
	go func() {
		buf := make([]byte, 32*1024)
		for {
			n, err := stdout.Read(buf)
			if n > 0 {
				emu.Write(buf[:n])
				select {
				case frames <- struct{}{}:
				default:
				}
			}
			if err != nil {
				return
			}
		}
	}()
	go io.Copy(stdin, emu)
	if err := sess.Shell(); err != nil {
		return nil, err
	}
	wait := func(text string) error {
		deadline := time.Now().Add(60 * time.Second)
		for time.Now().Before(deadline) {
			if strings.Contains(ansi.Strip(emu.Render()), text) {
				return nil
			}
			time.Sleep(5 * time.Millisecond)
		}
		return fmt.Errorf("%s: %q never appeared:\n%s", district, text, ansi.Strip(emu.Render()))
	}
	var lat []time.Duration
	press := func(key string) {
		select {
		case <-frames: // drop a frame that arrived before this key
		default:
		}
		start := time.Now()
		stdin.Write([]byte(key))
		select {
		case <-frames:
			lat = append(lat, time.Since(start))
		case <-time.After(30 * time.Second):
		}
	}
	steps := []struct{ keys, want string }{
		{"", "Choose a district"},
		{"/", "Choose a district"}, // the dropdown's filter
		{district, "Tenant 10"},
		{"\r", "Tenant 10"}, // done filtering
		{"\r", "Setup checklist"},
		{"m", "⋮ District Home Page"},
		{"\r", "SIS Rostering"},
		{"\r", "District-Level Daily Sync"},
		{"\r", "Allow sync to manage Guardians"},
		{"\x1b[B", "› [x] Allow sync"},
		{" ", "› [ ] Allow sync"},
		{"\x0e", "Permissions for synced staff"},
	}
	for _, st := range steps {
		if st.keys == district {
			for _, r := range district {
				press(string(r))
			}
		} else if st.keys != "" {
			press(st.keys)
		}
		if err := wait(st.want); err != nil {
			return lat, err
		}
	}
	reached = true
	atMatrix.Done()
	<-release
	for _, st := range []struct{ keys, want string }{{" ", "not granted"}, {"\x0e", "Save as revision 2?"}, {"y", "Saved revision 2"}} {
		press(st.keys)
		if err := wait(st.want); err != nil {
			return lat, err
		}
	}
	press("\x03")
	sess.Wait()
	return lat, nil
}

// BenchmarkHugeWindowRSS is the server's memory with one session whose
// client claims a 4000×2000 terminal: RSS before it connects, once its
// first frames are drawn (and the peak), and after it leaves. Run:
//
//	go test -run '^$' -bench HugeWindowRSS -benchtime 1x .
func BenchmarkHugeWindowRSS(b *testing.B) {
	dir := b.TempDir()
	dbPath := filepath.Join(dir, "rostersync.db")
	db, err := store.Open(dbPath, store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	signer := allowSpecialist(b, db, "big")
	db.Close()
	for b.Loop() {
		srv := startServe(b, dbPath, filepath.Join(dir, "hk"))
		idle := rssKB(srv.cmd.Process.Pid)
		client, err := gossh.Dial("tcp", srv.addr, &gossh.ClientConfig{User: "big", Auth: []gossh.AuthMethod{gossh.PublicKeys(signer)},
			HostKeyCallback: gossh.InsecureIgnoreHostKey(), Timeout: 30 * time.Second})
		if err != nil {
			b.Fatal(err)
		}
		sess, _ := client.NewSession()
		if err := sess.RequestPty("xterm-256color", 2000, 4000, gossh.TerminalModes{}); err != nil {
			b.Fatal(err)
		}
		stdin, _ := sess.StdinPipe()
		stdout, _ := sess.StdoutPipe()
		var mu sync.Mutex
		var out strings.Builder
		go func() {
			buf := make([]byte, 64<<10)
			for {
				n, err := stdout.Read(buf)
				mu.Lock()
				out.Write(buf[:n])
				mu.Unlock()
				if err != nil {
					return
				}
			}
		}()
		sess.Shell()
		seen := func(text string) bool {
			deadline := time.Now().Add(60 * time.Second)
			for time.Now().Before(deadline) {
				mu.Lock()
				ok := strings.Contains(ansi.Strip(out.String()), text)
				mu.Unlock()
				if ok {
					return true
				}
				time.Sleep(20 * time.Millisecond)
			}
			return false
		}
		if !seen("Choose a district") {
			b.Fatal("no first frame")
		}
		stdin.Write([]byte("\r")) // the demo district's Home page: a second, fuller frame
		if !seen("Setup checklist") {
			b.Fatal("no Home page")
		}
		time.Sleep(500 * time.Millisecond)
		drawn := rssKB(srv.cmd.Process.Pid)
		peak := peakKB(srv.cmd.Process.Pid)
		stdin.Write([]byte("\x03"))
		sess.Wait()
		client.Close()
		time.Sleep(time.Second)
		after := rssKB(srv.cmd.Process.Pid)
		srv.stop(b)
		b.ReportMetric(float64(idle)/1024, "idle-RSS-MB")
		b.ReportMetric(float64(drawn)/1024, "session-RSS-MB")
		b.ReportMetric(float64(peak)/1024, "peak-RSS-MB")
		b.ReportMetric(float64(after)/1024, "after-RSS-MB")
	}
}

// allowSpecialist makes a new SSH key and allows it into db as the
// specialist name; the signer logs in with it.
func allowSpecialist(tb testing.TB, db *store.DB, name string) gossh.Signer {
	tb.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	signer, err := gossh.NewSignerFromKey(priv)
	if err != nil {
		tb.Fatal(err)
	}
	k, err := server.ParseAccessKey(name, string(gossh.MarshalAuthorizedKey(signer.PublicKey())), store.RoleSpecialist, nil)
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := db.AddAccess(k); err != nil {
		tb.Fatal(err)
	}
	return signer
}
