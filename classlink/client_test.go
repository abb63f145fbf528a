package classlink_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/schoolstatus/rostersync/classlink"
	"github.com/schoolstatus/rostersync/classlink/classlinktest"
)

// fixture is a demo-sized district on loopback with a client whose sleeps
// are recorded instead of waited.
type fixture struct {
	srv      *classlinktest.Server
	district *classlinktest.District
	cfg      classlink.Config

	mu     sync.Mutex
	sleeps []time.Duration
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	srv, err := classlinktest.Demo()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	f := &fixture{srv: srv, district: srv.Tenant(classlinktest.DemoApplicationID).District}
	f.cfg = srv.OAuth1Config(classlinktest.DemoApplicationID)
	f.cfg.PageSize = 100
	f.cfg.Sleep = func(ctx context.Context, d time.Duration) error {
		f.mu.Lock()
		f.sleeps = append(f.sleeps, d)
		f.mu.Unlock()
		return ctx.Err()
	}
	return f
}

func (f *fixture) client(t *testing.T, mutate ...func(*classlink.Config)) *classlink.Client {
	t.Helper()
	cfg := f.cfg
	for _, m := range mutate {
		m(&cfg)
	}
	c, err := classlink.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func (f *fixture) slept() []time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.sleeps)
}

// wantIDs lists the sourcedIds the district serves, in order.
func wantIDs(d *classlinktest.District, c classlinktest.Collection) []string {
	var ids []string
	for _, r := range d.Records(c, 0, d.Len(c)) {
		ids = append(ids, r.ID())
	}
	return ids
}

func pullUserIDs(t *testing.T, c *classlink.Client, opt classlink.ListOptions) ([]string, classlink.PullInfo, error) {
	t.Helper()
	var ids []string
	info, err := c.Users(context.Background(), opt, func(u classlink.User) error {
		ids = append(ids, u.SourcedID)
		return nil
	})
	return ids, info, err
}

func TestPullEveryCollectionBothModes(t *testing.T) {
	f := newFixture(t)
	modes := map[string]func(*classlink.Config){
		"oauth1 sha256": func(*classlink.Config) {},
		"oauth1 sha1":   func(c *classlink.Config) { c.SignatureMethod = classlink.HMACSHA1 },
		"proxy": func(c *classlink.Config) {
			p := f.srv.ProxyConfig(classlinktest.DemoApplicationID)
			c.Mode, c.BaseURL, c.Token = p.Mode, p.BaseURL, p.Token
		},
	}
	for name, mode := range modes {
		t.Run(name, func(t *testing.T) {
			c := f.client(t, mode)
			ctx := context.Background()
			got := map[classlinktest.Collection][]string{}
			collect := func(coll classlinktest.Collection) func(id string) {
				return func(id string) { got[coll] = append(got[coll], id) }
			}
			add := collect(classlinktest.Orgs)
			mustPull(t, func() (classlink.PullInfo, error) {
				return c.Orgs(ctx, classlink.ListOptions{}, func(o classlink.Org) error { add(o.SourcedID); return nil })
			})
			add = collect(classlinktest.AcademicSessions)
			mustPull(t, func() (classlink.PullInfo, error) {
				return c.AcademicSessions(ctx, classlink.ListOptions{}, func(s classlink.AcademicSession) error { add(s.SourcedID); return nil })
			})
			add = collect(classlinktest.Courses)
			mustPull(t, func() (classlink.PullInfo, error) {
				return c.Courses(ctx, classlink.ListOptions{}, func(s classlink.Course) error { add(s.SourcedID); return nil })
			})
			add = collect(classlinktest.Classes)
			mustPull(t, func() (classlink.PullInfo, error) {
				return c.Classes(ctx, classlink.ListOptions{}, func(s classlink.Class) error { add(s.SourcedID); return nil })
			})
			add = collect(classlinktest.Users)
			mustPull(t, func() (classlink.PullInfo, error) {
				return c.Users(ctx, classlink.ListOptions{}, func(s classlink.User) error { add(s.SourcedID); return nil })
			})
			add = collect(classlinktest.Enrollments)
			info := mustPull(t, func() (classlink.PullInfo, error) {
				return c.Enrollments(ctx, classlink.ListOptions{PageSize: 1000}, func(s classlink.Enrollment) error { add(s.SourcedID); return nil })
			})
			for _, coll := range classlinktest.AllCollections {
				if want := wantIDs(f.district, coll); !slices.Equal(got[coll], want) {
					t.Errorf("%s: got %d ids, want %d (in order)", coll, len(got[coll]), len(want))
				}
			}
			if info.Total != 3120 || info.Pages != 4 || info.PageSize != 1000 || info.Bytes == 0 || info.PermRev != f.district.Revision() {
				t.Errorf("enrollments PullInfo = %+v", info)
			}
			var schools []classlink.Org
			mustPull(t, func() (classlink.PullInfo, error) {
				return c.Schools(ctx, classlink.ListOptions{}, func(o classlink.Org) error { schools = append(schools, o); return nil })
			})
			if len(schools) != 1 || schools[0].Type != "school" || schools[0].Parent != f.district.DistrictOrgID() {
				t.Errorf("schools = %+v", schools)
			}
		})
	}
}

func mustPull(t *testing.T, pull func() (classlink.PullInfo, error)) classlink.PullInfo {
	t.Helper()
	info, err := pull()
	if err != nil {
		t.Fatalf("pull: %v", err)
	}
	return info
}

func TestPagingSendsLimitOffsetSortFields(t *testing.T) {
	f := newFixture(t)
	c := f.client(t)
	ids, info, err := pullUserIDs(t, c, classlink.ListOptions{PageSize: 400})
	if err != nil {
		t.Fatal(err)
	}
	reqs := f.srv.RequestsTo("users")
	if len(reqs) != 4 || info.Pages != 4 || info.Requests != 4 || len(ids) != 1290 {
		t.Fatalf("requests %d, info %+v, ids %d", len(reqs), info, len(ids))
	}
	for i, r := range reqs {
		if r.Offset != i*400 || r.Limit != 400 || r.Sort != "sourcedId" || r.Auth != "oauth1" {
			t.Errorf("request %d = %+v", i, r)
		}
		if want := strings.Join(classlink.DefaultFields("users"), ","); r.Fields != want {
			t.Errorf("fields = %q, want %q", r.Fields, want)
		}
	}
	// Every field not asked for stays away; the envelope still arrives.
	f.srv.ResetRequests()
	var got []classlink.User
	if _, err := c.Users(context.Background(), classlink.ListOptions{Fields: []string{"sourcedId", "email"}, PageSize: 10000},
		func(u classlink.User) error { got = append(got, u); return nil }); err != nil {
		t.Fatal(err)
	}
	for _, u := range got {
		if u.GivenName != "" || u.Role != "" || len(u.Orgs) != 0 {
			t.Fatalf("field selection ignored: %+v", u)
		}
	}
	if r := f.srv.RequestsTo("users"); len(r) != 1 || r[0].Fields != "sourcedId,email" || r[0].Limit != 10000 {
		t.Errorf("requests = %+v", r)
	}
}

func TestFilterModifiedSinceAndStatus(t *testing.T) {
	f := newFixture(t)
	d := f.district
	since := d.Options().Epoch
	// Three changes after the epoch, one of them a tobedeleted.
	if err := classlinktest.Modify(d, d.StudentID(7), func(u *classlinktest.User) { u.Email = "new7@x.example.org" }); err != nil {
		t.Fatal(err)
	}
	if err := d.MarkToBeDeleted(classlinktest.Users, d.GuardianID(3)); err != nil {
		t.Fatal(err)
	}
	added := classlinktest.User{SourcedID: d.StudentID(9) + "a", Status: "active", EnabledUser: true, Role: "student",
		GivenName: "New", FamilyName: "Kid", DateLastModified: classlinktest.Stamp(since.Add(time.Hour)), Kind: classlinktest.KindStudent}
	d.Put(added)

	c := f.client(t)
	ids, info, err := pullUserIDs(t, c, classlink.ListOptions{Filter: classlink.ModifiedSince(since)})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{d.StudentID(7), d.StudentID(9) + "a", d.GuardianID(3)}
	if !slices.Equal(ids, want) || info.Total != 3 {
		t.Errorf("delta ids = %v (total %d), want %v", ids, info.Total, want)
	}
	// The server's Date header is the district's clock, the one that
	// stamped the changes: noon of the epoch's day.
	if wantDate := since.Add(12 * time.Hour); !info.Date.Equal(wantDate) {
		t.Errorf("the pull's server date = %v, want %v", info.Date, wantDate)
	}
	if r := f.srv.RequestsTo("users"); r[len(r)-1].Filter != classlink.ModifiedSince(since) {
		t.Errorf("filter sent = %q", r[len(r)-1].Filter)
	}
	// status filter, paged in small pages through a filtered view
	var active, all int
	if _, err := c.Users(context.Background(), classlink.ListOptions{}, func(u classlink.User) error {
		all++
		if u.Status == classlink.StatusActive {
			active++
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	activeIDs, _, err := pullUserIDs(t, c, classlink.ListOptions{Filter: classlink.ActiveOnly, PageSize: 77})
	if err != nil {
		t.Fatal(err)
	}
	if len(activeIDs) != active || active == all || active == 0 {
		t.Errorf("active filter: %d ids, counted %d active of %d", len(activeIDs), active, all)
	}
	both, _, err := pullUserIDs(t, c, classlink.ListOptions{Filter: classlink.And(classlink.ModifiedSince(since), classlink.ActiveOnly)})
	if err != nil || !slices.Equal(both, []string{d.StudentID(7), d.StudentID(9) + "a"}) {
		t.Errorf("AND filter = %v, %v", both, err)
	}
}

func TestRateLimitHonoursRetryAfterSeconds(t *testing.T) {
	f := newFixture(t)
	f.srv.Inject(classlinktest.Fault{Kind: classlinktest.FaultRateLimit, Endpoint: "users", Skip: 1, Times: 2, RetryAfter: "7"})
	ids, info, err := pullUserIDs(t, f.client(t), classlink.ListOptions{PageSize: 500})
	if err != nil {
		t.Fatal(err)
	}
	if got := f.slept(); !slices.Equal(got, []time.Duration{7 * time.Second, 7 * time.Second}) {
		t.Errorf("slept %v, want the server's Retry-After twice", got)
	}
	if len(ids) != 1290 || info.Retries != 2 || info.Requests != 5 {
		t.Errorf("ids %d, info %+v", len(ids), info)
	}
	reqs := f.srv.RequestsTo("users")
	if reqs[1].Status != 429 || reqs[2].Status != 429 || reqs[3].Offset != 500 || reqs[3].Status != 200 {
		t.Errorf("requests = %+v", reqs)
	}
}

func TestRateLimitHonoursRetryAfterDate(t *testing.T) {
	f := newFixture(t)
	now := time.Now().Truncate(time.Second)
	f.srv.Inject(classlinktest.Fault{Kind: classlinktest.FaultRateLimit, Endpoint: "users", Times: 1,
		RetryAfter: now.Add(42 * time.Second).UTC().Format(http.TimeFormat)})
	_, _, err := pullUserIDs(t, f.client(t, func(c *classlink.Config) { c.Now = func() time.Time { return now } }), classlink.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := f.slept(); len(got) != 1 || got[0] != 42*time.Second {
		t.Errorf("slept %v, want 42s from the HTTP date", got)
	}
}

func TestRateLimitGivesUpAfterCap(t *testing.T) {
	f := newFixture(t)
	f.srv.Inject(classlinktest.Fault{Kind: classlinktest.FaultRateLimit, Endpoint: "users", RetryAfter: "1"})
	ids, _, err := pullUserIDs(t, f.client(t, func(c *classlink.Config) { c.MaxAttempts = 4 }), classlink.ListOptions{})
	var e *classlink.Error
	if !errors.Is(err, classlink.ErrRateLimited) || !errors.As(err, &e) || e.Attempts != 4 || e.Status != 429 {
		t.Fatalf("err = %v, want ErrRateLimited after 4 attempts", err)
	}
	if len(ids) != 0 || len(f.srv.RequestsTo("users")) != 4 || len(f.slept()) != 3 || classlink.Reason(err) != "upstream" {
		t.Errorf("ids %d, requests %d, sleeps %v, reason %q", len(ids), len(f.srv.RequestsTo("users")), f.slept(), classlink.Reason(err))
	}
}

func TestRetryAfterTooLongGivesUpAtOnce(t *testing.T) {
	f := newFixture(t)
	f.srv.Inject(classlinktest.Fault{Kind: classlinktest.FaultRateLimit, Endpoint: "users", RetryAfter: "3600"})
	_, _, err := pullUserIDs(t, f.client(t), classlink.ListOptions{})
	if !errors.Is(err, classlink.ErrRateLimited) || len(f.slept()) != 0 || len(f.srv.RequestsTo("users")) != 1 {
		t.Errorf("err %v, sleeps %v", err, f.slept())
	}
}

func TestServerErrorBacksOffExponentiallyThenGivesUp(t *testing.T) {
	f := newFixture(t)
	f.srv.Inject(classlinktest.Fault{Kind: classlinktest.FaultServerError, Endpoint: "classes"})
	c := f.client(t, func(c *classlink.Config) { c.RetryBaseDelay = 100 * time.Millisecond; c.RetryMaxDelay = time.Second })
	_, err := c.Classes(context.Background(), classlink.ListOptions{}, func(classlink.Class) error { return nil })
	if !errors.Is(err, classlink.ErrUpstream) || classlink.Reason(err) != "upstream" {
		t.Fatalf("err = %v", err)
	}
	got := f.slept()
	caps := []time.Duration{100, 200, 400, 800, 1000}
	if len(got) != len(caps) {
		t.Fatalf("slept %v, want %d backoffs (6 attempts)", got, len(caps))
	}
	for i, d := range got {
		hi := caps[i] * time.Millisecond
		if d < hi/2 || d > hi {
			t.Errorf("backoff %d = %v, want within [%v, %v]", i+1, d, hi/2, hi)
		}
	}
}

func TestBadGatewayHalvesPageSize(t *testing.T) {
	f := newFixture(t)
	f.srv.Inject(classlinktest.Fault{Kind: classlinktest.FaultBadGateway, Endpoint: "users", AbovePageSize: 120, MinOffset: 200})
	ids, info, err := pullUserIDs(t, f.client(t), classlink.ListOptions{PageSize: 200})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(ids, wantIDs(f.district, classlinktest.Users)) {
		t.Fatalf("records lost or repeated: got %d", len(ids))
	}
	var sizes, offsets []int
	for _, r := range f.srv.RequestsTo("users") {
		sizes = append(sizes, r.Limit)
		if r.Status == 200 {
			offsets = append(offsets, r.Offset)
		}
	}
	// 200 fine, then 200 → 502, 100 from there on (offsets stay contiguous).
	if sizes[0] != 200 || sizes[1] != 200 || sizes[2] != 100 || info.PageSize != 100 {
		t.Errorf("page sizes %v, info %+v", sizes, info)
	}
	for i := 1; i < len(offsets); i++ {
		if step := offsets[i] - offsets[i-1]; step != 200 && step != 100 || i > 1 && step != 100 {
			t.Errorf("offsets %v not contiguous", offsets)
			break
		}
	}
}

func TestBadGatewayStopsHalvingAtMinimum(t *testing.T) {
	f := newFixture(t)
	f.srv.Inject(classlinktest.Fault{Kind: classlinktest.FaultBadGateway, Endpoint: "users"})
	_, info, err := pullUserIDs(t, f.client(t, func(c *classlink.Config) { c.MaxAttempts = 3 }), classlink.ListOptions{PageSize: 400})
	if !errors.Is(err, classlink.ErrUpstream) {
		t.Fatalf("err = %v", err)
	}
	var sizes []int
	for _, r := range f.srv.RequestsTo("users") {
		sizes = append(sizes, r.Limit)
	}
	// 400, 200, 100, 50 halve for free; then 3 attempts at the minimum.
	if want := []int{400, 200, 100, 50, 50, 50}; !slices.Equal(sizes, want) || info.PageSize != classlink.MinPageSize {
		t.Errorf("sizes %v, want %v", sizes, want)
	}
}

func TestMissingEnvelopeIsMalformedNotEmpty(t *testing.T) {
	f := newFixture(t)
	f.srv.Inject(classlinktest.Fault{Kind: classlinktest.FaultMissingEnvelope, Endpoint: "users", Times: 1})
	ids, _, err := pullUserIDs(t, f.client(t), classlink.ListOptions{})
	if !errors.Is(err, classlink.ErrMalformed) || len(ids) != 0 || len(f.srv.RequestsTo("users")) != 1 {
		t.Errorf("err = %v, ids %d", err, len(ids))
	}
	if !strings.Contains(err.Error(), `"users"`) {
		t.Errorf("error should name the missing key: %v", err)
	}
}

func TestShortPageIsFollowedByTheRest(t *testing.T) {
	f := newFixture(t)
	f.srv.Inject(classlinktest.Fault{Kind: classlinktest.FaultShortPage, Endpoint: "users", MinOffset: 500, Times: 1})
	ids, _, err := pullUserIDs(t, f.client(t), classlink.ListOptions{PageSize: 500})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(ids, wantIDs(f.district, classlinktest.Users)) {
		t.Fatalf("got %d ids, want every user once in order", len(ids))
	}
	if got := requestOffsets(f.srv.RequestsTo("users")); !slices.Contains(got, 750) {
		t.Errorf("offsets %v: want the next page at 500 + the 250 records received", got)
	}
}

func TestEmptyPageShortOfTheTotalFails(t *testing.T) {
	f := newFixture(t)
	f.srv.Inject(classlinktest.Fault{Kind: classlinktest.FaultEmptyPage, Endpoint: "users", MinOffset: 500, Times: 1})
	ids, _, err := pullUserIDs(t, f.client(t), classlink.ListOptions{PageSize: 500})
	var e *classlink.Error
	if !errors.Is(err, classlink.ErrMalformed) || !errors.As(err, &e) || e.Offset != 500 || !strings.Contains(err.Error(), "short page") {
		t.Fatalf("err = %v", err)
	}
	if len(ids) != 500 || classlink.Reason(err) != "upstream" {
		t.Errorf("ids = %d, reason %q", len(ids), classlink.Reason(err))
	}
}

func requestOffsets(reqs []classlinktest.Request) []int {
	var out []int
	for _, r := range reqs {
		out = append(out, r.Offset)
	}
	return out
}

func TestServerCappedPages(t *testing.T) {
	f := newFixture(t)
	f.srv.SetPaging(classlinktest.Paging{Cap: 300})
	ids, info, err := pullUserIDs(t, f.client(t), classlink.ListOptions{PageSize: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(ids, wantIDs(f.district, classlinktest.Users)) || info.Total != 1290 || info.Pages != 5 {
		t.Fatalf("got %d ids, info %+v", len(ids), info)
	}
	// 0, then the server's page size; a guess at 1000 fetched ahead may
	// have gone out before the page turned out short.
	wantOffsets(t, f.srv.RequestsTo("users"), []int{0, 300, 600, 900, 1200}, 1)
	for _, r := range f.srv.RequestsTo("users")[1:] {
		if r.Offset != 1000 && r.Limit != 300 {
			t.Errorf("after a page of 300 the client still asks for %d: %+v", r.Limit, r)
		}
	}
}

// wantOffsets: the requests include these offsets in this order, and at
// most extra others (pages fetched ahead on a guess and dropped).
func wantOffsets(t *testing.T, reqs []classlinktest.Request, want []int, extra int) {
	t.Helper()
	got := requestOffsets(reqs)
	i := 0
	for _, o := range got {
		if i < len(want) && o == want[i] {
			i++
		}
	}
	if i < len(want) || len(got) > len(want)+extra {
		t.Errorf("offsets %v, want %v with at most %d more", got, want, extra)
	}
}

func TestFollowsNextLink(t *testing.T) {
	f := newFixture(t)
	f.srv.SetPaging(classlinktest.Paging{Cap: 300, Link: true})
	// A filter with spaces: the server's link encodes them as '+', and the
	// OAuth signature must still match.
	since := classlink.ModifiedSince(time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC))
	for name, mode := range map[string]func(*classlink.Config){
		"oauth1": func(*classlink.Config) {},
		"proxy": func(c *classlink.Config) {
			p := f.srv.ProxyConfig(classlinktest.DemoApplicationID)
			c.Mode, c.BaseURL, c.Token = p.Mode, p.BaseURL, p.Token
		},
	} {
		t.Run(name, func(t *testing.T) {
			f.srv.ResetRequests()
			ids, _, err := pullUserIDs(t, f.client(t, mode), classlink.ListOptions{PageSize: 1000, Filter: since})
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(ids, wantIDs(f.district, classlinktest.Users)) {
				t.Fatalf("got %d ids, want every user once in order", len(ids))
			}
			reqs := f.srv.RequestsTo("users")
			var limits []int
			for _, r := range reqs {
				limits = append(limits, r.Limit)
				if r.Filter != since {
					t.Errorf("request lost the filter: %+v", r)
				}
			}
			// The client asks for 1000; the later pages are the server's links (limit 300).
			if !slices.Equal(limits, []int{1000, 300, 300, 300, 300}) || !slices.Equal(requestOffsets(reqs), []int{0, 300, 600, 900, 1200}) {
				t.Errorf("limits %v offsets %v", limits, requestOffsets(reqs))
			}
		})
	}
}

func TestNoTotalEndsAtAnEmptyPage(t *testing.T) {
	f := newFixture(t)
	f.srv.SetPaging(classlinktest.Paging{NoTotal: true})
	ids, info, err := pullUserIDs(t, f.client(t), classlink.ListOptions{PageSize: 500})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(ids, wantIDs(f.district, classlinktest.Users)) || info.Total != -1 {
		t.Fatalf("got %d ids, info %+v", len(ids), info)
	}
	wantOffsets(t, f.srv.RequestsTo("users"), []int{0, 500, 1000, 1290}, 1) // the last past the end
	// With links and a cap as well.
	f.srv.SetPaging(classlinktest.Paging{NoTotal: true, Cap: 400, Link: true})
	f.srv.ResetRequests()
	ids, _, err = pullUserIDs(t, f.client(t), classlink.ListOptions{PageSize: 1000})
	if err != nil || !slices.Equal(ids, wantIDs(f.district, classlinktest.Users)) {
		t.Fatalf("got %d ids, %v", len(ids), err)
	}
	// The last page is short (90): a page fetched ahead of it may be
	// dropped, and the end is confirmed at 1290.
	wantOffsets(t, f.srv.RequestsTo("users"), []int{0, 400, 800, 1200, 1290}, 1)
}

// A next link anywhere but under the base URL is not followed: the request
// would carry the district's credentials there.
func TestNextLinkElsewhereIsNotFollowed(t *testing.T) {
	var hits sync.Map
	elsewhere := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Store(r.URL.String(), r.Header.Get("Authorization"))
		http.Error(w, "no", http.StatusTeapot)
	}))
	defer elsewhere.Close()
	var link string
	var mu sync.Mutex
	var seen []string // host, path and limit of every request
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		offset := r.URL.Query().Get("offset")
		mu.Lock()
		seen = append(seen, r.Host+r.URL.Path+" limit="+r.URL.Query().Get("limit"))
		mu.Unlock()
		w.Header().Set("X-Total-Count", "3")
		mu.Lock()
		w.Header().Set("Link", link)
		mu.Unlock()
		switch offset {
		case "0":
			fmt.Fprint(w, `{"orgs":[{"sourcedId":"a"}]}`)
		case "1":
			fmt.Fprint(w, `{"orgs":[{"sourcedId":"b"}]}`)
		case "2":
			fmt.Fprint(w, `{"orgs":[{"sourcedId":"c"}]}`)
		default:
			http.Error(w, "bad offset "+offset, http.StatusBadRequest)
		}
	}))
	defer srv.Close()
	port := srv.URL[strings.LastIndex(srv.URL, ":")+1:]
	for name, target := range map[string]string{
		"other host":     elsewhere.URL + "/ims/oneroster/v1p1/orgs?offset=1",
		"other port":     "http://127.0.0.1:1/ims/oneroster/v1p1/orgs?offset=1",
		"localhost name": "http://localhost:" + port + "/ims/oneroster/v1p1/orgs?offset=1",
		"user info":      "http://user:pw@127.0.0.1:" + port + "/ims/oneroster/v1p1/orgs?offset=1",
		"above the base": "/ims/oneroster/orgs?offset=1",
		"dot segments":   "/ims/oneroster/v1p1/../../../orgs?offset=1",
		"encoded slash":  "/ims/oneroster/v1p1/..%2F..%2Forgs?offset=1",
		"other scheme":   "https://127.0.0.1:" + port + "/ims/oneroster/v1p1/orgs?offset=1",
	} {
		t.Run(name, func(t *testing.T) {
			mu.Lock()
			link = "<" + target + `>; rel="next"`
			mu.Unlock()
			c, err := classlink.New(classlink.Config{Mode: classlink.ModeProxy, BaseURL: srv.URL + "/ims/oneroster/v1p1/", Token: "SECRET-TOKEN", MaxAttempts: 1})
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			_, err = c.Orgs(context.Background(), classlink.ListOptions{}, func(o classlink.Org) error { ids = append(ids, o.SourcedID); return nil })
			if err != nil || strings.Join(ids, ",") != "a,b,c" {
				t.Errorf("pull by offset: %v, %v", ids, err)
			}
			mu.Lock()
			defer mu.Unlock()
			// By offset, not the link: 10000 asked, then the 1 the server sends.
			want := strings.TrimPrefix(srv.URL, "http://") + "/ims/oneroster/v1p1/orgs limit="
			if len(seen) != 3 || seen[0] != want+"10000" || seen[1] != want+"1" || seen[2] != want+"1" {
				t.Errorf("requests %q, want %q then twice %q", seen, want+"10000", want+"1")
			}
			seen = nil
		})
	}
	hits.Range(func(k, v any) bool { t.Errorf("request sent elsewhere: %v with %v", k, v); return true })
}

func TestLinkHeaderForms(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	base := srv.URL + "/ims/oneroster/v1p1/"
	cases := map[string]string{
		`<` + base + `users?offset=5>; rel="next"`: base + "users?offset=5",
		`<users?offset=5>; rel=next`:               base + "users?offset=5",
		`</ims/oneroster/v1p1/users?offset=5>;rel="prev", <users?offset=9>; title="x, y"; rel="last next"`: base + "users?offset=9",
		`<users?offset=1>; rel="prev"`:      "",
		`garbage`:                           "",
		`<users?offset=5>; rel="NEXT"`:      base + "users?offset=5",
		`<users?offset=5#frag>; rel="next"`: base + "users?offset=5",
	}
	for header, want := range cases {
		got := classlink.NextLinkForTest(t, base, header, base+"users?offset=0")
		if got != want {
			t.Errorf("%s: got %q, want %q", header, got, want)
		}
	}
}

func TestRevisionChangeSurfacesAndConsistentRestarts(t *testing.T) {
	f := newFixture(t)
	c := f.client(t)
	f.srv.Inject(classlinktest.Fault{Kind: classlinktest.FaultRevisionFlip, Endpoint: "users", Skip: 1, Times: 1})
	_, _, err := pullUserIDs(t, c, classlink.ListOptions{PageSize: 500})
	var e *classlink.Error
	if !errors.Is(err, classlink.ErrRevisionChanged) || !errors.As(err, &e) || e.Offset != 500 {
		t.Fatalf("err = %v", err)
	}

	f.srv.Inject(classlinktest.Fault{Kind: classlinktest.FaultRevisionFlip, Endpoint: "users", Skip: 1, Times: 1})
	runs := 0
	var ids []string
	err = classlink.Consistent(context.Background(), func(ctx context.Context) error {
		runs++
		ids = ids[:0]
		_, err := c.Users(ctx, classlink.ListOptions{PageSize: 500}, func(u classlink.User) error {
			ids = append(ids, u.SourcedID)
			return nil
		})
		return err
	})
	if err != nil || runs != 2 || len(ids) != 1290 {
		t.Errorf("Consistent: err %v, runs %d, ids %d", err, runs, len(ids))
	}

	f.srv.Inject(classlinktest.Fault{Kind: classlinktest.FaultRevisionFlip, Endpoint: "users", MinOffset: 1})
	runs = 0
	err = classlink.Consistent(context.Background(), func(ctx context.Context) error {
		runs++
		_, err := c.Users(ctx, classlink.ListOptions{PageSize: 500}, func(classlink.User) error { return nil })
		return err
	})
	if !errors.Is(err, classlink.ErrRevisionChanged) || runs != 1+classlink.MaxRestarts {
		t.Errorf("endless flips: err %v after %d runs", err, runs)
	}
}

func TestCredentialsRejected(t *testing.T) {
	f := newFixture(t)
	cases := map[string]func(*classlink.Config){
		"wrong secret":   func(c *classlink.Config) { c.ClientSecret = "not-the-secret" },
		"unknown key":    func(c *classlink.Config) { c.ClientID = "nobody" },
		"clock skew":     func(c *classlink.Config) { c.Now = func() time.Time { return time.Now().Add(-10 * time.Minute) } },
		"replayed nonce": func(c *classlink.Config) { c.Nonce = func() string { return "same-nonce" } },
		"wrong token": func(c *classlink.Config) {
			p := f.srv.ProxyConfig(classlinktest.DemoApplicationID)
			c.Mode, c.BaseURL, c.Token = p.Mode, p.BaseURL, "wrong-token"
		},
		"unknown application": func(c *classlink.Config) {
			c.Mode, c.BaseURL, c.Token = classlink.ModeProxy, f.srv.ProxyBaseURL(999), classlinktest.DemoProxyToken
		},
	}
	for name, mutate := range cases {
		t.Run(name, func(t *testing.T) {
			c := f.client(t, mutate)
			if name == "replayed nonce" { // the first use is fine
				if _, err := c.AcademicSessions(context.Background(), classlink.ListOptions{}, func(classlink.AcademicSession) error { return nil }); err != nil {
					t.Fatal(err)
				}
			}
			f.srv.ResetRequests()
			_, err := c.AcademicSessions(context.Background(), classlink.ListOptions{}, func(classlink.AcademicSession) error { return nil })
			if classlink.Reason(err) != "credentials" {
				t.Fatalf("err = %v, reason %q", err, classlink.Reason(err))
			}
			if len(f.srv.Requests()) != 1 {
				t.Errorf("credential failures must not be retried: %d requests", len(f.srv.Requests()))
			}
		})
	}
	f.srv.Inject(classlinktest.Fault{Kind: classlinktest.FaultUnauthorized, Endpoint: "users", Times: 1})
	if _, _, err := pullUserIDs(t, f.client(t), classlink.ListOptions{}); !errors.Is(err, classlink.ErrCredentials) {
		t.Errorf("injected 401: %v", err)
	}
}

func TestCutConnectionAsksForThePageAgain(t *testing.T) {
	f := newFixture(t)
	f.srv.Inject(classlinktest.Fault{Kind: classlinktest.FaultCutConnection, Endpoint: "users", MinOffset: 400, Times: 1})
	ids, info, err := pullUserIDs(t, f.client(t), classlink.ListOptions{PageSize: 400})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(ids, wantIDs(f.district, classlinktest.Users)) {
		t.Fatalf("got %d ids, want every user exactly once in order", len(ids))
	}
	var offsets []int
	for _, r := range f.srv.RequestsTo("users") {
		offsets = append(offsets, r.Offset)
	}
	if !slices.Equal(offsets, []int{0, 400, 400, 800, 1200}) || info.Retries != 1 {
		t.Errorf("offsets %v, info %+v: want the page at 400 asked again", offsets, info)
	}
}

func TestSlowResponseTimesOut(t *testing.T) {
	f := newFixture(t)
	f.srv.Inject(classlinktest.Fault{Kind: classlinktest.FaultDelay, Endpoint: "users", Delay: 5 * time.Second})
	start := time.Now()
	_, _, err := pullUserIDs(t, f.client(t, func(c *classlink.Config) {
		c.RequestTimeout = 50 * time.Millisecond
		c.MaxAttempts = 2
	}), classlink.ListOptions{})
	if !errors.Is(err, classlink.ErrUpstream) || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v, want ErrUpstream wrapping a deadline", err)
	}
	if time.Since(start) > 3*time.Second {
		t.Errorf("took %v", time.Since(start))
	}
}

func TestContextCancelStopsAtOnce(t *testing.T) {
	f := newFixture(t)
	t.Run("in callback", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		n := 0
		f.srv.ResetRequests()
		_, err := f.client(t).Users(ctx, classlink.ListOptions{PageSize: 100}, func(classlink.User) error {
			if n++; n == 150 {
				cancel()
			}
			return nil
		})
		if !errors.Is(err, context.Canceled) {
			t.Errorf("err = %v", err)
		}
		// Pages 1 and 2, and page 3 asked for ahead while page 2 was read.
		if r := len(f.srv.RequestsTo("users")); r > 3 {
			t.Errorf("%d requests after cancelling on page 2", r)
		}
	})
	t.Run("during backoff", func(t *testing.T) {
		f.srv.Inject(classlinktest.Fault{Kind: classlinktest.FaultRateLimit, Endpoint: "courses", RetryAfter: "30"})
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(50*time.Millisecond, cancel)
		c := f.client(t, func(c *classlink.Config) { c.Sleep = nil }) // real sleeps
		start := time.Now()
		_, err := c.Courses(ctx, classlink.ListOptions{}, func(classlink.Course) error { return nil })
		if !errors.Is(err, context.Canceled) || time.Since(start) > 2*time.Second {
			t.Errorf("err = %v after %v", err, time.Since(start))
		}
		if r := len(f.srv.RequestsTo("courses")); r != 1 {
			t.Errorf("%d requests; a cancelled backoff must not try again", r)
		}
	})
	t.Run("already cancelled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		f.srv.ResetRequests()
		_, err := f.client(t).Orgs(ctx, classlink.ListOptions{}, func(classlink.Org) error { return nil })
		if !errors.Is(err, context.Canceled) || len(f.srv.Requests()) != 0 {
			t.Errorf("err = %v, %d requests", err, len(f.srv.Requests()))
		}
	})
}

func TestCallbackErrorStopsPull(t *testing.T) {
	f := newFixture(t)
	stop := errors.New("disk full")
	n := 0
	_, err := f.client(t).Enrollments(context.Background(), classlink.ListOptions{}, func(classlink.Enrollment) error {
		if n++; n == 250 {
			return stop
		}
		return nil
	})
	// Pages 1 to 3, and at most page 4 asked for ahead.
	if r := len(f.srv.RequestsTo("enrollments")); err != stop || r < 3 || r > 4 {
		t.Errorf("err = %v, %d requests", err, len(f.srv.RequestsTo("enrollments")))
	}
}

func TestProbe(t *testing.T) {
	f := newFixture(t)
	p, err := f.client(t).Probe(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	d := f.district
	want := map[string]int{"orgs": 2, "schools": 1, "academicSessions": 7, "courses": 40, "classes": 120,
		"users": d.Len(classlinktest.Users), "enrollments": d.Len(classlinktest.Enrollments)}
	if fmt.Sprint(p.Counts) != fmt.Sprint(want) {
		t.Errorf("counts %v, want %v", p.Counts, want)
	}
	if p.School == nil || p.School.SourcedID != d.SchoolID(0) || p.PermRev != d.Revision() || p.Latency <= 0 {
		t.Errorf("probe = %+v", p)
	}
	for _, r := range f.srv.Requests() {
		if r.Limit != 1 {
			t.Errorf("probe request with limit %d: %+v", r.Limit, r)
		}
	}
	f.srv.Inject(classlinktest.Fault{Kind: classlinktest.FaultUnauthorized})
	if _, err := f.client(t).Probe(context.Background()); classlink.Reason(err) != "credentials" {
		t.Errorf("probe with 401: %v", err)
	}
}

func TestApplications(t *testing.T) {
	f := newFixture(t)
	apps, err := classlink.Applications(context.Background(), f.srv.URL(), f.srv.ProxyConfig(classlinktest.DemoApplicationID))
	if err != nil {
		t.Fatal(err)
	}
	if len(apps) != 1 || apps[0].TenantID != 2 || apps[0].ApplicationID != 57 || apps[0].TenantName != "ClassLink Demo" || apps[0].OneRosterApplicationID == "" {
		t.Errorf("apps = %+v", apps)
	}
	_, err = classlink.Applications(context.Background(), f.srv.URL(), classlink.Config{Token: "nope"})
	if !errors.Is(err, classlink.ErrCredentials) {
		t.Errorf("bad token: %v", err)
	}
	f.srv.Inject(classlinktest.Fault{Kind: classlinktest.FaultServerError, Endpoint: "applications", Times: 2})
	cfg := f.srv.ProxyConfig(classlinktest.DemoApplicationID)
	cfg.Sleep = f.cfg.Sleep
	if apps, err := classlink.Applications(context.Background(), f.srv.URL(), cfg); err != nil || len(apps) != 1 || len(f.slept()) != 2 {
		t.Errorf("after two 500s: %v, %v, sleeps %v", apps, err, f.slept())
	}
}

// A server that echoes what it was sent must not get the secret into errors.
func TestSecretsStayOutOfErrors(t *testing.T) {
	echo := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "you sent: "+r.Header.Get("Authorization")+" "+r.URL.String(), http.StatusBadRequest)
	}))
	defer echo.Close()
	for _, cfg := range []classlink.Config{
		{Mode: classlink.ModeProxy, BaseURL: echo.URL + "/57/ims/oneroster/v1p1/", Token: "TOPSECRET-TOKEN"},
		{Mode: classlink.ModeOAuth1, BaseURL: echo.URL + "/ims/oneroster/v1p1/", ClientID: "k", ClientSecret: "TOPSECRET-KEY"},
	} {
		c, err := classlink.New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.Users(context.Background(), classlink.ListOptions{}, func(classlink.User) error { return nil })
		if err == nil || strings.Contains(err.Error(), "TOPSECRET") {
			t.Errorf("error leaks or is missing: %v", err)
		}
		if !strings.Contains(err.Error(), "400") {
			t.Errorf("error should give the status: %v", err)
		}
	}
}

// A server's answer reaches terminals through error messages: what it
// says in its body comes back escaped. (A Location header cannot carry
// control characters: Go's client refuses such a header itself.)
func TestAServersWordsCannotDriveATerminal(t *testing.T) {
	evil := "\x1b]0;owned\x07\x1b[2J\x1b[31mfake: enter your client secret again\r\n"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		status := http.StatusUnauthorized
		if strings.Contains(r.URL.Path, "users") {
			status = http.StatusNotFound
		}
		http.Error(w, evil, status)
	}))
	defer srv.Close()
	c, err := classlink.New(classlink.Config{Mode: classlink.ModeOAuth1, BaseURL: srv.URL + "/ims/oneroster/v1p1/", ClientID: "k", ClientSecret: "s"})
	if err != nil {
		t.Fatal(err)
	}
	_, orgsErr := c.Orgs(context.Background(), classlink.ListOptions{}, func(classlink.Org) error { return nil })
	_, usersErr := c.Users(context.Background(), classlink.ListOptions{}, func(classlink.User) error { return nil })
	for _, err := range []error{orgsErr, usersErr} {
		if err == nil {
			t.Fatal("no error from a server that refuses")
		}
		msg := err.Error()
		if strings.ContainsAny(msg, "\x1b\x07\r\n") {
			t.Errorf("control characters reach the message: %q", msg)
		}
		if !strings.Contains(msg, `\x1b[31mfake: enter`) {
			t.Errorf("the server's words are not shown escaped: %q", msg)
		}
	}
}

// Consistency checks that need a server lying in ways classlinktest does not.
func TestInconsistentCounts(t *testing.T) {
	cases := map[string]http.HandlerFunc{
		"more records than total": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("X-Total-Count", "1")
			fmt.Fprint(w, `{"orgs":[{"sourcedId":"a"},{"sourcedId":"b"}]}`)
		},
		"x-count disagrees": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("X-Total-Count", "2")
			w.Header().Set("x-count", "7")
			fmt.Fprint(w, `{"orgs":[{"sourcedId":"a"},{"sourcedId":"b"}]}`)
		},
		"fewer than total at the end": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("X-Total-Count", "5")
			fmt.Fprint(w, `{"orgs":[{"sourcedId":"a"},{"sourcedId":"b"}]}`)
		},
		"bad total": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("X-Total-Count", "lots")
			fmt.Fprint(w, `{"orgs":[]}`)
		},
	}
	for name, h := range cases {
		t.Run(name, func(t *testing.T) {
			srv := httptest.NewServer(h)
			defer srv.Close()
			c, _ := classlink.New(classlink.Config{Mode: classlink.ModeProxy, BaseURL: srv.URL + "/", Token: "t"})
			_, err := c.Orgs(context.Background(), classlink.ListOptions{}, func(classlink.Org) error { return nil })
			if !errors.Is(err, classlink.ErrMalformed) {
				t.Errorf("err = %v", err)
			}
		})
	}
	// x-count meaning "records in this page" is accepted.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Total-Count", "2")
		w.Header().Set("x-count", "2")
		fmt.Fprint(w, `{"orgs":[{"sourcedId":"a"},{"sourcedId":"b"}]}`)
	}))
	defer srv.Close()
	c, _ := classlink.New(classlink.Config{Mode: classlink.ModeProxy, BaseURL: srv.URL + "/", Token: "t"})
	if info, err := c.Orgs(context.Background(), classlink.ListOptions{}, func(classlink.Org) error { return nil }); err != nil || info.Total != 2 {
		t.Errorf("consistent answer rejected: %v", err)
	}
}

// A redirect is never followed: the request carried the token or the OAuth
// signature, and a redirect to http or to another port would hand them on.
func TestRedirectsAreNeverFollowed(t *testing.T) {
	var mu sync.Mutex
	var trapped []string
	trap := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		trapped = append(trapped, r.Header.Get("Authorization"))
		mu.Unlock()
		fmt.Fprint(w, `{"orgs":[]}`)
	}))
	defer trap.Close()
	var asked int
	redirect := func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		asked++
		mu.Unlock()
		http.Redirect(w, r, trap.URL+r.URL.Path, http.StatusFound)
	}
	tlsRedirector := httptest.NewTLSServer(http.HandlerFunc(redirect)) // https → http
	defer tlsRedirector.Close()
	portRedirector := httptest.NewServer(http.HandlerFunc(redirect)) // same host, another port
	defer portRedirector.Close()

	for name, base := range map[string]struct {
		url    string
		client *http.Client
	}{
		"https to http":   {tlsRedirector.URL, tlsRedirector.Client()}, // an injected client, whose CheckRedirect would follow
		"to another port": {portRedirector.URL, nil},
	} {
		for _, cfg := range []classlink.Config{
			{Mode: classlink.ModeProxy, BaseURL: base.url + "/57/ims/oneroster/v1p1/", Token: "PARTNER-TOKEN"},
			{Mode: classlink.ModeOAuth1, BaseURL: base.url + "/ims/oneroster/v1p1/", ClientID: "k", ClientSecret: "CONSUMER-SECRET"},
		} {
			mu.Lock()
			asked = 0
			mu.Unlock()
			cfg.HTTPClient = base.client
			cfg.Sleep = func(ctx context.Context, _ time.Duration) error { return ctx.Err() }
			c, err := classlink.New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.Probe(context.Background())
			want := "ClassLink answered with a redirect to " + trap.URL + "/"
			if err == nil || !strings.Contains(err.Error(), want) || classlink.Reason(err) != "upstream" {
				t.Errorf("%s, %s: want %q with reason upstream, got %v", name, cfg.Mode, want, err)
			}
			mu.Lock()
			if asked != 1 {
				t.Errorf("%s, %s: a redirect is not worth retrying, but the server was asked %d times", name, cfg.Mode, asked)
			}
			mu.Unlock()
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(trapped) != 0 {
		t.Fatalf("a redirect was followed, sending %q", trapped)
	}
}

// An echo in another letter case, or percent-encoded, is still masked.
func TestSecretsAreMaskedInAnyCase(t *testing.T) {
	echo := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth := r.Header.Get("Authorization")
		http.Error(w, "lower "+strings.ToLower(auth)+" upper "+strings.ToUpper(auth)+" encoded "+classlink.PercentEncode(strings.TrimPrefix(auth, "Bearer ")), http.StatusBadRequest)
	}))
	defer echo.Close()
	c, err := classlink.New(classlink.Config{Mode: classlink.ModeProxy, BaseURL: echo.URL + "/57/ims/oneroster/v1p1/", Token: "Mixed/Case+Token"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Probe(context.Background())
	if err == nil {
		t.Fatal("a 400 passed")
	}
	for _, leak := range []string{"mixed/case+token", "MIXED/CASE+TOKEN", "Mixed%2FCase%2BToken", "Mixed/Case+Token"} {
		if strings.Contains(err.Error(), leak) {
			t.Errorf("the token leaks as %q: %v", leak, err)
		}
	}
	if strings.Count(err.Error(), "********") < 3 {
		t.Errorf("want three masks: %v", err)
	}
}

func TestProbeWithoutTotals(t *testing.T) {
	f := newFixture(t)
	f.srv.SetPaging(classlinktest.Paging{NoTotal: true})
	p, err := f.client(t).Probe(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Counts) != 0 || p.School == nil || p.School.SourcedID != f.district.SchoolID(0) {
		t.Errorf("probe = %+v: want the school and no counts", p)
	}
}

func TestRepeatedRecordRestartsThePull(t *testing.T) {
	f := newFixture(t)
	c := f.client(t)
	// One shift on the third page: a record of page 2 comes again and the
	// last of page 3 is never sent, while every count adds up.
	f.srv.Inject(classlinktest.Fault{Kind: classlinktest.FaultOrderShift, Endpoint: "users", MinOffset: 1000, Times: 1})
	ids, _, err := pullUserIDs(t, c, classlink.ListOptions{PageSize: 500})
	var e *classlink.Error
	if !errors.Is(err, classlink.ErrInconsistentPages) || !errors.As(err, &e) || !strings.Contains(err.Error(), "1 sourcedId(s) arrived twice") {
		t.Fatalf("err = %v", err)
	}
	if len(ids) != 1290 || classlink.Reason(err) != "upstream" {
		t.Errorf("%d ids delivered, reason %q", len(ids), classlink.Reason(err))
	}

	f.srv.Inject(classlinktest.Fault{Kind: classlinktest.FaultOrderShift, Endpoint: "users", MinOffset: 500, Times: 1})
	runs := 0
	err = classlink.Consistent(context.Background(), func(ctx context.Context) error {
		runs++
		ids = ids[:0]
		_, err := c.Users(ctx, classlink.ListOptions{PageSize: 500}, func(u classlink.User) error {
			ids = append(ids, u.SourcedID)
			return nil
		})
		return err
	})
	if err != nil || runs != 2 || !slices.Equal(ids, wantIDs(f.district, classlinktest.Users)) {
		t.Errorf("Consistent: err %v, runs %d, ids %d", err, runs, len(ids))
	}

	f.srv.Inject(classlinktest.Fault{Kind: classlinktest.FaultOrderShift, Endpoint: "enrollments"})
	runs = 0
	err = classlink.Consistent(context.Background(), func(ctx context.Context) error {
		runs++
		_, err := c.Enrollments(ctx, classlink.ListOptions{PageSize: 1000}, func(classlink.Enrollment) error { return nil })
		return err
	})
	if !errors.Is(err, classlink.ErrInconsistentPages) || runs != 1+classlink.MaxRestarts {
		t.Errorf("a shift on every pull: err %v after %d runs", err, runs)
	}
}

// Ids out of byte order are checked too (a server may collate otherwise),
// and a server without totals that repeats its pages forever is stopped.
func TestRepeatedRecordsInAnyOrder(t *testing.T) {
	cases := map[string]struct {
		total string
		page  func(offset int) string
	}{
		"collated otherwise, one repeat": {"4", func(offset int) string {
			return map[int]string{0: `{"orgs":[{"sourcedId":"b"},{"sourcedId":"A"}]}`, 2: `{"orgs":[{"sourcedId":"C"},{"sourcedId":"b"}]}`}[offset]
		}},
		"no total, the same page forever": {"", func(int) string {
			return `{"orgs":[{"sourcedId":"z"},{"sourcedId":"y"}]}`
		}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			var requests atomic.Int64
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				requests.Add(1)
				if tc.total != "" {
					w.Header().Set("X-Total-Count", tc.total)
				}
				offset := 0
				fmt.Sscan(r.URL.Query().Get("offset"), &offset)
				fmt.Fprint(w, tc.page(offset))
			}))
			defer srv.Close()
			c, _ := classlink.New(classlink.Config{Mode: classlink.ModeProxy, BaseURL: srv.URL + "/", Token: "t", PageSize: 2})
			_, err := c.Orgs(context.Background(), classlink.ListOptions{}, func(classlink.Org) error { return nil })
			if !errors.Is(err, classlink.ErrInconsistentPages) {
				t.Errorf("err = %v", err)
			}
			if n := requests.Load(); n > 1100 {
				t.Errorf("%d requests before noticing", n)
			}
		})
	}
	// Distinct ids out of byte order pass.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Total-Count", "3")
		fmt.Fprint(w, `{"orgs":[{"sourcedId":"b"},{"sourcedId":"A"},{"sourcedId":"a"}]}`)
	}))
	defer srv.Close()
	c, _ := classlink.New(classlink.Config{Mode: classlink.ModeProxy, BaseURL: srv.URL + "/", Token: "t"})
	if _, err := c.Orgs(context.Background(), classlink.ListOptions{}, func(classlink.Org) error { return nil }); err != nil {
		t.Errorf("distinct ids refused: %v", err)
	}
}

// fakeClock makes Now move by what Sleep waited, so retries can be timed
// against a context deadline without waiting.
func fakeClock(cfg *classlink.Config, slept *[]time.Duration) {
	start := time.Now()
	var mu sync.Mutex
	var waited time.Duration
	cfg.Now = func() time.Time { mu.Lock(); defer mu.Unlock(); return start.Add(waited) }
	cfg.Sleep = func(ctx context.Context, d time.Duration) error {
		mu.Lock()
		defer mu.Unlock()
		waited += d
		*slept = append(*slept, d)
		return ctx.Err()
	}
}

func TestRetryWaitsStayWithinTheDeadline(t *testing.T) {
	f := newFixture(t)
	t.Run("Retry-After beyond the deadline", func(t *testing.T) {
		f.srv.ClearFaults()
		f.srv.ResetRequests()
		f.srv.Inject(classlinktest.Fault{Kind: classlinktest.FaultRateLimit, Endpoint: "users", RetryAfter: "299"})
		var slept []time.Duration
		before := time.Now()
		c := f.client(t, func(c *classlink.Config) { fakeClock(c, &slept) })
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		_, err := c.Users(ctx, classlink.ListOptions{}, func(classlink.User) error { return nil })
		if !errors.Is(err, classlink.ErrRateLimited) || !errors.Is(err, classlink.ErrOutOfTime) || !errors.Is(err, context.DeadlineExceeded) || len(slept) != 0 || len(f.srv.RequestsTo("users")) != 1 {
			t.Fatalf("err %v, slept %v, %d requests", err, slept, len(f.srv.RequestsTo("users")))
		}
		at, ok := classlink.RetryAt(err)
		if want := before.Add(299 * time.Second); !ok || at.Before(want) || at.After(want.Add(5*time.Second)) {
			t.Errorf("RetryAt %v, %v; want about %v", at, ok, want)
		}
		if !strings.Contains(err.Error(), "waiting 4m59s to try again would pass the time allowed") {
			t.Errorf("message: %v", err)
		}
	})
	t.Run("waits count against the deadline", func(t *testing.T) {
		f.srv.ClearFaults()
		f.srv.ResetRequests()
		f.srv.Inject(classlinktest.Fault{Kind: classlinktest.FaultRateLimit, Endpoint: "users", RetryAfter: "20"})
		var slept []time.Duration
		c := f.client(t, func(c *classlink.Config) { fakeClock(c, &slept) })
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Second)
		defer cancel()
		_, err := c.Users(ctx, classlink.ListOptions{}, func(classlink.User) error { return nil })
		// 20s, 20s, and a third 20s would end past 50s.
		if !errors.Is(err, context.DeadlineExceeded) || !slices.Equal(slept, []time.Duration{20 * time.Second, 20 * time.Second}) || len(f.srv.RequestsTo("users")) != 3 {
			t.Fatalf("err %v, slept %v, %d requests", err, slept, len(f.srv.RequestsTo("users")))
		}
		if _, ok := classlink.RetryAt(err); !ok {
			t.Errorf("no RetryAt in %v", err)
		}
	})
	t.Run("within the deadline", func(t *testing.T) {
		f.srv.ClearFaults()
		f.srv.Inject(classlinktest.Fault{Kind: classlinktest.FaultRateLimit, Endpoint: "users", RetryAfter: "20", Times: 2})
		var slept []time.Duration
		c := f.client(t, func(c *classlink.Config) { fakeClock(c, &slept) })
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Second)
		defer cancel()
		if _, err := c.Users(ctx, classlink.ListOptions{}, func(classlink.User) error { return nil }); err != nil || len(slept) != 2 {
			t.Fatalf("err %v, slept %v", err, slept)
		}
	})
	t.Run("backoff beyond the deadline", func(t *testing.T) {
		f.srv.ClearFaults()
		f.srv.Inject(classlinktest.Fault{Kind: classlinktest.FaultServerError, Endpoint: "users"})
		var slept []time.Duration
		c := f.client(t, func(c *classlink.Config) { fakeClock(c, &slept); c.RetryBaseDelay = 10 * time.Second })
		ctx, cancel := context.WithTimeout(context.Background(), 4*time.Second) // the first backoff is 5–10s
		defer cancel()
		_, err := c.Users(ctx, classlink.ListOptions{}, func(classlink.User) error { return nil })
		if !errors.Is(err, classlink.ErrUpstream) || !errors.Is(err, context.DeadlineExceeded) || len(slept) != 0 {
			t.Fatalf("err %v, slept %v", err, slept)
		}
		if _, ok := classlink.RetryAt(err); ok {
			t.Errorf("RetryAt without a Retry-After: %v", err)
		}
	})
	// Giving up after the last attempt also says when to come back.
	f.srv.ClearFaults()
	f.srv.Inject(classlinktest.Fault{Kind: classlinktest.FaultRateLimit, Endpoint: "users", RetryAfter: "30"})
	_, _, err := pullUserIDs(t, f.client(t, func(c *classlink.Config) { c.MaxAttempts = 2 }), classlink.ListOptions{})
	if at, ok := classlink.RetryAt(err); !errors.Is(err, classlink.ErrRateLimited) || !ok || time.Until(at) < 25*time.Second {
		t.Errorf("err %v, RetryAt %v %v", err, at, ok)
	}
}

func TestBeginGetsTheTotalBeforeTheFirstRecord(t *testing.T) {
	f := newFixture(t)
	var calls []int
	records := 0
	opt := classlink.ListOptions{PageSize: 500, Begin: func(n int) {
		if records != 0 {
			t.Errorf("Begin after %d records", records)
		}
		calls = append(calls, n)
	}}
	if _, err := f.client(t).Users(context.Background(), opt, func(classlink.User) error { records++; return nil }); err != nil {
		t.Fatal(err)
	}
	records = 0
	f.srv.SetPaging(classlinktest.Paging{NoTotal: true})
	if _, err := f.client(t).Users(context.Background(), opt, func(classlink.User) error { records++; return nil }); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(calls, []int{1290, -1}) {
		t.Errorf("Begin got %v, want the total once per pull (-1 without one)", calls)
	}
}
