package classlink

import (
	"bytes"
	"errors"
	"io"
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
	// The primary role sent as the 1.1 role too is held where roles[] says.
	both := User{Role: "principal", Orgs: []string{"s1", "s2"}, Roles: []RoleAssignment{{"primary", "principal", "s1"}, {"secondary", "teacher", "s2"}}}
	if got := both.RoleOrgs("principal"); !reflect.DeepEqual(got, []string{"s1"}) {
		t.Errorf("1.1 role also in roles[] with an org: held at %v, want [s1]", got)
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

// differential decodes data with a hand-written decoder and with its
// encoding/json reference: both accept or both refuse, hand over the same
// records in the same order, and count them alike. What must hold for any
// input holds too: no panic, every record handed over has a sourcedId, and
// a refusal is ErrMalformed.
func differential[W, T any, P wire[W, T]](t *testing.T, data []byte, key string, decode func(io.Reader, func(T) error) (int, error), id func(T) string) {
	t.Helper()
	var got, want []T
	n, err := decode(bytes.NewReader(data), func(r T) error {
		if id(r) == "" {
			t.Fatalf("record without sourcedId handed over")
		}
		got = append(got, r)
		return nil
	})
	if n != len(got) {
		t.Fatalf("n=%d but %d records handed over", n, len(got))
	}
	if err != nil && !errors.Is(err, ErrMalformed) {
		t.Fatalf("error %v is not ErrMalformed", err)
	}
	refN, refErr := refDecodeEnvelope[W, T, P](bytes.NewReader(data), key, func(r T) error { want = append(want, r); return nil })
	if (err == nil) != (refErr == nil) || n != refN || !reflect.DeepEqual(got, want) {
		t.Fatalf("decoders disagree on %q:\n  hand-written: n=%d err=%v\n  %#v\n  encoding/json: n=%d err=%v\n  %#v", data, n, err, got, refN, refErr, want)
	}
}

// Inputs the fuzz targets start from: real shapes and the corners of
// encoding/json's rules that the hand-written decoders imitate.
var decodeSeeds = []string{
	`{"%s":[]}`,
	`{"%s":null}`,
	`{"%s":[null]}`,
	`{"%s":[1]}`,
	`{"%s":{}}`,
	`{"%s":[]} `,
	`{"%s":[]} x`,
	`{"%s":[]}{}`,
	"{\"%s\":[]}\x00",
	`{"%s":[],"%s":[]}`,
	`{"%s":[{"sourcedId":"a"}],}`,
	`{"%s":[{"sourcedId":"a"},]}`,
	`{"%s":[{"sourcedId":""}]}`,
	`{"%s":[{"SOURCEDID":"a","Status":"active","STATUS":"tobedeleted"}]}`,
	`{"%s":[{"\u017fourcedId":"k\u212a"}]}`,
	`{"%s":[{"sourcedId":"a\ud800b\udc00c\ud83d\ude00\u00e9\n\/"}]}`,
	"{\"%s\":[{\"sourcedId\":\"a\xffb\xc3\"}]}",
	"{\"%s\":[{\"sourcedId\":\"a\x01\"}]}",
	`{"%s":[{"sourcedId":"a","sourcedId":null}]}`,
	`{"%s":[{"sourcedId":"a","x":[[[[{"y":[1e5,-0.5e-3,0,true,false,null]}]]]]}]}`,
	`{"%s":[{"sourcedId":"a","x":01}]}`,
	`{"%s":[{"sourcedId":"a","x":-}]}`,
	`{"%s":[{"sourcedId":"a","x":1.}]}`,
	`{"%s":[{"sourcedId":"a","x":tru}]}`,
	`{"%s":[{"sourcedId":7}]}`,
	`{"x":{"%s":[]},"%s":[{"sourcedId":"a"}]}`,
	`{"%s":[{"sourcedId":"a"}]`,
	`["%s"]`,
	``,
}

func seeds(f *testing.F, key string, extra ...string) {
	for _, s := range append(decodeSeeds, extra...) {
		f.Add([]byte(strings.ReplaceAll(s, "%s", key)))
	}
}

func FuzzDecodeUsers(f *testing.F) {
	f.Add([]byte(messyUsers))
	seeds(f, "users",
		`{"users":[{"sourcedId":"a","enabledUser":"tRuE","grades":"01","sms":12}]}`,
		`{"x":[1,2,{"y":"z"}],"users":[{"sourcedId":"a","roles":[{"role":"aide"}]}],"z":null}`,
		`{"users":[{"sourcedId":"a","enabledUser":"maybe"}]}`,
		`{"users":[{"sourcedId":"a","enabledUser":1}]}`,
		`{"users":[{"sourcedId":"a","enabledUser":" FALSE\u00a0"}]}`,
		`{"users":[{"sourcedId":"a","sms":"\u0035\xff","phone":"\xff","identifier":-1.5e3}]}`,
		`{"users":[{"sourcedId":"a","grades":[],"GRADES":["1",null]}]}`,
		`{"users":[{"sourcedId":"a","grades":",, ,"}]}`,
		`{"users":[{"sourcedId":"a","grades":[1]}]}`,
		`{"users":[{"sourcedId":"a","orgs":[{"sourcedId":"x"},{"sourcedId":"y"}],"orgs":[{"sourcedId":"z"}],"orgs":[null,null]}]}`,
		`{"users":[{"sourcedId":"a","orgs":[{"sourcedId":"x"}],"orgs":[],"orgs":[null]}]}`,
		`{"users":[{"sourcedId":"a","agents":[{"sourcedId":"x"}],"agents":null,"agents":[null]}]}`,
		`{"users":[{"sourcedId":"a","roles":[{"role":"teacher","org":{"sourcedId":"s"}}],"roles":[{"role":"aide"}]}]}`,
		`{"users":[{"sourcedId":"a","roles":[{"role":"teacher"},{"role":"aide"}]},{"sourcedId":"b","roles":[null,null]}]}`,
		`{"users":[{"sourcedId":"a","roles":[{"roleType":"primary","ROLE":"principal","Org":{"SourcedId":"s","href":"h"}}]}]}`,
		`{"users":[{"sourcedId":"a","roles":{"role":"x"}}]}`,
		`{"users":[{"sourcedId":"a","orgs":[{"sourcedId":"x"},"y"]}]}`,
		`{"users":[{"sourcedId":"a","orgs":[{"sourcedId":5}]}]}`,
		`{"users":[{"sourcedId":"a","givenName":null,"givenName":"b","familyName":["x"]}]}`,
	)
	f.Fuzz(func(t *testing.T, data []byte) {
		differential[userWire](t, data, "users", DecodeUsers, func(u User) string { return u.SourcedID })
	})
}

func FuzzDecodeEnrollments(f *testing.F) {
	seeds(f, "enrollments",
		`{"enrollments":[{"sourcedId":"e","class":{"sourcedId":"c"},"user":{"sourcedId":"u"},"primary":"FALSE"}]}`,
		`{"enrollments":[{"href":"/x","sourcedId":"e","status":"active","dateLastModified":"2026-08-01T00:00:00Z","class":{"href":"/c","sourcedId":"c","type":"class"},"user":{"href":"/u","sourcedId":"u","type":"user"},"school":{"href":"/s","sourcedId":"s","type":"org"},"role":"student","primary":false,"beginDate":"2026-08-01","metadata":{"a":1}}]}`,
		`{"enrollments":[{"sourcedId":"e","primary":true,"primary":null,"class":null,"class":{"sourcedId":"c"},"class":{"href":"x"}}]}`,
		`{"enrollments":[{"sourcedId":"e","primary":"yes"}]}`,
		`{"enrollments":[{"sourcedId":"e","class":"c"}]}`,
		`{"enrollments":[{"sourcedId":"e","class":{"href":"/c\/x","sourcedId":"c\u00e9","type":"class"},"user":{"href":"h","sourcedId":"u","type":"t","x":1}}]}`,
		`{"enrollments":[{"sourcedId":"e","class":{"href":"h","sourcedId":"c","type":"\u0001"},"user":{"href":"h","sourcedId":null,"type":"t"}}]}`,
		"{\"enrollments\":[{\"sourcedId\":\"e\",\"class\":{\"href\":\"h\",\"sourcedId\":\"c\xff\",\"type\":\"t\"},\"user\":{\"href\":\"h\x01\",\"sourcedId\":\"u\",\"type\":\"t\"}}]}",
		`{"enrollments":[{"sourcedId":"e","class":{"href":"h","sourcedId":"c","type":"t"} ,"user":{ "href":"h","sourcedId":"u","type":"t"}}]}`,
	)
	f.Fuzz(func(t *testing.T, data []byte) {
		differential[enrollmentWire](t, data, "enrollments", DecodeEnrollments, func(e Enrollment) string { return e.SourcedID })
	})
}

func FuzzDecodeOrgs(f *testing.F) {
	seeds(f, "orgs",
		`{"orgs":[{"sourcedId":"d","type":"district","identifier":5},{"sourcedId":"s","parent":{"sourcedId":"d"}}]}`,
		`{"orgs":[{"sourcedId":"d","identifier":"a\\b","identifier":null,"name":"N\u00e9"}]}`,
	)
	f.Fuzz(func(t *testing.T, data []byte) {
		differential[orgWire](t, data, "orgs", DecodeOrgs, func(o Org) string { return o.SourcedID })
	})
}

func FuzzDecodeClasses(f *testing.F) {
	seeds(f, "classes",
		`{"classes":[{"sourcedId":"c","terms":[{"sourcedId":"t"}],"school":{"sourcedId":"s"}}]}`,
		`{"classes":[{"sourcedId":"c","terms":[{"sourcedId":"t"},{"sourcedId":"u"}],"terms":[null],"course":{"sourcedId":"k"}}]}`,
	)
	f.Fuzz(func(t *testing.T, data []byte) {
		differential[classWire](t, data, "classes", DecodeClasses, func(c Class) string { return c.SourcedID })
	})
}

func FuzzDecodeAcademicSessions(f *testing.F) {
	seeds(f, "academicSessions",
		`{"academicSessions":[{"sourcedId":"y","type":"schoolYear","schoolYear":2027,"parent":{"sourcedId":"p"},"startDate":"2026-08-01"}]}`,
	)
	f.Fuzz(func(t *testing.T, data []byte) {
		differential[sessionWire](t, data, "academicSessions", DecodeAcademicSessions, func(a AcademicSession) string { return a.SourcedID })
	})
}

func FuzzDecodeCourses(f *testing.F) {
	seeds(f, "courses",
		`{"courses":[{"sourcedId":"k","org":{"sourcedId":"s"},"schoolYear":{"sourcedId":"y"},"courseCode":"B1"}]}`,
	)
	f.Fuzz(func(t *testing.T, data []byte) {
		differential[courseWire](t, data, "courses", DecodeCourses, func(c Course) string { return c.SourcedID })
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
