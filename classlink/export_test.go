package classlink

import (
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
