package classlinktest

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/schoolstatus/rostersync/classlink"
)

func demo(t *testing.T) *Server {
	t.Helper()
	start := time.Now()
	srv, err := Demo()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	if d := time.Since(start); d > 50*time.Millisecond {
		t.Logf("Demo() took %v (budget 50ms)", d)
	}
	return srv
}

type signed struct {
	key, secret, method, version string
	at                           time.Time
	nonce                        string
}

// get sends a GET signed as s describes (s nil: bearer tok, if any).
func get(t *testing.T, rawURL string, s *signed, bearer string) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest("GET", rawURL, nil)
	if s != nil {
		o := classlink.OAuth1{ConsumerKey: s.key, ConsumerSecret: s.secret, SignatureMethod: s.method, Version: s.version}
		nonce := s.nonce
		if nonce == "" {
			nonce = strconv.FormatInt(time.Now().UnixNano(), 36)
		}
		h, err := o.Authorization("GET", req.URL, nil, strconv.FormatInt(s.at.Unix(), 10), nonce)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", h)
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, body
}

func TestOAuth1Verification(t *testing.T) {
	srv := demo(t)
	u := srv.BaseURL() + "users?limit=2&filter=" + url.PathEscape("status='active'")
	ok := signed{key: DemoConsumerKey, secret: DemoConsumerSecret, method: classlink.HMACSHA256, version: "1.0", at: time.Now()}
	cases := []struct {
		name   string
		mutate func(*signed)
		want   int
	}{
		{"sha256", func(*signed) {}, 200},
		{"sha1", func(s *signed) { s.method = classlink.HMACSHA1 }, 200},
		{"no version", func(s *signed) { s.version = "" }, 200},
		{"4 minutes slow", func(s *signed) { s.at = s.at.Add(-4 * time.Minute) }, 200},
		{"wrong secret", func(s *signed) { s.secret = "guess" }, 401},
		{"unknown key", func(s *signed) { s.key = "who" }, 401},
		{"6 minutes slow", func(s *signed) { s.at = s.at.Add(-6 * time.Minute) }, 401},
		{"6 minutes fast", func(s *signed) { s.at = s.at.Add(6 * time.Minute) }, 401},
		{"plaintext", func(s *signed) { s.method = "PLAINTEXT" }, 401},
		{"version 2", func(s *signed) { s.version = "2.0" }, 401},
	}
	for _, tc := range cases {
		s := ok
		tc.mutate(&s)
		if s.method == "PLAINTEXT" { // the signer refuses it, so forge the header
			resp, _ := getWithHeader(t, u, `OAuth oauth_consumer_key="`+DemoConsumerKey+`", oauth_signature_method="PLAINTEXT", oauth_signature="x", oauth_timestamp="1", oauth_nonce="n"`)
			if resp.StatusCode != tc.want {
				t.Errorf("%s: %d", tc.name, resp.StatusCode)
			}
			continue
		}
		resp, body := get(t, u, &s, "")
		if resp.StatusCode != tc.want {
			t.Errorf("%s: status %d: %s", tc.name, resp.StatusCode, body)
		}
	}
	// A signature over other parameters than those sent fails.
	s := ok
	resp, _ := get(t, srv.BaseURL()+"users?limit=2", &s, "")
	if resp.StatusCode != 200 {
		t.Fatalf("plain request refused")
	}
	req, _ := http.NewRequest("GET", srv.BaseURL()+"users?limit=3", nil)
	o := classlink.OAuth1{ConsumerKey: DemoConsumerKey, ConsumerSecret: DemoConsumerSecret, SignatureMethod: classlink.HMACSHA256}
	signedFor, _ := url.Parse(srv.BaseURL() + "users?limit=2")
	h, _ := o.Authorization("GET", signedFor, nil, strconv.FormatInt(time.Now().Unix(), 10), "tampered")
	if resp, _ := getWithHeader(t, req.URL.String(), h); resp.StatusCode != 401 {
		t.Errorf("tampered query accepted: %d", resp.StatusCode)
	}
	// Replay: the same nonce and timestamp twice.
	s = ok
	s.nonce = "once"
	if resp, _ := get(t, u, &s, ""); resp.StatusCode != 200 {
		t.Fatal("first use of nonce refused")
	}
	if resp, _ := get(t, u, &s, ""); resp.StatusCode != 401 {
		t.Errorf("replayed nonce accepted: %d", resp.StatusCode)
	}
	// OAuth is not accepted on the proxy path, nor a bearer on the direct one.
	if resp, _ := get(t, srv.ProxyBaseURL(DemoApplicationID)+"users", &ok, ""); resp.StatusCode != 401 {
		t.Errorf("OAuth on proxy path: %d", resp.StatusCode)
	}
	if resp, _ := get(t, srv.BaseURL()+"users", nil, DemoProxyToken); resp.StatusCode != 401 {
		t.Errorf("bearer on direct path: %d", resp.StatusCode)
	}
}

func getWithHeader(t *testing.T, rawURL, auth string) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest("GET", rawURL, nil)
	req.Header.Set("Authorization", auth)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

func TestProxyRoutesAndParameters(t *testing.T) {
	srv := demo(t)
	base := srv.ProxyBaseURL(DemoApplicationID)
	cases := []struct {
		path string
		want int
	}{
		{"users?limit=5&offset=10&sort=sourcedId&orderBy=asc", 200},
		{"schools", 200},
		{"academicSessions", 200},
		{"users?limit=0", 400},
		{"users?limit=x", 400},
		{"users?offset=-1", 400},
		{"users?sort=familyName", 400},
		{"users?orderBy=desc", 400},
		{"users?filter=" + url.QueryEscape("givenName='x'"), 400},
		{"demographics", 404},
	}
	for _, tc := range cases {
		resp, body := get(t, base+tc.path, nil, DemoProxyToken)
		if resp.StatusCode != tc.want {
			t.Errorf("%s: %d %s", tc.path, resp.StatusCode, body)
		}
	}
	if resp, _ := get(t, srv.ProxyBaseURL(58)+"users", nil, DemoProxyToken); resp.StatusCode != 404 {
		t.Errorf("unknown application: %d", resp.StatusCode)
	}
	if resp, _ := get(t, base+"users", nil, "wrong"); resp.StatusCode != 401 {
		t.Errorf("wrong token: %d", resp.StatusCode)
	}
	// Paging headers and envelope.
	resp, body := get(t, base+"users?limit=20000&offset=1280&fields=sourcedId,role,bogus", nil, DemoProxyToken)
	var env map[string][]map[string]any
	if err := json.Unmarshal(body, &env); err != nil {
		t.Fatal(err)
	}
	if resp.Header.Get("X-Total-Count") != "1290" || resp.Header.Get("x-count") != "1290" || resp.Header.Get("x-perm-rev") == "" || len(env["users"]) != 10 {
		t.Errorf("headers %v, %d users", resp.Header, len(env["users"]))
	}
	for _, u := range env["users"] {
		if len(u) > 2 || u["sourcedId"] == nil {
			t.Errorf("fields not applied: %v", u)
		}
	}
	if r := srv.Requests(); r[len(r)-1].Limit != MaxLimit {
		t.Errorf("limit not capped at %d: %+v", MaxLimit, r[len(r)-1])
	}
	// Refs carry href, sourcedId and type.
	_, body = get(t, base+"enrollments?limit=1", nil, DemoProxyToken)
	if !strings.Contains(body2(body), `"class":{"href":"/57/ims/oneroster/v1p1/classes/cls0000000","sourcedId":"cls0000000","type":"class"}`) {
		t.Errorf("enrollment ref: %s", body)
	}
}

func body2(b []byte) string { return string(b) }

func TestApplicationsEndpoint(t *testing.T) {
	srv := demo(t)
	resp, body := get(t, srv.URL()+"/applications", nil, DemoProxyToken)
	var env struct {
		Status       int `json:"status"`
		Applications []struct {
			TenantID      int64  `json:"tenant_id"`
			ApplicationID int64  `json:"application_id"`
			TenantName    string `json:"tenant_name"`
			ORAppID       string `json:"oneroster_application_id"`
		} `json:"applications"`
	}
	if err := json.Unmarshal(body, &env); err != nil || resp.StatusCode != 200 {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	if env.Status != 1 || len(env.Applications) != 1 || env.Applications[0].TenantID != 2 || env.Applications[0].ApplicationID != 57 ||
		env.Applications[0].TenantName != "ClassLink Demo" || env.Applications[0].ORAppID == "" {
		t.Errorf("applications = %+v", env)
	}
	if resp, _ := get(t, srv.URL()+"/applications", nil, ""); resp.StatusCode != 401 {
		t.Errorf("no token: %d", resp.StatusCode)
	}
}

func TestFaultScoping(t *testing.T) {
	srv := demo(t)
	base := srv.ProxyBaseURL(DemoApplicationID)
	srv.Inject(Fault{Kind: FaultServerError, Endpoint: "users", Skip: 1, Times: 2, MinOffset: 100})
	srv.Inject(Fault{Kind: FaultBadGateway, Endpoint: "classes", AbovePageSize: 50})
	statuses := func(path string, n int) []int {
		var out []int
		for range n {
			resp, _ := get(t, base+path, nil, DemoProxyToken)
			out = append(out, resp.StatusCode)
		}
		return out
	}
	if got := statuses("users?offset=0", 2); got[0] != 200 || got[1] != 200 {
		t.Errorf("below MinOffset: %v", got)
	}
	if got := statuses("users?offset=100", 4); got[0] != 200 || got[1] != 500 || got[2] != 500 || got[3] != 200 {
		t.Errorf("skip 1, then 2 times: %v", got)
	}
	if got := statuses("courses", 1); got[0] != 200 {
		t.Errorf("other endpoint affected: %v", got)
	}
	if got := statuses("classes?limit=51", 2); got[0] != 502 || got[1] != 502 {
		t.Errorf("502 above 50: %v", got)
	}
	if got := statuses("classes?limit=50", 1); got[0] != 200 {
		t.Errorf("502 at 50: %v", got)
	}
	srv.ClearFaults()
	if got := statuses("classes?limit=51", 1); got[0] != 200 {
		t.Errorf("after ClearFaults: %v", got)
	}
	var faulted int
	for _, r := range srv.Requests() {
		if r.Fault != 0 {
			faulted++
		}
	}
	if faulted != 4 {
		t.Errorf("%d requests recorded as faulted, want 4", faulted)
	}
	srv.Inject(Fault{Kind: FaultRateLimit, RetryAfter: "9", Times: 1})
	if resp, _ := get(t, base+"orgs", nil, DemoProxyToken); resp.StatusCode != 429 || resp.Header.Get("Retry-After") != "9" {
		t.Errorf("429: %d %q", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	rev := srv.Tenant(DemoApplicationID).District.Revision()
	srv.Inject(Fault{Kind: FaultRevisionFlip, Times: 1})
	if resp, _ := get(t, base+"orgs", nil, DemoProxyToken); resp.Header.Get("x-perm-rev") == rev {
		t.Error("revision flip did not move x-perm-rev")
	}
	srv.Inject(Fault{Kind: FaultEmptyCollection, Times: 1})
	if resp, body := get(t, base+"users", nil, DemoProxyToken); resp.Header.Get("X-Total-Count") != "0" || string(body) != `{"users":[]}` {
		t.Errorf("empty collection: %s %s", resp.Header.Get("X-Total-Count"), body)
	}
}

// Filtered paging through the server equals filtering the whole collection.
func TestFilteredPagingMatchesBruteForce(t *testing.T) {
	srv := demo(t)
	d := srv.Tenant(DemoApplicationID).District
	d.AdvanceDay(DayChanges{NewStudents: 3, Withdrawn: 5, ContactEdits: 5})
	filter := "status='active'"
	var want []string
	for _, r := range d.Records(Users, 0, 1<<20) {
		if r.status() == "active" {
			want = append(want, r.ID())
		}
	}
	var got []string
	for offset := 0; ; offset += 97 {
		resp, body := get(t, srv.ProxyBaseURL(DemoApplicationID)+"users?limit=97&fields=sourcedId&offset="+strconv.Itoa(offset)+"&filter="+url.QueryEscape(filter), nil, DemoProxyToken)
		if resp.Header.Get("X-Total-Count") != strconv.Itoa(len(want)) {
			t.Fatalf("total %s, want %d", resp.Header.Get("X-Total-Count"), len(want))
		}
		var env struct{ Users []struct{ SourcedID string } }
		if err := json.Unmarshal(body, &env); err != nil {
			t.Fatal(err)
		}
		for _, u := range env.Users {
			got = append(got, u.SourcedID)
		}
		if len(env.Users) < 97 {
			break
		}
	}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("filtered paging gave %d ids, brute force %d", len(got), len(want))
	}
	// A page out of sequence (no cached cursor) is right too.
	_, body := get(t, srv.ProxyBaseURL(DemoApplicationID)+"users?limit=3&fields=sourcedId&offset=500&filter="+url.QueryEscape(filter), nil, DemoProxyToken)
	if !strings.Contains(string(body), want[500]) || !strings.Contains(string(body), want[502]) {
		t.Errorf("offset 500 of the filtered view: %s", body)
	}
}

// pageIDs fetches one page through the proxy path and returns its ids.
func pageIDs(t *testing.T, rawURL string) (*http.Response, []string) {
	t.Helper()
	resp, body := get(t, rawURL, nil, DemoProxyToken)
	var env struct{ Users []struct{ SourcedID string } }
	if err := json.Unmarshal(body, &env); err != nil {
		t.Fatalf("%s: %v: %s", rawURL, err, body)
	}
	var out []string
	for _, u := range env.Users {
		out = append(out, u.SourcedID)
	}
	return resp, out
}

func TestPagingLikeOtherServers(t *testing.T) {
	srv := demo(t)
	d := srv.Tenant(DemoApplicationID).District
	all := ids(d.Records(Users, 0, 1<<20))
	base := srv.ProxyBaseURL(DemoApplicationID)

	srv.SetPaging(Paging{Cap: 500, Link: true})
	resp, got := pageIDs(t, base+"users?limit=10000&offset=0&fields=sourcedId")
	if len(got) != 500 || got[0] != all[0] || resp.Header.Get("X-Total-Count") != "1290" {
		t.Fatalf("capped page: %d ids, total %q", len(got), resp.Header.Get("X-Total-Count"))
	}
	// Follow the links: 500, 500, 290, and no link on the last page.
	var walked []string
	next := base + "users?limit=10000&offset=0&fields=sourcedId&sort=sourcedId"
	for pages := 0; next != ""; pages++ {
		if pages > 5 {
			t.Fatal("links never end")
		}
		resp, got := pageIDs(t, next)
		walked = append(walked, got...)
		next = ""
		if l := resp.Header.Get("Link"); l != "" {
			target, rel, ok := strings.Cut(strings.TrimPrefix(l, "<"), ">")
			if !ok || rel != `; rel="next"` {
				t.Fatalf("Link %q", l)
			}
			u, err := url.Parse(target)
			if err != nil || u.Query().Get("fields") != "sourcedId" || u.Query().Get("sort") != "sourcedId" || u.Query().Get("limit") != "500" {
				t.Fatalf("next link %q lost the query or the page size", target)
			}
			next = target
		}
	}
	if strings.Join(walked, ",") != strings.Join(all, ",") {
		t.Errorf("following Link gave %d ids, want every one of %d once", len(walked), len(all))
	}

	srv.SetPaging(Paging{NoTotal: true})
	resp, got = pageIDs(t, base+"users?limit=100&offset=1200")
	if resp.Header.Get("X-Total-Count") != "" || resp.Header.Get("x-count") != "" || len(got) != 90 || resp.Header.Get("Link") != "" {
		t.Errorf("no-total page: headers %v, %d ids", resp.Header, len(got))
	}
	if _, got = pageIDs(t, base+"users?limit=100&offset=1290"); len(got) != 0 {
		t.Errorf("past the end: %d ids", len(got))
	}
}

func TestPagingFaults(t *testing.T) {
	srv := demo(t)
	d := srv.Tenant(DemoApplicationID).District
	all := ids(d.Records(Users, 0, 1<<20))
	base := srv.ProxyBaseURL(DemoApplicationID)

	srv.Inject(Fault{Kind: FaultOrderShift, Endpoint: "users"})
	if _, got := pageIDs(t, base+"users?limit=100&offset=0"); strings.Join(got, ",") != strings.Join(all[:100], ",") {
		t.Errorf("order shift moved the first page")
	}
	_, got := pageIDs(t, base+"users?limit=100&offset=100")
	if len(got) != 100 || got[0] != all[99] || got[99] != all[198] {
		t.Errorf("order shift: page starts %s, ends %s; want %s and %s", got[0], got[99], all[99], all[198])
	}
	srv.ClearFaults()

	srv.Inject(Fault{Kind: FaultEmptyPage, Endpoint: "users", Times: 1})
	resp, got := pageIDs(t, base+"users?limit=100&offset=300")
	if len(got) != 0 || resp.Header.Get("X-Total-Count") != "1290" {
		t.Errorf("empty page: %d ids, total %q", len(got), resp.Header.Get("X-Total-Count"))
	}
	if _, got = pageIDs(t, base+"users?limit=100&offset=300"); len(got) != 100 {
		t.Errorf("after the fault: %d ids", len(got))
	}
}
