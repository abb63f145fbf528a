package server

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/schoolstatus/rostersync/classlink/classlinktest"
	"github.com/schoolstatus/rostersync/store"
	rsync "github.com/schoolstatus/rostersync/sync"
)

// Every test here is a real SSH session against a real server: what a
// district IT login may make the server do, tried as a careless or hostile
// user would.

// twoDistricts is ClassLink on loopback: tenant 4021 shared the app as
// application 5, tenant 4022 as application 6.
func twoDistricts(t *testing.T, tenantName string) *classlinktest.Server {
	t.Helper()
	d, err := classlinktest.NewDistrict(classlinktest.Options{Seed: 7, Tier: classlinktest.TierS, DistrictName: "Springfield USD"})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := classlinktest.NewServer(classlinktest.ServerOptions{
		Tenants: []classlinktest.Tenant{
			{TenantID: 4021, ApplicationID: 5, Name: tenantName, ConsumerKey: "spring-key", ConsumerSecret: "spring-secret", District: d},
			{TenantID: 4022, ApplicationID: 6, Name: "Shelbyville USD", ConsumerKey: "shelby-key", ConsumerSecret: "shelby-secret", District: d},
		},
		ProxyToken: "partner-token",
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	return srv
}

// loopbackReach lets the test server reach ClassLink on loopback, as an
// operator's --roster-hosts 127.0.0.1 --roster-allow-net 127.0.0.0/8 does.
func loopbackReach() *rsync.Reach {
	return &rsync.Reach{Hosts: []string{"127.0.0.1"}, Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}}
}

func TestSSHDistrictUserCannotUseAnotherDistrictsApplicationID(t *testing.T) {
	srv := twoDistricts(t, "Springfield USD")
	ts := startServer(t, func(o *Options) {
		o.Dialer = &rsync.Dialer{Demo: classlinktest.SharedDemo, ProxyRoot: srv.URL(), Token: "partner-token", Reach: loopbackReach()}
	})
	dana := ts.allow(t, "it.springfield", store.RoleDistrict, 4021)
	tm := ts.connect(t, dana, "dana", 100, 30)
	tm.wait("ClassLink · Springfield USD")
	tm.keys("down", "enter") // + Add a district…
	tm.wait("Add a district")
	tm.keys("4021", "tab", "6", "tab")
	tm.wait("6 is not District Tenant ID 4021's")
	tm.wait("application_id 5")
	tm.keys("enter", "enter")
	tm.wait("6 is not District Tenant ID 4021's")
	if _, err := ts.db.District(4021); err == nil {
		t.Fatal("a district user added their tenant with another district's application_id")
	}
	tm.keys("ctrl+c")
	tm.exit()

	// Stored before the check existed: the dial refuses it before the
	// token goes anywhere, in the test, the school list and a preview.
	bad := store.NewDistrict(4021, 6, "Springfield USD")
	bad.Connection = store.Connection{Mode: store.ModeProxy, BaseURL: srv.URL() + "/6/ims/oneroster/v1p1/"}
	bad.Schools = []string{"org-1"}
	if _, _, err := ts.db.SaveDistrict(bad, 0, store.Actor{User: "ops"}, nil); err != nil {
		t.Fatal(err)
	}
	tm = ts.connect(t, dana, "dana", 120, 30)
	tm.wait("Springfield USD")
	tm.keys("enter")
	tm.wait("Setup checklist")
	tm.keys("t")
	tm.wait("the partner token is not sent")
	tm.keys("m", "down", "down", "enter") // Preview sync
	tm.wait("Preview failed (ClassLink refused the connection)")
	tm.keys("d") // the technical detail
	tm.wait("application_id 5")
	for _, r := range srv.Requests() {
		if r.Endpoint != "applications" {
			t.Fatalf("the partner token was sent for %s", r.Path)
		}
	}
}

func TestSSHWithoutClassLinksListOnlyASpecialistSetsAnApplicationID(t *testing.T) {
	ts := startServer(t, nil) // no partner token
	dana := ts.allow(t, "it.springfield", store.RoleDistrict, 4021)
	tm := ts.connect(t, dana, "dana", 100, 30)
	tm.wait("Choose a district")
	tm.keys("down", "enter")
	tm.wait("Add a district")
	tm.keys("4021", "tab", "5", "tab")
	tm.wait("only an onboarding specialist can set")
	tm.keys("enter")
	tm.wait("only an onboarding specialist can set")
	if _, err := ts.db.District(4021); err == nil {
		t.Fatal("a district user set an application_id with nothing to check it against")
	}
	tm.keys("ctrl+c")
	tm.exit()

	ana := ts.allow(t, "ana.lopez", store.RoleSpecialist)
	tm = ts.connect(t, ana, "ana", 100, 30)
	tm.wait("Choose a district")
	tm.keys("down", "enter")
	tm.wait("Add a district")
	tm.keys("4021", "tab", "5", "tab", "Springfield USD", "enter")
	tm.wait("Setup checklist")
	audit, err := ts.db.Audit(4021)
	if err != nil || len(audit) != 1 || !slices.ContainsFunc(audit[0].Notes, func(n string) bool {
		return strings.Contains(n, "application_id 5 set by a specialist without ClassLink's list")
	}) || audit[0].Actor.Key != "ana.lopez" {
		t.Fatalf("audit = %+v %v", audit, err)
	}
}

// A redirect ends the request, whichever way it points, and the token or
// signature never follows it.
func TestSSHRedirectsAreNotFollowed(t *testing.T) {
	var mu sync.Mutex
	var trapped []string
	trap := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		trapped = append(trapped, r.Header.Get("Authorization"))
		mu.Unlock()
	}))
	defer trap.Close()
	redirector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, trap.URL+r.URL.Path, http.StatusTemporaryRedirect) // same host, another port
	}))
	defer redirector.Close()
	ts := startServer(t, func(o *Options) { o.Dialer = &rsync.Dialer{Demo: classlinktest.SharedDemo, Reach: loopbackReach()} })
	d := store.NewDistrict(4021, 5, "Springfield USD")
	d.Connection = store.Connection{Mode: store.ModeOAuth1, BaseURL: redirector.URL + "/ims/oneroster/v1p1/", ClientID: "k", ClientSecret: "signing-secret", SignatureMethod: store.HMACSHA256}
	if _, _, err := ts.db.SaveDistrict(d, 0, store.Actor{User: "ops"}, nil); err != nil {
		t.Fatal(err)
	}
	ana := ts.allow(t, "ana.lopez", store.RoleSpecialist)
	tm := ts.connect(t, ana, "ana", 250, 30)
	tm.wait("Springfield USD")
	tm.keys("enter")
	tm.wait("Setup checklist")
	tm.keys("t")
	tm.wait("ClassLink answered with a redirect to " + trap.URL + "/ims/oneroster/v1p1/")
	mu.Lock()
	defer mu.Unlock()
	if len(trapped) != 0 {
		t.Fatalf("a redirect was followed with %q", trapped)
	}
}

// Over SSH a roster URL pointing at the server's own network is refused on
// the screen, at Review (however the draft got there), and when a preview
// dials; nothing connects, and the words do not tell an open port from a
// closed one.
func TestSSHLoopbackAndPrivateURLsAreRefusedEverywhere(t *testing.T) {
	srv := twoDistricts(t, "Springfield USD")
	for _, tc := range []struct {
		name  string
		reach *rsync.Reach
		rule  string
	}{
		{"default allow-list", nil, `it is not on the roster host allow-list (*.oneroster.com`},
		{"loopback listed but not allowed", &rsync.Reach{Hosts: []string{"127.0.0.1", "*.oneroster.com"}}, "it is a loopback address"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ts := startServer(t, func(o *Options) { o.Dialer = &rsync.Dialer{Demo: classlinktest.SharedDemo, Reach: tc.reach} })
			d := store.NewDistrict(4021, 5, "Springfield USD")
			d.Schools = []string{"org-1"}
			saved, _, err := ts.db.SaveDistrict(d, 0, store.Actor{User: "ops"}, nil)
			if err != nil {
				t.Fatal(err)
			}
			dana := ts.allow(t, "it.springfield", store.RoleDistrict, 4021)
			refused := `this server does not connect to "127.0.0.1": ` + tc.rule

			// The screen.
			tm := ts.connect(t, dana, "dana", 200, 30)
			tm.wait("Springfield USD")
			tm.keys("enter", "m", "down", "enter", "down")
			tm.keys(srv.BaseURL())
			tm.wait(refused)
			tm.keys("ctrl+c", "d", "y") // quit, discarding the draft (d asks again)
			tm.exit()

			// Review and save, from a draft left by an older version.
			draft := saved
			draft.Connection = store.Connection{Mode: store.ModeOAuth1, BaseURL: srv.BaseURL(), ClientID: "spring-key", ClientSecret: "spring-secret", SignatureMethod: store.HMACSHA256}
			if err := ts.db.PutDraft(store.Draft{User: "key:it.springfield", TenantID: 4021, Screen: "review", Base: saved, District: draft}); err != nil {
				t.Fatal(err)
			}
			tm = ts.connect(t, dana, "dana", 200, 30)
			tm.wait("You left unsaved changes")
			tm.keys("enter")
			tm.wait("Review changes against revision 1")
			tm.keys("y")
			tm.wait("Not saved: " + refused)
			tm.keys("ctrl+c", "y")
			tm.exit()
			if got, _ := ts.db.District(4021); got.Connection.BaseURL != "" || got.Revision != 1 {
				t.Fatalf("saved: %+v", got.Connection)
			}

			// A preview of a revision saved some other way.
			cur, _ := ts.db.District(4021)
			cur.Connection = draft.Connection
			if _, _, err := ts.db.SaveDistrict(cur, cur.Revision, store.Actor{User: "ops"}, nil); err != nil {
				t.Fatal(err)
			}
			ts.db.DeleteDraft("key:it.springfield", 4021)
			tm = ts.connect(t, dana, "dana", 200, 30)
			tm.wait("Springfield USD")
			tm.keys("enter", "m", "down", "down", "enter")
			tm.wait("Preview failed (ClassLink refused the connection)")
			tm.keys("d") // the technical detail
			tm.wait("Detail (credentials): " + refused)
			if n := len(srv.Requests()); n != 0 {
				t.Fatalf("%d requests reached the loopback server", n)
			}
		})
	}
}

// Text far longer than any field takes is cut at the field's limit, typed
// or pasted, and the session goes on answering. (Each key costs one frame,
// about a millisecond here, so a typed flood costs time in proportion to
// its length, no longer with its square.)
func TestSSHLongInputIsCutAtTheFieldsLimit(t *testing.T) {
	ts := startServer(t, nil)
	ana := ts.allow(t, "ana.lopez", store.RoleSpecialist)
	tm := ts.connect(t, ana, "ana", 200, 30)
	tm.wait("Choose a district")
	tm.keys("/", strings.Repeat("x", 150)) // the filter
	// Every key is a frame: under -race on a busy machine that is slow.
	waitLong(tm, `No district matches "`+strings.Repeat("x", 100)+`"`)
	if strings.Contains(tm.screen(), strings.Repeat("x", 101)) {
		t.Fatal("the filter holds more than its limit")
	}
	tm.keys("ctrl+u", "\x1b[200~"+strings.Repeat("y", 20<<10)+"\x1b[201~") // a 20 KB paste
	tm.keys("ctrl+u", "zq")
	tm.wait(`No district matches "zq"`)
	if strings.Contains(tm.screen(), strings.Repeat("y", 101)) {
		t.Fatal("the paste went past the limit")
	}
	tm.keys("ctrl+u", "enter", "enter") // done filtering, then open
	tm.wait("Setup checklist")
}

// Escape sequences in a name from ClassLink reach no viewer's terminal:
// not the one who adds the district, not another session listing it.
func TestSSHControlCharactersInNamesReachNoOneElsesTerminal(t *testing.T) {
	evil := "Springfield\x1b]0;owned\x07\x1b[2J\r\nUSD"
	srv := twoDistricts(t, evil)
	ts := startServer(t, func(o *Options) {
		o.Dialer = &rsync.Dialer{Demo: classlinktest.SharedDemo, ProxyRoot: srv.URL(), Token: "partner-token", Reach: loopbackReach()}
	})
	ana := ts.allow(t, "ana.lopez", store.RoleSpecialist)
	ben := ts.allow(t, "ben.ito", store.RoleSpecialist)
	var anaRaw, benRaw syncBuffer
	tm := ts.connectWith(t, ana, "ana", 120, 30, "xterm-256color", nil, &anaRaw)
	tm.wait(`ClassLink · Springfield\x1b]0;owned\x07\x1b[2J\r\nUSD`)
	tm.keys("down", "enter") // add it from ClassLink's list
	tm.wait("Setup checklist")
	stored, err := ts.db.District(4021)
	if err != nil || strings.ContainsAny(stored.Name, "\x1b\x07\r\n") {
		t.Fatalf("stored name %q, %v", stored.Name, err)
	}
	other := ts.connectWith(t, ben, "ben", 120, 30, "xterm-256color", nil, &benRaw)
	other.wait(`Springfield\x1b]0;owned\x07\x1b[2J\r\nUSD`)
	for who, raw := range map[string]*syncBuffer{"ana": &anaRaw, "ben": &benRaw} {
		out := []byte(raw.String())
		// The renderer clears screens and sets titles itself: look for the
		// name's own sequence (it would retitle the window "owned").
		for _, seq := range []string{"\x1b]0;owned", "owned\x07"} {
			if bytes.Contains(out, []byte(seq)) {
				t.Errorf("%s's terminal received %q", who, seq)
			}
		}
	}
}

// waitLong is term.wait for screens that follow many keys.
func waitLong(tm *term, text string) {
	tm.t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) && !strings.Contains(tm.screen(), text) {
		time.Sleep(20 * time.Millisecond)
	}
	tm.wait(text)
}
