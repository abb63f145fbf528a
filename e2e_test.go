package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/schoolstatus/rostersync/store"
	"github.com/schoolstatus/rostersync/store/storetest"
)

// The end-to-end tests drive the real binary: built once, run in a real
// pseudo-terminal (tmux), checked through the CLI's JSON.

// The binary every test and benchmark of this package runs: built once
// per test process, on first use (listing tests builds nothing), and
// removed by TestMain at the end.
var (
	buildOnce sync.Once
	binDir    string
	binPath   string
	buildErr  error
)

// Secrets are sealed with a key of the tests' own; the binaries the tests
// start inherit it.
func TestMain(m *testing.M) {
	code := storetest.WithSecretsKey(m.Run)
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

func binary(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		binDir, buildErr = os.MkdirTemp("", "rostersync-test")
		if buildErr != nil {
			return
		}
		binPath = filepath.Join(binDir, "rostersync")
		if out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// terminal is one program in a tmux pane of its own server.
type terminal struct {
	t      *testing.T
	socket string
}

func startTerminal(t *testing.T, w, h int, env []string, args ...string) *terminal {
	t.Helper()
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Fatal("tmux is required for the end-to-end tests (.ci/run installs it): ", err)
	}
	term := &terminal{t: t, socket: fmt.Sprintf("rostersync-e2e-%d-%d", os.Getpid(), time.Now().UnixNano())}
	var quoted []string
	for _, a := range append(append([]string{"env"}, env...), args...) {
		quoted = append(quoted, "'"+strings.ReplaceAll(a, "'", `'\''`)+"'")
	}
	script := strings.Join(quoted, " ") + "; echo \"[exited $?]\"; sleep 600"
	cmd := exec.Command("tmux", "-L", term.socket, "-f", "/dev/null", "new-session", "-d", "-s", "main",
		"-x", fmt.Sprint(w), "-y", fmt.Sprint(h), script)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("tmux: %v %s", err, out)
	}
	t.Cleanup(func() { exec.Command("tmux", "-L", term.socket, "kill-server").Run() })
	return term
}

func (term *terminal) tmux(args ...string) string {
	out, err := exec.Command("tmux", append([]string{"-L", term.socket}, args...)...).CombinedOutput()
	if err != nil {
		term.t.Fatalf("tmux %v: %v %s", args, err, out)
	}
	return string(out)
}

// keys sends tmux key names (Enter, Down, Space, C-n, Escape, or text).
func (term *terminal) keys(keys ...string) {
	for _, k := range keys {
		term.tmux("send-keys", "-t", "main", k)
		time.Sleep(40 * time.Millisecond)
	}
}

func (term *terminal) screen(escapes bool) string {
	args := []string{"capture-pane", "-p", "-t", "main"}
	if escapes {
		args = append(args, "-e")
	}
	return term.tmux(args...)
}

func (term *terminal) wait(text string) {
	term.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		if strings.Contains(term.screen(false), text) {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	term.t.Fatalf("%q never appeared; the screen is:\n%s", text, term.screen(false))
}

// run runs the binary to completion and returns its output and exit code.
func run(t *testing.T, stdin string, args ...string) (string, int) {
	t.Helper()
	return runEnv(t, nil, stdin, args...)
}

// runEnv is run with extra environment variables.
func runEnv(t *testing.T, env []string, stdin string, args ...string) (string, int) {
	t.Helper()
	cmd := exec.Command(binary(t), args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdin = strings.NewReader(stdin)
	return combinedOutput(t, cmd, args)
}

// combinedOutput runs cmd (the binary with args) and returns what it
// printed and its exit code; a binary that does not even start fails the
// test.
func combinedOutput(t *testing.T, cmd *exec.Cmd, args []string) (string, int) {
	t.Helper()
	out, err := cmd.CombinedOutput()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("%v: %v", args, err)
	}
	return string(out), code
}

func TestEndToEndWizardInATerminal(t *testing.T) {
	bin := binary(t)
	db := filepath.Join(t.TempDir(), "rostersync.db")
	term := startTerminal(t, 80, 24, []string{"TERM=xterm-256color"}, bin, "--db", db)
	term.wait("Choose a district")
	term.keys("Enter")
	term.wait("Setup checklist")

	// While the wizard holds the database, the CLI fails fast and says why.
	start := time.Now()
	out, code := run(t, "", "config", "show", "--district", "2", "--db", db)
	if code == 0 || !strings.Contains(out, "is in use by another rostersync process (pid") {
		t.Fatalf("config show during the wizard: exit %d, %q", code, out)
	}
	if time.Since(start) > 10*time.Second {
		t.Fatal("the second process waited instead of failing fast")
	}

	term.keys("m", "Enter", "Enter", "Enter")
	term.wait("District-Level Daily Sync")
	term.keys("Down", "Space", "Down", "Down", "Down", "C-u", "3", "0", "C-n")
	term.wait("Permissions for synced staff")
	term.keys("Right", "Right", "Down", "Down", "Down", "Space", "C-n")
	term.wait("Save as revision 2?")
	term.keys("y")
	term.wait("Saved revision 2")
	term.keys("C-c")
	term.wait("[exited 0]")

	out, code = run(t, "", "config", "show", "--district", "2", "--json", "--db", db)
	if code != 0 {
		t.Fatalf("config show: exit %d %s", code, out)
	}
	var cfg store.Config
	if err := json.Unmarshal([]byte(out), &cfg); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if cfg.Revision != 2 || cfg.Settings.ManageGuardians || cfg.Settings.DeletionThresholdPercent != 30 {
		t.Fatalf("saved config = %+v", cfg)
	}
	if got := cfg.Permissions["teacher"]; len(got) != 2 || got[0] != "content_moderator" || got[1] != "family_access" {
		t.Fatalf("teacher permissions = %v", got)
	}
	st, err := os.Stat(db)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("database mode = %v, %v", st.Mode().Perm(), err)
	}
}

func TestEndToEndQuitKeepsADraftAndTheNextStartResumes(t *testing.T) {
	bin := binary(t)
	db := filepath.Join(t.TempDir(), "rostersync.db")
	term := startTerminal(t, 80, 24, nil, bin, "--db", db)
	term.wait("Choose a district")
	term.keys("Enter", "m", "Enter", "Enter", "Enter", "Down", "Down", "Space", "C-c")
	term.wait("Quit with unsaved changes?")
	term.keys("y")
	term.wait("[exited 0]")

	again := startTerminal(t, 80, 24, nil, bin, "--db", db)
	again.wait("You left unsaved changes")
	again.keys("Enter")
	again.wait("[ ] Unarchive classrooms")
	again.keys("C-n", "C-n", "y")
	again.wait("Saved revision 2")
	again.keys("C-c")
	again.wait("[exited 0]")
	out, _ := run(t, "", "config", "show", "--district", "2", "--json", "--db", db)
	if !strings.Contains(out, `"unarchive_reappearing_classrooms": false`) {
		t.Fatalf("resumed change not saved:\n%s", out)
	}
}

func TestEndToEndPlainTerminalsStayUsable(t *testing.T) {
	bin := binary(t)
	for _, env := range [][]string{{"NO_COLOR=1", "TERM=xterm-256color"}, {"TERM=dumb"}} {
		t.Run(env[0], func(t *testing.T) {
			db := filepath.Join(t.TempDir(), "rostersync.db")
			term := startTerminal(t, 80, 24, env, bin, "--db", db)
			term.wait("Choose a district")
			term.keys("Enter", "m", "Enter", "Enter", "Enter")
			term.wait("District-Level Daily Sync")
			raw := term.screen(true)
			for _, colour := range []string{"[38;", "[48;", "[31m", "[32m", "[33m", "[34m", "[35m"} {
				if strings.Contains(raw, colour) {
					t.Fatalf("%v: colour %q on screen:\n%q", env, colour, raw)
				}
			}
			plain := term.screen(false)
			for _, marker := range []string{"› [ ] Enable Daily sync", "[x] Allow sync to manage Guardians"} {
				if !strings.Contains(plain, marker) {
					t.Fatalf("%v: focus/check marker %q missing:\n%s", env, marker, plain)
				}
			}
			term.keys("C-c")
			term.wait("[exited 0]")
		})
	}
}

func TestEndToEndAccessiblePrompts(t *testing.T) {
	db := filepath.Join(t.TempDir(), "rostersync.db")
	// The demo, Settings, Enable off, Guardians off, the rest kept, the
	// matrix unchanged, save, Quit.
	answers := "1\n1\nn\nn\n\n\n\n\n\n\n0\n0\n0\n0\ny\n8\n" // guardians off: keep the guardians source
	out, code := run(t, answers, "--accessible", "--db", db)
	if code != 0 || !strings.Contains(out, "Saved revision 2.") || strings.Contains(out, "\x1b[") {
		t.Fatalf("accessible run: exit %d\n%q", code, out)
	}
	// M8: input that ends at a prompt stops with exit 1 and changes nothing.
	out, code = run(t, "1\n1\ny\n", "--accessible", "--db", db) // Enable Daily sync? y, then the input ends at the warning
	if code != 1 || !strings.Contains(out, "the input ended before an answer") {
		t.Fatalf("accessible run that ended early: exit %d\n%s", code, out)
	}
	if show, _ := run(t, "", "config", "show", "--district", "2", "--json", "--db", db); !strings.Contains(show, `"enable_daily_sync": false`) {
		t.Fatalf("input that ended early changed the district:\n%s", show)
	}
	out, _ = run(t, "", "config", "show", "--district", "2", "--json", "--db", db)
	if !strings.Contains(out, `"manage_guardians": false`) {
		t.Fatalf("accessible change not saved:\n%s", out)
	}
}

func TestCLIRefusesBadInputAndWritesNothing(t *testing.T) {
	db := filepath.Join(t.TempDir(), "rostersync.db")
	good := `{"tenant_id": 9, "application_id": 3, "name": "Nine",
 "settings": {"enable_daily_sync": false, "manage_guardians": true, "unarchive_reappearing_classrooms": true,
   "update_active_user_contacts": false, "deletion_threshold_percent": 10, "daily_start": "02:00", "time_zone": "America/Chicago"},
 "permissions": {"district_admin": ["permissions_admin"], "school_admin": [], "teacher": ["family_access"], "support_staff": []}}`
	if out, code := run(t, good, "config", "import", "--district", "9", "-", "--db", db); code != 0 || !strings.Contains(out, "revision 1") {
		t.Fatalf("import: exit %d %s", code, out)
	}
	cases := []struct {
		args  []string
		stdin string
		want  string
	}{
		{[]string{"config", "show", "--district", "abc"}, "", `--district: District Tenant ID must be a positive whole number no larger than 9007199254740991, got "abc"`},
		{[]string{"config", "show"}, "", `required flag(s) "district" not set`},
		{[]string{"config", "show", "--district", "10"}, "", "no district with Tenant ID 10 is stored"},
		{[]string{"config", "import", "--district", "9", "-"}, strings.Replace(good, `"time_zone": "America/Chicago"`, `"time_zone": "Moon/Base"`, 1), `settings.time_zone: unknown IANA time zone "Moon/Base"`},
		{[]string{"config", "import", "--district", "9", "-"}, strings.Replace(good, `"teacher"`, `"janitor"`, 1), `permissions.janitor: unknown key`},
		{[]string{"config", "import", "--district", "9", "-"}, strings.Replace(good, `"deletion_threshold_percent": 10`, `"deletion_threshold_percent": 300`, 1), `settings.deletion_threshold_percent: must be from 0 to 100, got 300`},
		{[]string{"config", "import", "--district", "9", "missing.json"}, "", "missing.json: no such file"},
		{[]string{"config", "import", "--district", "9", "-"}, strings.Replace(good, `"name": "Nine",`, `"name": "Nine", "revision": 7,`, 1), "revision: the file was exported at revision 7, but district 9 is at revision 1"},
		{[]string{"config", "import", "--district", "9", "-"}, strings.Replace(good, `"name": "Nine",`, `"name": "Nine", "connection": {"mode": "proxy", "base_url": "https://evil.example.org/3/ims/oneroster/v1p1/"},`, 1), "a ClassLink proxy URL is built from the proxy root and the district's application_id: it must be https://oneroster-proxy.classlink.io/3/ims/oneroster/v1p1/"},
		{[]string{"config", "import", "--district", "9", "-"}, strings.Replace(good, `"name": "Nine",`, `"name": "Nine", "connection": {"mode": "proxy", "base_url": "https://oneroster-proxy.classlink.io/3/../4/ims/oneroster/v1p1/"},`, 1), "must not contain dot segments"},
		{[]string{"config", "import", "--district", "9", "-"}, strings.Replace(good, `"name": "Nine",`, `"name": "Nine \u001b[2J\u001b]0;owned\u0007",`, 1), `name: must not contain control characters such as escape sequences, line breaks or NUL (found \x1b at character 6)`},
		{[]string{"config", "import", "--district", "9", "-"}, strings.Replace(good, `"name": "Nine",`, `"name": "Nine", "name": "Ten",`, 1), "name: is given twice"},
		{[]string{"config", "import", "--district", "9", "-"}, strings.Replace(good, `"name": "Nine",`, `"name": "`+strings.Repeat("N", 5<<20)+`",`, 1), "(file): is larger than an import file may be: at most 4 MiB"},
		{[]string{"history", "--district", "0"}, "", "--district: District Tenant ID must be a positive whole number"},
		{[]string{"sync", "--district", "12345678901234567890"}, "", `got "12345678901234567890"`},
		{[]string{"--bogus"}, "", "unknown flag: --bogus"},
	}
	for _, c := range cases {
		out, code := run(t, c.stdin, append(c.args, "--db", db)...)
		if code == 0 || !strings.Contains(out, c.want) || len(out) > 1000 {
			t.Errorf("%v: exit %d, output %.300q, want %q", c.args, code, out, c.want)
		}
	}
	out, _ := run(t, "", "history", "--district", "9", "--json", "--db", db)
	var items []map[string]any
	if err := json.Unmarshal([]byte(out), &items); err != nil || len(items) != 1 || items[0]["kind"] != "revision" {
		t.Fatalf("history after refused imports: %v %s", err, out)
	}
	// Refused commands on a database that does not exist leave no file.
	missing := filepath.Join(t.TempDir(), "none.db")
	for _, args := range [][]string{
		{"config", "show", "--district", "1"},
		{"config", "import", "--district", "5", "-"},
		{"access", "list"},
		{"access", "remove", "ana"},
		{"access", "add", "--name", "ana", "--key", "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOv7WtKNhwX4X1nLq0ed9T0b2Sx3nq5I5X7pnd4G7t0E x", "--role", "district"},
	} {
		out, code := run(t, `{"tenant_id": 5}`, append(args, "--db", missing)...)
		if code == 0 {
			t.Fatalf("%v on a missing database: exit 0: %s", args, out)
		}
		if _, err := os.Stat(missing); err == nil {
			t.Fatalf("%v created %s", args, missing)
		}
	}
	// An import that fails after the database is created removes it too.
	noApp := strings.Replace(good, `"application_id": 3, `, "", 1)
	if out, code := run(t, strings.Replace(noApp, `"tenant_id": 9`, `"tenant_id": 5`, 1), "config", "import", "--district", "5", "-", "--db", missing); code == 0 || !strings.Contains(out, "application_id: is required") {
		t.Fatalf("import without application_id: %d %s", code, out)
	}
	if _, err := os.Stat(missing); err == nil {
		t.Fatal("a refused import left a new database")
	}
}

func TestAccessCommandsValidateAndRoundTrip(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "rostersync.db")
	id := filepath.Join(dir, "id")
	if out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", id).CombinedOutput(); err != nil {
		t.Fatalf("ssh-keygen: %v %s", err, out)
	}
	pub, _ := os.ReadFile(id + ".pub")
	priv, _ := os.ReadFile(id)
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"--name", "ana", "--key", "not a key", "--role", "specialist"}, "key: must be an OpenSSH public key line"},
		{[]string{"--name", "ana", "--key", string(priv), "--role", "specialist"}, "never the private key"},
		{[]string{"--name", "ana", "--key", string(pub), "--role", "admin"}, `role: must be "specialist" or "district", got "admin"`},
		{[]string{"--name", "ana", "--key", string(pub), "--role", "district"}, "district: the district role needs at least one --district TENANT"},
		{[]string{"--name", "ana", "--key", string(pub), "--role", "specialist", "--district", "4"}, "district: a specialist sees every district"},
		{[]string{"--name", "a b", "--key", string(pub), "--role", "specialist"}, `name: must be 1–64 letters`},
		{[]string{"--name", "ana", "--key", string(pub), "--role", "district", "--district", "x"}, `invalid argument "x" for "--district"`},
	}
	for _, c := range cases {
		out, code := run(t, "", append([]string{"access", "add", "--db", db}, c.args...)...)
		if code == 0 || !strings.Contains(out, c.want) {
			t.Errorf("%v: exit %d %q, want %q", c.args, code, out, c.want)
		}
		if strings.Contains(out, "PRIVATE KEY") {
			t.Error("the private key was echoed back")
		}
	}
	if out, code := run(t, "", "access", "add", "--db", db, "--name", "it.washoe", "--key", string(pub), "--role", "district", "--district", "12,13"); code != 0 {
		t.Fatal(out)
	}
	if out, code := run(t, "", "access", "add", "--db", db, "--name", "other", "--key", string(pub), "--role", "specialist"); code == 0 || !strings.Contains(out, `this key is already added as "it.washoe"`) {
		t.Fatalf("duplicate key: %d %s", code, out)
	}
	out, _ := run(t, "", "access", "list", "--json", "--db", db)
	var keys []store.AccessKey
	if err := json.Unmarshal([]byte(out), &keys); err != nil || len(keys) != 1 || keys[0].Role != "district" || len(keys[0].Districts) != 2 {
		t.Fatalf("access list: %v %s", err, out)
	}
	if out, code := run(t, "", "access", "remove", "--db", db, "nobody"); code == 0 || !strings.Contains(out, `no key is named "nobody"`) {
		t.Fatalf("remove unknown: %d %s", code, out)
	}
	if out, code := run(t, "", "access", "remove", "--db", db, "it.washoe"); code != 0 {
		t.Fatal(out)
	}
	out, _ = run(t, "", "access", "list", "--json", "--db", db)
	if strings.TrimSpace(out) != "[]" {
		t.Fatalf("after remove: %s", out)
	}
}
