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
