package wizard

import (
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/schoolstatus/rostersync/classlink"
	"github.com/schoolstatus/rostersync/classlink/classlinktest"
	"github.com/schoolstatus/rostersync/screens"
	"github.com/schoolstatus/rostersync/store"
	rsync "github.com/schoolstatus/rostersync/sync"
)

// rosterServer is a ClassLink-like server for district 4021 (application 5).
func rosterServer(t *testing.T) *classlinktest.Server {
	t.Helper()
	d, err := classlinktest.NewDistrict(classlinktest.Options{Seed: 7, Tier: classlinktest.TierS, DistrictName: "Springfield USD"})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := classlinktest.NewServer(classlinktest.ServerOptions{
		Tenants: []classlinktest.Tenant{
			{TenantID: 4021, ApplicationID: 5, Name: "Springfield USD", ConsumerKey: "spring-key", ConsumerSecret: "spring-secret", District: d},
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

func TestConnectionScreenSavesAndTheTestVerifiesStepOne(t *testing.T) {
	srv := rosterServer(t)
	d := newDriver(t, 80, 24)
	if _, _, err := d.db.SaveDistrict(store.NewDistrict(4021, 5, "Springfield USD"), 0, store.Actor{User: "ben"}, nil); err != nil {
		t.Fatal(err)
	}
	d = newDriverOn(t, d.db, store.Actor{User: "ana"}, 80, 24)
	d.keys("down", "enter", "m", "down", "enter") // Springfield is below the demo
	d.see("Step 3 of 8", "ClassLink connection", "(•) Roster Server, OAuth 1.0a")
	d.notSee("unsaved") // opening the form changes nothing
	d.keys("down")
	d.typeText("http://example.org/ims/oneroster/v1p1/")
	d.see("http:// is allowed only for loopback hosts")
	d.clearAndType(srv.BaseURL())
	d.notSee("http:// is allowed only")
	d.keys("tab")
	d.typeText("spring-key")
	d.keys("tab")
	d.typeText("wrong-secret")
	d.notSee("wrong-secret") // the secret is never shown
	d.keys("ctrl+n")
	d.see("Review changes against revision 1", "Client secret", "******** (changed)")
	d.notSee("wrong-secret")
	d.keys("y")
	d.see("Saved revision 2", "OAuth 1.0a HMAC-SHA256", "secret ********")

	d.keys("t")
	d.see("✗ Connection test failed: ClassLink refused the client ID and secret", "d shows the technical detail")
	d.notSee("credentials rejected") // the technical detail waits for d
	d.keys("d")
	d.see("Detail (credentials):", "credentials rejected")
	d.keys("esc")
	got, _ := d.db.District(4021)
	if got.Checklist[store.StepRosteringApp].Done {
		t.Fatal("a failed test marked step 1")
	}

	// Fix the secret: an empty secret field keeps the stored one, so type
	// the right one.
	d.keys("m", "down", "enter", "tab", "tab", "tab")
	d.typeText("spring-secret")
	d.keys("ctrl+n", "y")
	d.see("Saved revision 3")
	d.keys("t")
	d.see("✓ Connected in", "The connection works: step 1 is verified.", "[x] 1. Rostering app shared and enabled in ClassLink ✓ verified")
	d.notSee("x-perm-rev", "upstream")
	got, _ = d.db.District(4021)
	if !got.Checklist[store.StepRosteringApp].Verified || got.Connection.ClientSecret != "spring-secret" {
		t.Fatalf("after a passing test: %+v", got.Checklist[store.StepRosteringApp])
	}
}

func TestProxyModeUsesTheTemplateAndThePartnerToken(t *testing.T) {
	srv := rosterServer(t)
	t.Setenv(rsync.ProxyRootEnv, srv.URL())
	t.Setenv(classlink.TokenEnv, "partner-token")
	d := newDriver(t, 80, 24)
	// ClassLink's list of districts shows up in the dropdown.
	d.see("ClassLink · Springfield USD", "Tenant 4021 · application_id 5 · not added yet")
	d.keys("/")
	d.typeText("spring")
	d.keys("enter", "enter")
	d.see("Step 2 of 8", "Springfield USD", "ClassLink proxy · "+srv.URL()+"/5/ims/oneroster/v1p1/")
	d.keys("t")
	d.see("✓ Connected in", "step 1 is verified")
	d.keys("m", "down", "enter")
	d.see("(•) ClassLink proxy", "ROSTERSYNC_CLASSLINK_TOKEN")
	d.notSee("partner-token")
	d.keys("esc", "esc", "esc")
	d.see("Choose a district", "Springfield USD")
	d.notSee("ClassLink · Springfield USD") // it is stored now

	// A district ClassLink lists but nobody added is still offered after
	// leaving another district.
	d.see("ClassLink · Shelbyville USD")
}

func TestDemoConnectionTestNeedsNoCredentials(t *testing.T) {
	d := newDriver(t, 80, 24)
	d.keys("enter", "t")
	d.see("✓ Connected in", "first school", "step 1 is verified")
	d.keys("m", "down", "enter")
	d.see("nothing to set up")
}

// The partner token opens every district: it must never leave for a URL a
// person typed, nor may an SSH session make the server call its own
// loopback services.
func TestThePartnerTokenOnlyGoesToThisDistrictsProxyURL(t *testing.T) {
	var mu sync.Mutex
	var seen []string
	trap := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.Header.Get("Authorization"))
		mu.Unlock()
		w.WriteHeader(http.StatusUnauthorized)
	}))
	defer trap.Close()
	srv := rosterServer(t)
	t.Setenv(rsync.ProxyRootEnv, srv.URL())
	t.Setenv(classlink.TokenEnv, "partner-token")

	d := newDriver(t, 80, 24)
	if _, _, err := d.db.SaveDistrict(store.NewDistrict(4021, 5, "Springfield USD"), 0, store.Actor{User: "ops"}, nil); err != nil {
		t.Fatal(err)
	}
	d = newDriverOn(t, d.db, store.Actor{User: "ben"}, 80, 24)
	d.keys("down", "enter") // Springfield is below the demo, above ClassLink's entries
	d.see("Springfield USD")
	d.keys("m", "down", "enter", "space") // proxy mode
	d.see("(•) ClassLink proxy", srv.URL()+"/5/ims/oneroster/v1p1/", "it cannot be typed")
	d.keys("down")
	d.typeText("x")
	d.see(srv.URL() + "/5/ims/oneroster/v1p1/") // nothing to type into
	d.notSee("v1p1/x")
	d.keys("esc", "esc")

	// A proxy URL stored some other way (an older version, a hand-made
	// file): pointing elsewhere, or at another district's application.
	for _, stored := range []string{trap.URL + "/5/ims/oneroster/v1p1/", srv.URL() + "/6/ims/oneroster/v1p1/", srv.URL() + "/5/ims/oneroster/v1p2/"} {
		cur, _ := d.db.District(4021)
		cur.Connection = store.Connection{Mode: store.ModeProxy, BaseURL: stored}
		if _, _, err := d.db.SaveDistrict(cur, cur.Revision, store.Actor{User: "ops"}, nil); err != nil {
			t.Fatal(err)
		}
		d = newDriverOn(t, d.db, store.Actor{User: "ana"}, 80, 24)
		d.keys("down", "enter", "t")
		d.see("Connection test failed", "ClassLink proxy URL is built from the proxy root")
		d.keys("m", "enter", "enter", "down", "enter") // and the school list
		d.see("Could not list the schools: A ClassLink proxy URL is built")
	}
	mu.Lock()
	defer mu.Unlock()
	if len(seen) != 0 {
		t.Fatalf("requests reached a stored URL off the proxy: %q", seen)
	}
	for _, r := range srv.Requests() {
		if r.Endpoint != "applications" {
			t.Fatalf("the partner token went to %s", r.Path)
		}
	}
}

// The partner token opens every district that shared the app: a district
// whose application_id is another district's is refused before the token
// is sent, naming both IDs, and a district user cannot add one.
func TestAnotherDistrictsApplicationIDIsRefused(t *testing.T) {
	srv := rosterServer(t) // ClassLink lists 4021 → 5 and 4022 → 6
	t.Setenv(rsync.ProxyRootEnv, srv.URL())
	t.Setenv(classlink.TokenEnv, "partner-token")
	db := newDriver(t, 80, 24).db
	dana := Options{Actor: store.Actor{User: "dana", Key: "dana", Via: "ssh"}, Role: store.RoleDistrict,
		CanOpen: func(id int64) bool { return id == 4021 }}
	d := newDriverWith(t, db, dana, 80, 24)
	d.see("ClassLink · Springfield USD")
	d.keys("down", "enter") // + Add a district…
	d.typeText("4021")
	d.keys("tab")
	d.typeText("6")
	d.keys("tab")
	d.see("6 is not District Tenant ID 4021's", "application_id 5")
	d.keys("enter")
	if _, err := db.District(4021); err == nil {
		t.Fatal("a district user added their tenant with another district's application_id")
	}

	// Stored before this check existed: the dial refuses it.
	bad := store.NewDistrict(4021, 6, "Springfield USD")
	bad.Connection = store.Connection{Mode: store.ModeProxy, BaseURL: srv.URL() + "/6/ims/oneroster/v1p1/"}
	if _, _, err := db.SaveDistrict(bad, 0, store.Actor{User: "ops"}, nil); err != nil {
		t.Fatal(err)
	}
	d = newDriverWith(t, db, dana, 80, 24)
	d.keys("up", "enter", "t")
	d.see("Connection test failed", "has application_id", "application_id 5: the partner token is not sent")
	d.keys("m", "enter", "enter", "down", "enter")
	d.see("Could not list the schools", "has application_id 6")
	for _, r := range srv.Requests() {
		if r.Endpoint != "applications" {
			t.Fatalf("the partner token was sent for %s", r.Path)
		}
	}
}

// A server's sessions reach only roster hosts on its allow-list, at
// addresses that are not its own network's, checked as the person types,
// at Review and at the dial.
func TestTheServerReachesOnlyItsRosterHosts(t *testing.T) {
	srv := rosterServer(t)
	db := newDriver(t, 80, 24).db
	dist := store.NewDistrict(4021, 5, "Springfield USD")
	if _, _, err := db.SaveDistrict(dist, 0, store.Actor{User: "ops"}, nil); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		hosts []string
		want  string
	}{
		{nil, `it is not on the roster host allow-list`},
		{[]string{"127.0.0.1"}, `it is a loopback address`},
	} {
		dialer := &rsync.Dialer{Reach: &rsync.Reach{Hosts: rsync.RosterHosts(tc.hosts, "")}}
		d := newDriverWith(t, db, Options{Actor: store.Actor{User: "dana", Key: "dana", Via: "ssh"}, Dialer: dialer}, 200, 30)
		d.keys("down", "enter", "m", "down", "enter", "down")
		d.typeText(srv.BaseURL())
		d.keys("tab")
		d.typeText("spring-key")
		d.keys("tab")
		d.typeText("spring-secret")
		refused := `this server does not connect to "127.0.0.1": ` + tc.want
		d.see(refused)
		d.keys("esc", "esc", "t")
		d.see("Connection test failed: T" + refused[1:])
		d.keys("m", "enter", "enter", "down", "enter") // the school list
		d.see("Could not list the schools: T" + refused[1:])
		d.keys("esc", "esc", "esc", "esc")
		d.see("Setup checklist")
		d.keys("m", "down", "enter", "ctrl+n") // the connection screen does not let it through
		d.notSee("Review changes")
		// However the draft reaches Review, the save is refused.
		d.m.Update(screens.OpenMsg{ID: screens.ReviewScreen})
		d.see("Review changes")
		d.keys("y")
		d.see("Not saved: " + refused)
		if got, _ := db.District(4021); got.Connection.BaseURL != "" {
			t.Fatalf("saved %q", got.Connection.BaseURL)
		}
		db.DeleteDraft("key:dana", 4021)
	}
	if n := len(srv.Requests()); n != 0 {
		t.Fatalf("%d requests reached the loopback server from an SSH session", n)
	}
}

func TestOpeningTheConnectionScreenChangesNothing(t *testing.T) {
	d := newDriver(t, 80, 24)
	dist := store.NewDistrict(4021, 5, "Springfield USD")
	// A proxy connection with leftovers an import may carry.
	dist.Connection = store.Connection{Mode: store.ModeProxy, BaseURL: "https://oneroster-proxy.classlink.io/5/ims/oneroster/v1p1/", ClientID: "old", SignatureMethod: store.HMACSHA1}
	if _, _, err := d.db.SaveDistrict(dist, 0, store.Actor{User: "ops"}, nil); err != nil {
		t.Fatal(err)
	}
	d = newDriverOn(t, d.db, store.Actor{User: "ana"}, 80, 24)
	d.keys("down", "enter", "m", "down", "enter")
	d.see("(•) ClassLink proxy")
	d.keys("down", "down", "esc")
	d.notSee("unsaved")
	d.keys("ctrl+c")
	if !d.m.quitting {
		t.Fatal("quit asked about changes nobody made")
	}
}

// openedWithAnotherKey is a database holding Springfield's connection to
// srv, sealed with one secrets key and opened with another: its client
// secret cannot be decrypted.
func openedWithAnotherKey(t *testing.T, srv *classlinktest.Server) *store.DB {
	t.Helper()
	dir := t.TempDir()
	db, err := store.Open(filepath.Join(dir, "r.db"), store.Options{SecretsKey: filepath.Join(dir, "a.key")})
	if err != nil {
		t.Fatal(err)
	}
	dist := store.NewDistrict(4021, 5, "Springfield USD")
	dist.Connection = store.Connection{Mode: store.ModeOAuth1, BaseURL: srv.BaseURL(), ClientID: "spring-key", ClientSecret: "spring-secret", SignatureMethod: store.HMACSHA256}
	if _, _, err := db.SaveDistrict(dist, 0, store.Actor{User: "ops"}, nil); err != nil {
		t.Fatal(err)
	}
	db.Close()
	db, err = store.Open(filepath.Join(dir, "r.db"), store.Options{SecretsKey: filepath.Join(dir, "b.key")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// A database opened with another secrets key shows which secret to enter
// again, tests fail with that reason, and typing it again works.
func TestASecretTheKeyCannotOpenIsEnteredAgain(t *testing.T) {
	srv := rosterServer(t)
	db := openedWithAnotherKey(t, srv)
	d := newDriverOn(t, db, store.Actor{User: "ana"}, 120, 30)
	d.keys("enter")
	d.see("Springfield USD", "secret cannot be decrypted: enter it again")
	d.keys("t")
	d.see("Connection test failed", "District 4021", "connection.client_secret")
	d.keys("m", "down", "enter")
	d.see("cannot be decrypted; type it again")
	d.keys("ctrl+n")
	d.see("cannot be decrypted with this rostersync's secrets key")
	d.notSee("Review changes")
	d.typeText("spring-secret")
	d.keys("ctrl+n", "y", "t")
	d.see("Revision 2 · saved by ana", "✓ Connected in")
	d.notSee("cannot be decrypted")
}

// A connection test shows how long it may take, and when ClassLink keeps
// answering 429 it says so and when to try again.
func TestConnectionTestUnderARateLimit(t *testing.T) {
	srv := rosterServer(t)
	d := newDriver(t, 80, 24)
	district := store.NewDistrict(4021, 5, "Springfield USD")
	district.Connection = store.Connection{Mode: store.ModeOAuth1, BaseURL: srv.BaseURL(), ClientID: "spring-key", ClientSecret: "spring-secret", SignatureMethod: store.HMACSHA256}
	if _, _, err := d.db.SaveDistrict(district, 0, store.Actor{User: "ben"}, nil); err != nil {
		t.Fatal(err)
	}
	d = newDriverOn(t, d.db, store.Actor{User: "ana"}, 80, 24)
	d.keys("down", "enter")
	d.see("Step 2 of 8", "Springfield USD")
	srv.Inject(classlinktest.Fault{Kind: classlinktest.FaultRateLimit, Endpoint: "schools", RetryAfter: "299"})
	_, test := d.m.Update(keyPress("t"))
	d.see("Testing the connection to ClassLink (up to 1m30s)", "esc cancels")
	d.run(test, 0)
	d.see("Connection test failed: ClassLink is limiting requests right now: try the", "test again after")
	d.keys("d")
	d.see("ClassLink is rate-limiting requests (HTTP 429)", "within 1m30s; try again after")
	got, _ := d.db.District(4021)
	if got.Checklist[store.StepRosteringApp].Verified {
		t.Fatal("a rate-limited test verified step 1")
	}
}

// What a roster server says in an error reaches the screen as text: its
// escape sequences never drive the terminal of whoever tests the
// connection.
func TestARosterServersWordsAreShownNotObeyed(t *testing.T) {
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "\x1b]0;owned\x07\x1b[2J\x1b[31mfake: enter your client secret again", http.StatusUnauthorized)
	}))
	t.Cleanup(evil.Close)
	d := newDriver(t, 100, 30)
	if _, _, err := d.db.SaveDistrict(store.NewDistrict(4021, 5, "Springfield USD"), 0, store.Actor{User: "ben"}, nil); err != nil {
		t.Fatal(err)
	}
	d = newDriverOn(t, d.db, store.Actor{User: "ana"}, 100, 30)
	d.keys("down", "enter", "m", "down", "enter", "down")
	d.typeText(evil.URL + "/ims/oneroster/v1p1/")
	d.keys("tab")
	d.typeText("spring-key")
	d.keys("tab")
	d.typeText("spring-secret")
	d.keys("ctrl+n", "y")
	d.see("Saved revision 2")
	d.keys("t")
	d.see("✗ Connection test failed")
	d.keys("d")
	d.see("Detail (credentials):", `\x1b[31mfake: enter your client`)
	if raw := d.m.Render(); strings.Contains(raw, "\x1b]0;owned") || strings.Contains(raw, "\x1b[2J") {
		t.Fatalf("the server's escape sequences reach the terminal: %q", raw)
	}
}

// Accessible mode applies the connection form's rule to a stored client
// secret the secrets key cannot open: enter does not keep it; it is typed
// again.
func TestAccessibleSecretTheKeyCannotOpenIsEnteredAgain(t *testing.T) {
	srv := rosterServer(t)
	db := openedWithAnotherKey(t, srv)
	text, err := runAccessible(t, db,
		"1",      // Springfield USD
		"3", "1", // ClassLink connection: the Roster Server
		"", "", // the URL and client ID as they are
		"",              // enter: the stored secret cannot be opened
		"spring-secret", // typed again
		"",              // the signature method as it is
		"9", "y",        // Review and save, yes
		"9", // Quit
	)
	if err != nil {
		t.Fatalf("%v\n%s", err, text)
	}
	mustSay(t, text, "the stored client secret cannot be decrypted with this rostersync's secrets key", "Saved revision 2.")
	if strings.Contains(text, "spring-secret") {
		t.Fatal("the secret was printed")
	}
	if got, _ := db.District(4021); got.Connection.ClientSecret != "spring-secret" {
		t.Fatalf("client secret saved: %v", got.Connection.Masked())
	}
}
