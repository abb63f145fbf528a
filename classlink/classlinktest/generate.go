package classlinktest

import (
	"strconv"
	"strings"
	"time"
)

// sourcedId shapes: prefix plus a zero-padded index, fixed width per
// collection, so that sourcedId order is index order.
const (
	orgDigits        = 5
	sessionDigits    = 3
	courseDigits     = 6
	classDigits      = 7
	userDigits       = 7
	enrollmentDigits = 8
)

var idPrefix = map[Collection]string{
	Orgs: "org", AcademicSessions: "as", Courses: "crs", Classes: "cls", Users: "usr", Enrollments: "enr",
}

var idDigits = map[Collection]int{
	Orgs: orgDigits, AcademicSessions: sessionDigits, Courses: courseDigits, Classes: classDigits, Users: userDigits, Enrollments: enrollmentDigits,
}

func padID(prefix string, i, width int) string {
	var buf [24]byte
	b := append(buf[:0], prefix...)
	digits := strconv.AppendInt(buf[len(b):len(b)], int64(i), 10)
	for range width - len(digits) {
		b = append(b, '0')
	}
	b = strconv.AppendInt(b, int64(i), 10)
	return string(b)
}

const sessionCount = 7

// Hash salts, one per decision, so decisions are independent.
const (
	saltName uint64 = iota + 1
	saltFamily
	saltModified
	saltStatus
	saltEnabled
	saltEnabledText
	saltRoles12
	saltPhone
	saltPhoneBad
	saltPhoneExt
	saltHomePhone
	saltOneSided
	saltDangling
	saltNoContact
	saltDupEmail
	saltUnknown
	saltGrade
	saltGuardianRole
	saltClass
	saltMiddle
	saltSecondary
	saltTerm
	saltAdmin
)

func splitmix(x uint64) uint64 {
	x += 0x9E3779B97F4A7C15
	x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9
	x = (x ^ (x >> 27)) * 0x94D049BB133111EB
	return x ^ (x >> 31)
}

// generator computes record i of a collection from the seed alone.
type generator struct {
	seed        uint64
	t           Tier
	mess        Mess
	epoch       time.Time
	name        string
	domain      string
	perStudent  int // K: every student has K or K+1 classes
	extraSlots  int // R: the first R students have K+1
	schoolStaff int // staff outside the district office
}

func newGenerator(opt Options) *generator {
	t := opt.Tier
	g := &generator{seed: opt.Seed, t: t, mess: opt.Mess, epoch: opt.Epoch, name: opt.DistrictName, domain: opt.EmailDomain}
	studentEnrollments := t.Enrollments - t.Classes
	g.perStudent = studentEnrollments / t.Students
	g.extraSlots = studentEnrollments % t.Students
	g.schoolStaff = t.Staff - districtStaff
	return g
}

func (g *generator) h(salt uint64, i int) uint64 {
	return splitmix(g.seed*0xD1B54A32D192ED03 ^ salt<<48 ^ uint64(i))
}

// chance is true for a share rate of indexes.
func (g *generator) chance(salt uint64, i int, rate float64) bool {
	if rate <= 0 {
		return false
	}
	return float64(g.h(salt, i)>>11)/(1<<53) < rate
}

// part is the block (of parts) index i of n falls in; start is the first
// index of block p. Blocks differ in size by at most one.
func part(i, n, parts int) int  { return int(int64(i) * int64(parts) / int64(n)) }
func start(p, n, parts int) int { return int((int64(p)*int64(n) + int64(parts) - 1) / int64(parts)) }

func (g *generator) count(c Collection) int {
	switch c {
	case Orgs:
		return 1 + g.t.Schools
	case AcademicSessions:
		return sessionCount
	case Courses:
		return g.t.Courses
	case Classes:
		return g.t.Classes
	case Users:
		return g.t.Staff + g.t.Students + g.t.Guardians
	case Enrollments:
		return g.t.Enrollments
	}
	return 0
}

func (g *generator) id(c Collection, i int) string { return padID(idPrefix[c], i, idDigits[c]) }

// index is the inverse of id: the generated index an id names, if any.
func (g *generator) index(c Collection, id string) (int, bool) {
	p, w := idPrefix[c], idDigits[c]
	if len(id) != len(p)+w || !strings.HasPrefix(id, p) {
		return 0, false
	}
	n, err := strconv.Atoi(id[len(p):])
	if err != nil || n < 0 || n >= g.count(c) || id[len(p)] == '+' || id[len(p)] == '-' {
		return 0, false
	}
	return n, true
}

const dateLayout = "2006-01-02T15:04:05.000Z"

// modified is record i's dateLastModified: within the year before the epoch.
func (g *generator) modified(c Collection, i int) string {
	return g.modifiedAt(c, i).Format(dateLayout)
}

// modifiedAt is the generated record's dateLastModified as a time, for
// filters that need not format it.
func (g *generator) modifiedAt(c Collection, i int) time.Time {
	h := g.h(saltModified^uint64(len(c))<<8, i)
	secs := int64(h % (365 * 86400))
	return g.epoch.Add(-time.Duration(secs) * time.Second).UTC()
}

func (g *generator) status(c Collection, i int) string {
	if c == Users && i < districtStaff {
		return "active" // keep every district-office role group present
	}
	switch c {
	case Users, Classes, Enrollments:
		if g.chance(saltStatus^uint64(len(c))<<8, i, g.mess.ToBeDeleted) {
			return "tobedeleted"
		}
	}
	return "active"
}

func (g *generator) record(c Collection, i int) Record {
	switch c {
	case Orgs:
		return g.org(i)
	case AcademicSessions:
		return g.session(i)
	case Courses:
		return g.course(i)
	case Classes:
		return g.class(i)
	case Users:
		return g.user(i)
	case Enrollments:
		return g.enrollment(i)
	}
	return nil
}

func (g *generator) orgID(i int) string    { return g.id(Orgs, i) }
func (g *generator) schoolID(p int) string { return g.id(Orgs, 1+p) }
func (g *generator) userID(i int) string   { return g.id(Users, i) }
func (g *generator) staffID(t int) string  { return g.userID(t) }
func (g *generator) studentID(s int) string {
	return g.userID(g.t.Staff + s)
}
func (g *generator) guardianID(j int) string {
	return g.userID(g.t.Staff + g.t.Students + j)
}

var schoolKinds = [...]string{"Elementary School", "Middle School", "High School", "Academy", "K-8 School"}

func (g *generator) org(i int) Record {
	o := Org{SourcedID: g.orgID(i), Status: g.status(Orgs, i), DateLastModified: g.modified(Orgs, i)}
	if i == 0 {
		o.Name, o.Type, o.Identifier = g.name, "district", "D"+strconv.FormatUint(g.seed%1000000, 10)
		o.Metadata = map[string]string{"classlink.tenant": "demo"}
		return o
	}
	p := i - 1
	h := g.h(saltName, 1_000_000+p)
	o.Name = lastNames[h%uint64(len(lastNames))] + " " + schoolKinds[(h>>20)%uint64(len(schoolKinds))]
	o.Type = "school"
	o.Identifier = padID("", 100+p, 4)
	o.Parent = g.orgID(0)
	return o
}

func (g *generator) session(i int) Record {
	y := g.epoch.Year()
	if g.epoch.Month() < time.July {
		y--
	}
	ys, ye := strconv.Itoa(y), strconv.Itoa(y+1)
	s := AcademicSession{SourcedID: g.id(AcademicSessions, i), Status: "active", DateLastModified: g.modified(AcademicSessions, i), SchoolYear: ye}
	type def struct{ title, typ, start, end string }
	defs := [sessionCount]def{
		{ys + "-" + ye, "schoolYear", ys + "-08-01", ye + "-06-30"},
		{"Fall " + ys, "semester", ys + "-08-01", ys + "-12-20"},
		{"Spring " + ye, "semester", ye + "-01-06", ye + "-06-30"},
		{"Q1 " + ys, "term", ys + "-08-01", ys + "-10-15"},
		{"Q2 " + ys, "term", ys + "-10-16", ys + "-12-20"},
		{"Q3 " + ye, "term", ye + "-01-06", ye + "-03-20"},
		{"Q4 " + ye, "term", ye + "-03-21", ye + "-06-30"},
	}
	d := defs[i]
	s.Title, s.Type, s.StartDate, s.EndDate = d.title, d.typ, d.start, d.end
	switch {
	case i == 1 || i == 2:
		s.Parent = g.id(AcademicSessions, 0)
	case i == 3 || i == 4:
		s.Parent = g.id(AcademicSessions, 1)
	case i >= 5:
		s.Parent = g.id(AcademicSessions, 2)
	}
	return s
}

var subjects = [...]string{"Algebra I", "Geometry", "Biology", "Chemistry", "English 9", "English 10", "World History",
	"US History", "Spanish I", "French I", "Art", "Music", "Physical Education", "Computer Science", "Reading", "Mathematics"}

func (g *generator) courseSchool(c int) int { return part(c, g.t.Courses, g.t.Schools) }

func (g *generator) course(c int) Record {
	p := g.courseSchool(c)
	local := c - start(p, g.t.Courses, g.t.Schools)
	title := subjects[local%len(subjects)]
	if local >= len(subjects) {
		title += " " + strconv.Itoa(local/len(subjects)+1)
	}
	return Course{SourcedID: g.id(Courses, c), Status: g.status(Courses, c), DateLastModified: g.modified(Courses, c),
		Title: title, CourseCode: "C" + padID("", c, 5), Org: g.schoolID(p), SchoolYear: g.id(AcademicSessions, 0)}
}

// classSchool and the class's local number within its school.
func (g *generator) classSchool(k int) (p, local int) {
	p = part(k, g.t.Classes, g.t.Schools)
	return p, k - start(p, g.t.Classes, g.t.Schools)
}

func (g *generator) class(k int) Record {
	p, local := g.classSchool(k)
	cs, ce := start(p, g.t.Courses, g.t.Schools), start(p+1, g.t.Courses, g.t.Schools)
	course := cs + local%(ce-cs)
	period := local/(ce-cs)%8 + 1
	cl := Class{SourcedID: g.id(Classes, k), Status: g.status(Classes, k), DateLastModified: g.modified(Classes, k),
		ClassCode: "K" + padID("", k, 6) + "-P" + strconv.Itoa(period), ClassType: "scheduled",
		Course: g.id(Courses, course), School: g.schoolID(p)}
	cl.Title = g.course(course).(Course).Title + " - Period " + strconv.Itoa(period)
	switch g.h(saltTerm, k) % 3 {
	case 0:
		cl.Terms = []string{g.id(AcademicSessions, 1)}
	case 1:
		cl.Terms = []string{g.id(AcademicSessions, 2)}
	default:
		cl.Terms = []string{g.id(AcademicSessions, 1), g.id(AcademicSessions, 2)}
	}
	return cl
}

// teacherOf is the staff index teaching class k: one of its school's
// teachers (positions ≥ schoolStaffRoles of the school's staff block).
func (g *generator) teacherOf(k int) int {
	p, local := g.classSchool(k)
	ss := districtStaff + start(p, g.schoolStaff, g.t.Schools)
	se := districtStaff + start(p+1, g.schoolStaff, g.t.Schools)
	teachers := se - ss - schoolStaffRoles
	return ss + schoolStaffRoles + local%teachers
}

// studentSlot maps a student enrollment number to (student, slot).
func (g *generator) studentSlot(k int) (s, slot int) {
	K := g.perStudent
	if k < g.extraSlots*(K+1) {
		return k / (K + 1), k % (K + 1)
	}
	k -= g.extraSlots * (K + 1)
	return g.extraSlots + k/K, k % K
}

func (g *generator) studentSchool(s int) int { return part(s, g.t.Students, g.t.Schools) }

func (g *generator) classOf(s, slot int) int {
	p := g.studentSchool(s)
	cs, ce := start(p, g.t.Classes, g.t.Schools), start(p+1, g.t.Classes, g.t.Schools)
	return cs + int((g.h(saltClass, s)+uint64(slot))%uint64(ce-cs))
}

func (g *generator) enrollment(e int) Record {
	en := Enrollment{SourcedID: g.id(Enrollments, e), Status: g.status(Enrollments, e), DateLastModified: g.modified(Enrollments, e)}
	if e < g.t.Classes {
		p, _ := g.classSchool(e)
		en.Class, en.User, en.School, en.Role, en.Primary = g.id(Classes, e), g.staffID(g.teacherOf(e)), g.schoolID(p), "teacher", true
		return en
	}
	s, slot := g.studentSlot(e - g.t.Classes)
	en.Class, en.User, en.School, en.Role = g.id(Classes, g.classOf(s, slot)), g.studentID(s), g.schoolID(g.studentSchool(s)), "student"
	return en
}

func (g *generator) user(i int) Record {
	switch {
	case i < g.t.Staff:
		return g.staff(i)
	case i < g.t.Staff+g.t.Students:
		return g.student(i - g.t.Staff)
	default:
		return g.guardian(i - g.t.Staff - g.t.Students)
	}
}

// person fills the fields every user has.
func (g *generator) person(i int, kind UserKind, role string) User {
	u := User{SourcedID: g.userID(i), Status: g.status(Users, i), DateLastModified: g.modified(Users, i), Kind: kind, Role: role}
	h := g.h(saltName, i)
	u.GivenName = firstNames[h%uint64(len(firstNames))]
	u.FamilyName = lastNames[g.h(saltFamily, i)%uint64(len(lastNames))]
	if g.chance(saltMiddle, i, 0.3) {
		u.MiddleName = firstNames[(h>>32)%uint64(len(firstNames))]
	}
	u.EnabledUser = !g.chance(saltEnabled, i, g.mess.DisabledUsers) || kind == KindStaff && i < districtStaff
	if g.chance(saltEnabledText, i, g.mess.EnabledUserString) {
		forms := [...]string{"true", "True", "TRUE"}
		if !u.EnabledUser {
			forms = [...]string{"false", "False", "FALSE"}
		}
		u.EnabledUserText = forms[(h>>16)%3]
	}
	if g.chance(saltUnknown, i, g.mess.UnknownFields) {
		u.UserIDs = []string{"SIS-" + strconv.Itoa(i)}
		u.unknownMeta = true
	}
	return u
}

// phone is a phone field: valid (maybe with extension) or junk.
// field (1 sms, 2 phone) keeps the two fields' decisions independent.
func (g *generator) phone(field uint64, i int) string {
	f := field << 16
	if g.chance(saltPhoneBad|f, i, g.mess.InvalidPhone) {
		return invalidPhones[g.h(saltPhoneBad|f, i)>>40%uint64(len(invalidPhones))]
	}
	return formatPhone(g.h(saltPhone|f, i), g.chance(saltPhoneExt|f, i, g.mess.PhoneExtension))
}

func (g *generator) email(given, family string, n int, domain string) string {
	return strings.ToLower(given) + "." + strings.ToLower(strings.ReplaceAll(family, " ", "")) + strconv.Itoa(n) + "@" + domain
}

func (g *generator) staff(t int) Record {
	u := g.person(t, KindStaff, "")
	district := g.orgID(0)
	u.Identifier = "T" + padID("", t, 6)
	u.Email = g.email(u.GivenName, u.FamilyName, t, g.domain)
	u.Username = u.Email
	u.SMS = g.phone(1, t)
	if g.chance(saltHomePhone, t, 0.5) {
		u.Phone = g.phone(2, t)
	}
	if t < districtStaff {
		switch t {
		case 0:
			u.Role, u.Orgs = "administrator", []string{district}
		case 1:
			u.Roles, u.Orgs = []Role{{"primary", "districtAdministrator", district}}, []string{district}
		case 2:
			u.Roles, u.Orgs = []Role{{"primary", "systemAdministrator", district}}, []string{district}
		default:
			u.Role, u.Orgs = "administrator", []string{district, g.schoolID(0)}
		}
		return u
	}
	p := part(t-districtStaff, g.schoolStaff, g.t.Schools)
	pos := t - districtStaff - start(p, g.schoolStaff, g.t.Schools)
	school := g.schoolID(p)
	u.Orgs = []string{school}
	v12 := g.chance(saltRoles12, t, g.mess.Roles12)
	role := "teacher"
	switch pos {
	case 0:
		role = "administrator"
		if v12 {
			role = "principal"
			if g.h(saltAdmin, t)%2 == 0 {
				role = "siteAdministrator"
			}
		}
	case 1:
		role, v12 = "counselor", true // 1.1 has no counselor role
	case 2:
		role = "aide"
	case 3:
		role = "proctor"
	}
	if !v12 {
		u.Role = role
		return u
	}
	u.Roles = []Role{{"primary", role, school}}
	if role == "teacher" && g.t.Schools > 1 && g.chance(saltSecondary, t, 0.2) {
		other := g.schoolID((p + 1) % g.t.Schools)
		u.Roles = append(u.Roles, Role{"secondary", "teacher", other})
		u.Orgs = append(u.Orgs, other)
	}
	return u
}

var grades = [...]string{"KG", "01", "02", "03", "04", "05", "06", "07", "08", "09", "10", "11", "12"}

// guardiansOf is the range of guardian numbers linked to student s.
func (g *generator) guardiansOf(s int) (from, to int) {
	if g.t.Guardians == 0 {
		return 0, 0
	}
	return start(s, g.t.Guardians, g.t.Students), start(s+1, g.t.Guardians, g.t.Students)
}

func (g *generator) studentOf(j int) int { return part(j, g.t.Guardians, g.t.Students) }

// oneSided: 0 both sides link, 1 only the student lists the guardian, 2
// only the guardian lists the student.
func (g *generator) oneSided(j int) int {
	if !g.chance(saltOneSided, j, g.mess.OneSidedAgents) {
		return 0
	}
	return 1 + int(g.h(saltOneSided, j)>>8)%2
}

func (g *generator) dangling(i int) string {
	return "usr-gone-" + padID("", int(g.h(saltDangling, i)%10_000_000), userDigits)
}

func (g *generator) student(s int) Record {
	i := g.t.Staff + s
	u := g.person(i, KindStudent, "student")
	u.Identifier = "S" + padID("", s, 7)
	u.Email = g.email(u.GivenName, u.FamilyName, s, "students."+g.domain)
	u.Username = u.Email
	u.Grades = []string{grades[g.h(saltGrade, s)%uint64(len(grades))]}
	u.Orgs = []string{g.schoolID(g.studentSchool(s))}
	if g.chance(saltHomePhone, i, 0.3) {
		u.Phone = g.phone(2, i)
	}
	from, to := g.guardiansOf(s)
	for j := from; j < to; j++ {
		if g.oneSided(j) != 2 {
			u.Agents = append(u.Agents, g.guardianID(j))
		}
	}
	if g.chance(saltDangling, i, g.mess.DanglingAgents) {
		u.Agents = append(u.Agents, g.dangling(i))
	}
	return u
}

var guardianRoles = [...]string{"parent", "parent", "parent", "parent", "parent", "parent", "parent",
	"guardian", "guardian", "relative"}

// guardianEmail is guardian j's own address, before duplication.
func (g *generator) guardianEmail(j int, given, family string) string {
	return g.email(given, family, j, "mail.example.com")
}

func (g *generator) guardian(j int) Record {
	i := g.t.Staff + g.t.Students + j
	role := guardianRoles[g.h(saltGuardianRole, j)%uint64(len(guardianRoles))]
	u := g.person(i, KindGuardian, role)
	s := g.studentOf(j)
	if g.h(saltFamily, j)%5 != 0 { // most share the child's family name
		u.FamilyName = lastNames[g.h(saltFamily, g.t.Staff+s)%uint64(len(lastNames))]
	}
	u.Orgs = []string{g.schoolID(g.studentSchool(s))}
	if g.oneSided(j) != 1 {
		u.Agents = []string{g.studentID(s)}
	}
	if g.chance(saltDangling, i, g.mess.DanglingAgents) {
		u.Agents = append(u.Agents, g.dangling(i))
	}
	if g.chance(saltHomePhone, i, 0.4) {
		u.Phone = g.phone(2, i)
	}
	if g.chance(saltNoContact, j, g.mess.GuardianNoContact) {
		return u
	}
	u.SMS = g.phone(1, i)
	if j > 0 && g.chance(saltDupEmail, j, g.mess.DuplicateGuardianEmail) {
		prev := g.guardian(j - 1).(User)
		if prev.Email != "" {
			u.Email = prev.Email
		} else {
			u.Email = g.guardianEmail(j-1, prev.GivenName, prev.FamilyName)
		}
	} else {
		u.Email = g.guardianEmail(j, u.GivenName, u.FamilyName)
	}
	u.Username = u.Email
	return u
}
