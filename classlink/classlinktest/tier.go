package classlinktest

import (
	"fmt"
	"time"
)

// Tier sets a district's size (DESIGN §7).
type Tier struct {
	Name        string
	Schools     int
	Students    int
	Staff       int // includes the district office
	Guardians   int
	Courses     int
	Classes     int
	Enrollments int // one teacher enrollment per class, the rest students'
}

// The tiers of DESIGN §7. Counts the design leaves open (staff, classes,
// courses in S and M; classes in L) are set to plausible ratios: about 25
// students per class, one teacher per ~5 classes.
var (
	TierS = Tier{Name: "S", Schools: 1, Students: 500, Staff: 40, Guardians: 750,
		Courses: 40, Classes: 120, Enrollments: 3120}
	TierM = Tier{Name: "M", Schools: 20, Students: 20000, Staff: 1600, Guardians: 30000,
		Courses: 400, Classes: 6000, Enrollments: 160000}
	TierL = Tier{Name: "L", Schools: 350, Students: 320000, Staff: 20000, Guardians: 480000,
		Courses: 3500, Classes: 96000, Enrollments: 2500000}
)

// districtStaff is the district office: a 1.1 administrator of the district
// org, a 1.2 districtAdministrator, a 1.2 systemAdministrator and a 1.1
// administrator of both the district and the first school.
const districtStaff = 4

// schoolStaffRoles: positions 0..3 of each school's staff block; the rest
// teach.
const schoolStaffRoles = 4

func (t Tier) validate() error {
	switch {
	case t.Schools < 1 || t.Students < 1 || t.Guardians < 0 || t.Courses < t.Schools || t.Classes < t.Schools:
		return fmt.Errorf("classlinktest: tier %q: need at least one school, student, course and class per school", t.Name)
	case (t.Staff-districtStaff)/t.Schools < schoolStaffRoles+1:
		return fmt.Errorf("classlinktest: tier %q: need at least %d staff per school plus %d district staff", t.Name, schoolStaffRoles+1, districtStaff)
	case t.Enrollments-t.Classes < t.Students:
		return fmt.Errorf("classlinktest: tier %q: need at least one enrollment per student", t.Name)
	}
	perStudent := (t.Enrollments - t.Classes + t.Students - 1) / t.Students
	if t.Classes/t.Schools < perStudent {
		return fmt.Errorf("classlinktest: tier %q: %d enrollments per student need as many classes per school", t.Name, perStudent)
	}
	if len(fmt.Sprint(t.Staff+t.Students+t.Guardians)) > userDigits || len(fmt.Sprint(t.Enrollments)) > enrollmentDigits ||
		len(fmt.Sprint(t.Classes)) > classDigits || len(fmt.Sprint(t.Schools)) > orgDigits || len(fmt.Sprint(t.Courses)) > courseDigits {
		return fmt.Errorf("classlinktest: tier %q is too big for the sourcedId widths", t.Name)
	}
	return nil
}

// Mess sets how often real data's untidiness appears. Each rate is the
// share of eligible records, decided per record from the seed.
type Mess struct {
	// EnabledUserString: users whose enabledUser is a string ("true",
	// "True", "FALSE", …) instead of a boolean.
	EnabledUserString float64
	// DisabledUsers: users with enabledUser false.
	DisabledUsers float64
	// Roles12: staff sent with OneRoster 1.2 roles[] instead of 1.1 role.
	// Counselors and the district office's 1.2 roles are always 1.2.
	Roles12 float64
	// InvalidPhone: filled sms/phone fields holding junk ("123", "n/a", …).
	InvalidPhone float64
	// PhoneExtension: valid phone fields with an extension (" x204").
	PhoneExtension float64
	// OneSidedAgents: student–guardian links present on one side only.
	OneSidedAgents float64
	// DanglingAgents: students and guardians with an agent id that does not
	// exist.
	DanglingAgents float64
	// ToBeDeleted: users, classes and enrollments with status tobedeleted.
	ToBeDeleted float64
	// GuardianNoContact: guardians with neither email nor sms.
	GuardianNoContact float64
	// DuplicateGuardianEmail: guardians sharing the previous guardian's email.
	DuplicateGuardianEmail float64
	// UnknownFields: records carrying fields the client does not know
	// (metadata, userIds, …); only seen when fields= is not used.
	UnknownFields float64
}

// DefaultMess is the mix the tiers use unless told otherwise.
func DefaultMess() Mess {
	return Mess{
		EnabledUserString:      0.10,
		DisabledUsers:          0.01,
		Roles12:                0.15,
		InvalidPhone:           0.03,
		PhoneExtension:         0.04,
		OneSidedAgents:         0.03,
		DanglingAgents:         0.01,
		ToBeDeleted:            0.01,
		GuardianNoContact:      0.03,
		DuplicateGuardianEmail: 0.05,
		UnknownFields:          0.20,
	}
}

// Options configure a District.
type Options struct {
	Seed  uint64
	Tier  Tier
	Mess  Mess
	Epoch time.Time // "today" of the generated data; default 2026-08-01 UTC
	// Now stamps overlay changes; default noon of Epoch plus the days
	// advanced.
	Now func() time.Time
	// DistrictName names the district org; default "Demo Unified School District".
	DistrictName string
	// EmailDomain is the district's domain; default "demo-usd.example.org".
	EmailDomain string
}

// DefaultEpoch is the generated data's "today".
var DefaultEpoch = time.Date(2026, 8, 1, 0, 0, 0, 0, time.UTC)
