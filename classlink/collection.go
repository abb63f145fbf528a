package classlink

// Collection names a OneRoster collection by its endpoint below the base
// URL ("users", "enrollments", …). The answer's envelope key is the same
// name, except /schools, which answers with "orgs".
type Collection string

// The collections rostersync reads.
const (
	Orgs             Collection = "orgs"
	Schools          Collection = "schools"
	AcademicSessions Collection = "academicSessions"
	Courses          Collection = "courses"
	Classes          Collection = "classes"
	Users            Collection = "users"
	Enrollments      Collection = "enrollments"
)

// Collections lists the collections a pull or Probe covers, in the order
// a sync pulls them.
var Collections = []Collection{Orgs, Schools, AcademicSessions, Courses, Classes, Users, Enrollments}
