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

// classify decides what a user is at the district's connected schools:
// only roles held at a connected school (selected) or at a district org
// count, and a user with none of those is kindNone, except that guardian
// roles count anywhere (guardians are linked through their students). Of
// the staff roles that count, the most senior group wins (a principal who
// also teaches is a school administrator; a principal elsewhere who
// teaches here is a teacher here); staff roles win over student and
// guardian roles, and student over guardian. A 1.2 role applies to its
// org, a 1.1 role (or a 1.2 one without an org) to the user's orgs,
// unless a 1.2 entry names an org for the same role: a server that sends
// the primary role as the 1.1 role too says where it is held in roles[].
// districtOrgs are the sourcedIds of orgs of type district: a 1.1
// administrator held there is a district administrator, otherwise a
// school one.
func classify(u classlink.User, selected, districtOrgs map[string]bool) (userKind, store.RoleGroup) {
	kind := kindNone
	group := store.SupportStaff
	for _, role := range u.RoleNames() {
		lower := strings.ToLower(role)
		atSchool, atDistrict := heldAt(u, role, selected, districtOrgs)
		g, staff := staffGroups[lower]
		if lower == "administrator" {
			staff, g = true, store.SchoolAdmin
			if atDistrict {
				g = store.DistrictAdmin
			}
		}
		switch {
		case staff:
			if !atSchool && !atDistrict {
				continue // held elsewhere
			}
			if kind != kindStaff || g < group {
				group = g
			}
			kind = kindStaff
		case lower == "student" && kind != kindStaff:
			if atSchool {
				kind = kindStudent
			}
		case guardianRoles[lower] && kind == kindNone:
			kind = kindGuardian
		}
	}
	return kind, group
}

// heldAt says whether role is held at a selected school and at a district
// org: at the orgs its 1.2 entries name, or, when none names one, at the
// user's orgs (u.RoleOrgs, without building the list).
func heldAt(u classlink.User, role string, selected, districtOrgs map[string]bool) (atSchool, atDistrict bool) {
	see := func(o string) {
		atSchool = atSchool || selected[o]
		atDistrict = atDistrict || districtOrgs[o]
	}
	named := false
	for _, r := range u.Roles {
		if r.Role == role && r.Org != "" {
			named = true
			see(r.Org)
		}
	}
	if !named {
		for _, o := range u.Orgs {
			see(o)
		}
	}
	return atSchool, atDistrict
}
