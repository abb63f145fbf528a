package sync

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/schoolstatus/rostersync/classlink"
	"github.com/schoolstatus/rostersync/classlink/classlinktest"
	"github.com/schoolstatus/rostersync/store"
)

func TestConnectionTestReportsCountsRevisionAndFailures(t *testing.T) {
	district, err := classlinktest.NewDistrict(classlinktest.Options{Seed: 7, Tier: classlinktest.TierS})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := classlinktest.NewServer(classlinktest.ServerOptions{Tenants: []classlinktest.Tenant{
		{TenantID: 4021, ApplicationID: 5, Name: "Springfield USD", ConsumerKey: "spring-key", ConsumerSecret: "spring-secret", District: district}}})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	dial := (&Dialer{}).Dial
	d := store.NewDistrict(4021, 5, "Springfield USD")
	d.Connection = store.Connection{Mode: store.ModeOAuth1, BaseURL: srv.BaseURL(), ClientID: "spring-key", ClientSecret: "spring-secret", SignatureMethod: store.HMACSHA1}
	r := TestConnection(t.Context(), dial, d)
	if !r.OK || r.Counts["users"] == 0 || r.Counts["orgs"] < 2 || r.PermRev == "" || r.School == "" || r.LatencyMS != r.Latency.Milliseconds() {
		t.Fatalf("report = %+v", r)
	}
	if !strings.Contains(r.Text(), "Connected in") || !strings.Contains(r.Text(), "first school "+r.School) {
		t.Fatalf("text = %q", r.Text())
	}

	d.Connection.ClientSecret = "nope-not-it"
	r = TestConnection(t.Context(), dial, d)
	if r.OK || r.Reason != store.ReasonCredentials || strings.Contains(r.Error, "nope-not-it") {
		t.Fatalf("bad secret report = %+v", r)
	}
	d.Connection.BaseURL = "http://127.0.0.1:1/ims/oneroster/v1p1/"
	d.Connection.ClientSecret = "spring-secret"
	if r = TestConnection(t.Context(), dial, d); r.OK || r.Reason != store.ReasonUpstream {
		t.Fatalf("unreachable report = %+v", r)
	}
	// The demo district needs a dialer that serves it.
	if r = TestConnection(t.Context(), dial, store.NewDemoDistrict()); r.OK || !strings.Contains(r.Error, "demo district is not served") {
		t.Fatalf("demo without a server = %+v", r)
	}
}

// A secret the process's key cannot open (the database was copied without
// its key) fails the test and the run with the district and the field to
// enter again, and nothing is sent.
func TestASecretTheKeyCannotOpenIsNamed(t *testing.T) {
	dir := t.TempDir()
	path := dir + "/r.db"
	db, err := store.Open(path, store.Options{SecretsKey: dir + "/a.key"})
	if err != nil {
		t.Fatal(err)
	}
	d := store.NewDistrict(4021, 5, "Springfield USD")
	d.Connection = store.Connection{Mode: store.ModeOAuth1, BaseURL: "https://springfield-ca-v2.oneroster.com/ims/oneroster/v1p1/", ClientID: "k", ClientSecret: "spring-secret", SignatureMethod: store.HMACSHA256}
	d.Schools = []string{"org-1"}
	if _, _, err := db.SaveDistrict(d, 0, store.Actor{User: "ana"}, nil); err != nil {
		t.Fatal(err)
	}
	db.Close()
	db, err = store.Open(path, store.Options{SecretsKey: dir + "/b.key"})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	d, err = db.District(4021)
	if err != nil {
		t.Fatal(err)
	}
	dialer := &Dialer{}
	r := TestConnection(t.Context(), dialer.Dial, d)
	if r.OK || r.Reason != store.ReasonCredentials || !strings.Contains(r.Error, "district 4021") || !strings.Contains(r.Error, "connection.client_secret") {
		t.Fatalf("report = %+v", r)
	}
	res, err := (&Engine{DB: db, Dial: dialer.Dial}).Run(t.Context(), 4021, RunOptions{DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	if res.Run.Status != store.RunFailed || res.Run.Reason != store.ReasonCredentials || !strings.Contains(res.Run.Message, "enter the client secret again") {
		t.Fatalf("run = %+v", res.Run)
	}
}

// A rate-limited connection test waits as ClassLink asks, within its
// budget, and otherwise says ClassLink is rate-limiting and when to retry.
func TestConnectionTestUnderRateLimits(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	d, err := f.db.District(testTenant)
	if err != nil {
		t.Fatal(err)
	}
	var slept []time.Duration
	dial := func(ctx context.Context, d store.District) (*classlink.Client, error) {
		cfg, err := (&Dialer{}).Config(ctx, d)
		if err != nil {
			return nil, err
		}
		start, waited := time.Now(), time.Duration(0)
		cfg.Now = func() time.Time { return start.Add(waited) }
		cfg.Sleep = func(ctx context.Context, d time.Duration) error {
			waited += d
			slept = append(slept, d)
			return ctx.Err()
		}
		return classlink.New(cfg)
	}

	f.srv.Inject(classlinktest.Fault{Kind: classlinktest.FaultRateLimit, RetryAfter: "30", Times: 2})
	if r := TestConnection(t.Context(), dial, d); !r.OK || len(slept) != 2 || slept[0] != 30*time.Second {
		t.Fatalf("report %+v after sleeping %v", r, slept)
	}

	// 30s waits: two fit in the 1m30s budget; a third would end at it.
	slept = nil
	f.srv.ClearFaults()
	f.srv.Inject(classlinktest.Fault{Kind: classlinktest.FaultRateLimit, Endpoint: "schools", RetryAfter: "30"})
	before := time.Now()
	r := TestConnection(t.Context(), dial, d)
	if r.OK || r.Reason != store.ReasonUpstream || len(slept) != 2 || r.RetryAt == nil {
		t.Fatalf("report %+v after sleeping %v", r, slept)
	}
	if !strings.Contains(r.Error, "ClassLink is rate-limiting requests (HTTP 429) and did not let the test through within 1m30s; try again after ") ||
		!strings.Contains(r.Text(), "rate-limiting") || r.RetryAt.Before(before.Add(89*time.Second)) {
		t.Errorf("report %+v, text %q", r, r.Text())
	}
	if js, _ := json.Marshal(r); !strings.Contains(string(js), `"retry_at":"`) {
		t.Errorf("json %s", js)
	}

	// A Retry-After beyond the budget fails at once.
	slept = nil
	f.srv.ClearFaults()
	f.srv.Inject(classlinktest.Fault{Kind: classlinktest.FaultRateLimit, RetryAfter: "299"})
	r = TestConnection(t.Context(), dial, d)
	if r.OK || len(slept) != 0 || r.RetryAt == nil || r.RetryAt.Sub(before) < 298*time.Second || !strings.Contains(r.Error, "rate-limiting") {
		t.Fatalf("report %+v after sleeping %v", r, slept)
	}
	// Without Retry-After it cannot say when.
	f.srv.ClearFaults()
	f.srv.Inject(classlinktest.Fault{Kind: classlinktest.FaultRateLimit})
	r = TestConnection(t.Context(), dial, d)
	if r.OK || r.RetryAt != nil || !strings.Contains(r.Error, "try again in a few minutes") {
		t.Fatalf("report %+v", r)
	}
}

func TestConnectionTestWithoutTotals(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	d, _ := f.db.District(testTenant)
	f.srv.SetPaging(classlinktest.Paging{NoTotal: true})
	r := TestConnection(t.Context(), f.dial, d)
	if !r.OK || len(r.Counts) != 0 || !strings.Contains(r.Text(), "? orgs, ? users, ? classes, ? enrollments") {
		t.Fatalf("report %+v, text %q", r, r.Text())
	}
}

// The partner token goes only to the proxy URL built from the root and the
// district's application_id, and only for a district ClassLink lists with
// that application_id.
func TestTheProxyIsDialledOnlyForAListedDistrictAtItsBuiltURL(t *testing.T) {
	district, err := classlinktest.NewDistrict(classlinktest.Options{Seed: 7, Tier: classlinktest.TierS})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := classlinktest.NewServer(classlinktest.ServerOptions{ProxyToken: "partner-token", Tenants: []classlinktest.Tenant{
		{TenantID: 62, ApplicationID: 620, Name: "Sixty-two", District: district},
		{TenantID: 63, ApplicationID: 630, Name: "Sixty-three", District: district}}})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	dialer := &Dialer{ProxyRoot: srv.URL(), Token: "partner-token"}
	proxy := func(tenant, app int64, url string) store.District {
		d := store.NewDistrict(tenant, app, "D")
		d.Connection = store.Connection{Mode: store.ModeProxy, BaseURL: url}
		return d
	}
	root := srv.URL()
	for _, d := range []store.District{
		proxy(62, 620, root+"/620/../630/ims/oneroster/v1p1/"),
		proxy(62, 620, root+"/620/%2e%2e/630/ims/oneroster/v1p1/"),
		proxy(62, 620, root+"/620/..%2f630/ims/oneroster/v1p1/"),
		proxy(62, 620, root+"/630/ims/oneroster/v1p1/"),
		proxy(62, 620, "https://elsewhere.example/620/ims/oneroster/v1p1/"),
		proxy(62, 630, root+"/630/ims/oneroster/v1p1/"), // another district's application
		proxy(64, 640, root+"/640/ims/oneroster/v1p1/"), // not listed
	} {
		r := TestConnection(t.Context(), dialer.Dial, d)
		if r.OK || r.Reason != store.ReasonCredentials {
			t.Errorf("%d/%d at %s: %+v", d.TenantID, d.ApplicationID, d.Connection.BaseURL, r)
		}
	}
	if r := TestConnection(t.Context(), dialer.Dial, proxy(62, 630, root+"/630/ims/oneroster/v1p1/")); !strings.Contains(r.Error, "has application_id 630") || !strings.Contains(r.Error, "application_id 620") {
		t.Errorf("a mismatch names both IDs: %s", r.Error)
	}
	for _, req := range srv.Requests() {
		if req.Endpoint != "applications" {
			t.Fatalf("the token reached %s", req.Path)
		}
	}
	// Spelled differently but the same place: dialled, at the built URL.
	r := TestConnection(t.Context(), dialer.Dial, proxy(62, 620, strings.ToUpper(root[:4])+root[4:]+"/620/ims/oneroster/v1p1"))
	if !r.OK {
		t.Fatalf("the listed district: %+v", r)
	}
	for _, req := range srv.Requests() {
		if req.Endpoint != "applications" && req.ApplicationID != 620 {
			t.Fatalf("a request for application %d", req.ApplicationID)
		}
	}
	if n := len(srv.RequestsTo("applications")); n != 1 {
		t.Errorf("ClassLink's list was asked for %d times; it is kept a while", n)
	}
}
