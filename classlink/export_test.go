package classlink

import (
	"io"
	"net/http"
	"net/url"
	"testing"
)

// NextLinkForTest exposes nextLink: the followed target of a Link header
// sent in answer to request, for a client with base URL base.
func NextLinkForTest(t *testing.T, base, header, request string) string {
	t.Helper()
	c, err := New(Config{Mode: ModeProxy, BaseURL: base, Token: "t"})
	if err != nil {
		t.Fatal(err)
	}
	req, err := url.Parse(request)
	if err != nil {
		t.Fatal(err)
	}
	u := c.nextLink(http.Header{"Link": {header}}, req)
	if u == nil {
		return ""
	}
	return u.String()
}

// The encoding/json reference decoders, for comparisons on served pages.
func RefDecodeUsers(r io.Reader, fn func(User) error) (int, error) {
	return refDecodeEnvelope[userWire](r, "users", fn)
}

func RefDecodeEnrollments(r io.Reader, fn func(Enrollment) error) (int, error) {
	return refDecodeEnvelope[enrollmentWire](r, "enrollments", fn)
}

func RefDecodeOrgs(r io.Reader, fn func(Org) error) (int, error) {
	return refDecodeEnvelope[orgWire](r, "orgs", fn)
}

func RefDecodeClasses(r io.Reader, fn func(Class) error) (int, error) {
	return refDecodeEnvelope[classWire](r, "classes", fn)
}

func RefDecodeAcademicSessions(r io.Reader, fn func(AcademicSession) error) (int, error) {
	return refDecodeEnvelope[sessionWire](r, "academicSessions", fn)
}

func RefDecodeCourses(r io.Reader, fn func(Course) error) (int, error) {
	return refDecodeEnvelope[courseWire](r, "courses", fn)
}

// DecodeUsersBytes and DecodeEnrollmentsBytes decode a page held in memory
// without copying it, as a pull does.
func DecodeUsersBytes(b []byte, fn func(User) error) (int, error) {
	return decodePage(b, "users", &userDecoder{}, nil, fn)
}

func DecodeEnrollmentsBytes(b []byte, fn func(Enrollment) error) (int, error) {
	return decodePage(b, "enrollments", &enrollmentDecoder{}, nil, fn)
}
