package classlink

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

const messyUsers = `{"statusInfoSet":[],"users":[
 {"sourcedId":"u1","status":"active","dateLastModified":"2026-01-02T03:04:05.000Z","enabledUser":true,
  "username":"ann","givenName":"Ann","familyName":"Lee","email":"ann@x.org","sms":"(555) 123-4567","phone":"",
  "identifier":"T1","role":"administrator",
  "orgs":[{"href":"https://h/orgs/d1","sourcedId":"d1","type":"org"},{"sourcedId":"s9","type":"org"}],
  "agents":[],"grades":[],"userIds":[{"type":"SIS","identifier":"9"}],"metadata":{"x":{"deep":[1,{"a":null}]}}},
 {"sourcedId":"u2","status":"tobedeleted","enabledUser":"FALSE","role":"teacher","sms":5551234567,"identifier":42,
  "roles":[{"roleType":"primary","role":"teacher","org":{"sourcedId":"s1"}},
           {"roleType":"secondary","role":"counselor","org":{"sourcedId":"s2","href":"h","type":"org"}}]},
 {"sourcedId":"u3","status":"active","enabledUser":" True ","roles":[{"roleType":"secondary","role":"principal","org":{"sourcedId":"s3"}},{"roleType":"primary","role":"siteAdministrator","org":null}],
  "agents":[{"sourcedId":"g1"},{"sourcedId":"g\u00e9"}],"grades":"09, 10","givenName":"Zo\u00eb \"Z\"","newField2027":true},
 {"sourcedId":"u4","enabledUser":null,"role":"guardian","phone":null,"sms":"n/a"}
],"links":{"next":null}}`

func TestDecodeUsersMessy(t *testing.T) {
	var got []User
	n, err := DecodeUsers(strings.NewReader(messyUsers), func(u User) error {
		got = append(got, u)
		return nil
	})
	if err != nil || n != 4 || len(got) != 4 {
		t.Fatalf("DecodeUsers: n=%d err=%v", n, err)
	}
	u1, u2, u3, u4 := got[0], got[1], got[2], got[3]
	if !u1.EnabledUser || u1.Role != "administrator" || !reflect.DeepEqual(u1.Orgs, []string{"d1", "s9"}) ||
		u1.SMS != "(555) 123-4567" || u1.Email != "ann@x.org" || u1.DateLastModified != "2026-01-02T03:04:05.000Z" {
		t.Errorf("u1 = %+v", u1)
	}
	if u2.EnabledUser || u2.Status != StatusToBeDeleted || u2.SMS != "5551234567" || u2.Identifier != "42" {
		t.Errorf("u2 = %+v", u2)
	}
	if want := []string{"teacher", "counselor"}; !reflect.DeepEqual(u2.RoleNames(), want) {
		t.Errorf("u2.RoleNames() = %v, want %v", u2.RoleNames(), want)
	}
	if !reflect.DeepEqual(u2.Roles[1], RoleAssignment{"secondary", "counselor", "s2"}) {
		t.Errorf("u2.Roles[1] = %+v", u2.Roles[1])
	}
	if !u3.EnabledUser || u3.PrimaryRole() != "siteAdministrator" || u3.Role != "" || !u3.HasRole("principal") ||
		!reflect.DeepEqual(u3.RoleOrgs("principal"), []string{"s3"}) {
		t.Errorf("u3 roles = %+v primary %q", u3.Roles, u3.PrimaryRole())
	}
	if !reflect.DeepEqual(u3.Agents, []string{"g1", "gé"}) || !reflect.DeepEqual(u3.Grades, []string{"09", "10"}) || u3.GivenName != `Zoë "Z"` {
		t.Errorf("u3 = %+v", u3)
	}
	if !u4.EnabledUser || u4.Phone != "" || u4.SMS != "n/a" || u4.PrimaryRole() != "guardian" {
		t.Errorf("u4 = %+v (absent/null enabledUser means enabled)", u4)
	}
	if !reflect.DeepEqual(u1.RoleOrgs("administrator"), []string{"d1", "s9"}) {
		t.Errorf("1.1 role orgs = %v", u1.RoleOrgs("administrator"))
	}
}

func TestDecodeOtherCollections(t *testing.T) {
	var orgs []Org
	if _, err := DecodeOrgs(strings.NewReader(`{"orgs":[{"sourcedId":"d","type":"district","name":"D","identifier":7},
		{"sourcedId":"s","type":"school","name":"S","parent":{"sourcedId":"d","type":"org"},"children":[]}]}`),
		func(o Org) error { orgs = append(orgs, o); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(orgs) != 2 || orgs[1].Parent != "d" || orgs[0].Identifier != "7" || orgs[1].Type != "school" {
		t.Errorf("orgs = %+v", orgs)
	}
	var classes []Class
	if _, err := DecodeClasses(strings.NewReader(`{"classes":[{"sourcedId":"c","title":"Bio","classCode":"B1",
		"course":{"sourcedId":"k"},"school":{"sourcedId":"s"},"terms":[{"sourcedId":"t1"},{"sourcedId":"t2"}]}]}`),
		func(c Class) error { classes = append(classes, c); return nil }); err != nil {
		t.Fatal(err)
	}
	if want := (Class{SourcedID: "c", Title: "Bio", ClassCode: "B1", Course: "k", School: "s", Terms: []string{"t1", "t2"}}); !reflect.DeepEqual(classes[0], want) {
		t.Errorf("class = %+v", classes[0])
	}
	var ens []Enrollment
	if _, err := DecodeEnrollments(strings.NewReader(`{"enrollments":[{"sourcedId":"e","class":{"sourcedId":"c"},
		"user":{"sourcedId":"u"},"school":{"sourcedId":"s"},"role":"teacher","primary":"true"},{"sourcedId":"e2","role":"student"}]}`),
		func(e Enrollment) error { ens = append(ens, e); return nil }); err != nil {
		t.Fatal(err)
	}
	if !ens[0].Primary || ens[0].Class != "c" || ens[0].User != "u" || ens[1].Primary {
		t.Errorf("enrollments = %+v", ens)
	}
	var sessions []AcademicSession
	if _, err := DecodeAcademicSessions(strings.NewReader(`{"academicSessions":[{"sourcedId":"a","type":"term","parent":{"sourcedId":"y"},"schoolYear":2027}]}`),
		func(s AcademicSession) error { sessions = append(sessions, s); return nil }); err != nil {
		t.Fatal(err)
	}
	if sessions[0].Parent != "y" || sessions[0].SchoolYear != "2027" {
		t.Errorf("sessions = %+v", sessions)
	}
	var courses []Course
	if _, err := DecodeCourses(strings.NewReader(`{"courses":[{"sourcedId":"k","org":{"sourcedId":"s"},"schoolYear":{"sourcedId":"y"}}]}`),
		func(c Course) error { courses = append(courses, c); return nil }); err != nil {
		t.Fatal(err)
	}
	if courses[0].Org != "s" || courses[0].SchoolYear != "y" {
		t.Errorf("courses = %+v", courses)
	}
}

func TestDecodeRejects(t *testing.T) {
	cases := map[string]string{
		"missing envelope":   `{"statusInfoSet":[]}`,
		"empty object":       `{}`,
		"null envelope":      `{"users":null}`,
		"envelope not list":  `{"users":{"sourcedId":"x"}}`,
		"twice":              `{"users":[],"users":[]}`,
		"truncated":          `{"users":[{"sourcedId":"a"},{"sourcedId":"b"`,
		"not json":           `<html>502 Bad Gateway</html>`,
		"top-level list":     `[{"sourcedId":"a"}]`,
		"no sourcedId":       `{"users":[{"givenName":"x"}]}`,
		"bad enabledUser":    `{"users":[{"sourcedId":"a","enabledUser":"yes"}]}`,
		"enabledUser number": `{"users":[{"sourcedId":"a","enabledUser":1}]}`,
		"ref as string":      `{"users":[{"sourcedId":"a","orgs":["o1"]}]}`,
		"trailing garbage":   `{"users":[]`,
		"empty body":         ``,
	}
	for name, body := range cases {
		n, err := DecodeUsers(strings.NewReader(body), func(User) error { return nil })
		if !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: err = %v (n=%d), want ErrMalformed", name, err, n)
		}
	}
}

func TestDecodeCallbackErrorPassesThrough(t *testing.T) {
	stop := errors.New("stop here")
	n, err := DecodeUsers(strings.NewReader(messyUsers), func(u User) error {
		if u.SourcedID == "u2" {
			return stop
		}
		return nil
	})
	if err != stop || n != 1 {
		t.Errorf("got n=%d err=%v, want n=1 and the callback's own error", n, err)
	}
}

func TestDecodeApplications(t *testing.T) {
	for name, body := range map[string]string{
		"documented":  `{"status":1,"applications":{"id":1176,"tenant_name":"ClassLink Demo","tenant_id":2,"application_id":57,"bearer":null,"name":"ClassLink","oneroster_application_id":"MoYPlyQWmG0%3D"}}`,
		"list":        `{"status":1,"applications":[{"id":1176,"tenant_name":"ClassLink Demo","tenant_id":"2","application_id":57,"name":"ClassLink","oneroster_application_id":"MoYPlyQWmG0%3D"}]}`,
		"bare array":  `[{"id":1176,"tenant_name":"ClassLink Demo","tenant_id":2,"application_id":"57","name":"ClassLink","oneroster_application_id":"MoYPlyQWmG0%3D"}]`,
		"extra field": `{"applications":[{"id":1176,"tenant_name":"ClassLink Demo","tenant_id":2,"application_id":57,"name":"ClassLink","oneroster_application_id":"MoYPlyQWmG0%3D","region":"us"}],"message":""}`,
	} {
		apps, err := decodeApplications([]byte(body))
		want := []Application{{1176, 2, 57, "ClassLink Demo", "ClassLink", "MoYPlyQWmG0%3D"}}
		if err != nil || !reflect.DeepEqual(apps, want) {
			t.Errorf("%s: %+v, %v", name, apps, err)
		}
	}
	for _, body := range []string{`{"status":0}`, `{"applications":[{"tenant_id":2}]}`, `"x"`, `{"applications":"x"}`} {
		if _, err := decodeApplications([]byte(body)); err == nil {
			t.Errorf("decodeApplications(%s) accepted", body)
		}
	}
}

// fuzzDecode checks what must hold for any input: no panic, and on success
// every record handed over has a sourcedId and the count matches.
func fuzzDecode[T any](t *testing.T, data []byte, decode func(*strings.Reader, func(T) error) (int, error), id func(T) string) {
	calls := 0
	n, err := decode(strings.NewReader(string(data)), func(r T) error {
		calls++
		if id(r) == "" {
			t.Fatalf("record without sourcedId handed over")
		}
		return nil
	})
	if n != calls {
		t.Fatalf("n=%d but %d records handed over", n, calls)
	}
	if err != nil && !errors.Is(err, ErrMalformed) {
		t.Fatalf("error %v is not ErrMalformed", err)
	}
}

func FuzzDecodeUsers(f *testing.F) {
	f.Add([]byte(messyUsers))
	f.Add([]byte(`{"users":[]}`))
	f.Add([]byte(`{"users":[{"sourcedId":"a","enabledUser":"tRuE","grades":"01","sms":12}]}`))
	f.Add([]byte(`{"x":[1,2,{"y":"z"}],"users":[{"sourcedId":"a","roles":[{"role":"aide"}]}],"z":null}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzDecode(t, data, func(r *strings.Reader, fn func(User) error) (int, error) { return DecodeUsers(r, fn) },
			func(u User) string { return u.SourcedID })
	})
}

func FuzzDecodeEnrollments(f *testing.F) {
	f.Add([]byte(`{"enrollments":[{"sourcedId":"e","class":{"sourcedId":"c"},"user":{"sourcedId":"u"},"primary":"FALSE"}]}`))
	f.Add([]byte(`{"enrollments":null}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzDecode(t, data, func(r *strings.Reader, fn func(Enrollment) error) (int, error) { return DecodeEnrollments(r, fn) },
			func(e Enrollment) string { return e.SourcedID })
	})
}

func FuzzDecodeOrgs(f *testing.F) {
	f.Add([]byte(`{"orgs":[{"sourcedId":"d","type":"district","identifier":5},{"sourcedId":"s","parent":{"sourcedId":"d"}}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzDecode(t, data, func(r *strings.Reader, fn func(Org) error) (int, error) { return DecodeOrgs(r, fn) },
			func(o Org) string { return o.SourcedID })
	})
}

func FuzzDecodeClasses(f *testing.F) {
	f.Add([]byte(`{"classes":[{"sourcedId":"c","terms":[{"sourcedId":"t"}],"school":{"sourcedId":"s"}}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzDecode(t, data, func(r *strings.Reader, fn func(Class) error) (int, error) { return DecodeClasses(r, fn) },
			func(c Class) string { return c.SourcedID })
	})
}

func FuzzDecodeApplications(f *testing.F) {
	f.Add([]byte(`{"status":1,"applications":{"tenant_id":2,"application_id":57}}`))
	f.Add([]byte(`[{"tenant_id":"2","application_id":57,"oneroster_application_id":5}]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		apps, err := decodeApplications(data)
		if err == nil {
			for _, a := range apps {
				if a.TenantID <= 0 || a.ApplicationID <= 0 {
					t.Fatalf("accepted %+v", a)
				}
			}
		}
	})
}
