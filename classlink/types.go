package classlink

// Record statuses. OneRoster 1.1 has only these two.
const (
	StatusActive      = "active"
	StatusToBeDeleted = "tobedeleted"
)

// Org is a district, school or other organisation. Parent is the parent
// org's sourcedId. sourcedIds are opaque: compare them, never parse them.
type Org struct {
	SourcedID        string
	Status           string
	DateLastModified string
	Name             string
	Type             string // "district", "school", "department", …
	Identifier       string
	Parent           string
}

// AcademicSession is a school year, semester, term or grading period.
type AcademicSession struct {
	SourcedID        string
	Status           string
	DateLastModified string
	Title            string
	Type             string // "schoolYear", "semester", "term", "gradingPeriod"
	StartDate        string
	EndDate          string
	Parent           string
	SchoolYear       string
}

// Course is the catalogue entry classes are taught from.
type Course struct {
	SourcedID        string
	Status           string
	DateLastModified string
	Title            string
	CourseCode       string
	Org              string
	SchoolYear       string
}

// Class is one section: a Connect classroom.
type Class struct {
	SourcedID        string
	Status           string
	DateLastModified string
	Title            string
	ClassCode        string
	Course           string
	School           string
	Terms            []string
}

// RoleAssignment is one entry of a OneRoster 1.2 roles[] list.
type RoleAssignment struct {
	RoleType string // "primary" or "secondary"
	Role     string // "teacher", "districtAdministrator", …
	Org      string // sourcedId, may be empty
}

// User is a student, staff member or guardian. OneRoster 1.1 sends one
// Role; 1.2 sends Roles; RoleNames and PrimaryRole read either.
type User struct {
	SourcedID        string
	Status           string
	DateLastModified string
	// EnabledUser accepts a boolean or the strings "true"/"false" in any
	// case; absent or null means enabled.
	EnabledUser bool
	Username    string
	GivenName   string
	FamilyName  string
	Email       string
	SMS         string // free text: the mobile number
	Phone       string // free text: the home number
	Identifier  string
	Role        string           // OneRoster 1.1 role, "" when absent
	Roles       []RoleAssignment // OneRoster 1.2 roles[], nil when absent
	Orgs        []string         // sourcedIds
	Agents      []string         // sourcedIds of linked students or guardians
	Grades      []string
}

// RoleNames lists the user's distinct roles: the 1.1 role first, then the
// 1.2 ones in order.
func (u User) RoleNames() []string {
	names := make([]string, 0, 1+len(u.Roles))
	seen := func(r string) bool {
		for _, n := range names {
			if n == r {
				return true
			}
		}
		return false
	}
	if u.Role != "" {
		names = append(names, u.Role)
	}
	for _, r := range u.Roles {
		if r.Role != "" && !seen(r.Role) {
			names = append(names, r.Role)
		}
	}
	return names
}

// PrimaryRole is the 1.1 role, else the 1.2 role marked primary, else the
// first 1.2 role.
func (u User) PrimaryRole() string {
	if u.Role != "" {
		return u.Role
	}
	for _, r := range u.Roles {
		if r.RoleType == "primary" {
			return r.Role
		}
	}
	if len(u.Roles) > 0 {
		return u.Roles[0].Role
	}
	return ""
}

// HasRole reports whether role is among RoleNames.
func (u User) HasRole(role string) bool {
	if u.Role == role {
		return true
	}
	for _, r := range u.Roles {
		if r.Role == role {
			return true
		}
	}
	return false
}

// RoleOrgs returns the orgs a role is held at: the orgs its roles[]
// entries name, or, when none names one (the 1.1 role, a 1.2 entry
// without an org), the user's Orgs. A 1.1 role sent beside roles[]
// entries naming orgs for it is held only there.
func (u User) RoleOrgs(role string) []string {
	var out []string
	for _, r := range u.Roles {
		if r.Role == role && r.Org != "" {
			out = append(out, r.Org)
		}
	}
	if len(out) == 0 && u.HasRole(role) {
		out = append(out, u.Orgs...)
	}
	return out
}

// Enrollment puts a user in a class with a role ("student", "teacher", …).
type Enrollment struct {
	SourcedID        string
	Status           string
	DateLastModified string
	Class            string
	User             string
	School           string
	Role             string
	Primary          bool
}
