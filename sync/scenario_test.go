package sync

import (
	"slices"
	"strings"
	"testing"

	"github.com/schoolstatus/rostersync/classlink/classlinktest"
	"github.com/schoolstatus/rostersync/store"
)

// scenario is one day-over-day rule: a first run, then a change (in
// ClassLink, in the settings or by hand), then a second run whose outcome
// and directory are checked exactly.
type scenario struct {
	name     string
	settings func(*store.District)      // before the first run
	before   func(*fixture)             // after the first run, before the day's change
	day      func(*fixture) expectation // the change; returns what the second run must do
	check    func(*testing.T, *fixture) // the directory after the second run
}

type expectation struct {
	status   string // "" means succeeded
	reason   string
	counts   store.RunCounts
	tried    store.TriedToArchive
	warnings store.RunWarnings
	message  string // a part of the run's message
}

func (f *fixture) guardiansOf(s int) []string {
	return f.rosterUser(f.roster.StudentID(s)).Agents
}

func modifyUser(f *fixture, id string, edit func(*classlinktest.User)) {
	f.t.Helper()
	if err := classlinktest.Modify(f.roster, id, edit); err != nil {
		f.t.Fatal(err)
	}
}

func scenarios() []scenario {
	return []scenario{
		{
			name: "tobedeleted student is archived with their guardians and memberships",
			day: func(f *fixture) expectation {
				f.roster.MarkToBeDeleted(classlinktest.Users, f.roster.StudentID(5))
				return expectation{counts: store.RunCounts{Students: store.Counts{Archive: 1},
					Guardians: store.Counts{Archive: len(f.guardiansOf(5))}, Memberships: store.Counts{Archive: f.enrollmentsOf(f.roster.StudentID(5), "")}}}
			},
			check: func(t *testing.T, f *fixture) {
				if u := f.user(f.roster.StudentID(5)); u.Status != store.StatusArchived {
					t.Errorf("student: %+v", u)
				}
				for _, g := range f.guardiansOf(5) {
					if u := f.user(g); u.Status != store.StatusArchived || !slices.Equal(u.GuardianOf, []string{f.roster.StudentID(5)}) {
						t.Errorf("guardian: %+v", u)
					}
				}
			},
		},
		{
			name: "purged student is archived, never deleted",
			day: func(f *fixture) expectation {
				guardians, enrollments := len(f.guardiansOf(6)), f.enrollmentsOf(f.roster.StudentID(6), "")
				if err := f.roster.Remove(classlinktest.Users, f.roster.StudentID(6)); err != nil {
					f.t.Fatal(err)
				}
				return expectation{counts: store.RunCounts{Students: store.Counts{Archive: 1},
					Guardians: store.Counts{Archive: guardians}, Memberships: store.Counts{Archive: enrollments}}}
			},
			check: func(t *testing.T, f *fixture) {
				if u := f.user(f.roster.StudentID(6)); u.Status != store.StatusArchived || u.GivenName == "" {
					t.Errorf("purged student: %+v", u)
				}
			},
		},
		{
			name: "new student with a new guardian and three classes",
			day: func(f *fixture) expectation {
				f.roster.AdvanceDay(classlinktest.DayChanges{NewStudents: 1})
				return expectation{counts: store.RunCounts{Students: store.Counts{Create: 1}, Guardians: store.Counts{Create: 1}, Memberships: store.Counts{Create: 3}}}
			},
			check: func(t *testing.T, f *fixture) {
				users, _, err := f.db.DirectoryUsers(testTenant, store.UserFilter{Search: "n1-0"}, "", 0)
				if err != nil || len(users) != 2 {
					t.Fatalf("new users: %+v %v", users, err)
				}
				student, guardian := users[0], users[1]
				if student.Kind != store.KindStudent || guardian.Kind != store.KindGuardian ||
					!slices.Equal(guardian.GuardianOf, []string{student.SourcedID}) || !strings.HasPrefix(guardian.Mobile, "+1") {
					t.Errorf("new student %+v, guardian %+v", student, guardian)
				}
			},
		},
		{
			name: "contact edits of a guardian who has not joined are applied",
			day: func(f *fixture) expectation {
				modifyUser(f, f.roster.GuardianID(0), func(u *classlinktest.User) { u.Email, u.SMS = "new.parent@mail.example.com", "(212) 874-1234" })
				return expectation{counts: store.RunCounts{Guardians: store.Counts{Update: 1}}}
			},
			check: func(t *testing.T, f *fixture) {
				if u := f.user(f.roster.GuardianID(0)); u.Email != "new.parent@mail.example.com" || u.Mobile != "+12128741234" {
					t.Errorf("guardian: %+v", u)
				}
			},
		},
		{
			name:   "joined guardian keeps name, email and phones when contact updates are off",
			before: func(f *fixture) { markJoined(f, f.roster.GuardianID(0)) },
			day: func(f *fixture) expectation {
				modifyUser(f, f.roster.GuardianID(0), func(u *classlinktest.User) { u.Email, u.GivenName = "new.parent@mail.example.com", "Renamed" })
				return expectation{counts: store.RunCounts{Guardians: store.Counts{Skip: 1}}}
			},
			check: func(t *testing.T, f *fixture) {
				u := f.user(f.roster.GuardianID(0))
				if !u.Joined || u.Email == "new.parent@mail.example.com" || u.GivenName == "Renamed" {
					t.Errorf("guardian: %+v", u)
				}
			},
		},
		{
			name:     "joined guardian gets new contact details when contact updates are on",
			settings: func(d *store.District) { d.Settings.UpdateActiveUserContacts = true },
			before:   func(f *fixture) { markJoined(f, f.roster.GuardianID(0)) },
			day: func(f *fixture) expectation {
				modifyUser(f, f.roster.GuardianID(0), func(u *classlinktest.User) { u.Email = "new.parent@mail.example.com" })
				return expectation{counts: store.RunCounts{Guardians: store.Counts{Update: 1}}}
			},
			check: func(t *testing.T, f *fixture) {
				if u := f.user(f.roster.GuardianID(0)); !u.Joined || u.Email != "new.parent@mail.example.com" {
					t.Errorf("guardian: %+v", u)
				}
			},
		},
		{
			name: "manage guardians off: guardians are neither created, changed nor archived",
			day: func(f *fixture) expectation {
				f.editDistrict(func(d *store.District) { d.Settings.ManageGuardians = false })
				modifyUser(f, f.roster.GuardianID(0), func(u *classlinktest.User) { u.Email = "new.parent@mail.example.com" })
				f.roster.Remove(classlinktest.Users, f.roster.GuardianID(1))
				f.roster.AdvanceDay(classlinktest.DayChanges{NewStudents: 1})
				return expectation{counts: store.RunCounts{Students: store.Counts{Create: 1}, Guardians: store.Counts{Skip: 300}, Memberships: store.Counts{Create: 3}}}
			},
			check: func(t *testing.T, f *fixture) {
				if u := f.user(f.roster.GuardianID(0)); u.Email == "new.parent@mail.example.com" {
					t.Errorf("guardian 0 changed: %+v", u)
				}
				if u := f.user(f.roster.GuardianID(1)); u.Status != store.StatusActive {
					t.Errorf("guardian 1 archived: %+v", u)
				}
				if g, _, _ := f.db.DirectoryUsers(testTenant, store.UserFilter{Kind: store.KindGuardian}, "", 0); len(g) != 300 {
					t.Errorf("%d guardians, want the 300 of the first run", len(g))
				}
			},
		},
		{
			name:   "hand-archived classroom in the roster is unarchived when unarchive is on",
			before: func(f *fixture) { archiveByHand(f, f.roster.ClassID(0)) },
			day: func(f *fixture) expectation {
				return expectation{counts: store.RunCounts{Classrooms: store.Counts{Unarchive: 1}}}
			},
			check: func(t *testing.T, f *fixture) {
				if c := f.classroom(f.roster.ClassID(0)); c.Status != store.StatusActive || c.ArchivedBy != "" {
					t.Errorf("classroom: %+v", c)
				}
			},
		},
		{
			name:     "hand-archived classroom stays archived when unarchive is off",
			settings: func(d *store.District) { d.Settings.UnarchiveReappearingClassrooms = false },
			before:   func(f *fixture) { archiveByHand(f, f.roster.ClassID(0)) },
			day: func(f *fixture) expectation {
				return expectation{counts: store.RunCounts{Classrooms: store.Counts{Skip: 1}}}
			},
			check: func(t *testing.T, f *fixture) {
				if c := f.classroom(f.roster.ClassID(0)); c.Status != store.StatusArchived || c.ArchivedBy != store.ArchivedByHand {
					t.Errorf("classroom: %+v", c)
				}
			},
		},
		{
			name:     "classroom archived by the sync stays archived when it reappears and unarchive is off",
			settings: func(d *store.District) { d.Settings.UnarchiveReappearingClassrooms = false },
			before:   func(f *fixture) { dropClassAndSync(f, 1) },
			day: func(f *fixture) expectation {
				restoreClass(f, 1)
				return expectation{counts: store.RunCounts{Classrooms: store.Counts{Skip: 1}}}
			},
			check: func(t *testing.T, f *fixture) {
				if c := f.classroom(f.roster.ClassID(1)); c.Status != store.StatusArchived || c.ArchivedBy != store.ArchivedBySync {
					t.Errorf("classroom: %+v", c)
				}
				members, _ := f.db.ClassroomMembers(testTenant, f.roster.ClassID(1))
				for _, m := range members {
					if m.Status != store.StatusArchived {
						t.Errorf("membership of the archived classroom: %+v", m)
					}
				}
			},
		},
		{
			name:   "classroom archived by the sync is unarchived with its memberships when it reappears and unarchive is on",
			before: func(f *fixture) { dropClassAndSync(f, 1) },
			day: func(f *fixture) expectation {
				restoreClass(f, 1)
				return expectation{counts: store.RunCounts{Classrooms: store.Counts{Unarchive: 1}, Memberships: store.Counts{Unarchive: f.enrollmentsOf("", f.roster.ClassID(1))}}}
			},
			check: func(t *testing.T, f *fixture) {
				if c := f.classroom(f.roster.ClassID(1)); c.Status != store.StatusActive {
					t.Errorf("classroom: %+v", c)
				}
			},
		},
		{
			name:     "over the deletion threshold: creates and updates, archives nothing",
			settings: func(d *store.District) { d.Settings.DeletionThresholdPercent = 10 },
			day: func(f *fixture) expectation {
				guardians := 0
				for s := range 25 {
					f.roster.MarkToBeDeleted(classlinktest.Users, f.roster.StudentID(s))
					guardians += len(f.guardiansOf(s))
				}
				f.roster.AdvanceDay(classlinktest.DayChanges{NewStudents: 1})
				return expectation{status: store.RunFailed, reason: store.ReasonThreshold, message: "25 of 200 active students",
					counts: store.RunCounts{Students: store.Counts{Create: 1}, Guardians: store.Counts{Create: 1}, Memberships: store.Counts{Create: 3}},
					tried:  store.TriedToArchive{Students: 25, Guardians: guardians}}
			},
			check: func(t *testing.T, f *fixture) {
				if u := f.user(f.roster.StudentID(0)); u.Status != store.StatusActive {
					t.Errorf("a student was archived over the threshold: %+v", u)
				}
				if u, _, _ := f.db.DirectoryUsers(testTenant, store.UserFilter{Search: "n1-0"}, "", 0); len(u) != 2 {
					t.Errorf("the new student and guardian were not created: %+v", u)
				}
			},
		},
		{
			name:     "under the deletion threshold: archives",
			settings: func(d *store.District) { d.Settings.DeletionThresholdPercent = 10 },
			day: func(f *fixture) expectation {
				guardians, enrollments := 0, 0
				for s := range 10 {
					f.roster.MarkToBeDeleted(classlinktest.Users, f.roster.StudentID(s))
					guardians += len(f.guardiansOf(s))
					enrollments += f.enrollmentsOf(f.roster.StudentID(s), "")
				}
				return expectation{counts: store.RunCounts{Students: store.Counts{Archive: 10}, Guardians: store.Counts{Archive: guardians}, Memberships: store.Counts{Archive: enrollments}}}
			},
			check: func(t *testing.T, f *fixture) {
				if u := f.user(f.roster.StudentID(9)); u.Status != store.StatusArchived {
					t.Errorf("student 9: %+v", u)
				}
			},
		},
		{
			name: "a selected school missing from ClassLink fails the run and changes nothing",
			day: func(f *fixture) expectation {
				f.editDistrict(func(d *store.District) { d.Schools = append(d.Schools, "org-closed-school") })
				f.roster.AdvanceDay(classlinktest.DayChanges{NewStudents: 1, Withdrawn: 1})
				return expectation{status: store.RunFailed, reason: store.ReasonSchoolsNotFound, message: "org-closed-school"}
			},
			check: func(t *testing.T, f *fixture) {
				if u, _, _ := f.db.DirectoryUsers(testTenant, store.UserFilter{Search: "n1-0"}, "", 0); len(u) != 0 {
					t.Errorf("a failed run created %+v", u)
				}
			},
		},
		{
			name: "a permissions matrix change re-grants every staff member of the group",
			day: func(f *fixture) expectation {
				f.editDistrict(func(d *store.District) { d.Permissions.Set(store.Teacher, store.ContentModerator, true) })
				return expectation{counts: store.RunCounts{Staff: store.Counts{Update: 4}}}
			},
			check: func(t *testing.T, f *fixture) {
				teacher := f.user(f.roster.StaffID(8))
				if teacher.RoleGroup != "teacher" || !slices.Equal(teacher.Permissions, []string{"content_moderator", "family_access"}) {
					t.Errorf("teacher: %+v", teacher)
				}
				if admin := f.user(f.roster.StaffID(4)); slices.Contains(admin.Permissions, "content_moderator") {
					t.Errorf("school admin got the teachers' permission: %+v", admin)
				}
			},
		},
		{
			name: "invalid phones are warnings and leave the field empty",
			day: func(f *fixture) expectation {
				modifyUser(f, f.roster.GuardianID(2), func(u *classlinktest.User) { u.SMS = "n/a" })
				modifyUser(f, f.roster.StaffID(5), func(u *classlinktest.User) { u.SMS = "123" })
				return expectation{counts: store.RunCounts{Guardians: store.Counts{Update: 1}, Staff: store.Counts{Update: 1}},
					warnings: store.RunWarnings{InvalidPhone: 2}}
			},
			check: func(t *testing.T, f *fixture) {
				if g := f.user(f.roster.GuardianID(2)); g.Mobile != "" || g.Email == "" || g.Status != store.StatusActive {
					t.Errorf("guardian: %+v", g)
				}
				if s := f.user(f.roster.StaffID(5)); s.Mobile != "" {
					t.Errorf("staff: %+v", s)
				}
			},
		},
		{
			name: "guardians without a unique email or a valid SMS number are skipped",
			day: func(f *fixture) expectation {
				modifyUser(f, f.roster.GuardianID(3), func(u *classlinktest.User) { u.Email, u.SMS = "", "none" })
				for _, j := range []int{4, 5} {
					modifyUser(f, f.roster.GuardianID(j), func(u *classlinktest.User) { u.Email, u.SMS = "family@mail.example.com", "" })
				}
				return expectation{counts: store.RunCounts{Guardians: store.Counts{Skip: 3}},
					warnings: store.RunWarnings{InvalidPhone: 1, GuardianWithoutContact: 3}}
			},
			check: func(t *testing.T, f *fixture) {
				for _, j := range []int{3, 4, 5} {
					if g := f.user(f.roster.GuardianID(j)); g.Email == "" || g.Email == "family@mail.example.com" || g.Mobile == "" {
						t.Errorf("skipped guardian %d changed: %+v", j, g)
					}
				}
			},
		},
		{
			name: "OneRoster 1.1 and 1.2 roles map to role groups",
			day: func(f *fixture) expectation {
				school := f.roster.SchoolID(0)
				student := f.roster.StudentID(0)
				f.roster.Put(classlinktest.User{SourcedID: "usr-principal", Status: "active", GivenName: "Pat", FamilyName: "Principal",
					Roles: []classlinktest.Role{{RoleType: "primary", Role: "principal", Org: school}}, Orgs: []string{school}})
				f.roster.Put(classlinktest.User{SourcedID: "usr-site", Status: "active", GivenName: "Sam", FamilyName: "Site",
					Roles: []classlinktest.Role{{RoleType: "primary", Role: "teacher", Org: school}, {RoleType: "secondary", Role: "siteAdministrator", Org: school}}})
				f.roster.Put(classlinktest.User{SourcedID: "usr-aide", Status: "active", GivenName: "Al", FamilyName: "Aide", Role: "aide", Orgs: []string{school}})
				f.roster.Put(classlinktest.User{SourcedID: "usr-relative", Status: "active", GivenName: "Rae", FamilyName: "Relative", Email: "rae@mail.example.com",
					Roles: []classlinktest.Role{{RoleType: "primary", Role: "relative"}}, Agents: []string{student}})
				return expectation{counts: store.RunCounts{Staff: store.Counts{Create: 3}, Guardians: store.Counts{Create: 1}}}
			},
			check: func(t *testing.T, f *fixture) {
				for id, group := range map[string]string{
					f.roster.StaffID(0): "district_admin", f.roster.StaffID(1): "district_admin", f.roster.StaffID(2): "district_admin",
					f.roster.StaffID(3): "district_admin", f.roster.StaffID(4): "school_admin", f.roster.StaffID(5): "support_staff",
					f.roster.StaffID(6): "support_staff", f.roster.StaffID(7): "support_staff", f.roster.StaffID(8): "teacher",
					"usr-principal": "school_admin", "usr-site": "school_admin", "usr-aide": "support_staff",
				} {
					if u := f.user(id); u.Kind != store.KindStaff || u.RoleGroup != group {
						t.Errorf("%s (%v): kind %s group %q, want %s", id, f.rosterUser(id).Roles, u.Kind, u.RoleGroup, group)
					}
				}
				if u := f.user(f.roster.StaffID(0)); !slices.Equal(u.Permissions, []string{"permissions_admin", "schoolwide_communications", "rostering_administrator", "users_manager", "family_access", "engagement_visibility"}) {
					t.Errorf("district admin permissions: %v", u.Permissions)
				}
				if u := f.user("usr-relative"); u.Kind != store.KindGuardian || u.RoleGroup != "" || !slices.Equal(u.GuardianOf, []string{f.roster.StudentID(0)}) || len(u.Permissions) != 0 {
					t.Errorf("relative: %+v", u)
				}
				if u := f.user(f.roster.StudentID(0)); u.Kind != store.KindStudent || u.RoleGroup != "" {
					t.Errorf("student: %+v", u)
				}
			},
		},
	}
}

func markJoined(f *fixture, id string) {
	f.t.Helper()
	if _, err := f.db.MarkJoined(testTenant, id); err != nil {
		f.t.Fatal(err)
	}
}

func archiveByHand(f *fixture, id string) {
	f.t.Helper()
	if _, err := f.db.ArchiveClassroom(testTenant, id); err != nil {
		f.t.Fatal(err)
	}
}

// dropClassAndSync marks class k tobedeleted and syncs, which archives it.
func dropClassAndSync(f *fixture, k int) {
	f.t.Helper()
	f.roster.MarkToBeDeleted(classlinktest.Classes, f.roster.ClassID(k))
	r := f.mustSucceed()
	if r.Counts.Classrooms.Archive != 1 || r.Counts.Memberships.Archive != f.enrollmentsOf("", f.roster.ClassID(k)) {
		f.t.Fatalf("dropping class %d: %+v", k, r.Counts)
	}
}

func restoreClass(f *fixture, k int) {
	f.t.Helper()
	if err := classlinktest.Modify(f.roster, f.roster.ClassID(k), func(c *classlinktest.Class) { c.Status = "active" }); err != nil {
		f.t.Fatal(err)
	}
}

func TestDayOverDayScenarios(t *testing.T) {
	for _, sc := range scenarios() {
		t.Run(sc.name, func(t *testing.T) {
			f := newFixture(t, fixtureOptions{edit: sc.settings})
			first := f.mustSucceed()
			if first.Counts.Students.Create != 200 {
				t.Fatalf("first run: %+v", first.Counts)
			}
			if sc.before != nil {
				sc.before(f)
			}
			beforeDay := dumpDirectory(t, f.db, testTenant)
			want := sc.day(f)
			if want.status == "" {
				want.status = store.RunSucceeded
			}
			r := f.run(RunOptions{})
			if r.Status != want.status || r.Reason != want.reason || !strings.Contains(r.Message, want.message) {
				t.Fatalf("second run: status %s reason %q message %q, want %s %q containing %q", r.Status, r.Reason, r.Message, want.status, want.reason, want.message)
			}
			if r.Counts != want.counts {
				t.Errorf("second run counts:\n got %+v\nwant %+v", r.Counts, want.counts)
			}
			if r.TriedToArchive != want.tried || r.Warnings != want.warnings {
				t.Errorf("second run: tried %+v warnings %+v, want %+v %+v", r.TriedToArchive, r.Warnings, want.tried, want.warnings)
			}
			if want.status == store.RunFailed && want.reason != store.ReasonThreshold && !dumpDirectory(t, f.db, testTenant).equal(beforeDay) {
				t.Error("a failed run changed the directory")
			}
			sc.check(t, f)

			// Idempotence: the same roster again (x-perm-rev moved, data not)
			// changes nothing, and skips the same records.
			after := dumpDirectory(t, f.db, testTenant)
			f.roster.BumpRevision()
			again := f.run(RunOptions{})
			if again.Counts.Changes() != 0 || again.Status != want.status {
				t.Errorf("third run changed things: %s %+v", again.Status, again.Counts)
			}
			for _, typ := range Types {
				if again.Counts.Of(typ).Skip != r.Counts.Of(typ).Skip {
					t.Errorf("third run skips %d %s, the second %d", again.Counts.Of(typ).Skip, typ, r.Counts.Of(typ).Skip)
				}
			}
			if !dumpDirectory(t, f.db, testTenant).equal(after) {
				t.Error("third run changed the directory")
			}
		})
	}
}
