package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/schoolstatus/rostersync/classlink/classlinktest"
	"github.com/schoolstatus/rostersync/store"
	rsync "github.com/schoolstatus/rostersync/sync"
)

// syncServer serves a generated district over loopback from this process.
func syncServer(t testing.TB, tier classlinktest.Tier) (*classlinktest.Server, *classlinktest.District) {
	t.Helper()
	roster, err := classlinktest.NewDistrict(classlinktest.Options{Seed: 11, Tier: tier, Mess: classlinktest.DefaultMess()})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := classlinktest.NewServer(classlinktest.ServerOptions{Tenants: []classlinktest.Tenant{{
		TenantID: 9, ApplicationID: 90, Name: "Kill Test USD", ConsumerKey: "kill-key", ConsumerSecret: "kill-secret", District: roster}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	return srv, roster
}

// seedSyncDB writes a database with district 9 connected (oauth1) to srv.
func seedSyncDB(t testing.TB, srv *classlinktest.Server, roster *classlinktest.District) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "rostersync.db")
	db, err := store.Open(path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	d := store.NewDistrict(9, 90, "Kill Test USD")
	d.Connection = store.Connection{Mode: store.ModeOAuth1, BaseURL: srv.BaseURL(), ClientID: "kill-key", ClientSecret: "kill-secret", SignatureMethod: store.HMACSHA256}
	for p := range roster.Tier().Schools {
		d.Schools = append(d.Schools, roster.SchoolID(p))
	}
	d.Settings.DeletionThresholdPercent = 100
	if _, _, err := db.SaveDistrict(d, 0, store.Actor{User: "test"}, nil); err != nil {
		t.Fatal(err)
	}
	return path
}

// syncInProcess runs district 9's sync on db in this process.
func syncInProcess(t testing.TB, db *store.DB) {
	t.Helper()
	e := &rsync.Engine{DB: db, Dial: (&rsync.Dialer{}).Dial}
	if res, err := e.Run(context.Background(), 9, rsync.RunOptions{}); err != nil || res.Run.Status != store.RunSucceeded {
		t.Fatalf("sync: %v %+v", err, res.Run)
	}
}

// directoryJSON is the whole directory as the CLI prints it.
func directoryJSON(t *testing.T, bin, db string) (users []map[string]any, classrooms []map[string]any) {
	t.Helper()
	for _, what := range []string{"users", "classrooms"} {
		out, err := exec.Command(bin, "--db", db, "directory", what, "--district", "9", "--json").Output()
		if err != nil {
			t.Fatalf("directory %s: %v", what, err)
		}
		var v []map[string]any
		if err := json.Unmarshal(out, &v); err != nil {
			t.Fatal(err)
		}
		if what == "users" {
			users = v
		} else {
			classrooms = v
		}
	}
	return users, classrooms
}

func memberships(t *testing.T, path string) []store.Membership {
	t.Helper()
	db, err := store.Open(path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var out []store.Membership
	if err := db.EachMembership(9, func(m store.Membership) error { out = append(out, m); return nil }); err != nil {
		t.Fatal(err)
	}
	return out
}

// A sync killed with SIGKILL while applying leaves a directory from which
// the next run converges to exactly what one clean run produces. The S
// tier in transactions of 10 writes keeps it quick while the kill still
// lands with most of the writes to go.
func TestSyncKilledMidApplyConvergesToACleanRun(t *testing.T) {
	bin := binary(t)
	srv, roster := syncServer(t, classlinktest.TierS)
	killed, clean := seedSyncDB(t, srv, roster), seedSyncDB(t, srv, roster)

	cmd := exec.Command(bin, "--db", killed, "sync", "--district", "9", "--batch-size", "10")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var seen []string
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		line := sc.Text()
		seen = append(seen, line)
		// Creates and updates are committed as the plan goes.
		var committed int
		if n, _ := fmt.Sscanf(line, "planning: %d directory writes committed", &committed); n == 1 && committed > 0 {
			cmd.Process.Kill() // SIGKILL: no deferred cleanup, mid-apply
			break
		}
	}
	err = cmd.Wait()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != -1 {
		t.Fatalf("the sync was not killed mid-apply (%v); it printed:\n%s", err, strings.Join(seen, "\n"))
	}
	db, err := store.Open(killed, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	partial, _ := db.DirectoryCounts(9)
	last, _, _ := db.LastRun(9)
	db.Close()
	if last.Status != store.RunInterrupted || partial == (store.DirectoryCounts{}) {
		t.Fatalf("the kill did not land mid-apply: last run %s, directory %+v", last.Status, partial)
	}
	// The history shows the killed run as interrupted, with how far it got.
	if p := last.Progress; p == nil || p.Phase != "planning" || p.Applied == 0 ||
		!strings.Contains(last.Message, fmt.Sprintf("while planning, after %d directory writes", p.Applied)) {
		t.Fatalf("interrupted run: %+v %+v", last, last.Progress)
	}
	historyText, err := exec.Command(bin, "--db", killed, "history", "--district", "9").Output()
	if err != nil || !strings.Contains(string(historyText), "sync interrupted") || !strings.Contains(string(historyText), "writes applied") {
		t.Fatalf("history after the kill (%v):\n%s", err, historyText)
	}

	for _, path := range []string{killed, clean} {
		if out, err := exec.Command(bin, "--db", path, "sync", "--district", "9").CombinedOutput(); err != nil {
			t.Fatalf("sync of %s: %v\n%s", path, err, out)
		}
	}
	ku, kc := directoryJSON(t, bin, killed)
	cu, cc := directoryJSON(t, bin, clean)
	if len(cu) < 500 || !reflect.DeepEqual(ku, cu) || !reflect.DeepEqual(kc, cc) {
		t.Fatalf("rerun after the kill: %d users, %d classrooms; clean run: %d, %d", len(ku), len(kc), len(cu), len(cc))
	}
	km, cm := memberships(t, killed), memberships(t, clean)
	if len(cm) < 3000 || !reflect.DeepEqual(km, cm) {
		t.Fatalf("memberships differ: %d after the kill, %d clean", len(km), len(cm))
	}
	if partial.Memberships.Active >= len(cm) {
		t.Fatalf("the kill came after every membership was written (%d of %d)", partial.Memberships.Active, len(cm))
	}

	// And a run with nothing changed in between changes nothing.
	roster.BumpRevision()
	outJSON, err := exec.Command(bin, "--db", killed, "sync", "--district", "9", "--json").Output()
	if err != nil {
		t.Fatal(err)
	}
	var r store.Run
	if err := json.Unmarshal(outJSON, &r); err != nil || r.Status != store.RunSucceeded || r.Counts.Changes() != 0 {
		t.Fatalf("idle run: %+v %v", r, err)
	}
}

func TestSyncAndDirectoryCommands(t *testing.T) {
	bin := binary(t)
	srv, roster := syncServer(t, classlinktest.TierS)
	path := seedSyncDB(t, srv, roster)
	runCLI := func(args ...string) (string, int) {
		t.Helper()
		return combinedOutput(t, exec.Command(bin, append([]string{"--db", path}, args...)...), args)
	}
	out, code := runCLI("sync", "--district", "9", "--dry-run")
	if code != 0 || !strings.Contains(out, "Dry run (nothing was changed)") || !strings.Contains(out, "students") || !strings.Contains(out, "create") {
		t.Fatalf("dry run (%d):\n%s", code, out)
	}
	if out, _ := runCLI("directory", "users", "--district", "9", "--json"); strings.TrimSpace(out) != "[]" {
		t.Fatalf("the dry run wrote users: %.200s", out)
	}
	if out, code := runCLI("sync", "--district", "9", "--time-budget", "30s"); code != 1 || !strings.Contains(out, "--time-budget: must be between 1m0s and 24h0m0s (e.g. 45m), got 30s") {
		t.Fatalf("a budget under a minute (%d): %s", code, out)
	}
	out, code = runCLI("sync", "--district", "9", "--json")
	var r map[string]any
	if code != 0 || json.Unmarshal([]byte(out), &r) != nil || r["status"] != "succeeded" || r["mode"] != "apply" {
		t.Fatalf("sync --json (%d): %s", code, out)
	}
	if strings.Contains(out, "kill-secret") {
		t.Fatal("the secret was printed")
	}
	out, _ = runCLI("directory", "classrooms", "--district", "9", "--json")
	var classes []map[string]any
	if err := json.Unmarshal([]byte(out), &classes); err != nil || len(classes) == 0 {
		t.Fatalf("classrooms: %v %.200s", err, out)
	}
	keys := []string{"sourced_id", "name", "school", "status", "archived_by"}
	if len(classes[0]) != len(keys) {
		t.Fatalf("classroom keys: %v", classes[0])
	}
	id := classes[0]["sourced_id"].(string)
	if out, code := runCLI("directory", "classrooms", "--district", "9", "--archive", id); code != 0 || !strings.Contains(out, "Archived classroom "+id) {
		t.Fatalf("archive (%d): %s", code, out)
	}
	if out, code := runCLI("directory", "classrooms", "--district", "9", "--archive", id); code == 0 || !strings.Contains(out, "already archived (by hand)") {
		t.Fatalf("archive twice (%d): %s", code, out)
	}
	out, _ = runCLI("directory", "users", "--district", "9", "--kind", "guardian", "--json")
	var users []map[string]any
	if err := json.Unmarshal([]byte(out), &users); err != nil || len(users) == 0 {
		t.Fatalf("guardians: %v", err)
	}
	for _, k := range []string{"sourced_id", "kind", "role_group", "given_name", "family_name", "email", "mobile", "home_phone", "joined", "status", "permissions", "guardian_of", "source"} {
		if _, ok := users[0][k]; !ok {
			t.Errorf("user JSON lacks %q", k)
		}
	}
	if users[0]["source"] != "classlink" {
		t.Errorf("a synced guardian's source is %v", users[0]["source"])
	}
	if len(users[0]) != 13 {
		t.Errorf("user JSON has extra keys: %v", users[0])
	}
	if out, code := runCLI("directory", "users", "--district", "9", "--mark-joined", users[0]["sourced_id"].(string)); code != 0 || !strings.Contains(out, "as joined") {
		t.Fatalf("mark joined (%d): %s", code, out)
	}
	// The hand archive makes the next run a full one, which unarchives
	// the classroom (unarchive reappearing classrooms is on).
	out, code = runCLI("sync", "--district", "9")
	if code != 0 || !strings.Contains(out, "succeeded") || !strings.Contains(out, "pulling users changed since the last run") {
		t.Fatalf("sync after hand edits (%d): %s", code, out)
	}
	roster.BumpRevision()
	if out, code := runCLI("sync", "--district", "9", "--full"); code != 0 || !strings.Contains(out, "pulling the whole roster: a full pull was asked for") {
		t.Fatalf("sync --full (%d): %s", code, out)
	}
	// Bad input: a clear message naming the flag, non-zero, nothing written.
	state := func() string {
		u, c := directoryJSON(t, bin, path)
		h, _ := runCLI("history", "--district", "9", "--json")
		return fmt.Sprint(u, c, h)
	}
	before := state()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"sync", "--district", "x"}, "--district"},
		{[]string{"sync"}, "district"},
		{[]string{"sync", "--district", "9", "--batch-size", "0"}, "--batch-size"},
		{[]string{"sync", "--district", "9", "--full-pull-days", "0"}, "--full-pull-days"},
		{[]string{"sync", "--district", "77"}, "no district with Tenant ID 77"},
		{[]string{"directory", "users", "--district", "9", "--kind", "parent"}, "--kind"},
		{[]string{"directory", "classrooms", "--district", "9", "--status", "gone"}, "--status"},
		{[]string{"directory", "classrooms", "--district", "9", "--archive", "cls-nope"}, `"cls-nope"`},
		{[]string{"directory", "classrooms", "--district", "9", "--archive", id, "--unarchive", id}, "archive"},
		{[]string{"directory", "users", "--district", "9", "--mark-joined", ""}, "--mark-joined"},
	} {
		out, code := runCLI(tc.args...)
		if code == 0 || !strings.Contains(out, tc.want) {
			t.Errorf("%v: exit %d, output %q lacks %q", tc.args, code, out, tc.want)
		}
	}
	if state() != before {
		t.Error("bad input changed the directory or the history")
	}
	// A failing run exits non-zero naming the reason.
	srv.Inject(classlinktest.Fault{Kind: classlinktest.FaultUnauthorized})
	roster.BumpRevision()
	if out, code := runCLI("sync", "--district", "9"); code == 0 || !strings.Contains(out, "failed: credentials") {
		t.Fatalf("unauthorized sync (%d): %s", code, out)
	}
}
