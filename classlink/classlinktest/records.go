package classlinktest

import (
	"strings"

	"github.com/schoolstatus/rostersync/classlink"
)

// Collection names a OneRoster collection (and its envelope key); it is
// the client's type.
type Collection = classlink.Collection

// The collections served. /schools is a view of Orgs.
const (
	Orgs             = classlink.Orgs
	AcademicSessions = classlink.AcademicSessions
	Courses          = classlink.Courses
	Classes          = classlink.Classes
	Users            = classlink.Users
	Enrollments      = classlink.Enrollments
)

// AllCollections in the order a sync pulls them.
var AllCollections = []Collection{Orgs, AcademicSessions, Courses, Classes, Users, Enrollments}

// Record is one served record. The concrete types are Org,
// AcademicSession, Course, Class, User and Enrollment (values, not
// pointers).
type Record interface {
	ID() string
	Collection() Collection
	status() string
	modified() string
	appendJSON(dst []byte, m fieldMask, base string) []byte
}

// Org is a district or school.
type Org struct {
	SourcedID, Status, DateLastModified string
	Name, Type, Identifier, Parent      string
	Children                            []string
	Metadata                            map[string]string // an unknown field to clients
}

// AcademicSession is a school year, semester or term.
type AcademicSession struct {
	SourcedID, Status, DateLastModified string
	Title, Type, StartDate, EndDate     string
	Parent, SchoolYear                  string
}

// Course is a catalogue entry.
type Course struct {
	SourcedID, Status, DateLastModified string
	Title, CourseCode, Org, SchoolYear  string
}

// Class is a section.
type Class struct {
	SourcedID, Status, DateLastModified string
	Title, ClassCode, ClassType         string
	Course, School                      string
	Terms                               []string
}

// UserKind is what the generator made a user as; it is not sent.
type UserKind int

// User kinds.
const (
	KindStaff UserKind = iota + 1
	KindStudent
	KindGuardian
)

// Role is one OneRoster 1.2 roles[] entry.
type Role struct {
	RoleType, Role, Org string
}

// User is a student, staff member or guardian as sent on the wire.
type User struct {
	SourcedID, Status, DateLastModified string
	EnabledUser                         bool
	// EnabledUserText, when set, is sent as a JSON string instead of the
	// boolean (e.g. "True", "FALSE").
	EnabledUserText                 string
	Username, GivenName, FamilyName string
	MiddleName, Email, SMS, Phone   string
	Identifier                      string
	Role                            string // 1.1; omitted when empty
	Roles                           []Role // 1.2; omitted when empty
	Orgs, Agents, Grades            []string
	UserIDs                         []string // unknown to clients
	Kind                            UserKind // not sent
	unknownMeta                     bool
}

// Enrollment puts a user in a class.
type Enrollment struct {
	SourcedID, Status, DateLastModified string
	Class, User, School, Role           string
	Primary                             bool
}

func (r Org) ID() string             { return r.SourcedID }
func (r AcademicSession) ID() string { return r.SourcedID }
func (r Course) ID() string          { return r.SourcedID }
func (r Class) ID() string           { return r.SourcedID }
func (r User) ID() string            { return r.SourcedID }
func (r Enrollment) ID() string      { return r.SourcedID }

func (Org) Collection() Collection             { return Orgs }
func (AcademicSession) Collection() Collection { return AcademicSessions }
func (Course) Collection() Collection          { return Courses }
func (Class) Collection() Collection           { return Classes }
func (User) Collection() Collection            { return Users }
func (Enrollment) Collection() Collection      { return Enrollments }

func (r Org) status() string             { return r.Status }
func (r AcademicSession) status() string { return r.Status }
func (r Course) status() string          { return r.Status }
func (r Class) status() string           { return r.Status }
func (r User) status() string            { return r.Status }
func (r Enrollment) status() string      { return r.Status }

func (r Org) modified() string             { return r.DateLastModified }
func (r AcademicSession) modified() string { return r.DateLastModified }
func (r Course) modified() string          { return r.DateLastModified }
func (r Class) modified() string           { return r.DateLastModified }
func (r User) modified() string            { return r.DateLastModified }
func (r Enrollment) modified() string      { return r.DateLastModified }

// withStatus returns r with status and dateLastModified replaced.
func withStatus(r Record, status, modified string) Record {
	switch v := r.(type) {
	case Org:
		v.Status, v.DateLastModified = status, modified
		return v
	case AcademicSession:
		v.Status, v.DateLastModified = status, modified
		return v
	case Course:
		v.Status, v.DateLastModified = status, modified
		return v
	case Class:
		v.Status, v.DateLastModified = status, modified
		return v
	case User:
		v.Status, v.DateLastModified = status, modified
		return v
	case Enrollment:
		v.Status, v.DateLastModified = status, modified
		return v
	}
	return r
}

// Field names per collection, in the order they are written; a fieldMask
// bit i stands for names[i].
var fieldNames = map[Collection][]string{
	Orgs:             {"sourcedId", "status", "dateLastModified", "name", "type", "identifier", "parent", "children", "metadata"},
	AcademicSessions: {"sourcedId", "status", "dateLastModified", "title", "type", "startDate", "endDate", "parent", "schoolYear"},
	Courses:          {"sourcedId", "status", "dateLastModified", "title", "courseCode", "org", "schoolYear"},
	Classes:          {"sourcedId", "status", "dateLastModified", "title", "classCode", "classType", "course", "school", "terms"},
	Users: {"sourcedId", "status", "dateLastModified", "enabledUser", "username", "userIds", "givenName", "familyName",
		"middleName", "role", "roles", "identifier", "email", "sms", "phone", "agents", "orgs", "grades", "metadata"},
	Enrollments: {"sourcedId", "status", "dateLastModified", "class", "user", "school", "role", "primary"},
}

const (
	fSourcedID = iota
	fStatus
	fModified
)

const (
	oName = iota + 3
	oType
	oIdentifier
	oParent
	oChildren
	oMetadata
)

const (
	sTitle = iota + 3
	sType
	sStart
	sEnd
	sParent
	sSchoolYear
)

const (
	cTitle = iota + 3
	cCode
	cOrg
	cSchoolYear
)

const (
	kTitle = iota + 3
	kCode
	kType
	kCourse
	kSchool
	kTerms
)

const (
	uEnabled = iota + 3
	uUsername
	uUserIDs
	uGiven
	uFamily
	uMiddle
	uRole
	uRoles
	uIdentifier
	uEmail
	uSMS
	uPhone
	uAgents
	uOrgs
	uGrades
	uMetadata
)

const (
	eClass = iota + 3
	eUser
	eSchool
	eRole
	ePrimary
)

// fieldMask selects fields; allFields sends everything.
type fieldMask uint64

const allFields = ^fieldMask(0)

// idOnly is fields=sourcedId.
const idOnly = fieldMask(1 << fSourcedID)

func (m fieldMask) has(i int) bool { return m&(1<<i) != 0 }

// parseFields turns a fields= value into a mask. Names the collection does
// not have are ignored; if none is known every field is sent, as OneRoster
// 1.1 says for a selection of non-existent fields.
func parseFields(c Collection, fields string) fieldMask {
	if strings.TrimSpace(fields) == "" {
		return allFields
	}
	var m fieldMask
	names := fieldNames[c]
	for f := range strings.SplitSeq(fields, ",") {
		f = strings.TrimSpace(f)
		for i, n := range names {
			if n == f {
				m |= 1 << i
			}
		}
	}
	if m == 0 {
		return allFields
	}
	return m
}

// obj writes one JSON object field by field, skipping masked ones.
type obj struct {
	b     []byte
	m     fieldMask
	comma bool
}

func (o *obj) key(i int, name string) bool {
	if !o.m.has(i) {
		return false
	}
	if o.comma {
		o.b = append(o.b, ',')
	}
	o.comma = true
	o.b = append(o.b, '"')
	o.b = append(o.b, name...)
	o.b = append(o.b, '"', ':')
	return true
}

func (o *obj) str(i int, name, v string) {
	if o.key(i, name) {
		o.b = appendString(o.b, v)
	}
}

func (o *obj) boolean(i int, name string, v bool) {
	if o.key(i, name) {
		if v {
			o.b = append(o.b, "true"...)
		} else {
			o.b = append(o.b, "false"...)
		}
	}
}

func (o *obj) ref(i int, name, base, path, typ, id string) {
	if o.key(i, name) {
		o.b = appendRef(o.b, base, path, typ, id)
	}
}

func (o *obj) refs(i int, name, base, path, typ string, ids []string) {
	if o.key(i, name) {
		o.b = append(o.b, '[')
		for j, id := range ids {
			if j > 0 {
				o.b = append(o.b, ',')
			}
			o.b = appendRef(o.b, base, path, typ, id)
		}
		o.b = append(o.b, ']')
	}
}

func (o *obj) strs(i int, name string, vs []string) {
	if o.key(i, name) {
		o.b = append(o.b, '[')
		for j, v := range vs {
			if j > 0 {
				o.b = append(o.b, ',')
			}
			o.b = appendString(o.b, v)
		}
		o.b = append(o.b, ']')
	}
}

// appendRef writes a OneRoster GUIDRef; an empty id is written as null.
func appendRef(b []byte, base, path, typ, id string) []byte {
	if id == "" {
		return append(b, "null"...)
	}
	b = append(b, `{"href":"`...)
	b = appendStringBody(b, base)
	b = append(b, '/')
	b = append(b, path...)
	b = append(b, '/')
	b = appendStringBody(b, id)
	b = append(b, `","sourcedId":`...)
	b = appendString(b, id)
	b = append(b, `,"type":"`...)
	b = append(b, typ...)
	return append(b, `"}`...)
}

func head(b []byte, m fieldMask, id, status, modified string) obj {
	o := obj{b: append(b, '{'), m: m}
	o.str(fSourcedID, "sourcedId", id)
	o.str(fStatus, "status", status)
	o.str(fModified, "dateLastModified", modified)
	return o
}

func (r Org) appendJSON(b []byte, m fieldMask, base string) []byte {
	o := head(b, m, r.SourcedID, r.Status, r.DateLastModified)
	o.str(oName, "name", r.Name)
	o.str(oType, "type", r.Type)
	o.str(oIdentifier, "identifier", r.Identifier)
	o.ref(oParent, "parent", base, "orgs", "org", r.Parent)
	o.refs(oChildren, "children", base, "orgs", "org", r.Children)
	if len(r.Metadata) > 0 && o.key(oMetadata, "metadata") {
		o.b = append(o.b, '{')
		first := true
		for _, k := range sortedKeys(r.Metadata) {
			if !first {
				o.b = append(o.b, ',')
			}
			first = false
			o.b = appendString(o.b, k)
			o.b = append(o.b, ':')
			o.b = appendString(o.b, r.Metadata[k])
		}
		o.b = append(o.b, '}')
	}
	return append(o.b, '}')
}

func (r AcademicSession) appendJSON(b []byte, m fieldMask, base string) []byte {
	o := head(b, m, r.SourcedID, r.Status, r.DateLastModified)
	o.str(sTitle, "title", r.Title)
	o.str(sType, "type", r.Type)
	o.str(sStart, "startDate", r.StartDate)
	o.str(sEnd, "endDate", r.EndDate)
	o.ref(sParent, "parent", base, "academicSessions", "academicSession", r.Parent)
	o.str(sSchoolYear, "schoolYear", r.SchoolYear)
	return append(o.b, '}')
}

func (r Course) appendJSON(b []byte, m fieldMask, base string) []byte {
	o := head(b, m, r.SourcedID, r.Status, r.DateLastModified)
	o.str(cTitle, "title", r.Title)
	o.str(cCode, "courseCode", r.CourseCode)
	o.ref(cOrg, "org", base, "orgs", "org", r.Org)
	o.ref(cSchoolYear, "schoolYear", base, "academicSessions", "academicSession", r.SchoolYear)
	return append(o.b, '}')
}

func (r Class) appendJSON(b []byte, m fieldMask, base string) []byte {
	o := head(b, m, r.SourcedID, r.Status, r.DateLastModified)
	o.str(kTitle, "title", r.Title)
	o.str(kCode, "classCode", r.ClassCode)
	o.str(kType, "classType", r.ClassType)
	o.ref(kCourse, "course", base, "courses", "course", r.Course)
	o.ref(kSchool, "school", base, "orgs", "org", r.School)
	o.refs(kTerms, "terms", base, "academicSessions", "academicSession", r.Terms)
	return append(o.b, '}')
}

func (r User) appendJSON(b []byte, m fieldMask, base string) []byte {
	o := head(b, m, r.SourcedID, r.Status, r.DateLastModified)
	if r.EnabledUserText != "" {
		o.str(uEnabled, "enabledUser", r.EnabledUserText)
	} else {
		o.boolean(uEnabled, "enabledUser", r.EnabledUser)
	}
	o.str(uUsername, "username", r.Username)
	if len(r.UserIDs) > 0 && o.key(uUserIDs, "userIds") {
		o.b = append(o.b, '[')
		for j, id := range r.UserIDs {
			if j > 0 {
				o.b = append(o.b, ',')
			}
			o.b = append(o.b, `{"type":"SIS","identifier":`...)
			o.b = appendString(o.b, id)
			o.b = append(o.b, '}')
		}
		o.b = append(o.b, ']')
	}
	o.str(uGiven, "givenName", r.GivenName)
	o.str(uFamily, "familyName", r.FamilyName)
	if r.MiddleName != "" {
		o.str(uMiddle, "middleName", r.MiddleName)
	}
	if r.Role != "" {
		o.str(uRole, "role", r.Role)
	}
	if len(r.Roles) > 0 && o.key(uRoles, "roles") {
		o.b = append(o.b, '[')
		for j, role := range r.Roles {
			if j > 0 {
				o.b = append(o.b, ',')
			}
			o.b = append(o.b, `{"roleType":`...)
			o.b = appendString(o.b, role.RoleType)
			o.b = append(o.b, `,"role":`...)
			o.b = appendString(o.b, role.Role)
			o.b = append(o.b, `,"org":`...)
			o.b = appendRef(o.b, base, "orgs", "org", role.Org)
			o.b = append(o.b, '}')
		}
		o.b = append(o.b, ']')
	}
	o.str(uIdentifier, "identifier", r.Identifier)
	o.str(uEmail, "email", r.Email)
	o.str(uSMS, "sms", r.SMS)
	o.str(uPhone, "phone", r.Phone)
	o.refs(uAgents, "agents", base, "users", "user", r.Agents)
	o.refs(uOrgs, "orgs", base, "orgs", "org", r.Orgs)
	o.strs(uGrades, "grades", r.Grades)
	if r.unknownMeta && o.key(uMetadata, "metadata") {
		o.b = append(o.b, `{"classlink.sisSource":"sis","classlink.ext":{"lastSeen":null,"flags":[1,2.5,true]}}`...)
	}
	return append(o.b, '}')
}

func (r Enrollment) appendJSON(b []byte, m fieldMask, base string) []byte {
	o := head(b, m, r.SourcedID, r.Status, r.DateLastModified)
	o.ref(eClass, "class", base, "classes", "class", r.Class)
	o.ref(eUser, "user", base, "users", "user", r.User)
	o.ref(eSchool, "school", base, "orgs", "org", r.School)
	o.str(eRole, "role", r.Role)
	o.boolean(ePrimary, "primary", r.Primary)
	return append(o.b, '}')
}
