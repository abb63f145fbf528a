package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	gosync "sync"
	"syscall"
	"testing"
	"time"

	"github.com/schoolstatus/rostersync/classlink/classlinktest"
	"github.com/schoolstatus/rostersync/store"
	"github.com/schoolstatus/rostersync/store/storetest"
)

// The operator's tests: a damaged database under every command, read-only
// commands on a file nobody may write, interrupted runs, backups and the
// README's restore procedure, all with the real binary.

// syncedS is a database with district 9 synced once from an S-tier roster
// served by this process.
func syncedS(t *testing.T) (path string, srv *classlinktest.Server, roster *classlinktest.District) {
	t.Helper()
	srv, roster = syncServer(t, classlinktest.TierS)
	path = seedSyncDB(t, srv, roster)
	if out, code := runIn(t, path, "sync", "--district", "9"); code != 0 {
		t.Fatalf("first sync (%d): %s", code, out)
	}
	return path, srv, roster
}

// runIn runs the binary on the database at path; it fails the test on a
// panic or a Go stack trace, whatever the exit code.
func runIn(t *testing.T, path string, args ...string) (string, int) {
	t.Helper()
	return runInEnv(t, path, nil, args...)
}

func runInEnv(t *testing.T, path string, env []string, args ...string) (string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary(t), append([]string{"--db", path}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	out, code := combinedOutput(t, cmd, args)
	noStackTrace(t, args, out)
	return out, code
}

func noStackTrace(t *testing.T, args []string, out string) {
	t.Helper()
	for _, sign := range []string{"panic:", "goroutine ", "runtime error", "fatal error:", ".go:"} {
		if strings.Contains(out, sign) {
			t.Fatalf("%v printed %q:\n%s", args, sign, out)
		}
	}
}

// damageTable collects what each command printed on each damaged file;
// ROSTERSYNC_DAMAGE_TABLE=FILE writes it out (for the closing note).
type damageTable struct{ rows []string }

func (d *damageTable) add(kind storetest.Damage, args []string, code int, out string) {
	first := strings.TrimSpace(out)
	if _, problem, ok := strings.Cut(first, "\n  - "); ok && args[0] == "db" {
		first, _, _ = strings.Cut(problem, "\n") // db check: its first finding
		first = "problem: " + first
	} else if i := strings.IndexByte(first, '\n'); i >= 0 && code != 0 {
		// The error line, not the summary above it.
		lines := strings.Split(first, "\n")
		first = lines[len(lines)-1]
	} else if i >= 0 {
		first = first[:i]
	}
	d.rows = append(d.rows, fmt.Sprintf("| %s | `%s` | %d | %s |", kind, strings.Join(args, " "), code, strings.ReplaceAll(first, "|", "\\|")))
}

func (d *damageTable) write(t *testing.T) {
	if path := os.Getenv("ROSTERSYNC_DAMAGE_TABLE"); path != "" {
		text := "| damage | command | exit | printed |\n|---|---|---|---|\n" + strings.Join(d.rows, "\n") + "\n"
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Error(err)
		}
	}
}

const damagedSuffix = "; run rostersync db check"

// serveUntilListening starts serve on the database at path, stops it with
// SIGTERM once it listens (or lets it exit), and returns what it printed
// and its exit code.
func serveUntilListening(t *testing.T, path string, extra ...string) (string, int) {
	t.Helper()
	args := append([]string{"--db", path, "serve", "--listen", "127.0.0.1:0", "--host-key", filepath.Join(filepath.Dir(path), "host_ed25519")}, extra...)
	cmd := exec.Command(binary(t), args...)
	var out syncedBuffer
	cmd.Stdout = &out
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	timer := time.AfterFunc(30*time.Second, func() { cmd.Process.Kill() })
	defer timer.Stop()
	sc := bufio.NewScanner(stderr)
	for sc.Scan() {
		out.Write([]byte(sc.Text() + "\n"))
		if strings.Contains(sc.Text(), "listening") {
			cmd.Process.Signal(syscall.SIGTERM)
		}
	}
	err = cmd.Wait()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	}
	noStackTrace(t, args, out.String())
	return out.String(), code
}

// syncedBuffer is a bytes.Buffer safe for a process's two output pipes.
type syncedBuffer struct {
	mu gosync.Mutex
	b  bytes.Buffer
}

func (s *syncedBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncedBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// Every command on every damaged file: no panic and no stack trace, exit
// code 0 or 1, and every failure caused by the damage says the database
// is damaged and to run db check. Commands that never touch the damaged
// part go on working.
func TestEveryCommandOnADamagedDatabase(t *testing.T) {
	sound, _, roster := syncedS(t)
	roster.BumpRevision() // each sync pulls in full and reads the directory
	commands := [][]string{
		{"config", "show", "--district", "9"},
		{"config", "export", "--district", "9"},
		{"history", "--district", "9"},
		{"history", "--district", "9", "--json"},
		{"directory", "users", "--district", "9"},
		{"directory", "classrooms", "--district", "9", "--json"},
		{"access", "list"},
		{"sync", "--district", "9", "--dry-run"},
		{"sync", "--district", "9"},
		{"db", "check"},
		{"db", "backup", "BACKUP"},
		{"db", "compact"},
		{"serve"},
		{"wizard"},
	}
	var table damageTable
	for _, kind := range storetest.Damages {
		t.Run(string(kind), func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "rostersync.db")
			storetest.Copy(t, sound, path)
			storetest.Apply(t, path, kind, 9)
			for _, args := range commands {
				args = append([]string(nil), args...)
				for i, a := range args {
					args[i] = strings.ReplaceAll(a, "BACKUP", filepath.Join(dir, "backup.db"))
				}
				var out string
				var code int
				switch {
				case args[0] == "serve":
					out, code = serveUntilListening(t, path)
				case args[0] == "wizard" && kind == storetest.ZeroedDirectoryPage:
					continue // it opens: TestLocalWizardOnADamagedDirectory drives it
				case args[0] == "wizard":
					out, code = runIn(t, path) // no command: the wizard, which opens the file first
				default:
					out, code = runIn(t, path, args...)
				}
				table.add(kind, args, code, strings.ReplaceAll(strings.ReplaceAll(out, path, "DB"), dir+"/", ""))
				if code != 0 && code != 1 {
					t.Fatalf("%v: exit %d\n%s", args, code, out)
				}
				damaged := strings.Contains(out, "the database "+path+" is damaged (") && strings.Contains(out, damagedSuffix)
				switch {
				case args[0] == "db" && args[1] == "check":
					if code != 1 || !strings.Contains(out, "problems") {
						t.Errorf("db check on %s: exit %d\n%s", kind, code, out)
					}
				case args[0] == "db" && args[1] == "backup":
					if _, err := os.Stat(args[2]); code != 1 || !damaged || err == nil {
						t.Errorf("db backup of a damaged database: exit %d, file left: %v\n%s", code, err == nil, out)
					}
				case code != 0 && !damaged && args[0] == "db" && args[1] == "compact":
					if !strings.Contains(out, "not compacting") {
						t.Errorf("%v on %s: exit %d without the damaged message:\n%s", args, kind, code, out)
					}
				case code != 0 && !damaged:
					t.Errorf("%v on %s: exit %d without the damaged message:\n%s", args, kind, code, out)
				}
			}
			switch kind {
			case storetest.ZeroedDirectoryPage:
				// The server starts: only the district's directory is damaged.
				if out, code := serveUntilListening(t, path); code != 0 || !strings.Contains(out, "listening") {
					t.Errorf("serve: %d %s", code, out)
				}
				// Only district 9's directory is damaged: its configuration
				// and history read, and the failed sync is in the history.
				if out, code := runIn(t, path, "config", "show", "--district", "9"); code != 0 {
					t.Errorf("config show: %d %s", code, out)
				}
				out, _ := runIn(t, path, "history", "--district", "9", "--json")
				var items []map[string]any
				if err := json.Unmarshal([]byte(out), &items); err != nil || items[0]["reason"] != "storage" ||
					!strings.Contains(fmt.Sprint(items[0]["message"]), "is damaged (") {
					t.Errorf("history after the sync on a damaged directory: %v %.400s", err, out)
				}
			case storetest.ZeroedFreelist:
				// Readers never load the freelist: read-only commands work.
				for _, args := range [][]string{{"config", "show", "--district", "9"}, {"history", "--district", "9"}, {"directory", "users", "--district", "9"}} {
					if out, code := runIn(t, path, args...); code != 0 {
						t.Errorf("%v on a file whose freelist alone is damaged: %d %s", args, code, out)
					}
				}
			}
		})
	}
	table.write(t)
}

// The local wizard on a database with a damaged directory page opens, and
// its Preview sync shows the damage and what to run; it quits cleanly.
func TestLocalWizardOnADamagedDirectory(t *testing.T) {
	sound, _, roster := syncedS(t)
	roster.BumpRevision()
	storetest.Apply(t, sound, storetest.ZeroedDirectoryPage, 9)
	term := startTerminal(t, 80, 24, nil, binary(t), "--db", sound)
	term.wait("Choose a district")
	term.keys("/", "Kill", "Enter", "Enter") // filter, done, open
	term.wait("Setup checklist")
	term.keys("m", "Down", "Down", "Enter")
	term.wait("is damaged")
	term.wait("db check")
	term.keys("C-c")
	term.wait("[exited 0]")
	if strings.Contains(term.screen(false), "panic") {
		t.Fatalf("screen:\n%s", term.screen(false))
	}
}

// ctrl+c (SIGINT) on `rostersync sync` stops the run as SIGTERM does: it
// is recorded as cancelled, not left behind.
func TestSIGINTStopsASyncAndRecordsIt(t *testing.T) {
	path, srv, roster := syncedS(t)
	roster.BumpRevision()
	srv.Inject(classlinktest.Fault{Kind: classlinktest.FaultDelay, Endpoint: "users", Delay: 5 * time.Second, Times: 1})
	cmd := exec.Command(binary(t), "--db", path, "sync", "--district", "9")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(stdout)
	var seen []string
	for sc.Scan() {
		seen = append(seen, sc.Text())
		if strings.HasPrefix(sc.Text(), "pulling") {
			cmd.Process.Signal(syscall.SIGINT)
			break
		}
	}
	go func() {
		for sc.Scan() {
			seen = append(seen, sc.Text())
		}
	}()
	err = cmd.Wait()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
		t.Fatalf("sync after SIGINT: %v\n%s", err, strings.Join(seen, "\n"))
	}
	out, _ := runIn(t, path, "history", "--district", "9", "--json")
	var runs []map[string]any
	json.Unmarshal([]byte(out), &runs)
	if len(runs) == 0 || runs[0]["status"] != "failed" || !strings.HasPrefix(fmt.Sprint(runs[0]["message"]), store.CancelledPrefix) {
		t.Fatalf("the stopped run in the history: %.600s", out)
	}
}

// The read-only commands open the file read-only: on a copy nobody may
// write (mode 0400 in a folder nobody may write, read by an account that
// does not own it when the tests run as root) they all work, and neither
// the file nor its folder changes.
func TestReadOnlyCommandsOnACopyNobodyMayWrite(t *testing.T) {
	sound, _, _ := syncedS(t)
	// A folder of its own that another account can reach (TempDir's are 0700).
	base, err := os.MkdirTemp("", "rostersync-ro-")
	if err != nil {
		t.Fatal(err)
	}
	os.Chmod(base, 0o755)
	dir, out := filepath.Join(base, "ro"), filepath.Join(base, "out")
	t.Cleanup(func() { os.Chmod(dir, 0o755); os.RemoveAll(base) })
	os.Mkdir(dir, 0o755)
	os.Mkdir(out, 0o777)
	os.Chmod(out, 0o777)
	path := filepath.Join(dir, "copy.db")
	storetest.Copy(t, sound, path)
	bin := binary(t)
	var cred *syscall.Credential
	if os.Getuid() == 0 {
		// root writes through any mode: read as nobody instead, with a
		// binary nobody may run.
		cred = &syscall.Credential{Uid: 65534, Gid: 65534}
		binCopy := filepath.Join(out, "rostersync")
		raw, err := os.ReadFile(bin)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(binCopy, raw, 0o755); err != nil {
			t.Fatal(err)
		}
		bin = binCopy
		if err := os.Chown(path, 65534, 65534); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chmod(path, 0o400); err != nil {
		t.Fatal(err)
	}
	os.Chmod(dir, 0o555)
	before := fileState(t, dir)
	run := func(args ...string) (string, int) {
		t.Helper()
		cmd := exec.Command(bin, append([]string{"--db", path}, args...)...)
		// No secrets key can be read here: secrets stay sealed (masked).
		cmd.Env = append(os.Environ(), "HOME="+dir, store.SecretsKeyEnv+"="+filepath.Join(dir, "no-such.key"))
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
		out, code := combinedOutput(t, cmd, args)
		noStackTrace(t, args, out)
		return out, code
	}
	for _, args := range [][]string{
		{"config", "show", "--district", "9"},
		{"config", "show", "--district", "9", "--json"},
		{"config", "export", "--district", "9"},
		{"history", "--district", "9"},
		{"history", "--district", "9", "--json"},
		{"directory", "users", "--district", "9", "--kind", "staff"},
		{"directory", "classrooms", "--district", "9", "--json"},
		{"db", "check"},
		{"db", "backup", filepath.Join(out, "backup.db")},
	} {
		if text, code := run(args...); code != 0 {
			t.Errorf("%v on a read-only copy: exit %d\n%s", args, code, text)
		}
	}
	if text, _ := run("config", "show", "--district", "9", "--json"); !strings.Contains(text, `"client_secret": "********"`) {
		t.Errorf("config show: %s", text)
	}
	// A command that writes says why it cannot, and writes nothing.
	if text, code := run("directory", "classrooms", "--district", "9", "--archive", "x"); code != 1 || !strings.Contains(text, "permission denied") {
		t.Errorf("a write on the read-only copy: exit %d\n%s", code, text)
	}
	if after := fileState(t, dir); after != before {
		t.Fatalf("the read-only folder changed:\nbefore %s\nafter  %s", before, after)
	}
}

// fileState is every file of dir with its size, mode, time and checksum.
func fileState(t *testing.T, dir string) string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, e := range entries {
		info, _ := e.Info()
		raw, _ := os.ReadFile(filepath.Join(dir, e.Name()))
		fmt.Fprintf(&b, "%s %d %v %s %x; ", e.Name(), info.Size(), info.Mode(), info.ModTime().Format(time.RFC3339Nano), sha256.Sum256(raw))
	}
	return b.String()
}

// The README's restore procedure, step by step, with the real binary: a
// server backs the database up (daily, and db backup through its socket),
// the database is damaged, db check says so, the backup checks clean and is
// put in place, and the server starts on it with the history whole.
func TestRestoreProcedureFromTheREADME(t *testing.T) {
	path, _, roster := syncedS(t)
	dir := filepath.Dir(path)
	historyBefore, code := runIn(t, path, "history", "--district", "9", "--json")
	if code != 0 {
		t.Fatal(historyBefore)
	}
	backups := filepath.Join(dir, "backups")
	backup := filepath.Join(dir, "by-hand.db")

	// The server runs with daily backups; an operator backs up by hand too.
	cmd := exec.Command(binary(t), "--db", path, "serve", "--listen", "127.0.0.1:0", "--host-key", filepath.Join(dir, "hk"),
		"--backup-dir", backups, "--backup-keep", "3")
	var logs syncedBuffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	waitFor(t, &logs, "daily backup ")
	if out, code := runIn(t, path, "db", "backup", backup); code != 0 || !strings.Contains(out, "secrets key") {
		t.Fatalf("db backup while serving (%d): %s", code, out)
	}
	if out, code := runIn(t, path, "db", "check"); code != 0 || !strings.Contains(out, "The database is sound.") {
		t.Fatalf("db check while serving (%d): %s", code, out)
	}
	daily, _ := filepath.Glob(filepath.Join(backups, "rostersync-*.db"))
	if len(daily) != 1 {
		t.Fatalf("daily backups: %v\n%s", daily, logs.String())
	}
	for _, b := range append(daily, backup) {
		if st, err := os.Stat(b); err != nil || st.Mode().Perm() != 0o600 {
			t.Fatalf("%s: %v %v", b, st.Mode(), err)
		}
	}
	cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("serve: %v\n%s", err, logs.String())
	}

	// The database is damaged while the server is down.
	storetest.Apply(t, path, storetest.ZeroedDirectoryPage, 9)

	// 1. db check confirms the damage.
	if out, code := runIn(t, path, "db", "check"); code != 1 || !strings.Contains(out, "problems") {
		t.Fatalf("step 1 (%d): %s", code, out)
	}
	// 3. The backup checks clean (the daily one too).
	for _, b := range []string{backup, daily[0]} {
		if out, code := runIn(t, b, "db", "check"); code != 0 {
			t.Fatalf("step 3, %s (%d): %s", b, code, out)
		}
	}
	// 4. Keep the damaged file; its history still reads.
	if err := os.Rename(path, path+".damaged"); err != nil {
		t.Fatal(err)
	}
	if out, code := runIn(t, path+".damaged", "history", "--district", "9"); code != 0 {
		t.Fatalf("step 4 (%d): %s", code, out)
	}
	// … and remove the rosters the syncs kept beside it.
	kept := filepath.Join(path+".pulled", "9")
	if _, err := os.Stat(kept); err != nil {
		t.Fatalf("step 4: no roster kept by the syncs: %v", err)
	}
	if out, err := exec.Command("rm", "-r", path+".pulled").CombinedOutput(); err != nil {
		t.Fatalf("step 4: %v %s", err, out)
	}
	// 5. Put the backup in place, private.
	if out, err := exec.Command("install", "-m", "600", backup, path).CombinedOutput(); err != nil {
		t.Fatalf("step 5: %v %s", err, out)
	}
	// 6. db check exits 0.
	if out, code := runIn(t, path, "db", "check"); code != 0 {
		t.Fatalf("step 6 (%d): %s", code, out)
	}
	// 7. The server starts, and the history is whole.
	if out, code := serveUntilListening(t, path); code != 0 || !strings.Contains(out, "listening") {
		t.Fatalf("step 7 (%d): %s", code, out)
	}
	historyAfter, _ := runIn(t, path, "history", "--district", "9", "--json")
	if historyAfter != historyBefore {
		t.Fatalf("the restored history differs:\nbefore %s\nafter  %s", historyBefore, historyAfter)
	}
	users, classrooms := directoryJSON(t, binary(t), path)
	if len(users) == 0 || len(classrooms) == 0 {
		t.Fatalf("the restored directory: %d users, %d classrooms", len(users), len(classrooms))
	}
	// The next run, after a change in ClassLink, pulls in full and keeps
	// a roster for the restored database.
	roster.AdvanceDay(classlinktest.DayChanges{NewStudents: 1})
	if out, code := runIn(t, path, "sync", "--district", "9", "--json"); code != 0 || !strings.Contains(out, `"status": "succeeded"`) {
		t.Fatalf("the next run (%d): %s", code, out)
	}
	if _, err := os.Stat(kept); err != nil {
		t.Fatalf("the next run kept no roster: %v", err)
	}
}

// waitFor waits until logs hold text.
func waitFor(t *testing.T, logs *syncedBuffer, text string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if strings.Contains(logs.String(), text) {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("never logged %q:\n%s", text, logs.String())
}
