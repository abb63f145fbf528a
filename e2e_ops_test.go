package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/schoolstatus/rostersync/classlink/classlinktest"
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
	out, err := cmd.CombinedOutput()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("%v: %v", args, err)
	}
	noStackTrace(t, args, string(out))
	return string(out), code
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
				out, code := runIn(t, path, args...)
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
