package classlinktest

import (
	"bytes"
	"math"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

func district(t testing.TB, seed uint64, tier Tier) *District {
	t.Helper()
	d, err := NewDistrict(Options{Seed: seed, Tier: tier, Mess: DefaultMess()})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// encode writes records as the server does, with every field.
func encode(recs []Record) []byte {
	var b []byte
	for _, r := range recs {
		b = r.appendJSON(b, allFields, "/ims/oneroster/v1p1")
		b = append(b, '\n')
	}
	return b
}

func TestGeneratorIsDeterministic(t *testing.T) {
	for _, c := range AllCollections {
		a := encode(district(t, 7, TierS).Records(c, 0, 5000))
		b := encode(district(t, 7, TierS).Records(c, 0, 5000))
		if !bytes.Equal(a, b) {
			t.Errorf("%s: same seed, different bytes", c)
		}
		if c == Users || c == Enrollments {
			if bytes.Equal(a, encode(district(t, 8, TierS).Records(c, 0, 5000))) {
				t.Errorf("%s: different seeds, same bytes", c)
			}
		}
	}
	// Record i does not depend on what was generated before it.
	d := district(t, 7, TierM)
	whole := d.Records(Users, 0, 30000)
	if got := d.Records(Users, 23456, 1)[0]; !bytes.Equal(encode([]Record{got}), encode(whole[23456:23457])) {
		t.Error("record 23456 differs when generated alone")
	}
}

func TestSourcedIDsSortInIndexOrder(t *testing.T) {
	d := district(t, 1, TierS)
	for _, c := range AllCollections {
		recs := d.Records(c, 0, d.Len(c))
		if len(recs) != d.Len(c) || len(recs) != d.gen.count(c) {
			t.Fatalf("%s: %d records, Len %d", c, len(recs), d.Len(c))
		}
		for i, r := range recs {
			if i > 0 && recs[i-1].ID() >= r.ID() {
				t.Fatalf("%s: %q before %q", c, recs[i-1].ID(), r.ID())
			}
			if j, ok := d.gen.index(c, r.ID()); !ok || j != i {
				t.Fatalf("%s: index(%q) = %d, %v", c, r.ID(), j, ok)
			}
		}
	}
	for _, bad := range []string{"usr", "usr-000001", "usr+000001", "usr00000001", "usr9999999", "org00001x"} {
		if _, ok := d.gen.index(Users, bad); ok {
			t.Errorf("index(%q) accepted", bad)
		}
	}
}

func TestTierShapes(t *testing.T) {
	for _, tier := range []Tier{TierS, TierM, TierL} {
		if err := tier.validate(); err != nil {
			t.Errorf("%s: %v", tier.Name, err)
		}
	}
	d := district(t, 3, TierM)
	g := d.gen
	if got := d.Len(Users); got != 1600+20000+30000 {
		t.Errorf("M users = %d", got)
	}
	if got := d.Len(Enrollments); got != 160000 {
		t.Errorf("M enrollments = %d", got)
	}
	// Every class has a teacher of its own school; every student
	// enrollment is in a class of the student's school.
	classes := d.Records(Classes, 0, TierM.Classes)
	for e := 0; e < TierM.Classes; e += 97 {
		en := g.enrollment(e).(Enrollment)
		teacher := g.user(g.teacherOf(e)).(User)
		if en.Role != "teacher" || !slices.Contains(teacher.RoleNames(), "teacher") || !slices.Contains(teacher.Orgs, en.School) ||
			classes[e].(Class).School != en.School {
			t.Fatalf("teacher enrollment %d = %+v, teacher %+v", e, en, teacher)
		}
	}
	perStudent := map[string]int{}
	for _, r := range d.Records(Enrollments, TierM.Classes, 160000) {
		en := r.(Enrollment)
		perStudent[en.User]++
		if i, _ := g.index(Classes, en.Class); classes[i].(Class).School != en.School {
			t.Fatalf("enrollment %s crosses schools", en.SourcedID)
		}
	}
	if len(perStudent) != TierM.Students {
		t.Errorf("%d students enrolled, want all %d", len(perStudent), TierM.Students)
	}
	// Each school's staff includes every role group.
	groups := map[string]bool{}
	for _, r := range d.Records(Users, 0, TierM.Staff) {
		for _, role := range r.(User).RoleNames() {
			groups[role] = true
		}
	}
	for _, role := range []string{"administrator", "districtAdministrator", "systemAdministrator", "siteAdministrator",
		"principal", "counselor", "teacher", "aide", "proctor"} {
		if !groups[role] {
			t.Errorf("no staff with role %s", role)
		}
	}
}

// RoleNames mirrors the client's view for the checks above.
func (u User) RoleNames() []string {
	var out []string
	if u.Role != "" {
		out = append(out, u.Role)
	}
	for _, r := range u.Roles {
		out = append(out, r.Role)
	}
	return out
}

var validPhone = regexp.MustCompile(`^(?:\+1 ?|1-)?\(?([2-9]\d\d)\)?[ .-]?([2-9]\d\d)[ .-]?(\d{4})(?: (?:x|ext\.?) \d+| x\d+)?$`)

func TestMessRatesAreRespected(t *testing.T) {
	d := district(t, 11, TierM)
	mess := DefaultMess()
	users := d.Records(Users, 0, d.Len(Users))
	var (
		n, textEnabled, tbd, phones, badPhones, ext                       int
		staff, staff12, guardians, noContact, dupEmail, dangling, parents int
		emails                                                            = map[string]int{}
	)
	ids := map[string]bool{}
	for _, r := range users {
		ids[r.ID()] = true
	}
	oneSided := 0
	agentsOf := map[string][]string{}
	for _, r := range users {
		u := r.(User)
		n++
		if u.EnabledUserText != "" {
			textEnabled++
		}
		if u.Status == "tobedeleted" {
			tbd++
		}
		for _, p := range []string{u.SMS, u.Phone} {
			if p == "" {
				continue
			}
			phones++
			if !validPhone.MatchString(p) {
				badPhones++
			} else if strings.Contains(p, "x") {
				ext++
			}
		}
		for _, a := range u.Agents {
			if !ids[a] {
				dangling++
			}
		}
		agentsOf[u.SourcedID] = u.Agents
		switch u.Kind {
		case KindStaff:
			staff++
			if len(u.Roles) > 0 && u.Roles[0].Role != "counselor" {
				staff12++
			}
		case KindGuardian:
			guardians++
			if u.Role == "parent" {
				parents++
			}
			if u.Email == "" && u.SMS == "" {
				noContact++
			}
			if u.Email != "" {
				emails[u.Email]++
			}
		}
	}
	for _, r := range users[TierM.Staff+TierM.Students:] {
		g := r.(User)
		if len(g.Agents) == 0 || !slices.Contains(agentsOf[g.Agents[0]], g.SourcedID) {
			oneSided++ // counts guardian-side-only and student-side-only links once each
		}
	}
	for _, c := range emails {
		if c > 1 {
			dupEmail += c - 1
		}
	}
	rate := func(k, of int) float64 { return float64(k) / float64(of) }
	check := func(name string, got, want float64) {
		t.Helper()
		if math.Abs(got-want) > 0.25*want+0.002 {
			t.Errorf("%s rate %.4f, want about %.4f", name, got, want)
		}
	}
	check("enabledUser as string", rate(textEnabled, n), mess.EnabledUserString)
	check("tobedeleted", rate(tbd, n), mess.ToBeDeleted)
	check("invalid phone", rate(badPhones, phones), mess.InvalidPhone)
	check("phone extension", rate(ext, phones), mess.PhoneExtension*(1-mess.InvalidPhone))
	check("guardian without contact", rate(noContact, guardians), mess.GuardianNoContact)
	check("duplicate guardian email", rate(dupEmail, guardians), mess.DuplicateGuardianEmail*(1-mess.GuardianNoContact))
	check("one-sided agent links", rate(oneSided, guardians), mess.OneSidedAgents)
	check("dangling agents", rate(dangling, TierM.Students+TierM.Guardians), mess.DanglingAgents)
	check("parents among guardians", rate(parents, guardians), 0.7)
	// school admins, aides, proctors, teachers: Roles12 of them are 1.2
	check("1.2 roles", rate(staff12-2, staff-districtStaff-TierM.Schools), mess.Roles12)
}

func TestValidPhonesFollowUSRules(t *testing.T) {
	for i := range 20000 {
		s := formatPhone(splitmix(uint64(i)), i%3 == 0)
		m := validPhone.FindStringSubmatch(s)
		if m == nil {
			t.Fatalf("%q is not in a known format", s)
		}
		npa, _ := strconv.Atoi(m[1])
		nxx := m[2]
		if !slices.Contains(areaCodes[:], npa) || nxx == "555" || nxx[1:] == "11" {
			t.Fatalf("%q uses NPA %d NXX %s", s, npa, nxx)
		}
	}
	for _, bad := range invalidPhones {
		if validPhone.MatchString(bad) {
			t.Errorf("junk %q looks valid", bad)
		}
	}
}

// The L tier is served without being built: any page is computed directly.
func TestLTierPagesAreComputedOnDemand(t *testing.T) {
	d := district(t, 5, TierL)
	total := TierL.Staff + TierL.Students + TierL.Guardians
	if d.Len(Users) != total {
		t.Fatalf("L users = %d", d.Len(Users))
	}
	last := d.Records(Users, total-3, 10)
	if len(last) != 3 || last[2].ID() != d.GuardianID(TierL.Guardians-1) {
		t.Errorf("last L users = %v", last)
	}
	en := d.Records(Enrollments, 2_499_999, 5)
	if len(en) != 1 || en[0].(Enrollment).Role != "student" {
		t.Errorf("last L enrollment = %v", en)
	}
}

// discardWriter is a ResponseWriter that throws bytes away, watching the
// live heap while the page is being written.
type discardWriter struct {
	h          http.Header
	n          int64
	writes     int
	maxWrite   int
	heapSample func()
}

func (w *discardWriter) Header() http.Header { return w.h }
func (w *discardWriter) WriteHeader(int)     {}
func (w *discardWriter) Write(p []byte) (int, error) {
	w.n += int64(len(p))
	w.writes++
	w.maxWrite = max(w.maxWrite, len(p))
	if w.writes == 40 {
		w.heapSample()
	}
	return len(p), nil
}

func TestServerStreamsPages(t *testing.T) {
	d := district(t, 9, TierM)
	srv, err := newServer(ServerOptions{Tenants: []Tenant{{TenantID: 1, ApplicationID: 1, District: d}}, ProxyToken: "tok"})
	if err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest("GET", "/1/ims/oneroster/v1p1/users?limit=10000&offset=5000&sort=sourcedId", nil)
	req.Header.Set("Authorization", "Bearer tok")
	var before, during runtimeMem
	before.read()
	w := &discardWriter{h: http.Header{}, heapSample: func() { during.read() }}
	srv.ServeHTTP(w, req)
	if w.writes < 50 || w.maxWrite > flushAt+8<<10 {
		t.Errorf("%d writes, largest %d bytes: the page was not written as it was encoded", w.writes, w.maxWrite)
	}
	grown := int64(during.heap) - int64(before.heap)
	t.Logf("page %d bytes in %d writes; live heap grew %d bytes mid-page", w.n, w.writes, grown)
	if grown > w.n/10 {
		t.Errorf("live heap grew %d bytes while serving a %d-byte page", grown, w.n)
	}
	if got := srv.Requests()[0]; got.Records != 10000 || got.Bytes != w.n {
		t.Errorf("recorded %+v", got)
	}
}

func TestAppendStringMatchesEncodingJSON(t *testing.T) {
	for _, s := range []string{"", "plain", `q"uo\te`, "tab\tnl\n\x01", "Zoë Núñez", "bad\xffutf8", "<&>", "\u2028"} {
		got := appendString(nil, s)
		var back string
		if err := jsonUnmarshal(got, &back); err != nil {
			t.Errorf("appendString(%q) = %s: %v", s, got, err)
			continue
		}
		if want := strings.ToValidUTF8(s, "\ufffd"); back != want {
			t.Errorf("round trip of %q = %q", s, back)
		}
	}
}
