package sync

import (
	"strings"

	"github.com/schoolstatus/rostersync/classlink"
	"github.com/schoolstatus/rostersync/store"
)

// userKind is what a OneRoster user becomes in Connect.
type userKind uint8

const (
	kindNone userKind = iota // a role Connect does not sync
	kindStudent
	kindStaff
	kindGuardian
)

func (k userKind) store() string {
	switch k {
	case kindStudent:
		return store.KindStudent
	case kindStaff:
		return store.KindStaff
	case kindGuardian:
		return store.KindGuardian
	}
	return ""
}

// countsName is the user kind's key in a run's counts.
func (k userKind) countsName() string {
	switch k {
	case kindStudent:
		return TypeStudents
	case kindStaff:
		return TypeStaff
	}
	return TypeGuardians
}

// staffGroups maps OneRoster 1.1 and 1.2 roles (lower case) to the role
// group of the permissions matrix (DESIGN §3). "administrator" depends on
// its orgs and is handled in classify.
var staffGroups = map[string]store.RoleGroup{
	"districtadministrator": store.DistrictAdmin,
	"systemadministrator":   store.DistrictAdmin,
	"siteadministrator":     store.SchoolAdmin,
	"principal":             store.SchoolAdmin,
	"teacher":               store.Teacher,
	"aide":                  store.SupportStaff,
	"proctor":               store.SupportStaff,
	"counselor":             store.SupportStaff,
}

var guardianRoles = map[string]bool{"parent": true, "guardian": true, "relative": true}

// classify decides a user's kind and, for staff, role group. A user with
// several roles gets the most senior staff group among them (a principal
// who also teaches is a school administrator); staff roles win over
// student and guardian roles, and student over guardian. districtOrgs are
// the sourcedIds of orgs of type district: a 1.1 administrator whose orgs
// include one is a district administrator, otherwise a school one.
func classify(u classlink.User, districtOrgs map[string]bool) (userKind, store.RoleGroup) {
	kind := kindNone
	group := store.SupportStaff
	for _, role := range u.RoleNames() {
		lower := strings.ToLower(role)
		g, staff := staffGroups[lower]
		if lower == "administrator" {
			staff, g = true, store.SchoolAdmin
			orgs := u.RoleOrgs(role)
			if len(orgs) == 0 {
				orgs = u.Orgs
			}
			for _, o := range orgs {
				if districtOrgs[o] {
					g = store.DistrictAdmin
				}
			}
		}
		switch {
		case staff:
			if kind != kindStaff || g < group {
				group = g
			}
			kind = kindStaff
		case lower == "student" && kind != kindStaff:
			kind = kindStudent
		case guardianRoles[lower] && kind == kindNone:
			kind = kindGuardian
		}
	}
	return kind, group
}
