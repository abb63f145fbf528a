package sync

import (
	"slices"
	"testing"

	"github.com/schoolstatus/rostersync/classlink"
	"github.com/schoolstatus/rostersync/classlink/classlinktest"
	"github.com/schoolstatus/rostersync/store"
)

// The role group comes from the roles held at connected schools or at the
// district org only; the most senior of those wins.
func TestClassifyCountsOnlyRolesHeldHere(t *testing.T) {
	selected := map[string]bool{"here": true, "here-too": true}
	district := map[string]bool{"district": true}
	r12 := func(pairs ...string) []classlink.RoleAssignment {
		var out []classlink.RoleAssignment
		for i := 0; i < len(pairs); i += 2 {
			typ := "secondary"
			if i == 0 {
				typ = "primary"
			}
			out = append(out, classlink.RoleAssignment{RoleType: typ, Role: pairs[i], Org: pairs[i+1]})
		}
		return out
	}
	cases := []struct {
		name  string
		user  classlink.User
		kind  userKind
		group store.RoleGroup
	}{
		{"principal elsewhere, teacher here", classlink.User{Roles: r12("principal", "elsewhere", "teacher", "here"), Orgs: []string{"elsewhere", "here"}}, kindStaff, store.Teacher},
		{"principal here, teacher elsewhere", classlink.User{Roles: r12("teacher", "elsewhere", "principal", "here")}, kindStaff, store.SchoolAdmin},
		{"principal and teacher here", classlink.User{Roles: r12("teacher", "here", "principal", "here-too")}, kindStaff, store.SchoolAdmin},
		{"district administrator at a school elsewhere, aide here", classlink.User{Roles: r12("districtAdministrator", "elsewhere", "aide", "here")}, kindStaff, store.SupportStaff},
		{"district administrator at the district org, teacher elsewhere", classlink.User{Roles: r12("teacher", "elsewhere", "districtAdministrator", "district")}, kindStaff, store.DistrictAdmin},
		{"1.2 role without an org: the user's orgs", classlink.User{Roles: r12("siteAdministrator", ""), Orgs: []string{"here"}}, kindStaff, store.SchoolAdmin},
		{"1.2 role without an org, orgs elsewhere", classlink.User{Roles: r12("siteAdministrator", ""), Orgs: []string{"elsewhere"}}, kindNone, store.SupportStaff},
		{"teacher only elsewhere, org list naming a school here", classlink.User{Roles: r12("teacher", "elsewhere"), Orgs: []string{"here"}}, kindNone, store.SupportStaff},
		{"1.1 administrator of the district org", classlink.User{Role: "administrator", Orgs: []string{"district", "elsewhere"}}, kindStaff, store.DistrictAdmin},
		{"1.1 administrator of a school here and one elsewhere", classlink.User{Role: "administrator", Orgs: []string{"elsewhere", "here"}}, kindStaff, store.SchoolAdmin},
		{"1.1 administrator only elsewhere", classlink.User{Role: "administrator", Orgs: []string{"elsewhere"}}, kindNone, store.SupportStaff},
		{"1.1 teacher here, 1.2 principal elsewhere", classlink.User{Role: "teacher", Orgs: []string{"here"}, Roles: r12("principal", "elsewhere")}, kindStaff, store.Teacher},
		// A server sending the primary role as the 1.1 role too, beside
		// roles[] naming where each is held.
		{"principal elsewhere also sent as the 1.1 role, teacher here", classlink.User{Role: "principal", Orgs: []string{"elsewhere", "here"},
			Roles: r12("principal", "elsewhere", "teacher", "here")}, kindStaff, store.Teacher},
		{"principal here also sent as the 1.1 role, teacher elsewhere", classlink.User{Role: "principal", Orgs: []string{"elsewhere", "here"},
			Roles: r12("principal", "here", "teacher", "elsewhere")}, kindStaff, store.SchoolAdmin},
		{"1.1 teacher here and 1.2 principal here", classlink.User{Role: "teacher", Orgs: []string{"here"}, Roles: r12("principal", "here-too")}, kindStaff, store.SchoolAdmin},
		{"student here", classlink.User{Role: "student", Orgs: []string{"here"}}, kindStudent, store.SupportStaff},
		{"student elsewhere", classlink.User{Role: "student", Orgs: []string{"elsewhere"}}, kindNone, store.SupportStaff},
		{"student at the district org only", classlink.User{Role: "student", Orgs: []string{"district"}}, kindNone, store.SupportStaff},
		{"parent anywhere", classlink.User{Role: "parent"}, kindGuardian, store.SupportStaff},
		{"principal elsewhere who is a parent here", classlink.User{Roles: r12("principal", "elsewhere", "parent", "")}, kindGuardian, store.SupportStaff},
		{"teacher here who is a parent", classlink.User{Roles: r12("parent", "", "teacher", "here")}, kindStaff, store.Teacher},
		{"student here with a guardian role", classlink.User{Roles: r12("guardian", "", "student", "here")}, kindStudent, store.SupportStaff},
	}
	for _, tc := range cases {
		kind, group := classify(tc.user, selected, district)
		if kind != tc.kind || kind == kindStaff && group != tc.group {
			t.Errorf("%s: kind %s group %q, want %s %q", tc.name, kind.store(), group, tc.kind.store(), tc.group)
		}
	}
}

// Through a whole sync: a district with one of its two schools connected.
func TestRoleGroupsFromConnectedSchoolsOnly(t *testing.T) {
	var here, elsewhere string
	f := newFixture(t, fixtureOptions{edit: func(d *store.District) { here, elsewhere = d.Schools[0], d.Schools[1]; d.Schools = d.Schools[:1] }})
	student := f.roster.StudentID(0)
	if u := f.rosterUser(student); !slices.Contains(u.Orgs, here) {
		t.Fatalf("student 0 is not at the connected school: %v", u.Orgs)
	}
	f.roster.Put(classlinktest.User{SourcedID: "usr-split", Status: "active", GivenName: "Pat", FamilyName: "Split", Orgs: []string{elsewhere, here},
		Roles: []classlinktest.Role{{RoleType: "primary", Role: "principal", Org: elsewhere}, {RoleType: "secondary", Role: "teacher", Org: here}}})
	f.roster.Put(classlinktest.User{SourcedID: "usr-elsewhere", Status: "active", GivenName: "Eli", FamilyName: "Elsewhere", Orgs: []string{here},
		Roles: []classlinktest.Role{{RoleType: "primary", Role: "principal", Org: elsewhere}}})
	f.roster.Put(classlinktest.User{SourcedID: "usr-parent", Status: "active", GivenName: "Pam", FamilyName: "Parent", Email: "pam@mail.example.com",
		Roles: []classlinktest.Role{{RoleType: "primary", Role: "principal", Org: elsewhere}, {RoleType: "secondary", Role: "parent"}}, Agents: []string{student}})
	f.mustSucceed()

	split, teacher := f.user("usr-split"), f.user(f.roster.StaffID(8))
	if split.Kind != store.KindStaff || split.RoleGroup != "teacher" || teacher.RoleGroup != "teacher" || !slices.Equal(split.Permissions, teacher.Permissions) {
		t.Errorf("principal elsewhere who teaches here: %+v; a teacher here: %+v", split, teacher)
	}
	if _, err := f.db.DirectoryUser(testTenant, "usr-elsewhere"); err == nil {
		t.Error("a principal of the unconnected school only was synced")
	}
	if u := f.user("usr-parent"); u.Kind != store.KindGuardian || u.RoleGroup != "" || !slices.Equal(u.GuardianOf, []string{student}) {
		t.Errorf("a principal elsewhere who is a parent here: %+v", u)
	}
}
