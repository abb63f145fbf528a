package classlink

// The reference decoders: what rostersync used before decode.go, built on
// encoding/json's streaming decoder and tolerant wire structs. The fuzz
// tests hold the hand-written decoders to the same answers.

import (
	"bytes"
	"encoding/json"
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

// refBool is a JSON boolean or a string "true"/"false" in any case.
type refBool struct {
	v, set bool
}

func (f *refBool) UnmarshalJSON(b []byte) error {
	switch s := string(b); s {
	case "true":
		*f = refBool{true, true}
	case "false":
		*f = refBool{false, true}
	case "null":
		*f = refBool{}
	default:
		var str string
		if err := json.Unmarshal(b, &str); err != nil {
			return fmt.Errorf("expected a boolean or \"true\"/\"false\", got %.40s", s)
		}
		switch strings.ToLower(strings.TrimSpace(str)) {
		case "true":
			*f = refBool{true, true}
		case "false":
			*f = refBool{false, true}
		default:
			return fmt.Errorf("expected a boolean or \"true\"/\"false\", got %.40q", str)
		}
	}
	return nil
}

func (f refBool) or(def bool) bool {
	if f.set {
		return f.v
	}
	return def
}

// refStrings is an array of strings or one comma-separated string.
type refStrings []string

func (f *refStrings) UnmarshalJSON(b []byte) error {
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
	SourcedID        string     `json:"sourcedId"`
	Status           string     `json:"status"`
	DateLastModified string     `json:"dateLastModified"`
	EnabledUser      refBool    `json:"enabledUser"`
	Username         string     `json:"username"`
	GivenName        string     `json:"givenName"`
	FamilyName       string     `json:"familyName"`
	Email            string     `json:"email"`
	SMS              flexString `json:"sms"`
	Phone            flexString `json:"phone"`
	Identifier       flexString `json:"identifier"`
	Role             string     `json:"role"`
	Roles            []roleWire `json:"roles"`
	Orgs             []ref      `json:"orgs"`
	Agents           []ref      `json:"agents"`
	Grades           refStrings `json:"grades"`
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
	SourcedID        string  `json:"sourcedId"`
	Status           string  `json:"status"`
	DateLastModified string  `json:"dateLastModified"`
	Class            ref     `json:"class"`
	User             ref     `json:"user"`
	School           ref     `json:"school"`
	Role             string  `json:"role"`
	Primary          refBool `json:"primary"`
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

// decodeEnvelope walks {"<key>": [ … ], …} with a streaming decoder and
// hands each record to each as soon as it is decoded, so memory holds one
// record at a time. It returns how many records it handed over.
func refDecodeEnvelope[W, T any, P wire[W, T]](r io.Reader, key string, each func(T) error) (int, error) {
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
	rest, _ := io.ReadAll(io.MultiReader(dec.Buffered(), r))
	if len(bytes.TrimLeft(rest, " \t\r\n")) > 0 {
		return n, fmt.Errorf("data after the top-level object")
	}
	if !found {
		return n, fmt.Errorf("the response has no %q key", key)
	}
	return n, nil
}
