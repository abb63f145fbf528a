package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/schoolstatus/rostersync/guardians/sftptest"
	"github.com/schoolstatus/rostersync/store"
	"github.com/schoolstatus/rostersync/store/storetest"
)

// guardiansDB is a database with district 9 (guardians off, uploads) whose
// directory holds n students (s-0000…) and one teacher, as a roster sync
// would have left it.
func guardiansDB(t *testing.T, n int, edit func(*store.District)) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "rostersync.db")
	db, err := store.Open(path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	d := store.NewDistrict(9, 90, "Guardians USD")
	d.Settings.ManageGuardians = false
	d.Settings.DeletionThresholdPercent = 100
	d.Guardians.Source = store.GuardiansUpload
	if edit != nil {
		edit(&d)
	}
	if _, _, err := db.SaveDistrict(d, 0, store.Actor{User: "test"}, nil); err != nil {
		t.Fatal(err)
	}
	var b store.DirectoryBatch
	for i := range n {
		b.PutUser(store.DirectoryUser{SourcedID: fmt.Sprintf("s-%04d", i), Kind: store.KindStudent, GivenName: "Kid", FamilyName: fmt.Sprint(i),
			Status: store.StatusActive, Managed: true, Permissions: []string{}, GuardianOf: []string{}})
	}
	b.PutUser(store.DirectoryUser{SourcedID: "t-1", Kind: store.KindStaff, RoleGroup: "teacher", GivenName: "Tea", FamilyName: "Cher",
		Email: "tea.cher@school.example.org", Status: store.StatusActive, Managed: true, Permissions: []string{}, GuardianOf: []string{}})
	if err := db.ApplyDirectory(9, &b); err != nil {
		t.Fatal(err)
	}
	return path
}

func writeTemp(t *testing.T, name, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestGuardiansUploadCommand(t *testing.T) {
	db := guardiansDB(t, 10, nil)
	sample, code := run(t, "", "--db", db, "guardians", "sample", "--district", "9")
	if code != 0 || !strings.HasPrefix(sample, "student_id,guardian_id,first_name,last_name,email,mobile,home_phone,language\n") ||
		!strings.Contains(sample, "s-0000,guardian-5001") || !strings.Contains(sample, "s-0002,guardian-5003") {
		t.Fatalf("sample (%d):\n%s", code, sample)
	}
	file := writeTemp(t, "guardians.csv", sample+"s-0003,G-9,Tea,Cher,tea.cher@school.example.org,,,\nnobody,G-8,No,Body,no@example.org,,,\n")

	// A dry run as JSON: the run contract with its guardians_file section.
	out, code := run(t, "", "--db", db, "guardians", "upload", "--district", "9", file, "--dry-run", "--json")
	var r map[string]any
	if err := json.Unmarshal([]byte(out), &r); code != 0 || err != nil {
		t.Fatalf("dry run (%d): %v\n%s", code, err, out)
	}
	gf := r["guardians_file"].(map[string]any)
	if r["mode"] != "dry_run" || r["trigger"] != "guardians_file" || gf["rows"] != 6.0 || gf["created"] != 3.0 || gf["linked"] != 1.0 ||
		gf["errors"] != 1.0 || gf["archived"] != 0.0 || len(gf["file_sha256"].(string)) != 64 {
		t.Fatalf("dry run JSON: %s", out)
	}
	for _, k := range []string{"rows", "created", "updated", "linked", "archived", "errors", "warnings", "file_sha256"} {
		if _, ok := gf[k]; !ok {
			t.Errorf("guardians_file lacks %q", k)
		}
	}
	if users, _ := run(t, "", "--db", db, "directory", "users", "--district", "9", "--kind", "guardian", "--json"); strings.TrimSpace(users) != "[]" {
		t.Fatalf("the dry run created guardians: %s", users)
	}

	// Applied, with a result file (0600: it holds contact details).
	result := filepath.Join(t.TempDir(), "result.csv")
	out, code = run(t, "", "--db", db, "guardians", "upload", "--district", "9", file, "--result", result)
	if code != 0 || !strings.Contains(out, "6 rows: 3 created, 0 updated, 1 linked, 0 unchanged, 0 archived; 1 errors, 0 warnings") ||
		!strings.Contains(out, "Rows (errors first):\n  line 7     ERROR     G-8 → nobody: student_id \"nobody\" is not a student") {
		t.Fatalf("upload (%d):\n%s", code, out)
	}
	st, err := os.Stat(result)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("result file: %v %v", st, err)
	}
	raw, _ := os.ReadFile(result)
	lines := strings.Split(strings.TrimSpace(string(raw)), "\n")
	if lines[0] != "student_id,guardian_id,first_name,last_name,email,mobile,home_phone,language,result,action" ||
		!strings.HasSuffix(lines[1], ",success,CREATED") || !strings.HasSuffix(lines[5], ",success,LINKED") || !strings.HasSuffix(lines[6], ",ERROR") {
		t.Fatalf("result file:\n%s", raw)
	}
	users, _ := run(t, "", "--db", db, "directory", "users", "--district", "9", "--kind", "guardian", "--json")
	var gs []map[string]any
	if err := json.Unmarshal([]byte(users), &gs); err != nil || len(gs) != 3 || gs[0]["source"] != "guardians_file" ||
		gs[0]["kind"] != "guardian" || !reflect.DeepEqual(gs[0]["guardian_of"], []any{"s-0000", "s-0001"}) {
		t.Fatalf("file guardians: %v\n%s", err, users)
	}
	staff, _ := run(t, "", "--db", db, "directory", "users", "--district", "9", "--kind", "staff", "--json")
	if !strings.Contains(staff, `"guardian_of": [`) || !strings.Contains(staff, `"s-0003"`) {
		t.Fatalf("linked staff: %s", staff)
	}

	// From standard input, the same file changes nothing.
	text, _ := os.ReadFile(file)
	if out, code = run(t, string(text), "--db", db, "guardians", "upload", "--district", "9", "-"); code != 0 || !strings.Contains(out, "0 created, 0 updated, 0 linked, 4 unchanged") {
		t.Fatalf("stdin (%d):\n%s", code, out)
	}

	// Refused as a whole: exit 1, recorded in the history, nothing changed.
	bad := writeTemp(t, "bad.csv", "parent,child\na,b\n")
	if out, code = run(t, "", "--db", db, "guardians", "upload", "--district", "9", bad); code != 1 || !strings.Contains(out, "guardians_file: guardians file refused: the first line must be the header") {
		t.Fatalf("bad header (%d):\n%s", code, out)
	}
	history, _ := run(t, "", "--db", db, "history", "--district", "9", "--json")
	if !strings.Contains(history, `"status": "refused"`) || !strings.Contains(history, `"reason": "guardians_file"`) {
		t.Fatalf("history lacks the refused upload:\n%s", history)
	}
}

func TestGuardiansCommandsRefuseBadInput(t *testing.T) {
	db := guardiansDB(t, 2, nil)
	file := writeTemp(t, "g.csv", "student_id,guardian_id,first_name,last_name,email,mobile\ns-0000,G-1,Ana,Ruiz,ana@example.org,\n")
	before, _ := os.ReadFile(db)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"guardians", "upload", file}, `required flag(s) "district" not set`},
		{[]string{"guardians", "upload", "--district", "x", file}, "--district: District Tenant ID must be a positive whole number"},
		{[]string{"guardians", "upload", "--district", "9"}, "accepts 1 arg(s)"},
		{[]string{"guardians", "upload", "--district", "9", "--encoding", "utf-16", file}, `--encoding: must be "utf-8" or "iso-8859-1"`},
		{[]string{"guardians", "upload", "--district", "9", "--batch-size", "0", file}, "--batch-size: must be a positive whole number"},
		{[]string{"guardians", "upload", "--district", "9", filepath.Join(t.TempDir(), "none.csv")}, "no such file"},
		{[]string{"guardians", "upload", "--district", "7", file}, "no district with Tenant ID 7"},
		{[]string{"guardians", "sftp", "test", "--district", "9", "--trust-host-key", "MD5:aa"}, "--trust-host-key: must be a SHA256 fingerprint"},
	} {
		out, code := run(t, "", append([]string{"--db", db}, tc.args...)...)
		if code != 1 || !strings.Contains(out, tc.want) {
			t.Errorf("%v: exit %d, want 1 and %q:\n%s", tc.args, code, tc.want, out)
		}
	}
	if after, _ := os.ReadFile(db); string(after) != string(before) {
		t.Error("a refused command changed the database")
	}
	if out, code := run(t, "", "--db", filepath.Join(t.TempDir(), "new.db"), "guardians", "upload", "--district", "9", file); code != 1 || !strings.Contains(out, "no database at") {
		t.Errorf("no database: %d %s", code, out)
	}
	managed := guardiansDB(t, 2, func(d *store.District) { d.Settings.ManageGuardians = true })
	if out, code := run(t, "", "--db", managed, "guardians", "upload", "--district", "9", file); code != 1 || !strings.Contains(out, "a guardians file is refused") {
		t.Errorf("guardians managed: %d %s", code, out)
	}
}

func TestGuardiansSFTPTestPinsOnlyAConfirmedKey(t *testing.T) {
	srv := sftptest.Start(t)
	srv.Put("/in/guardians.csv", []byte("student_id,guardian_id,first_name,last_name,email,mobile\n"))
	db := guardiansDB(t, 2, func(d *store.District) {
		d.Guardians = store.GuardiansSource{Source: store.GuardiansSFTP, SFTP: store.SFTPFolder{Host: srv.Host, Port: srv.Port, User: srv.User, Password: srv.Password, Folder: "/in", HostKey: srv.HostKey}}
	})
	storetest.Unpin(t, db, 9) // saved before a save required the pin
	out, code := run(t, "", "--db", db, "guardians", "sftp", "test", "--district", "9")
	if code != 1 || !strings.Contains(out, "host key is not pinned yet") || !strings.Contains(out, "presents host key "+srv.HostKey+" (ssh-ed25519)") ||
		strings.Count(out, "rostersync guardians sftp test --district 9 --trust-host-key "+srv.HostKey) != 1 || strings.Contains(out, srv.Password) {
		t.Fatalf("unpinned (%d):\n%s", code, out)
	}
	other := sftptest.Start(t).HostKey
	if out, code = run(t, "", "--db", db, "guardians", "sftp", "test", "--district", "9", "--trust-host-key", other); code != 1 || !strings.Contains(out, "refusing to connect") {
		t.Fatalf("another key (%d):\n%s", code, out)
	}
	if show, _ := run(t, "", "--db", db, "config", "show", "--district", "9", "--json"); !strings.Contains(show, `"host_key": ""`) {
		t.Fatalf("a key was pinned without confirmation:\n%s", show)
	}
	out, code = run(t, "", "--db", db, "guardians", "sftp", "test", "--district", "9", "--trust-host-key", srv.HostKey)
	if code != 0 || !strings.Contains(out, "Pinned host key "+srv.HostKey+" for district 9 (revision 2)") || !strings.Contains(out, "/in/guardians.csv: found") {
		t.Fatalf("trusted (%d):\n%s", code, out)
	}
	export, _ := run(t, "", "--db", db, "config", "export", "--district", "9")
	if !strings.Contains(export, `"host_key": "`+srv.HostKey+`"`) || !strings.Contains(export, `"password": "********"`) || strings.Contains(export, srv.Password) {
		t.Fatalf("export:\n%s", export)
	}
	if out, code = run(t, "", "--db", db, "guardians", "sftp", "test", "--district", "9", "--json"); code != 0 || !strings.Contains(out, `"pinned": true`) {
		t.Fatalf("pinned (%d):\n%s", code, out)
	}
	history, _ := run(t, "", "--db", db, "history", "--district", "9", "--json")
	if !strings.Contains(history, "SFTP host key pinned after a connection test") {
		t.Fatalf("the pin is not audited:\n%s", history)
	}
}

// A guardians upload killed with SIGKILL while applying leaves a directory
// from which processing the file again converges to one clean upload.
func TestGuardiansUploadKilledMidApplyConverges(t *testing.T) {
	const n = 600
	killed, clean := guardiansDB(t, n, nil), guardiansDB(t, n, nil)
	var b strings.Builder
	b.WriteString("student_id,guardian_id,first_name,last_name,email,mobile\n")
	for i := range n {
		fmt.Fprintf(&b, "s-%04d,G-%04d,Pat,Doe%d,pat.doe%d@example.org,\n", i, i/2, i/2, i/2)
	}
	file := writeTemp(t, "guardians.csv", b.String())

	cmd := exec.Command(binary(t), "--db", killed, "guardians", "upload", "--district", "9", "--batch-size", "10", file)
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
		var applied, total int
		if n, _ := fmt.Sscanf(line, "applying: %d of %d directory writes", &applied, &total); n == 2 && applied > 0 && applied < total {
			cmd.Process.Kill()
			break
		}
	}
	err = cmd.Wait()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != -1 {
		t.Fatalf("the upload was not killed mid-apply (%v):\n%s", err, strings.Join(seen, "\n"))
	}
	partial, _ := run(t, "", "--db", killed, "directory", "users", "--district", "9", "--kind", "guardian", "--json")
	var got []any
	if json.Unmarshal([]byte(partial), &got); len(got) == 0 || len(got) >= n/2 {
		t.Fatalf("the kill came too early or too late: %d guardians", len(got))
	}
	for _, db := range []string{killed, clean} {
		if out, code := run(t, "", "--db", db, "guardians", "upload", "--district", "9", file); code != 0 {
			t.Fatalf("upload: %s", out)
		}
	}
	ku, _ := directoryJSON(t, binary(t), killed)
	cu, _ := directoryJSON(t, binary(t), clean)
	if len(cu) != n+1+n/2 || !reflect.DeepEqual(ku, cu) {
		t.Fatalf("after the kill: %d users; clean: %d", len(ku), len(cu))
	}
}

// While `serve` holds the database, `guardians upload` on the server goes
// through its admin socket to its engine.
func TestGuardiansUploadWhileServing(t *testing.T) {
	db := guardiansDB(t, 3, nil)
	srv := startServe(t, db, filepath.Join(t.TempDir(), "host_ed25519"))
	file := writeTemp(t, "g.csv", "student_id,guardian_id,first_name,last_name,email,mobile\ns-0000,G-1,Ana,Ruiz,ana@example.org,\nnobody,G-2,Bo,Li,bo@example.org,\ns-0001,G-3,Cy,Ng,cy@example.org,\n")
	result := filepath.Join(t.TempDir(), "result.csv")
	out, code := run(t, "", "--db", db, "guardians", "upload", "--district", "9", file, "--result", result)
	if code != 0 || !strings.Contains(out, "3 rows: 2 created") || !strings.Contains(out, "line 3     ERROR     G-2 → nobody") {
		t.Fatalf("upload through serve (%d):\n%s", code, out)
	}
	if raw, err := os.ReadFile(result); err != nil || !strings.Contains(string(raw), ",success,CREATED") {
		t.Fatalf("result file: %q %v", raw, err)
	}
	out, code = run(t, "", "--db", db, "guardians", "upload", "--district", "9", file, "--json")
	if code != 0 || !strings.Contains(out, `"unchanged": 2`) {
		t.Fatalf("again (%d):\n%s", code, out)
	}
	if out, code = run(t, "", "--db", db, "guardians", "upload", "--district", "7", file); code != 1 || !strings.Contains(out, "no district with Tenant ID 7") {
		t.Fatalf("unknown district (%d):\n%s", code, out)
	}
	srv.stop(t)
	if !strings.Contains(srv.logs.String(), "guardians file processed") {
		t.Errorf("serve did not log the upload:\n%s", srv.logs)
	}
	users, _ := run(t, "", "--db", db, "directory", "users", "--district", "9", "--kind", "guardian", "--json")
	if !strings.Contains(users, `"G-1"`) || !strings.Contains(users, `"G-3"`) {
		t.Fatalf("guardians after serve stopped: %s", users)
	}
}

// A connection test is no port scanner: a closed port and one where
// something that is not SSH answers read the same, and serve refuses a bad
// --sftp-ports before touching its database.
func TestGuardiansSFTPTestSaysTheSameForEveryPortWithoutSSH(t *testing.T) {
	hostKey := sftptest.Start(t).HostKey
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedPort := closed.Addr().(*net.TCPAddr).Port
	closed.Close()
	web, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer web.Close()
	go func() {
		for {
			c, err := web.Accept()
			if err != nil {
				return
			}
			c.Write([]byte("HTTP/1.0 400 Bad Request\r\n\r\n"))
			c.Close()
		}
	}()
	for _, port := range []int{closedPort, web.Addr().(*net.TCPAddr).Port} {
		db := guardiansDB(t, 2, func(d *store.District) {
			d.Guardians = store.GuardiansSource{Source: store.GuardiansSFTP, SFTP: store.SFTPFolder{Host: "127.0.0.1", Port: port, User: "u", Password: "p", HostKey: hostKey}}
		})
		out, code := run(t, "", "--db", db, "guardians", "sftp", "test", "--district", "9")
		want := fmt.Sprintf("no SFTP server answered at 127.0.0.1:%d: check the host and port of the district's SFTP folder, and that this machine may reach it", port)
		if code != 1 || !strings.Contains(out, want) || strings.Contains(out, "refused") || strings.Contains(out, "EOF") || strings.Contains(out, "handshake") {
			t.Errorf("port %d (exit %d):\n%s", port, code, out)
		}
	}
	db := filepath.Join(t.TempDir(), "new.db")
	if out, code := run(t, "", "--db", db, "serve", "--sftp-ports", "22,70000"); code != 1 || !strings.Contains(out, `--sftp-ports: "70000" is not a port from 1 to 65535`) {
		t.Errorf("serve --sftp-ports 22,70000: exit %d\n%s", code, out)
	}
	if _, err := os.Stat(db); !os.IsNotExist(err) {
		t.Error("serve with a bad --sftp-ports made a database")
	}
}
