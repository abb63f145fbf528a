package sync

import (
	"context"
	"net/http"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/schoolstatus/rostersync/classlink"
	"github.com/schoolstatus/rostersync/classlink/classlinktest"
	"github.com/schoolstatus/rostersync/store"
)

// tierT is small enough for -race and has two schools: 200 students with
// 3 classes each, 300 guardians (1 or 2 per student), 16 staff.
var tierT = classlinktest.Tier{Name: "T", Schools: 2, Students: 200, Staff: 16, Guardians: 300,
	Courses: 4, Classes: 20, Enrollments: 620}

const (
	testTenant int64 = 9
	testApp    int64 = 90
)

// fixture is one district served by classlinktest over loopback HTTP and a
// real bbolt file with the district saved, oauth1 to that server.
type fixture struct {
	t       *testing.T
	db      *store.DB
	srv     *classlinktest.Server
	roster  *classlinktest.District
	engine  *Engine
	timeout time.Duration
	// pageSize is the client's page size; 0 is classlink's default.
	pageSize int
	// onRequest, when set, sees every request to ClassLink before it goes.
	onRequest func(*http.Request)
}

type requestHook struct {
	fn func(*http.Request)
}

func (h requestHook) RoundTrip(r *http.Request) (*http.Response, error) {
	h.fn(r)
	return http.DefaultTransport.RoundTrip(r)
}

type fixtureOptions struct {
	tier classlinktest.Tier
	mess classlinktest.Mess
	edit func(*store.District) // adjust the saved district before the first save
	// clock stamps the store's saves; nil is the real clock.
	clock func() time.Time
}

func newFixture(t *testing.T, opt fixtureOptions) *fixture {
	t.Helper()
	if opt.tier.Name == "" {
		opt.tier = tierT
	}
	roster, err := classlinktest.NewDistrict(classlinktest.Options{Seed: 7, Tier: opt.tier, Mess: opt.mess})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := classlinktest.NewServer(classlinktest.ServerOptions{Tenants: []classlinktest.Tenant{{
		TenantID: testTenant, ApplicationID: testApp, Name: "Test USD",
		ConsumerKey: "test-key", ConsumerSecret: "test-secret-value", District: roster}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	db, err := store.Open(filepath.Join(t.TempDir(), "rostersync.db"), store.Options{Clock: opt.clock})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	d := store.NewDistrict(testTenant, testApp, "Test USD")
	d.Connection = store.Connection{Mode: store.ModeOAuth1, BaseURL: srv.BaseURL(), ClientID: "test-key",
		ClientSecret: "test-secret-value", SignatureMethod: store.HMACSHA256}
	d.Schools = roster.SchoolIDs()
	d.Settings.DeletionThresholdPercent = 100
	if opt.edit != nil {
		opt.edit(&d)
	}
	// Tests that turn the daily sync on say they confirmed the guide's warning.
	if _, _, err := db.SaveDistrict(d, 0, store.Actor{User: "test"}, []string{store.NoteEnabledBeforeSelfCheck}); err != nil {
		t.Fatal(err)
	}
	f := &fixture{t: t, db: db, srv: srv, roster: roster, timeout: 5 * time.Second}
	f.engine = &Engine{DB: db, Dial: f.dial, BatchSize: 100}
	return f
}

// dial is the production Dialer without the waits between retries.
func (f *fixture) dial(ctx context.Context, d store.District) (*classlink.Client, error) {
	cfg, err := (&Dialer{}).Config(ctx, d)
	if err != nil {
		return nil, err
	}
	cfg.Sleep = func(ctx context.Context, _ time.Duration) error { return ctx.Err() }
	cfg.RequestTimeout = f.timeout
	cfg.MaxAttempts = 3
	cfg.PageSize = f.pageSize
	if f.onRequest != nil {
		cfg.HTTPClient = &http.Client{Transport: requestHook{f.onRequest}}
	}
	return classlink.New(cfg)
}

func (f *fixture) run(opt RunOptions) store.Run {
	f.t.Helper()
	res, err := f.engine.Run(context.Background(), testTenant, opt)
	if err != nil {
		f.t.Fatal(err)
	}
	return res.Run
}

// mustSucceed runs and fails the test unless the run succeeded.
func (f *fixture) mustSucceed() store.Run {
	f.t.Helper()
	r := f.run(RunOptions{})
	if r.Status != store.RunSucceeded {
		f.t.Fatalf("run %s: %s (%s) %s", r.ID, r.Status, r.Reason, r.Message)
	}
	return r
}

// editDistrict saves a new revision of the district.
func (f *fixture) editDistrict(edit func(*store.District)) {
	f.t.Helper()
	d, err := f.db.District(testTenant)
	if err != nil {
		f.t.Fatal(err)
	}
	edit(&d)
	if _, _, err := f.db.SaveDistrict(d, d.Revision, store.Actor{User: "test"}, []string{store.NoteEnabledBeforeSelfCheck}); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fixture) user(id string) store.DirectoryUser {
	f.t.Helper()
	u, err := f.db.DirectoryUser(testTenant, id)
	if err != nil {
		f.t.Fatal(err)
	}
	return u
}

func (f *fixture) classroom(id string) store.Classroom {
	f.t.Helper()
	c, err := f.db.DirectoryClassroom(testTenant, id)
	if err != nil {
		f.t.Fatal(err)
	}
	return c
}

// rosterUser is the served record of a user.
func (f *fixture) rosterUser(id string) classlinktest.User {
	f.t.Helper()
	r, ok := f.roster.Get(classlinktest.Users, id)
	if !ok {
		f.t.Fatalf("roster has no user %s", id)
	}
	return r.(classlinktest.User)
}

// enrollmentsOf counts the served active enrollments of a user or class.
func (f *fixture) enrollmentsOf(userID, classID string) int {
	n := 0
	for _, r := range f.roster.Records(classlinktest.Enrollments, 0, 1<<30) {
		e := r.(classlinktest.Enrollment)
		if e.Status == "active" && (userID == "" || e.User == userID) && (classID == "" || e.Class == classID) {
			n++
		}
	}
	return n
}

// directory is everything the store holds for the district, comparable.
type directory struct {
	Users       []store.DirectoryUser
	Classrooms  []store.Classroom
	Memberships []store.Membership
	Schools     []store.School
}

func dumpDirectory(t *testing.T, db *store.DB, tenant int64) directory {
	t.Helper()
	var d directory
	err := db.EachDirectoryUser(tenant, func(u store.DirectoryUser) error { d.Users = append(d.Users, u); return nil })
	if err == nil {
		err = db.EachClassroom(tenant, func(c store.Classroom) error { d.Classrooms = append(d.Classrooms, c); return nil })
	}
	if err == nil {
		err = db.EachMembership(tenant, func(m store.Membership) error { d.Memberships = append(d.Memberships, m); return nil })
	}
	if err == nil {
		err = db.EachDirectorySchool(tenant, func(s store.School) error { d.Schools = append(d.Schools, s); return nil })
	}
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func (d directory) equal(o directory) bool {
	return slices.EqualFunc(d.Users, o.Users, usersEqual) && slices.Equal(d.Classrooms, o.Classrooms) &&
		slices.Equal(d.Memberships, o.Memberships) && slices.Equal(d.Schools, o.Schools)
}

func usersEqual(a, b store.DirectoryUser) bool {
	return a.SourcedID == b.SourcedID && a.Kind == b.Kind && a.RoleGroup == b.RoleGroup && a.GivenName == b.GivenName &&
		a.FamilyName == b.FamilyName && a.Email == b.Email && a.Mobile == b.Mobile && a.HomePhone == b.HomePhone &&
		a.Joined == b.Joined && a.Status == b.Status && a.Managed == b.Managed && a.Language == b.Language && a.Source == b.Source &&
		slices.Equal(a.Permissions, b.Permissions) && slices.Equal(a.GuardianOf, b.GuardianOf)
}
