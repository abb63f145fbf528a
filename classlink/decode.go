package classlink

import (
	"errors"
	"fmt"
	"io"
	"strings"
)

// The decoders read OneRoster JSON the way encoding/json reads it into
// tolerant wire structs (the reference kept in decode_ref_test.go, which
// the fuzz tests compare them with): unknown fields are skipped but still
// checked, names match exactly or else ignoring case, references keep only
// their sourcedId, and the fields real servers send in more than one shape
// are read in each of them (enabledUser and primary as a boolean or the
// string "true"/"false"; identifier, sms, phone and schoolYear as a string
// or a number kept as written; grades as a list or one comma-separated
// string). They are written by hand, without reflection: a page is one
// byte slice, walked once, and a record costs about one allocation per
// field it keeps.

// recordDecoder reads the members of one record object.
type recordDecoder[T any] interface {
	reset()
	member(s *scanner, key []byte) error
	record() (T, string) // the record and its sourcedId
}

// errNoEnvelope: a well-formed object without the collection's key.
type errNoEnvelope struct{ key string }

func (e errNoEnvelope) Error() string {
	return fmt.Sprintf("the response has no %q key", e.key)
}

// callbackError carries the caller's own error out of the decoder untouched.
type callbackError struct{ err error }

func (e callbackError) Error() string { return e.err.Error() }

// decodePage walks {"<key>": [ … ], …}, handing each record to each as soon
// as it is read; ids, when set, sees every sourcedId. It returns how many
// records it handed over. Anything but white space after the document is
// an error.
func decodePage[T any](b []byte, key string, rd recordDecoder[T], ids *idCheck, each func(T) error) (int, error) {
	s := &scanner{b: b}
	if s.ws() != '{' {
		if s.i >= len(b) {
			return 0, errEnd
		}
		return 0, fmt.Errorf("the response is not a JSON object (it starts with %q)", b[s.i])
	}
	n, found := 0, false
	if s.open('}') {
		for {
			k, err := s.key()
			if err != nil {
				return n, err
			}
			if string(k) != key {
				s.base = 1 // encoding/json counts depth from each value it decodes
				if err := s.skip(); err != nil {
					return n, err
				}
			} else {
				if found {
					return n, fmt.Errorf("the response has %q twice", key)
				}
				found = true
				if n, err = records(s, key, rd, ids, each); err != nil {
					return n, err
				}
			}
			if more, err := s.next('}'); err != nil {
				return n, err
			} else if !more {
				break
			}
		}
	}
	if s.ws(); s.i < len(s.b) {
		return n, s.syntax("after the top-level object")
	}
	if !found {
		return n, errNoEnvelope{key}
	}
	return n, nil
}

// records reads the envelope's list.
func records[T any](s *scanner, key string, rd recordDecoder[T], ids *idCheck, each func(T) error) (int, error) {
	if s.ws() != '[' {
		kind := s.kind()
		if err := s.skip(); err != nil {
			return 0, err
		}
		return 0, fmt.Errorf("%q is not a list (it is %s)", key, withArticle(kind))
	}
	if !s.open(']') {
		return 0, nil
	}
	n := 0
	s.base = 2 // each record is decoded on its own
	for {
		rd.reset()
		switch s.ws() {
		case '{':
			if err := recordObject(s, rd); err != nil {
				return n, fmt.Errorf("%s[%d]: %w", key, n, err)
			}
		case 'n': // null leaves the record empty: no sourcedId below
			if err := s.literal("null"); err != nil {
				return n, err
			}
		default:
			return n, fmt.Errorf("%s[%d]: %w", key, n, s.typeError("record", "an object"))
		}
		rec, id := rd.record()
		if id == "" {
			return n, fmt.Errorf("%s[%d] has no sourcedId", key, n)
		}
		if ids != nil {
			ids.add(id)
		}
		if err := each(rec); err != nil {
			return n, callbackError{err}
		}
		n++
		if more, err := s.next(']'); err != nil {
			return n, err
		} else if !more {
			return n, nil
		}
	}
}

func withArticle(kind string) string {
	if kind == "object" || kind == "array" {
		return "an " + kind
	}
	return "a " + kind
}

// recordObject reads the members of the record at s.i (a '{').
func recordObject[T any](s *scanner, rd recordDecoder[T]) error {
	if !s.open('}') {
		return nil
	}
	for {
		k, err := s.key()
		if err != nil {
			return err
		}
		if err := rd.member(s, k); err != nil {
			return err
		}
		if more, err := s.next('}'); err != nil || !more {
			return err
		}
	}
}

// Values, each read into its target as encoding/json reads that target's
// wire type: a null leaves a plain string or a reference as it was and
// resets the tolerant types; a value of another JSON type is an error.

// str reads a string field.
func (s *scanner) strField(field string, dst *string) error {
	switch s.ws() {
	case '"':
		v, err := s.text()
		if err == nil {
			*dst = string(v)
		}
		return err
	case 'n':
		return s.literal("null")
	}
	return s.typeError(field, "a string")
}

// token reads a string field whose values repeat (status, role, type):
// the common ones share one copy.
func (s *scanner) tokenField(field string, dst *string) error {
	if s.ws() != '"' {
		return s.strField(field, dst)
	}
	v, err := s.text()
	if err == nil {
		*dst = intern(v)
	}
	return err
}

func intern(b []byte) string {
	switch string(b) {
	case StatusActive:
		return StatusActive
	case StatusToBeDeleted:
		return StatusToBeDeleted
	case "student":
		return "student"
	case "teacher":
		return "teacher"
	case "parent":
		return "parent"
	case "guardian":
		return "guardian"
	case "relative":
		return "relative"
	case "aide":
		return "aide"
	case "administrator":
		return "administrator"
	case "primary":
		return "primary"
	case "secondary":
		return "secondary"
	case "school":
		return "school"
	case "district":
		return "district"
	}
	return string(b)
}

// flexStr reads a string, or a number kept as written (phones and
// identifiers some exports type as numbers). A string without escapes is
// kept byte for byte.
func (s *scanner) flexStr(field string, dst *string) error {
	switch c := s.ws(); {
	case c == '"':
		raw, esc, _, err := s.str()
		if err != nil {
			return err
		}
		if esc {
			raw = s.unescape(raw)
		}
		*dst = string(raw)
		return nil
	case c == 'n':
		*dst = ""
		return s.literal("null")
	case c == '-' || '0' <= c && c <= '9':
		v, err := s.number()
		if err == nil {
			*dst = string(v)
		}
		return err
	}
	return s.typeError(field, "a string or a number")
}

// flexBool is a JSON boolean or a string "true"/"false" in any case.
type flexBool struct {
	v, set bool
}

func (f flexBool) or(def bool) bool {
	if f.set {
		return f.v
	}
	return def
}

func (s *scanner) flexBoolField(field string, dst *flexBool) error {
	switch s.ws() {
	case 't':
		*dst = flexBool{true, true}
		return s.literal("true")
	case 'f':
		*dst = flexBool{false, true}
		return s.literal("false")
	case 'n':
		*dst = flexBool{}
		return s.literal("null")
	case '"':
		v, err := s.text()
		if err != nil {
			return err
		}
		switch strings.ToLower(strings.TrimSpace(string(v))) {
		case "true":
			*dst = flexBool{true, true}
		case "false":
			*dst = flexBool{false, true}
		default:
			return fmt.Errorf("%s: expected a boolean or \"true\"/\"false\", got %.40q", field, v)
		}
		return nil
	}
	return s.typeError(field, `a boolean or "true"/"false"`)
}

// flexStrings reads a list of strings or one comma-separated string.
func (s *scanner) flexStrings(field string, dst *[]string) error {
	switch s.ws() {
	case '"':
		v, err := s.text()
		if err != nil {
			return err
		}
		*dst = nil
		for part := range strings.SplitSeq(string(v), ",") {
			if part = strings.TrimSpace(part); part != "" {
				*dst = append(*dst, part)
			}
		}
		return nil
	case 'n':
		*dst = nil
		return s.literal("null")
	case '[':
		list := []string{}
		if !s.open(']') {
			*dst = list
			return nil
		}
		for {
			var v string
			if err := s.strField(field, &v); err != nil {
				return err
			}
			list = append(list, v)
			if more, err := s.next(']'); err != nil {
				return err
			} else if !more {
				*dst = list
				return nil
			}
		}
	}
	return s.typeError(field, "a list of strings or a string")
}

var refFields = newFieldSet("sourcedId")

// ref reads a reference object ({"href", "sourcedId", "type"}) into its
// sourcedId.
func (s *scanner) ref(field string, dst *string) error {
	switch s.ws() {
	case '{':
	case 'n':
		return s.literal("null")
	default:
		return s.typeError(field, "an object")
	}
	if s.compactRef(dst) {
		return nil
	}
	if !s.open('}') {
		return nil
	}
	for {
		k, err := s.key()
		if err != nil {
			return err
		}
		if string(k) == "sourcedId" || s.canonical(k, refFields) != nil {
			if err = s.strField("sourcedId", dst); err != nil {
				err = fmt.Errorf("%s.%w", field, err)
			}
		} else {
			err = s.skip()
		}
		if err != nil {
			return err
		}
		if more, err := s.next('}'); err != nil || !more {
			return err
		}
	}
}

// compactRef reads the shape servers send, {"href":"…","sourcedId":"…",
// "type":"…"} without spaces, in one pass; anything else (or a sourcedId
// that needs unescaping) is left for the general path, with nothing read.
func (s *scanner) compactRef(dst *string) bool {
	const (
		href = `{"href":`
		id   = `,"sourcedId":`
		typ  = `,"type":`
	)
	start := s.i
	back := func() bool { s.i = start; return false }
	if !s.lit(href) || !s.plainStr() || !s.lit(id) {
		return back()
	}
	if s.i >= len(s.b) || s.b[s.i] != '"' {
		return back()
	}
	raw, esc, high, err := s.str()
	if err != nil || esc || high {
		return back()
	}
	if !s.lit(typ) || !s.plainStr() || !s.lit("}") {
		return back()
	}
	*dst = string(raw)
	return true
}

// lit consumes the literal bytes w if they come next.
func (s *scanner) lit(w string) bool {
	if len(s.b)-s.i >= len(w) && string(s.b[s.i:s.i+len(w)]) == w {
		s.i += len(w)
		return true
	}
	return false
}

// plainStr consumes a well-formed string if one comes next.
func (s *scanner) plainStr() bool {
	if s.i >= len(s.b) || s.b[s.i] != '"' {
		return false
	}
	_, _, _, err := s.str()
	return err == nil
}

// list reads an array into the elements of *dst the way encoding/json
// fills a slice: element i is read into the i-th element already there
// (a repeated key merges), later ones start from what the slice's array
// holds there (zero unless a repeated key left something), and the slice
// ends at the last element read; null and [] empty it and its array.
// elem reads one element into its target (elemField names it in errors).
func list[E any](s *scanner, field string, dst *[]E, elemField string, elem func(s *scanner, field string, e *E) error) error {
	l := *dst
	switch s.ws() {
	case 'n':
		clear(l[:cap(l)])
		*dst = l[:0]
		return s.literal("null")
	case '[':
	default:
		return s.typeError(field, "a list")
	}
	if !s.open(']') {
		clear(l[:cap(l)])
		*dst = l[:0]
		return nil
	}
	i := 0
	for {
		if i < cap(l) {
			l = l[:i+1] // as reflect's SetLen: what was there stays
		} else {
			var zero E
			l = append(l, zero)
		}
		if err := elem(s, elemField, &l[i]); err != nil {
			return err
		}
		i++
		if more, err := s.next(']'); err != nil {
			return err
		} else if !more {
			break
		}
	}
	*dst = l[:i]
	return nil
}

// scratch holds one of a record's lists while it is read, its array
// reused from record to record.
type scratch[E any] struct{ l []E }

// reset empties the list and its array, so nothing leaks from one record
// to the next.
func (sc *scratch[E]) reset() {
	clear(sc.l[:cap(sc.l)])
	sc.l = sc.l[:0]
}

func refList(s *scanner, field string, sc *scratch[string]) error {
	return list(s, field, &sc.l, field, (*scanner).ref)
}

// ids copies a list of sourcedIds out of scratch; nil when empty.
func ids(l []string) []string {
	if len(l) == 0 {
		return nil
	}
	return append([]string(nil), l...)
}

// The records.

// recordFields is a record's JSON names: the members every record has
// (read by other) and its own.
func recordFields(own ...string) *fieldSet {
	return newFieldSet(append([]string{"sourcedId", "status", "dateLastModified"}, own...)...)
}

// other reads a member a record's own switch does not name: one of the
// members every record has, else a key that matches one of fs's names
// ignoring case (read again through member under that name), else
// nothing it keeps.
func (s *scanner) other(k []byte, fs *fieldSet, member func(*scanner, []byte) error, id, status, modified *string) error {
	switch string(k) {
	case "sourcedId":
		return s.strField("sourcedId", id)
	case "status":
		return s.tokenField("status", status)
	case "dateLastModified":
		return s.strField("dateLastModified", modified)
	}
	if c := s.canonical(k, fs); c != nil {
		return member(s, c)
	}
	return s.skip()
}

var orgFields = recordFields("name", "type", "identifier", "parent")

type orgDecoder struct{ o Org }

func (d *orgDecoder) reset()                { d.o = Org{} }
func (d *orgDecoder) record() (Org, string) { return d.o, d.o.SourcedID }
func (d *orgDecoder) member(s *scanner, k []byte) error {
	o := &d.o
	switch string(k) {
	case "name":
		return s.strField("name", &o.Name)
	case "type":
		return s.tokenField("type", &o.Type)
	case "identifier":
		return s.flexStr("identifier", &o.Identifier)
	case "parent":
		return s.ref("parent", &o.Parent)
	}
	return s.other(k, orgFields, d.member, &o.SourcedID, &o.Status, &o.DateLastModified)
}

var sessionFields = recordFields("title", "type", "startDate", "endDate", "parent", "schoolYear")

type sessionDecoder struct{ a AcademicSession }

func (d *sessionDecoder) reset()                            { d.a = AcademicSession{} }
func (d *sessionDecoder) record() (AcademicSession, string) { return d.a, d.a.SourcedID }
func (d *sessionDecoder) member(s *scanner, k []byte) error {
	a := &d.a
	switch string(k) {
	case "title":
		return s.strField("title", &a.Title)
	case "type":
		return s.tokenField("type", &a.Type)
	case "startDate":
		return s.strField("startDate", &a.StartDate)
	case "endDate":
		return s.strField("endDate", &a.EndDate)
	case "parent":
		return s.ref("parent", &a.Parent)
	case "schoolYear":
		return s.flexStr("schoolYear", &a.SchoolYear)
	}
	return s.other(k, sessionFields, d.member, &a.SourcedID, &a.Status, &a.DateLastModified)
}

var courseFields = recordFields("title", "courseCode", "org", "schoolYear")

type courseDecoder struct{ c Course }

func (d *courseDecoder) reset()                   { d.c = Course{} }
func (d *courseDecoder) record() (Course, string) { return d.c, d.c.SourcedID }
func (d *courseDecoder) member(s *scanner, k []byte) error {
	c := &d.c
	switch string(k) {
	case "title":
		return s.strField("title", &c.Title)
	case "courseCode":
		return s.strField("courseCode", &c.CourseCode)
	case "org":
		return s.ref("org", &c.Org)
	case "schoolYear":
		return s.ref("schoolYear", &c.SchoolYear)
	}
	return s.other(k, courseFields, d.member, &c.SourcedID, &c.Status, &c.DateLastModified)
}

var classFields = recordFields("title", "classCode", "course", "school", "terms")

type classDecoder struct {
	c     Class
	terms scratch[string]
}

func (d *classDecoder) reset() { d.c = Class{}; d.terms.reset() }
func (d *classDecoder) record() (Class, string) {
	c := d.c
	c.Terms = ids(d.terms.l)
	return c, c.SourcedID
}
func (d *classDecoder) member(s *scanner, k []byte) error {
	c := &d.c
	switch string(k) {
	case "title":
		return s.strField("title", &c.Title)
	case "classCode":
		return s.strField("classCode", &c.ClassCode)
	case "course":
		return s.ref("course", &c.Course)
	case "school":
		return s.ref("school", &c.School)
	case "terms":
		return refList(s, "terms", &d.terms)
	}
	return s.other(k, classFields, d.member, &c.SourcedID, &c.Status, &c.DateLastModified)
}

var userFields = recordFields("enabledUser", "username", "givenName", "familyName",
	"email", "sms", "phone", "identifier", "role", "roles", "orgs", "agents", "grades")

var roleFields = newFieldSet("roleType", "role", "org")

type userDecoder struct {
	u       User
	enabled flexBool
	roles   scratch[RoleAssignment]
	orgs    scratch[string]
	agents  scratch[string]
}

func (d *userDecoder) reset() {
	d.u, d.enabled = User{}, flexBool{}
	d.roles.reset()
	d.orgs.reset()
	d.agents.reset()
}

func (d *userDecoder) record() (User, string) {
	u := d.u
	u.EnabledUser = d.enabled.or(true)
	u.Orgs, u.Agents = ids(d.orgs.l), ids(d.agents.l)
	if len(d.roles.l) > 0 {
		u.Roles = append([]RoleAssignment(nil), d.roles.l...)
	}
	return u, u.SourcedID
}

func (d *userDecoder) member(s *scanner, k []byte) error {
	u := &d.u
	switch string(k) {
	case "enabledUser":
		return s.flexBoolField("enabledUser", &d.enabled)
	case "username":
		return s.strField("username", &u.Username)
	case "givenName":
		return s.strField("givenName", &u.GivenName)
	case "familyName":
		return s.strField("familyName", &u.FamilyName)
	case "email":
		return s.strField("email", &u.Email)
	case "sms":
		return s.flexStr("sms", &u.SMS)
	case "phone":
		return s.flexStr("phone", &u.Phone)
	case "identifier":
		return s.flexStr("identifier", &u.Identifier)
	case "role":
		return s.tokenField("role", &u.Role)
	case "roles":
		return list(s, "roles", &d.roles.l, "roles[]", readRole)
	case "orgs":
		return refList(s, "orgs", &d.orgs)
	case "agents":
		return refList(s, "agents", &d.agents)
	case "grades":
		return s.flexStrings("grades", &u.Grades)
	}
	return s.other(k, userFields, d.member, &u.SourcedID, &u.Status, &u.DateLastModified)
}

// readRole reads one roles[] entry into r (merging, like any struct).
func readRole(s *scanner, field string, r *RoleAssignment) error {
	switch s.ws() {
	case '{':
	case 'n':
		return s.literal("null")
	default:
		return s.typeError(field, "an object")
	}
	if !s.open('}') {
		return nil
	}
	for {
		k, err := s.key()
		if err != nil {
			return err
		}
		if err := roleMember(s, r, k); err != nil {
			return err
		}
		if more, err := s.next('}'); err != nil || !more {
			return err
		}
	}
}

func roleMember(s *scanner, r *RoleAssignment, k []byte) error {
	switch string(k) {
	case "roleType":
		return s.tokenField("roles[].roleType", &r.RoleType)
	case "role":
		return s.tokenField("roles[].role", &r.Role)
	case "org":
		return s.ref("roles[].org", &r.Org)
	}
	if f := s.canonical(k, roleFields); f != nil {
		return roleMember(s, r, f)
	}
	return s.skip()
}

var enrollmentFields = recordFields("class", "user", "school", "role", "primary")

type enrollmentDecoder struct {
	e       Enrollment
	primary flexBool
}

func (d *enrollmentDecoder) reset() { d.e, d.primary = Enrollment{}, flexBool{} }
func (d *enrollmentDecoder) record() (Enrollment, string) {
	e := d.e
	e.Primary = d.primary.or(false)
	return e, e.SourcedID
}
func (d *enrollmentDecoder) member(s *scanner, k []byte) error {
	e := &d.e
	switch string(k) {
	case "class":
		return s.ref("class", &e.Class)
	case "user":
		return s.ref("user", &e.User)
	case "school":
		return s.ref("school", &e.School)
	case "role":
		return s.tokenField("role", &e.Role)
	case "primary":
		return s.flexBoolField("primary", &d.primary)
	}
	return s.other(k, enrollmentFields, d.member, &e.SourcedID, &e.Status, &e.DateLastModified)
}

// decodeAll adapts decodePage for the exported Decode functions.
func decodeAll[T any](r io.Reader, key string, rd recordDecoder[T], fn func(T) error) (int, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return 0, malformed("decode "+key, -1, "", err)
	}
	n, err := decodePage(b, key, rd, nil, fn)
	if err == nil {
		return n, nil
	}
	var cb callbackError
	if errors.As(err, &cb) {
		return n, cb.err
	}
	return n, malformed("decode "+key, -1, "", err)
}

// DecodeOrgs reads an {"orgs":[…]} document (the shape of both /orgs and
// /schools), calling fn for each org in order. Errors in the document are
// *Error with ErrMalformed; fn's own errors are returned unchanged.
func DecodeOrgs(r io.Reader, fn func(Org) error) (int, error) {
	return decodeAll(r, "orgs", &orgDecoder{}, fn)
}

// DecodeAcademicSessions reads an {"academicSessions":[…]} document.
func DecodeAcademicSessions(r io.Reader, fn func(AcademicSession) error) (int, error) {
	return decodeAll(r, "academicSessions", &sessionDecoder{}, fn)
}

// DecodeCourses reads a {"courses":[…]} document.
func DecodeCourses(r io.Reader, fn func(Course) error) (int, error) {
	return decodeAll(r, "courses", &courseDecoder{}, fn)
}

// DecodeClasses reads a {"classes":[…]} document.
func DecodeClasses(r io.Reader, fn func(Class) error) (int, error) {
	return decodeAll(r, "classes", &classDecoder{}, fn)
}

// DecodeUsers reads a {"users":[…]} document.
func DecodeUsers(r io.Reader, fn func(User) error) (int, error) {
	return decodeAll(r, "users", &userDecoder{}, fn)
}

// DecodeEnrollments reads an {"enrollments":[…]} document.
func DecodeEnrollments(r io.Reader, fn func(Enrollment) error) (int, error) {
	return decodeAll(r, "enrollments", &enrollmentDecoder{}, fn)
}
