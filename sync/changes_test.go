package sync

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"charm.land/log/v2"

	"github.com/schoolstatus/rostersync/classlink"
	"github.com/schoolstatus/rostersync/classlink/classlinktest"
	"github.com/schoolstatus/rostersync/store"
	"github.com/schoolstatus/rostersync/store/storetest"
)

// twin is a second database of the fixture's district, synced with a full
// pull every time: what a daily run of changes must equal.
type twin struct {
	db     *store.DB
	engine *Engine
}

func newTwin(t *testing.T, f *fixture) *twin {
	t.Helper()
	db, err := store.Open(filepath.Join(t.TempDir(), "full.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	d, err := f.db.District(testTenant)
	if err != nil {
		t.Fatal(err)
	}
	d.Revision = 0
	if _, _, err := db.SaveDistrict(d, 0, store.Actor{User: "test"}, nil); err != nil {
		t.Fatal(err)
	}
	return &twin{db: db, engine: &Engine{DB: db, Dial: f.dial, BatchSize: 100}}
}

// pullKind runs one sync and says how it pulled: "changes" or the reason
// for a full pull.
func pullKind(t *testing.T, e *Engine, opt RunOptions) (store.Run, string) {
	t.Helper()
	kind := ""
	opt.Progress = func(p Progress) {
		switch {
		case p.FullPull != "":
			kind = p.FullPull
		case p.Pass == PassChanges && kind == "":
			kind = PassChanges
		}
	}
	res, err := e.Run(context.Background(), testTenant, opt)
	if err != nil {
		t.Fatal(err)
	}
	return res.Run, kind
}

// Day after day, a run that pulls only what changed leaves the directory
// exactly as a run that pulls everything, with the same counts: new,
// withdrawn, purged and edited users, new and dropped classes, records
// that vanish and come back, a class and a student that change school, an
// enrollment that changes role, a guardian linked to another student.
func TestDailyRunsOfChangesEqualFullPulls(t *testing.T) {
	f := newFixture(t, fixtureOptions{edit: func(d *store.District) {
		d.Schools = d.Schools[:1] // school 1 stays out: records can move in and out of scope
		d.Settings.DeletionThresholdPercent = 100
	}})
	full := newTwin(t, f)
	school0, school1 := f.roster.SchoolID(0), f.roster.SchoolID(1)

	// A class and a student of the school that is not connected, and an
	// enrollment between them.
	var outClass, outStudent, outEnrollment string
	for _, r := range f.roster.Records(classlinktest.Enrollments, 0, 1<<20) {
		e := r.(classlinktest.Enrollment)
		k, _ := f.roster.Get(classlinktest.Classes, e.Class)
		u, _ := f.roster.Get(classlinktest.Users, e.User)
		if e.School == school1 && e.Role == "student" && e.Status == "active" && k.(classlinktest.Class).Status == "active" && u.(classlinktest.User).Status == "active" {
			outClass, outStudent, outEnrollment = e.Class, e.User, e.SourcedID
			break
		}
	}
	if outEnrollment == "" {
		t.Fatal("no enrollment at school 1")
	}
	var purged classlinktest.User

	days := []struct {
		name   string
		change func()
		want   string // "changes", or part of the reason for a full pull
	}{
		{"first run", func() {}, "no roster kept"},
		{"nothing changed but x-perm-rev", func() { f.roster.BumpRevision() }, PassChanges},
		{"a school day", func() {
			f.roster.AdvanceDay(classlinktest.DayChanges{NewStudents: 3, Withdrawn: 2, Purged: 2, ContactEdits: 5, NewClasses: 1})
			f.roster.MarkToBeDeleted(classlinktest.Classes, f.roster.ClassID(1))
		}, PassChanges},
		{"a student vanishes", func() {
			purged = f.rosterUser(f.roster.StudentID(7))
			if err := f.roster.Remove(classlinktest.Users, purged.SourcedID); err != nil {
				t.Fatal(err)
			}
		}, PassChanges},
		{"and comes back, edited", func() {
			f.roster.AdvanceDay(classlinktest.DayChanges{})
			purged.GivenName, purged.DateLastModified = "Returned", classlinktest.Stamp(time.Date(2026, 8, 3, 12, 0, 0, 0, time.UTC))
			f.roster.Put(purged)
		}, PassChanges},
		{"a class and a student change school, an enrollment its role, a guardian its student", func() {
			f.roster.AdvanceDay(classlinktest.DayChanges{})
			if err := classlinktest.Modify(f.roster, outClass, func(k *classlinktest.Class) { k.School = school0 }); err != nil {
				t.Fatal(err)
			}
			modifyUser(f, outStudent, func(u *classlinktest.User) { u.Orgs = []string{school0} })
			modifyUser(f, f.roster.StudentID(3), func(u *classlinktest.User) { u.Orgs = []string{school1} })
			if err := classlinktest.Modify(f.roster, f.roster.EnrollmentID(40), func(e *classlinktest.Enrollment) { e.Role = "aide" }); err != nil {
				t.Fatal(err)
			}
			modifyUser(f, f.roster.GuardianID(0), func(u *classlinktest.User) { u.Agents = append(u.Agents, f.roster.StudentID(11)) })
		}, PassChanges},
		{"a class goes out of scope again, enrollments end", func() {
			f.roster.AdvanceDay(classlinktest.DayChanges{})
			f.roster.MarkToBeDeleted(classlinktest.Classes, f.roster.ClassID(2))
			if err := classlinktest.Modify(f.roster, outClass, func(k *classlinktest.Class) { k.School = school1 }); err != nil {
				t.Fatal(err)
			}
			f.roster.MarkToBeDeleted(classlinktest.Enrollments, f.roster.EnrollmentID(41))
			f.roster.Remove(classlinktest.Enrollments, f.roster.EnrollmentID(42))
		}, PassChanges},
		// Two more days, so the records changed above fall behind the margin
		// of the pull of changes: only the kept roster knows them now.
		{"a new student", func() { f.roster.AdvanceDay(classlinktest.DayChanges{NewStudents: 1}) }, PassChanges},
		{"another new student", func() { f.roster.AdvanceDay(classlinktest.DayChanges{NewStudents: 1}) }, PassChanges},
		{"another student vanishes", func() {
			if err := f.roster.Remove(classlinktest.Users, f.roster.StudentID(8)); err != nil {
				t.Fatal(err)
			}
		}, PassChanges},
		{"and comes back as it was, its dateLastModified unmoved", func() {
			f.roster.Put(f.roster.Generated(classlinktest.Users, f.roster.Tier().Staff+8))
		}, "neither pulled last time nor changed"},
		{"a new user without any date", func() {
			f.roster.Put(classlinktest.User{SourcedID: "usr-undated", Status: "active", GivenName: "Una", FamilyName: "Dated",
				Role: "teacher", Orgs: []string{school0}})
		}, "neither pulled last time nor changed"},
		{"dates unreadable since", func() { f.roster.AdvanceDay(classlinktest.DayChanges{NewStudents: 1}) }, "no roster kept"},
	}
	for _, day := range days {
		day.change()
		got, kind := pullKind(t, f.engine, RunOptions{})
		want, fullKind := pullKind(t, full.engine, RunOptions{FullPull: true})
		if !strings.Contains(kind, day.want) {
			t.Errorf("%s: the run pulled %q, want %q", day.name, kind, day.want)
		}
		if !strings.Contains(fullKind, "full pull was asked") && fullKind != "no roster kept from an earlier run" {
			t.Errorf("%s: the twin pulled %q", day.name, fullKind)
		}
		if got.Status != want.Status || got.Counts != want.Counts || got.Warnings != want.Warnings || got.TriedToArchive != want.TriedToArchive {
			t.Errorf("%s: run of changes %s %+v %+v, full run %s %+v %+v", day.name, got.Status, got.Counts, got.Warnings, want.Status, want.Counts, want.Warnings)
		}
		if testing.Verbose() {
			m, _ := f.db.ClassroomMembers(testTenant, outClass)
			r, _ := f.roster.Get(classlinktest.Classes, outClass)
			t.Logf("%s: %s %+v; %d members of %s (%+v)", day.name, kind, got.Counts, len(m), outClass, r)
		}
		if a, b := dumpDirectory(t, f.db, testTenant), dumpDirectory(t, full.db, testTenant); !a.equal(b) {
			t.Fatalf("%s: the directories differ (%d/%d users, %d/%d classrooms, %d/%d memberships)", day.name,
				len(a.Users), len(b.Users), len(a.Classrooms), len(b.Classrooms), len(a.Memberships), len(b.Memberships))
		}
	}
	// The day the class and the student came into scope brought their
	// unchanged enrollment along, and the day the class left took it.
	members, _ := f.db.ClassroomMembers(testTenant, outClass)
	if len(members) == 0 || outClass == f.roster.ClassID(1) || outClass == f.roster.ClassID(2) {
		t.Fatalf("the class that came into scope brought no memberships (%d)", len(members))
	}
	for _, m := range members {
		if m.Status != store.StatusArchived {
			t.Errorf("membership of the class that left: %+v", m)
		}
	}
}

// A run pulls everything when a pull of changes cannot be trusted to make
// the same roster: the server refuses the filter, the last full pull is a
// week old (or FullPullEvery), the settings changed, it was asked to, or
// the kept roster is damaged, or the last full pull is dated after now.
// A dry run reads the kept roster but keeps nothing.
func TestFullPullWhenChangesCannotDo(t *testing.T) {
	now := time.Date(2026, 9, 1, 8, 0, 0, 0, time.UTC)
	f := newFixture(t, fixtureOptions{})
	f.engine.Now = func() time.Time { return now }
	if _, kind := pullKind(t, f.engine, RunOptions{}); !strings.Contains(kind, "no roster kept") {
		t.Fatalf("first run: %q", kind)
	}
	day := func(days int) {
		now = now.Add(time.Duration(days) * 24 * time.Hour)
		f.roster.AdvanceDay(classlinktest.DayChanges{NewStudents: 1, ContactEdits: 1})
	}
	expect := func(name, want string, opt RunOptions) {
		t.Helper()
		r, kind := pullKind(t, f.engine, opt)
		if r.Status != store.RunSucceeded || !strings.Contains(kind, want) {
			t.Fatalf("%s: %s (%s) pulled %q, want %q", name, r.Status, r.Message, kind, want)
		}
	}
	day(1)
	expect("next day", PassChanges, RunOptions{})

	day(1)
	f.srv.Inject(classlinktest.Fault{Kind: classlinktest.FaultRefuseFilter, Endpoint: "users"})
	expect("filter refused", "refused the filter on users", RunOptions{})
	f.srv.ClearFaults()

	day(1)
	before, _, _ := f.db.PulledRosterMeta(testTenant)
	expect("dry run", PassChanges, RunOptions{DryRun: true})
	if after, _, _ := f.db.PulledRosterMeta(testTenant); string(after) != string(before) {
		t.Fatal("a dry run kept what it pulled")
	}
	expect("after the dry run", PassChanges, RunOptions{})

	day(1)
	expect("asked", "full pull was asked", RunOptions{FullPull: true})
	day(6)
	expect("six days after the last full pull", PassChanges, RunOptions{})
	day(1)
	expect("seven days after it", "older than 168h", RunOptions{})
	f.engine.FullPullEvery = 24 * time.Hour
	day(1)
	expect("a day, with FullPullEvery a day", "older than 24h", RunOptions{})
	f.engine.FullPullEvery = 0

	day(1)
	f.editDistrict(func(d *store.District) { d.Settings.UpdateActiveUserContacts = true })
	expect("settings changed", "the settings changed", RunOptions{})
	day(1)
	expect("settings as saved", PassChanges, RunOptions{})

	meta, _, _ := f.db.PulledRosterMeta(testTenant)
	if err := f.db.SavePulledRoster(testTenant, meta, func(w io.Writer) error { _, err := w.Write([]byte{5, 1, 2}); return err }); err != nil {
		t.Fatal(err)
	}
	day(1)
	expect("damaged", "damaged", RunOptions{})
	day(1)
	expect("repaired by the full pull", PassChanges, RunOptions{})

	// The clock was ahead when the last full pull was stamped: the week
	// since cannot be counted, so it is over (not suspended until the
	// clock catches up).
	day(-40)
	expect("the last full pull dated in the future", "dated after now", RunOptions{})
	day(1)
	expect("a day after it", PassChanges, RunOptions{})
}

// One record dated in the future (a SIS clock ahead, a date typed wrong)
// is not where the next pull of changes starts: the edits of the days
// after it, older than it, still reach the directory, as a full pull
// brings them.
func TestAFutureDatedRecordDoesNotHideLaterEdits(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	full := newTwin(t, f)
	pullKind(t, f.engine, RunOptions{})
	pullKind(t, full.engine, RunOptions{FullPull: true})

	f.roster.AdvanceDay(classlinktest.DayChanges{})
	f.roster.Put(classlinktest.User{SourcedID: "usr-future", Status: "active", EnabledUser: true, GivenName: "Fu", FamilyName: "Ture",
		Role: "teacher", Orgs: []string{f.roster.SchoolID(0)}, Kind: classlinktest.KindStaff,
		DateLastModified: classlinktest.Stamp(time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC))})
	if _, kind := pullKind(t, f.engine, RunOptions{}); kind != PassChanges {
		t.Fatalf("day 1 pulled %q", kind)
	}
	pullKind(t, full.engine, RunOptions{FullPull: true})
	for _, db := range []*store.DB{f.db, full.db} { // a full pull keeps a start no later either
		if since := keptSince(t, db, classlinktest.Users); since.Year() == 2099 {
			t.Fatalf("the next pull of users starts at %v", since)
		}
	}

	// The next day a student changes name and another becomes tobedeleted.
	f.roster.AdvanceDay(classlinktest.DayChanges{})
	modifyUser(f, f.roster.StudentID(3), func(u *classlinktest.User) { u.GivenName = "Renamed" })
	f.roster.MarkToBeDeleted(classlinktest.Users, f.roster.StudentID(4))
	got, kind := pullKind(t, f.engine, RunOptions{})
	want, _ := pullKind(t, full.engine, RunOptions{FullPull: true})
	if kind != PassChanges {
		t.Fatalf("day 2 pulled %q", kind)
	}
	if got.Counts != want.Counts || got.Counts.Students.Update != 1 || got.Counts.Students.Archive != 1 {
		t.Errorf("run of changes %+v, full run %+v", got.Counts, want.Counts)
	}
	if a, b := dumpDirectory(t, f.db, testTenant), dumpDirectory(t, full.db, testTenant); !a.equal(b) {
		t.Errorf("the directories differ: student 3 is %q here; student 4 %s here", f.user(f.roster.StudentID(3)).GivenName, f.user(f.roster.StudentID(4)).Status)
	}
}

// keptSince is where the next pull of changes of a collection starts.
func keptSince(t *testing.T, db *store.DB, c classlink.Collection) time.Time {
	t.Helper()
	raw, ok, err := db.PulledRosterMeta(testTenant)
	var meta pulledMeta
	if err != nil || !ok || json.Unmarshal(raw, &meta) != nil {
		t.Fatalf("no kept roster: %v", err)
	}
	return meta.Since[c]
}

// On a server that keeps no x-perm-rev, records change while a pull goes
// on, some after the pull read them and some before; when the pull takes
// longer than the margin (a time budget allows 24 hours), a start taken
// from the newest date seen would be later than the changes the pull
// missed. The next pull starts no later than this one began, so the next
// run brings them.
func TestChangesMadeDuringALongPullAreNotMissed(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	f.srv.SetPaging(classlinktest.Paging{NoPermRev: true})
	f.pageSize = 50
	full := newTwin(t, f)
	pullKind(t, f.engine, RunOptions{})
	f.roster.AdvanceDay(classlinktest.DayChanges{})

	var users []string
	for _, r := range f.roster.Records(classlinktest.Users, 0, 1<<20) {
		users = append(users, r.ID())
	}
	first, last := users[0], users[len(users)-1]          // on the first page, and on the last
	began := time.Date(2026, 8, 2, 12, 0, 0, 0, time.UTC) // the district's clock (its Date header) today
	rename := func(id, name string, at time.Time) {
		u := f.rosterUser(id)
		u.GivenName, u.DateLastModified = name, classlinktest.Stamp(at)
		f.roster.Put(u)
	}
	var changed atomic.Bool // requests come from several goroutines
	f.onRequest = func(r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/users") && r.URL.Query().Get("offset") == "100" && changed.CompareAndSwap(false, true) {
			// the pull has read the first page of users by now
			rename(first, "Changed Early", began.Add(30*time.Minute))
			rename(last, "Changed Late", began.Add(2*time.Hour))
		}
	}
	if r, kind := pullKind(t, f.engine, RunOptions{FullPull: true}); r.Status != store.RunSucceeded || !changed.Load() {
		t.Fatalf("the long pull: %s %q (changes made: %v)", r.Status, kind, changed.Load())
	}
	f.onRequest = nil
	if since := keptSince(t, f.db, classlinktest.Users); since.After(began) {
		t.Fatalf("the next pull of users starts at %v, after the pull began (%v)", since, began)
	}
	f.roster.AdvanceDay(classlinktest.DayChanges{})
	if _, kind := pullKind(t, f.engine, RunOptions{}); kind != PassChanges {
		t.Fatalf("the next day pulled %q", kind)
	}
	pullKind(t, full.engine, RunOptions{FullPull: true})
	if a, b := dumpDirectory(t, f.db, testTenant), dumpDirectory(t, full.db, testTenant); !a.equal(b) {
		t.Errorf("the directories differ: the record changed after the pull read it is %q, the other %q",
			f.user(first).GivenName, f.user(last).GivenName)
	}
}

// Where the next pull of changes starts: the newest date pulled, never
// after the pull began by the server's clock, whatever the dates say.
func TestWhereTheNextPullOfChangesStarts(t *testing.T) {
	began := time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)
	cases := []struct {
		name  string
		dates []string
		want  time.Time
	}{
		{"the newest date", []string{"2026-11-30T10:00:00.000Z", "2026-12-01T17:30:00Z", "2026-12-01"}, time.Date(2026, 12, 1, 17, 30, 0, 0, time.UTC)},
		{"a date in 2099 is passed over", []string{"2026-12-01T17:30:00Z", "2099-01-01T00:00:00Z"}, time.Date(2026, 12, 1, 17, 30, 0, 0, time.UTC)},
		{"a change made while the pull went on is passed over", []string{"2026-12-01T17:30:00Z", "2026-12-02T11:00:00Z"}, time.Date(2026, 12, 1, 17, 30, 0, 0, time.UTC)},
		// 10:30 in a zone ten hours ahead of UTC, written without a zone:
		// read as UTC it lies ahead of the server's clock.
		{"a zone-less date of a zone ahead of UTC", []string{"2026-12-01T20:00:00", "2026-12-02T10:30:00"}, time.Date(2026, 12, 1, 20, 0, 0, 0, time.UTC)},
		{"every date ahead: the pull's start", []string{"2026-12-02T10:30:00", "2099-01-01"}, began},
		{"no record: the pull's start", nil, began},
	}
	for _, tc := range cases {
		w := newWatermarks(began)
		for _, d := range tc.dates {
			w.see(classlink.Users, d)
		}
		if got := w.since(classlink.Users); !got.Equal(tc.want) {
			t.Errorf("%s: starts at %v, want %v", tc.name, got, tc.want)
		}
	}
	w := newWatermarks(began)
	w.see(classlink.Users, "yesterday")
	if w.usable() {
		t.Error("an unreadable date left the collection usable for a pull of changes")
	}
}

// A restored backup numbers its next save as a later one was numbered
// before: the roster kept for that revision (and other schools) is not
// taken for the restored district's. The daily run after the restore pulls
// in full, so no classroom of a school no longer connected stays active;
// and sync --full is never "unchanged".
func TestARestoredDatabaseDoesNotUseARosterKeptForOtherSchools(t *testing.T) {
	f := newFixture(t, fixtureOptions{edit: func(d *store.District) { d.Schools = d.Schools[:1] }})
	school0, school1 := f.roster.SchoolID(0), f.roster.SchoolID(1)
	f.mustSucceed() // revision 1, school 0
	path := f.db.Path()
	backup := filepath.Join(t.TempDir(), "backup.db")
	if _, err := f.db.Backup(backup, false); err != nil {
		t.Fatal(err)
	}
	f.editDistrict(func(d *store.District) { d.Schools = []string{school0, school1} }) // revision 2
	f.roster.AdvanceDay(classlinktest.DayChanges{})
	f.mustSucceed() // keeps a roster pulled for revision 2: schools 0 and 1

	// The backup takes the database's place (the README's restore steps,
	// had they left the kept rosters where they were).
	f.db.Close()
	storetest.Copy(t, backup, path)
	f.reopen()
	f.editDistrict(func(d *store.District) { d.Schools = []string{school1} }) // revision 2 again, school 1 only
	if d := f.mustDistrict(); d.Revision != 2 {
		t.Fatalf("revision %d", d.Revision)
	}
	f.roster.AdvanceDay(classlinktest.DayChanges{})
	if r, kind := pullKind(t, f.engine, RunOptions{}); r.Status != store.RunSucceeded || !strings.Contains(kind, "other connected schools") {
		t.Fatalf("the run after the restore: %s, pulled %q", r.Status, kind)
	}
	active0 := 0
	f.db.EachClassroom(testTenant, func(c store.Classroom) error {
		if c.School == school0 && c.Active() {
			active0++
		}
		return nil
	})
	if active0 > 0 {
		t.Errorf("%d classrooms of school 0, which is not connected any more, are active after the run", active0)
	}
	if r, kind := pullKind(t, f.engine, RunOptions{FullPull: true}); r.Status != store.RunSucceeded || !strings.Contains(kind, "full pull was asked") {
		t.Errorf("sync --full with nothing changed: %s, pulled %q", r.Status, kind)
	}
	if r := f.run(RunOptions{}); r.Status != store.RunUnchanged {
		t.Errorf("then a run: %s, want unchanged", r.Status)
	}
}

// A roster kept beside a database that was deleted and made again is not
// taken for the new database's, even for the same district, revision and
// schools: the new database may reach another server.
func TestARosterKeptForAnotherDatabaseIsNotUsed(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	f.mustSucceed()
	d := f.mustDistrict()
	path := f.db.Path()
	f.db.Close()
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	f.reopen() // a new, empty database beside the kept rosters
	d.Revision = 0
	if _, _, err := f.db.SaveDistrict(d, 0, store.Actor{User: "test"}, []string{store.NoteEnabledBeforeSelfCheck}); err != nil {
		t.Fatal(err)
	}
	if r, kind := pullKind(t, f.engine, RunOptions{}); r.Status != store.RunSucceeded || !strings.Contains(kind, "another database") {
		t.Fatalf("the first run of the new database: %s, pulled %q", r.Status, kind)
	}
	f.roster.AdvanceDay(classlinktest.DayChanges{NewStudents: 1})
	if _, kind := pullKind(t, f.engine, RunOptions{}); kind != PassChanges {
		t.Fatalf("the next day: pulled %q", kind)
	}
}

// The kept roster is a cache beside the database: a PATH.pulled that
// cannot be read or written costs a full pull and a warning (in the run's
// message and the log), never the run, and the daily schedule goes on.
// Reason storage stays for the database itself.
func TestAKeptRosterThatCannotBeReadOrWrittenOnlyCostsAFullPull(t *testing.T) {
	for _, c := range []struct {
		name  string
		spoil func(f *fixture)
		want  []string
	}{
		{"the folder is a file", func(f *fixture) {
			dir := f.db.PulledDir()
			if err := os.RemoveAll(dir); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(dir, []byte("x"), 0o600); err != nil {
				t.Fatal(err)
			}
		}, []string{"warning: the roster kept from the last run cannot be read", "so this run pulled the whole roster",
			"warning: the roster pulled could not be kept for the next run"}},
		{"the file cannot be replaced", func(f *fixture) {
			kept := filepath.Join(f.db.PulledDir(), "9")
			if err := os.Remove(kept); err != nil {
				t.Fatal(err)
			}
			if err := os.MkdirAll(filepath.Join(kept, "in the way"), 0o700); err != nil {
				t.Fatal(err)
			}
		}, []string{"warning: the roster pulled could not be kept for the next run"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			f, s, clock := scheduled(t, true)
			var logged bytes.Buffer
			f.engine.Log = log.New(&logged)
			f.mustSucceed()
			c.spoil(f)
			f.roster.AdvanceDay(classlinktest.DayChanges{NewStudents: 2})
			next, _ := NextDailyStart(store.DefaultSettings(), clock.Now())
			clock.Set(next)
			if ran := runDue(t, s); len(ran) != 1 {
				t.Fatalf("ran %v", ran)
			}
			last, _, _ := f.db.LastRun(testTenant)
			if last.Status != store.RunSucceeded || last.Reason != "" || last.Counts.Students.Create != 2 {
				t.Fatalf("scheduled run: %s/%s %q, counts %+v", last.Status, last.Reason, last.Message, last.Counts)
			}
			for _, w := range c.want {
				if !strings.Contains(last.Message, w) {
					t.Errorf("message %q does not say %q", last.Message, w)
				}
			}
			if !strings.Contains(logged.String(), "WARN") || !strings.Contains(logged.String(), "could not be kept") {
				t.Errorf("log: %q", logged.String())
			}
			f.roster.AdvanceDay(classlinktest.DayChanges{NewStudents: 1})
			clock.Set(next.Add(24 * time.Hour))
			if ran := runDue(t, s); len(ran) != 1 {
				t.Fatalf("the next day's scheduled run did not start")
			}
			if last, _, _ := f.db.LastRun(testTenant); last.Status != store.RunSucceeded || last.Counts.Students.Create != 1 {
				t.Fatalf("the next day's run: %s/%s %q", last.Status, last.Reason, last.Message)
			}
		})
	}
}
