package classlink_test

import (
	"bytes"
	"io"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/schoolstatus/rostersync/classlink"
	"github.com/schoolstatus/rostersync/classlink/classlinktest"
)

// agree decodes body with both decoders and compares what they hand over.
func agree[T any](t *testing.T, what string, body []byte, decode, ref func(io.Reader, func(T) error) (int, error)) int {
	t.Helper()
	var got, want []T
	n, err := decode(bytes.NewReader(body), func(r T) error { got = append(got, r); return nil })
	refN, refErr := ref(bytes.NewReader(body), func(r T) error { want = append(want, r); return nil })
	if err != nil || refErr != nil || n != refN || !reflect.DeepEqual(got, want) {
		t.Fatalf("%s: decoders disagree: %d %v / %d %v", what, n, err, refN, refErr)
	}
	return n
}

// The hand-written decoders and the encoding/json reference agree on every
// page the demo district serves, messy data and unknown fields included.
func TestDecodersAgreeOnServedPages(t *testing.T) {
	srv, err := classlinktest.Demo()
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	d := srv.Tenant(classlinktest.DemoApplicationID).District
	d.AdvanceDay(classlinktest.DayChanges{NewStudents: 3, Withdrawn: 3, ContactEdits: 5, NewClasses: 1})
	for _, allFields := range []bool{false, true} {
		for _, coll := range classlinktest.AllCollections {
			records := 0
			for offset := 0; ; offset += 400 {
				q := "limit=400&offset=" + strconv.Itoa(offset)
				if !allFields {
					q += "&fields=" + strings.Join(classlink.DefaultFields(coll), ",")
				}
				req, _ := http.NewRequest("GET", srv.ProxyBaseURL(classlinktest.DemoApplicationID)+string(coll)+"?"+q, nil)
				req.Header.Set("Authorization", "Bearer "+classlinktest.DemoProxyToken)
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				what := string(coll) + "?" + q
				var n int
				switch coll {
				case classlinktest.Orgs:
					n = agree(t, what, body, classlink.DecodeOrgs, classlink.RefDecodeOrgs)
				case classlinktest.AcademicSessions:
					n = agree(t, what, body, classlink.DecodeAcademicSessions, classlink.RefDecodeAcademicSessions)
				case classlinktest.Courses:
					n = agree(t, what, body, classlink.DecodeCourses, classlink.RefDecodeCourses)
				case classlinktest.Classes:
					n = agree(t, what, body, classlink.DecodeClasses, classlink.RefDecodeClasses)
				case classlinktest.Users:
					n = agree(t, what, body, classlink.DecodeUsers, classlink.RefDecodeUsers)
				case classlinktest.Enrollments:
					n = agree(t, what, body, classlink.DecodeEnrollments, classlink.RefDecodeEnrollments)
				}
				records += n
				if n < 400 {
					break
				}
			}
			if records != d.Len(coll) {
				t.Errorf("%s: %d records decoded, %d served", coll, records, d.Len(coll))
			}
		}
	}
}
