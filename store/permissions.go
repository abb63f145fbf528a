package store

import (
	"fmt"
	"strings"

	"github.com/schoolstatus/rostersync/untrusted"
)

// RoleGroup is a column of the permissions matrix: the staff role groups that
// OneRoster roles map onto (DESIGN.md §3).
type RoleGroup int

const (
	DistrictAdmin RoleGroup = iota
	SchoolAdmin
	Teacher
	SupportStaff
)

// RoleGroups lists the matrix columns in display order.
var RoleGroups = []RoleGroup{DistrictAdmin, SchoolAdmin, Teacher, SupportStaff}

var roleGroupKeys = [...]string{"district_admin", "school_admin", "teacher", "support_staff"}
var roleGroupTitles = [...]string{"District administrator", "School administrator", "Teacher", "Support staff"}

// Key is the role group's name in the JSON contract.
func (g RoleGroup) Key() string { return roleGroupKeys[g] }

// Title is the role group's name as Connect shows it.
func (g RoleGroup) Title() string { return roleGroupTitles[g] }

func (g RoleGroup) String() string { return g.Key() }

// ParseRoleGroup turns a contract key back into a RoleGroup.
func ParseRoleGroup(key string) (RoleGroup, error) {
	for i, k := range roleGroupKeys {
		if k == key {
			return RoleGroup(i), nil
		}
	}
	return 0, fmt.Errorf("unknown role group %s (allowed: %s)", untrusted.Quote(key), strings.Join(roleGroupKeys[:], ", "))
}

// Permission is a row of the permissions matrix: one of Connect's custom
// permissions for synced staff.
type Permission int

const (
	PermissionsAdmin Permission = iota
	SchoolWideCommunications
	RosteringAdministrator
	ContentModerator
	UsersManager
	FamilyAccess
	EngagementVisibility
)

// AllPermissions lists the matrix rows in display order.
var AllPermissions = []Permission{
	PermissionsAdmin, SchoolWideCommunications, RosteringAdministrator,
	ContentModerator, UsersManager, FamilyAccess, EngagementVisibility,
}

type permissionText struct{ key, title, on, off string }

// The on and off meanings follow the words of Connect's ClassLink setup
// guide where it has them.
var permissionTexts = [...]permissionText{
	{"permissions_admin", "Permissions Admin",
		"Can grant and revoke the custom permissions of other staff in their scope.",
		"Cannot change anyone's custom permissions."},
	{"schoolwide_communications", "School-Wide Communications",
		"Can use all schoolwide communication features: announcements and messages to every family and staff member of their schools.",
		"Messages only the classrooms and people they are connected to."},
	{"rostering_administrator", "Rostering Administrator",
		"Can manage the schoolwide directory: enroll new students, add staff, assign students and staff to classrooms, manage guardians and set staff's job titles.",
		"Cannot change the directory or classroom memberships; sees only their own classrooms."},
	{"content_moderator", "Content Moderator",
		"Can review, hide and remove flagged messages and posts in their scope.",
		"Cannot moderate other people's content."},
	{"users_manager", "Users Manager",
		"Can update active student, staff and guardian accounts in their scope.",
		"Cannot change other users' accounts."},
	{"family_access", "Family Access",
		"Can use the schoolwide directories to view and contact students and families in their scope.",
		"Reaches families only through their own classrooms."},
	{"engagement_visibility", "Engagement Visibility",
		"Sees all engagement logs of students in their scope.",
		"Sees only conversations they take part in."},
}

// Key is the permission's name in the JSON contract.
func (p Permission) Key() string { return permissionTexts[p].key }

// Title is the permission's name as Connect shows it.
func (p Permission) Title() string { return permissionTexts[p].title }

// WhenOn says what a staff member may do with the permission granted.
func (p Permission) WhenOn() string { return permissionTexts[p].on }

// WhenOff says what a staff member may do without it.
func (p Permission) WhenOff() string { return permissionTexts[p].off }

func (p Permission) String() string { return p.Key() }

// ParsePermission turns a contract key back into a Permission.
func ParsePermission(key string) (Permission, error) {
	for i, t := range permissionTexts {
		if t.key == key {
			return Permission(i), nil
		}
	}
	keys := make([]string, len(permissionTexts))
	for i, t := range permissionTexts {
		keys[i] = t.key
	}
	return 0, fmt.Errorf("unknown permission %s (allowed: %s)", untrusted.Quote(key), strings.Join(keys, ", "))
}

// Permissions is the matrix: which permission each role group is granted.
// It is a value type so that copies (drafts, review diffs) never alias.
type Permissions [len(roleGroupKeys)][len(permissionTexts)]bool

// Has reports whether role group g is granted p.
func (m Permissions) Has(g RoleGroup, p Permission) bool { return m[g][p] }

// Set grants or revokes p for g.
func (m *Permissions) Set(g RoleGroup, p Permission, on bool) { m[g][p] = on }

// Toggle flips one cell.
func (m *Permissions) Toggle(g RoleGroup, p Permission) { m[g][p] = !m[g][p] }

// ToggleRow grants p to every role group, or revokes it from all when every
// group already has it (the usual "select all" rule).
func (m *Permissions) ToggleRow(p Permission) {
	all := true
	for _, g := range RoleGroups {
		all = all && m[g][p]
	}
	for _, g := range RoleGroups {
		m[g][p] = !all
	}
}

// ToggleColumn does for one role group what ToggleRow does for a permission.
func (m *Permissions) ToggleColumn(g RoleGroup) {
	all := true
	for _, p := range AllPermissions {
		all = all && m[g][p]
	}
	for _, p := range AllPermissions {
		m[g][p] = !all
	}
}

// Granted lists g's permissions in display order.
func (m Permissions) Granted(g RoleGroup) []Permission {
	var out []Permission
	for _, p := range AllPermissions {
		if m[g][p] {
			out = append(out, p)
		}
	}
	return out
}

// DefaultPermissions is what a new district starts with: administrators can
// reach families and manage their staff; teachers reach their own families.
func DefaultPermissions() Permissions {
	var m Permissions
	for _, p := range []Permission{PermissionsAdmin, SchoolWideCommunications, RosteringAdministrator, UsersManager, FamilyAccess, EngagementVisibility} {
		m.Set(DistrictAdmin, p, true)
	}
	for _, p := range []Permission{SchoolWideCommunications, FamilyAccess, EngagementVisibility} {
		m.Set(SchoolAdmin, p, true)
	}
	m.Set(Teacher, FamilyAccess, true)
	return m
}
