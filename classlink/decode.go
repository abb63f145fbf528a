package classlink

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// The wire types mirror OneRoster JSON loosely: unknown fields are ignored,
// references keep only their sourcedId, and the fields real servers send in
// more than one shape get a tolerant type.

type ref struct {
	SourcedID string `json:"sourcedId"`
}

func refIDs(rs []ref) []string {
	if len(rs) == 0 {
		return nil
	}
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.SourcedID
	}
	return out
}

// flexBool is a JSON boolean or a string "true"/"false" in any case.
type flexBool struct {
	v, set bool
}

func (f *flexBool) UnmarshalJSON(b []byte) error {
	switch s := string(b); s {
	case "true":
		*f = flexBool{true, true}
	case "false":
		*f = flexBool{false, true}
	case "null":
		*f = flexBool{}
	default:
		var str string
		if err := json.Unmarshal(b, &str); err != nil {
			return fmt.Errorf("expected a boolean or \"true\"/\"false\", got %.40s", s)
		}
		switch strings.ToLower(strings.TrimSpace(str)) {
		case "true":
			*f = flexBool{true, true}
		case "false":
			*f = flexBool{false, true}
		default:
			return fmt.Errorf("expected a boolean or \"true\"/\"false\", got %.40q", str)
		}
	}
	return nil
}

func (f flexBool) or(def bool) bool {
	if f.set {
		return f.v
	}
	return def
}

// flexString is a JSON string, or a number kept as written (phones and
// identifiers typed as numbers by some SIS exports).
type flexString string

func (f *flexString) UnmarshalJSON(b []byte) error {
	if len(b) >= 2 && b[0] == '"' {
		if bytes.IndexByte(b, '\\') < 0 {
			*f = flexString(b[1 : len(b)-1])
			return nil
		}
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*f = flexString(s)
		return nil
	}
	switch {
	case string(b) == "null":
		*f = ""
	case len(b) > 0 && (b[0] == '-' || '0' <= b[0] && b[0] <= '9'):
		*f = flexString(b)
	default:
		return fmt.Errorf("expected a string, got %.40s", b)
	}
	return nil
}

// flexStrings is an array of strings or one comma-separated string.
type flexStrings []string

func (f *flexStrings) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*f = nil
		for part := range strings.SplitSeq(s, ",") {
			if part = strings.TrimSpace(part); part != "" {
				*f = append(*f, part)
			}
		}
		return nil
	}
	var a []string
	if err := json.Unmarshal(b, &a); err != nil {
		return err
	}
	*f = a
	return nil
}

type orgWire struct {
	SourcedID        string     `json:"sourcedId"`
	Status           string     `json:"status"`
	DateLastModified string     `json:"dateLastModified"`
	Name             string     `json:"name"`
	Type             string     `json:"type"`
	Identifier       flexString `json:"identifier"`
	Parent           ref        `json:"parent"`
}

func (w *orgWire) id() string { return w.SourcedID }
func (w *orgWire) record() Org {
	return Org{w.SourcedID, w.Status, w.DateLastModified, w.Name, w.Type, string(w.Identifier), w.Parent.SourcedID}
}

type sessionWire struct {
	SourcedID        string     `json:"sourcedId"`
	Status           string     `json:"status"`
	DateLastModified string     `json:"dateLastModified"`
	Title            string     `json:"title"`
	Type             string     `json:"type"`
	StartDate        string     `json:"startDate"`
	EndDate          string     `json:"endDate"`
	Parent           ref        `json:"parent"`
	SchoolYear       flexString `json:"schoolYear"`
}

func (w *sessionWire) id() string { return w.SourcedID }
func (w *sessionWire) record() AcademicSession {
	return AcademicSession{w.SourcedID, w.Status, w.DateLastModified, w.Title, w.Type, w.StartDate, w.EndDate, w.Parent.SourcedID, string(w.SchoolYear)}
}

type courseWire struct {
	SourcedID        string `json:"sourcedId"`
	Status           string `json:"status"`
	DateLastModified string `json:"dateLastModified"`
	Title            string `json:"title"`
	CourseCode       string `json:"courseCode"`
	Org              ref    `json:"org"`
	SchoolYear       ref    `json:"schoolYear"`
}

func (w *courseWire) id() string { return w.SourcedID }
func (w *courseWire) record() Course {
	return Course{w.SourcedID, w.Status, w.DateLastModified, w.Title, w.CourseCode, w.Org.SourcedID, w.SchoolYear.SourcedID}
}

type classWire struct {
	SourcedID        string `json:"sourcedId"`
	Status           string `json:"status"`
	DateLastModified string `json:"dateLastModified"`
	Title            string `json:"title"`
	ClassCode        string `json:"classCode"`
	Course           ref    `json:"course"`
	School           ref    `json:"school"`
	Terms            []ref  `json:"terms"`
}

func (w *classWire) id() string { return w.SourcedID }
func (w *classWire) record() Class {
	return Class{w.SourcedID, w.Status, w.DateLastModified, w.Title, w.ClassCode, w.Course.SourcedID, w.School.SourcedID, refIDs(w.Terms)}
}

type roleWire struct {
	RoleType string `json:"roleType"`
	Role     string `json:"role"`
	Org      ref    `json:"org"`
}

type userWire struct {
	SourcedID        string      `json:"sourcedId"`
	Status           string      `json:"status"`
	DateLastModified string      `json:"dateLastModified"`
	EnabledUser      flexBool    `json:"enabledUser"`
	Username         string      `json:"username"`
	GivenName        string      `json:"givenName"`
	FamilyName       string      `json:"familyName"`
	Email            string      `json:"email"`
	SMS              flexString  `json:"sms"`
	Phone            flexString  `json:"phone"`
	Identifier       flexString  `json:"identifier"`
	Role             string      `json:"role"`
	Roles            []roleWire  `json:"roles"`
	Orgs             []ref       `json:"orgs"`
	Agents           []ref       `json:"agents"`
	Grades           flexStrings `json:"grades"`
}

func (w *userWire) id() string { return w.SourcedID }
func (w *userWire) record() User {
	u := User{
		SourcedID:        w.SourcedID,
		Status:           w.Status,
		DateLastModified: w.DateLastModified,
		EnabledUser:      w.EnabledUser.or(true),
		Username:         w.Username,
		GivenName:        w.GivenName,
		FamilyName:       w.FamilyName,
		Email:            w.Email,
		SMS:              string(w.SMS),
		Phone:            string(w.Phone),
		Identifier:       string(w.Identifier),
		Role:             w.Role,
		Orgs:             refIDs(w.Orgs),
		Agents:           refIDs(w.Agents),
		Grades:           w.Grades,
	}
	if len(w.Roles) > 0 {
		u.Roles = make([]RoleAssignment, len(w.Roles))
		for i, r := range w.Roles {
			u.Roles[i] = RoleAssignment{r.RoleType, r.Role, r.Org.SourcedID}
		}
	}
	return u
}

type enrollmentWire struct {
	SourcedID        string   `json:"sourcedId"`
	Status           string   `json:"status"`
	DateLastModified string   `json:"dateLastModified"`
	Class            ref      `json:"class"`
	User             ref      `json:"user"`
	School           ref      `json:"school"`
	Role             string   `json:"role"`
	Primary          flexBool `json:"primary"`
}

func (w *enrollmentWire) id() string { return w.SourcedID }
func (w *enrollmentWire) record() Enrollment {
	return Enrollment{w.SourcedID, w.Status, w.DateLastModified, w.Class.SourcedID, w.User.SourcedID, w.School.SourcedID, w.Role, w.Primary.or(false)}
}

// wire is what decodeEnvelope needs of a wire type.
type wire[W, T any] interface {
	*W
	id() string
	record() T
}

// errNoEnvelope: a well-formed object without the collection's key.
type errNoEnvelope struct{ key string }

func (e errNoEnvelope) Error() string {
	return fmt.Sprintf("the response has no %q key", e.key)
}

// callbackError carries the caller's own error out of the decoder untouched.
type callbackError struct{ err error }

func (e callbackError) Error() string { return e.err.Error() }

// decodeEnvelope walks {"<key>": [ … ], …} with a streaming decoder and
// hands each record to each as soon as it is decoded, so memory holds one
// record at a time. It returns how many records it handed over.
func decodeEnvelope[W, T any, P wire[W, T]](r io.Reader, key string, ids *idCheck, each func(T) error) (int, error) {
	dec := json.NewDecoder(r)
	tok, err := dec.Token()
	if err != nil {
		return 0, err
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return 0, fmt.Errorf("the response is not a JSON object (starts with %v)", tok)
	}
	n, found := 0, false
	var w W
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return n, err
		}
		name, _ := tok.(string)
		if name != key {
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return n, err
			}
			continue
		}
		if found {
			return n, fmt.Errorf("the response has %q twice", key)
		}
		found = true
		tok, err = dec.Token()
		if err != nil {
			return n, err
		}
		if d, ok := tok.(json.Delim); !ok || d != '[' {
			return n, fmt.Errorf("%q is not a list (got %v)", key, tok)
		}
		for dec.More() {
			w = *new(W)
			if err := dec.Decode(&w); err != nil {
				return n, fmt.Errorf("%s[%d]: %w", key, n, err)
			}
			p := P(&w)
			if p.id() == "" {
				return n, fmt.Errorf("%s[%d] has no sourcedId", key, n)
			}
			if ids != nil {
				ids.add(p.id())
			}
			if err := each(p.record()); err != nil {
				return n, callbackError{err}
			}
			n++
		}
		if _, err := dec.Token(); err != nil { // ']'
			return n, err
		}
	}
	if _, err := dec.Token(); err != nil { // '}'
		return n, err
	}
	if !found {
		return n, errNoEnvelope{key}
	}
	return n, nil
}

// decodeAll adapts decodeEnvelope for the exported Decode functions.
func decodeAll[W, T any, P wire[W, T]](r io.Reader, key string, fn func(T) error) (int, error) {
	n, err := decodeEnvelope[W, T, P](r, key, nil, fn)
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
	return decodeAll[orgWire, Org](r, "orgs", fn)
}

// DecodeAcademicSessions reads an {"academicSessions":[…]} document.
func DecodeAcademicSessions(r io.Reader, fn func(AcademicSession) error) (int, error) {
	return decodeAll[sessionWire, AcademicSession](r, "academicSessions", fn)
}

// DecodeCourses reads a {"courses":[…]} document.
func DecodeCourses(r io.Reader, fn func(Course) error) (int, error) {
	return decodeAll[courseWire, Course](r, "courses", fn)
}

// DecodeClasses reads a {"classes":[…]} document.
func DecodeClasses(r io.Reader, fn func(Class) error) (int, error) {
	return decodeAll[classWire, Class](r, "classes", fn)
}

// DecodeUsers reads a {"users":[…]} document.
func DecodeUsers(r io.Reader, fn func(User) error) (int, error) {
	return decodeAll[userWire, User](r, "users", fn)
}

// DecodeEnrollments reads an {"enrollments":[…]} document.
func DecodeEnrollments(r io.Reader, fn func(Enrollment) error) (int, error) {
	return decodeAll[enrollmentWire, Enrollment](r, "enrollments", fn)
}
