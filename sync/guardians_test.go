package sync

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/schoolstatus/rostersync/guardians"
	"github.com/schoolstatus/rostersync/store"
)

const fileHead = "student_id,guardian_id,first_name,last_name,email,mobile,home_phone,language\n"

// guardiansOff is a fixture whose guardians come from files, synced once.
func guardiansOff(t *testing.T, edit func(*store.District)) *fixture {
	f := newFixture(t, fixtureOptions{edit: func(d *store.District) {
		d.Settings.ManageGuardians = false
		d.Guardians.Source = store.GuardiansUpload
		if edit != nil {
			edit(d)
		}
	}})
	f.mustSucceed()
	return f
}

func (f *fixture) upload(text string, opt FileOptions) FileResult {
	f.t.Helper()
	res, err := f.engine.RunGuardiansFile(context.Background(), testTenant, strings.NewReader(text), opt)
	if err != nil {
		f.t.Fatal(err)
	}
	return res
}

// staff is the directory record of staff member t.
func (f *fixture) staff(t int) store.DirectoryUser { return f.user(f.roster.StaffID(t)) }

func actions(file *guardians.File) []string {
	var out []string
	for _, r := range file.Rows {
		a := r.Action
		if !r.OK() {
			a = guardians.ActionError
		}
		out = append(out, a)
	}
	return out
}

func TestGuardiansFileDryRunThenApply(t *testing.T) {
	f := guardiansOff(t, nil)
	s0, s1, s2 := f.roster.StudentID(0), f.roster.StudentID(1), f.roster.StudentID(2)
	teacher := f.staff(10)
	if teacher.Kind != store.KindStaff || teacher.Email == "" {
		t.Fatalf("staff 20 = %+v", teacher)
	}
	text := fileHead +
		s0 + ",G-1,Ana,Ruiz,ana.ruiz@example.org,,(212) 874-1234 ,es\n" +
		s1 + ",G-1,Ana,Ruiz,ana.ruiz@example.org,,212-874-1234,es\n" +
		s2 + ",G-2,Bo,Li,,(415) 871-2233,123,\n" + // invalid home phone: a warning
		s2 + ",G-9," + teacher.GivenName + "," + teacher.FamilyName + "," + strings.ToUpper(teacher.Email) + ",,,\n" +
		"no-such-student,G-3,Cy,Ng,cy@example.org,,,\n" +
		s0 + ",G-1,Ana,Ruiz-Lopez,ana.ruiz@example.org,,212-874-1234,es\n"
	before := dumpDirectory(t, f.db, testTenant)
	dry := f.upload(text, FileOptions{DryRun: true, Name: "guardians.csv"})
	if !dumpDirectory(t, f.db, testTenant).equal(before) {
		t.Fatal("a dry run changed the directory")
	}
	want := []string{"CREATED", "CREATED", "CREATED", "LINKED", "ERROR", "ERROR"}
	if got := actions(dry.File); !slices.Equal(got, want) {
		t.Fatalf("dry run actions = %v, want %v", got, want)
	}
	if r := dry.File.Rows[4].Result(); !strings.Contains(r, `student_id "no-such-student" is not a student in the directory`) {
		t.Fatalf("unknown student: %q", r)
	}
	if r := dry.File.Rows[5].Result(); !strings.Contains(r, "conflicts with line 2") {
		t.Fatalf("conflict: %q", r)
	}
	gf := dry.Run.GuardiansFile
	if dry.Run.Mode != store.ModeDryRun || dry.Run.Trigger != store.TriggerGuardiansFile || dry.Run.Status != store.RunSucceeded ||
		gf == nil || gf.Rows != 6 || gf.Created != 2 || gf.Linked != 1 || gf.Errors != 2 || gf.Warnings != 1 || gf.Status != store.FileProcessed ||
		len(gf.FileSHA256) != 64 || gf.Size != int64(len(text)) || gf.Name != "guardians.csv" || gf.Source != store.GuardiansUpload {
		t.Fatalf("dry run = %+v %+v", dry.Run, gf)
	}
	if dry.Run.Counts.Guardians.Create != 2 || dry.Run.Counts.Staff.Update != 1 {
		t.Fatalf("dry run counts = %+v", dry.Run.Counts)
	}

	applied := f.upload(text, FileOptions{Name: "guardians.csv"})
	if applied.Run.Mode != store.ModeApply || *applied.Run.GuardiansFile != *gf {
		t.Fatalf("the apply did %+v, the dry run said %+v", applied.Run.GuardiansFile, gf)
	}
	g1 := f.user("G-1")
	if g1.Kind != store.KindGuardian || g1.Source != store.SourceGuardiansFile || g1.Managed || g1.Language != "es" ||
		g1.HomePhone != "+12128741234" || !slices.Equal(g1.GuardianOf, []string{s0, s1}) || g1.Email != "ana.ruiz@example.org" {
		t.Fatalf("G-1 = %+v", g1)
	}
	if g2 := f.user("G-2"); g2.Mobile != "+14158712233" || g2.HomePhone != "" || g2.Email != "" {
		t.Fatalf("G-2 = %+v", g2)
	}
	if _, err := f.db.DirectoryUser(testTenant, "G-9"); err == nil {
		t.Fatal("a row of a staff member created a guardian account")
	}
	if s := f.staff(10); !slices.Equal(s.GuardianOf, []string{s2}) || s.Kind != store.KindStaff {
		t.Fatalf("staff = %+v", s)
	}

	// The same file again changes nothing.
	again := f.upload(text, FileOptions{})
	if got := actions(again.File); !slices.Equal(got, []string{"UNCHANGED", "UNCHANGED", "UNCHANGED", "UNCHANGED", "ERROR", "ERROR"}) ||
		again.Run.Counts.Changes() != 0 || again.Run.GuardiansFile.Unchanged != 3 {
		t.Fatalf("again: %v %+v", got, again.Run.GuardiansFile)
	}
	// The roster sync leaves file guardians and the staff link alone while
	// guardians are off.
	f.editDistrict(func(d *store.District) { d.Settings.DailyStart = "04:00" })
	if r := f.mustSucceed(); r.Counts.Guardians.Changes() != 0 || r.Counts.Staff.Changes() != 0 {
		t.Fatalf("roster run after the file: %+v", r.Counts)
	}
	if s := f.staff(10); !slices.Equal(s.GuardianOf, []string{s2}) || f.user("G-1").Status != store.StatusActive {
		t.Fatalf("the roster sync undid the file: staff %+v", s)
	}
}

func TestGuardiansFileRefusedAsAWhole(t *testing.T) {
	f := guardiansOff(t, nil)
	before := dumpDirectory(t, f.db, testTenant)
	s0 := f.roster.StudentID(0)
	for _, tc := range []struct{ name, text, message string }{
		{"header", "student,parent\nx,y\n", "the first line must be the header"},
		{"encoding", fileHead + s0 + ",G-1,Jos\xe9,Ruiz,j@example.org,,,\n", "not valid UTF-8"},
		{"mostly errors", fileHead + s0 + ",G-1,Ana,Ruiz,a@example.org,,,\nx1,G-2,Bo,Li,b@example.org,,,\nx2,G-3,Cy,Ng,c@example.org,,,\n",
			"2 of its 3 rows are errors, more than half"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := f.upload(tc.text, FileOptions{Name: "x.csv"})
			r := res.Run
			if r.Status != store.RunFailed || r.Reason != store.ReasonGuardiansFile || !strings.Contains(r.Message, tc.message) ||
				r.GuardiansFile.Status != store.FileRefused || r.GuardiansFile.Size != int64(len(tc.text)) || r.ID == "" {
				t.Fatalf("run = %+v %+v", r, r.GuardiansFile)
			}
			if !dumpDirectory(t, f.db, testTenant).equal(before) {
				t.Fatal("a refused file changed the directory")
			}
		})
	}
	// Manage Guardians on: the file path is refused before any run.
	f.editDistrict(func(d *store.District) { d.Settings.ManageGuardians = true })
	runs, _ := f.db.Runs(testTenant)
	_, err := f.engine.RunGuardiansFile(context.Background(), testTenant, strings.NewReader(fileHead+s0+",G-1,Ana,Ruiz,a@example.org,,,\n"), FileOptions{})
	var managed *GuardiansManagedError
	if !errors.As(err, &managed) || !strings.Contains(err.Error(), "Allow sync to manage Guardians") {
		t.Fatalf("upload with guardians managed: %v", err)
	}
	if after, _ := f.db.Runs(testTenant); len(after) != len(runs) {
		t.Fatal("a refused upload was recorded as a run")
	}
}

func TestAbandonArchivesUnderTheThreshold(t *testing.T) {
	f := guardiansOff(t, func(d *store.District) { d.Settings.DeletionThresholdPercent = 40 })
	s := func(i int) string { return f.roster.StudentID(i) }
	teacher := f.staff(10)
	first := fileHead +
		s(0) + ",G-1,Ana,Ruiz,ana@example.org,,,\n" +
		s(1) + ",G-2,Bo,Li,bo@example.org,,,\n" +
		s(2) + ",G-3,Cy,Ng,cy@example.org,,,\n" +
		s(3) + ",G-4,Di,Ng,di@example.org,,,\n" +
		s(3) + ",G-9,T,Staff," + teacher.Email + ",,,\n"
	if r := f.upload(first, FileOptions{}).Run; r.GuardiansFile.Created != 4 || r.GuardiansFile.Linked != 1 {
		t.Fatalf("first file: %+v", r.GuardiansFile)
	}
	// Without Abandon a shorter file archives nothing and only adds links.
	second := fileHead + s(4) + ",G-1,Ana,Ruiz,ana@example.org,,,\n" + s(5) + ",G-2,Bo,Li,bo@example.org,,,\n" + s(6) + ",G-3,Cy,Ng,cy@example.org,,,\n"
	r := f.upload(second, FileOptions{}).Run
	if r.GuardiansFile.Archived != 0 || r.GuardiansFile.Updated != 3 || f.user("G-4").Status != store.StatusActive ||
		!slices.Equal(f.user("G-1").GuardianOf, []string{s(0), s(4)}) || len(f.staff(10).GuardianOf) != 1 {
		t.Fatalf("without abandon: %+v", r.GuardiansFile)
	}
	// With Abandon: 1 of 4 active file guardians goes (25% ≤ 40%), links
	// become exactly the file's, the staff link goes.
	r = f.upload(second, FileOptions{Abandon: true}).Run
	if r.Status != store.RunSucceeded || r.GuardiansFile.Archived != 1 || r.Counts.Guardians.Archive != 1 || r.Counts.Staff.Update != 1 {
		t.Fatalf("abandon: %+v %+v", r, r.GuardiansFile)
	}
	if g := f.user("G-4"); g.Status != store.StatusArchived || g.GivenName != "Di" {
		t.Fatalf("G-4 = %+v (archived, never deleted)", g)
	}
	if !slices.Equal(f.user("G-1").GuardianOf, []string{s(4)}) || len(f.staff(10).GuardianOf) != 0 {
		t.Fatalf("links after abandon: %v %v", f.user("G-1").GuardianOf, f.staff(10).GuardianOf)
	}
	// Over the threshold: 2 of 3 would go; nothing is archived, the
	// creates and updates still happen.
	third := fileHead + s(7) + ",G-1,Ana,Ruiz,ana@example.org,,,\n" + s(8) + ",G-5,Ed,Ng,ed@example.org,,,\n"
	r = f.upload(third, FileOptions{Abandon: true}).Run
	if r.Status != store.RunFailed || r.Reason != store.ReasonThreshold || r.TriedToArchive.Guardians != 2 || r.GuardiansFile.Archived != 0 ||
		r.GuardiansFile.Created != 1 || !strings.Contains(r.Message, "would archive 2 of 3 active guardians") {
		t.Fatalf("over the threshold: %+v %+v", r, r.GuardiansFile)
	}
	if f.user("G-2").Status != store.StatusActive || f.user("G-5").Status != store.StatusActive {
		t.Fatal("over the threshold, the run archived or did not create")
	}
	// A file listing G-4 again brings it back.
	r = f.upload(fileHead+s(3)+",G-4,Di,Ng,di@example.org,,,\n", FileOptions{}).Run
	if r.Counts.Guardians.Unarchive != 1 || f.user("G-4").Status != store.StatusActive {
		t.Fatalf("relisted: %+v", r.Counts)
	}
}

func TestFileGuardiansKeepJoinedContacts(t *testing.T) {
	f := guardiansOff(t, nil)
	s0 := f.roster.StudentID(0)
	f.upload(fileHead+s0+",G-1,Ana,Ruiz,ana@example.org,,,en\n", FileOptions{})
	markJoined(f, "G-1")
	changed := fileHead + s0 + ",G-1,Anna,Ruiz,anna@example.org,,,es\n"
	res := f.upload(changed, FileOptions{})
	if g := f.user("G-1"); g.GivenName != "Ana" || g.Email != "ana@example.org" || g.Language != "en" || res.File.Rows[0].Action != guardians.ActionUnchanged ||
		!strings.Contains(res.File.Rows[0].Result(), "contact details kept") {
		t.Fatalf("joined guardian: %+v, row %q %s", g, res.File.Rows[0].Result(), res.File.Rows[0].Action)
	}
	f.editDistrict(func(d *store.District) { d.Settings.UpdateActiveUserContacts = true })
	res = f.upload(changed, FileOptions{})
	if g := f.user("G-1"); g.GivenName != "Anna" || g.Email != "anna@example.org" || g.Language != "es" || !g.Joined || res.File.Rows[0].Action != guardians.ActionUpdated {
		t.Fatalf("with updates of active users on: %+v", g)
	}
}

func TestEmailOfAnotherUserNeedsAMobile(t *testing.T) {
	f := guardiansOff(t, nil)
	s0, s1, s2 := f.roster.StudentID(0), f.roster.StudentID(1), f.roster.StudentID(2)
	res := f.upload(fileHead+
		s0+",G-1,Ana,Ruiz,"+f.user(s1).Email+",,,\n"+
		s0+",G-2,Bo,Ruiz,"+f.user(s2).Email+",2128741234,,\n"+
		s0+",G-3,Cy,Ruiz,cy@example.org,,,\n", FileOptions{})
	if r := res.File.Rows[0]; r.OK() || !strings.Contains(r.Result(), "is already user \""+s1+"\"'s in the directory and there is no valid mobile") {
		t.Fatalf("row 2: %q", r.Result())
	}
	if r := res.File.Rows[1]; !r.OK() || r.Action != guardians.ActionCreated || !strings.Contains(r.Result(), "logs in with the mobile") {
		t.Fatalf("row 3: %q", r.Result())
	}
}

func TestManageGuardiansOnAgainMatchesOrArchivesFileGuardians(t *testing.T) {
	f := guardiansOff(t, nil)
	s0 := f.roster.StudentID(0)
	synced := f.guardiansOf(0)[0] // a ClassLink guardian of student 0
	teacher := f.staff(10)
	f.upload(fileHead+
		s0+","+synced+",Same,Person,same@example.org,,,\n"+
		s0+",G-only-in-file,Ana,Ruiz,ana@example.org,,,\n"+
		s0+",G-9,T,S,"+teacher.Email+",,,\n", FileOptions{})
	if u := f.user(synced); u.Source != store.SourceGuardiansFile {
		t.Fatalf("file guardian = %+v", u)
	}
	f.editDistrict(func(d *store.District) { d.Settings.ManageGuardians = true })
	r := f.mustSucceed()
	m := f.user(synced)
	if m.Source != store.SourceClassLink || !m.Managed || m.GivenName == "Same" || m.Status != store.StatusActive {
		t.Fatalf("matched by guardian_id = sourcedId: %+v", m)
	}
	if g := f.user("G-only-in-file"); g.Status != store.StatusArchived {
		t.Fatalf("file-only guardian with guardians managed: %+v", g)
	}
	if len(f.staff(10).GuardianOf) != 0 || r.Counts.Guardians.Archive != 1 {
		t.Fatalf("staff link %v, counts %+v", f.staff(10).GuardianOf, r.Counts)
	}
}

func TestCancelDuringFileApplyConverges(t *testing.T) {
	f := guardiansOff(t, nil)
	f.engine.BatchSize = 5
	var b strings.Builder
	b.WriteString(fileHead)
	for i := range 60 {
		b.WriteString(f.roster.StudentID(i) + ",G-" + string(rune('A'+i%26)) + string(rune('a'+i/26)) + ",N,M,,212874" + string(rune('0'+i/10)) + string(rune('0'+i%10)) + "00,,\n")
	}
	text := b.String()
	ctx, cancel := context.WithCancel(context.Background())
	res, err := f.engine.RunGuardiansFile(ctx, testTenant, strings.NewReader(text), FileOptions{Progress: func(p Progress) {
		if p.Phase == PhaseApply && p.Applied >= 10 {
			cancel()
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	if r := res.Run; r.Status != store.RunFailed || !r.Cancelled() || r.GuardiansFile.Status != store.FileFailed {
		t.Fatalf("cancelled upload = %+v %+v", r, r.GuardiansFile)
	}
	if n, _ := f.db.DirectoryCounts(testTenant); n.Guardians.Active < 10 || n.Guardians.Active >= 60 {
		t.Fatalf("not cut mid-apply: %+v", n.Guardians)
	}
	if r := f.upload(text, FileOptions{}).Run; r.Status != store.RunSucceeded || r.GuardiansFile.Created+r.GuardiansFile.Unchanged != 60 {
		t.Fatalf("rerun = %+v", r.GuardiansFile)
	}
	again := f.upload(text, FileOptions{}).Run
	if again.Counts.Changes() != 0 || again.GuardiansFile.Unchanged != 60 {
		t.Fatalf("after converging: %+v", again.GuardiansFile)
	}
}

// A panic while a guardians file is processed is recovered as in Run: the
// run is recorded failed with reason internal, and the district is free
// for the next file.
func TestAPanicInAGuardiansFileIsRecorded(t *testing.T) {
	f := guardiansOff(t, nil)
	text := fileHead + f.roster.StudentID(0) + ",G-1,Ana,Ruiz,,2128745500,,\n"
	res, err := f.engine.RunGuardiansFile(context.Background(), testTenant, strings.NewReader(text), FileOptions{Progress: func(p Progress) {
		if p.Phase == PhasePlan {
			panic("a bug while planning")
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	r := res.Run
	if r.ID == "" || r.Status != store.RunFailed || r.Reason != store.ReasonInternal || !strings.Contains(r.Message, "internal error (a bug while planning") {
		t.Fatalf("the file that panicked: %q %s/%s %q", r.ID, r.Status, r.Reason, r.Message)
	}
	if last, _, _ := f.db.LastRun(testTenant); last.ID != r.ID || last.Status != store.RunFailed || last.Trigger != store.TriggerGuardiansFile {
		t.Fatalf("recorded: %+v", last)
	}
	if again := f.upload(text, FileOptions{}).Run; again.Status != store.RunSucceeded || again.GuardiansFile.Created != 1 {
		t.Fatalf("the next file: %s/%s %+v", again.Status, again.Reason, again.GuardiansFile)
	}
}
