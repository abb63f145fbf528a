package sync

import (
	"strings"
	"testing"

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
