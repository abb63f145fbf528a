package classlinktest

import (
	"errors"
	"slices"
	"testing"
	"time"
)

func ids(recs []Record) []string {
	out := make([]string, len(recs))
	for i, r := range recs {
		out[i] = r.ID()
	}
	return out
}

// Random-access positions must agree with walking the whole collection,
// however the overlay has reshaped it.
func TestOverlayKeepsOrderAndOffsets(t *testing.T) {
	d := district(t, 21, TierS)
	rev0 := d.Revision()
	n0 := d.Len(Users)
	d.Put(User{SourcedID: d.StudentID(10) + "x", Status: "active", Kind: KindStudent}) // between two generated ids
	d.Put(User{SourcedID: "aaa-first", Status: "active"})                              // before everything
	d.Put(User{SourcedID: "zzz-last", Status: "active"})                               // after everything
	if err := d.Remove(Users, d.StudentID(11)); err != nil {
		t.Fatal(err)
	}
	if err := d.Remove(Users, d.StaffID(0)); err != nil {
		t.Fatal(err)
	}
	if err := d.Remove(Users, "zzz-last"); err != nil {
		t.Fatal(err)
	}
	if err := d.Remove(Users, "never-there"); !errors.Is(err, ErrNoRecord) {
		t.Errorf("removing an unknown id: %v", err)
	}
	if err := d.MarkToBeDeleted(Users, d.GuardianID(5)); err != nil {
		t.Fatal(err)
	}
	if err := Modify(d, d.StudentID(3), func(u *User) { u.GivenName = "Renamed" }); err != nil {
		t.Fatal(err)
	}
	if d.Revision() == rev0 {
		t.Error("revision did not move")
	}
	if got := d.Len(Users); got != n0+2-2 {
		t.Errorf("Len = %d, want %d", got, n0)
	}
	all := d.Records(Users, 0, 1<<20)
	if len(all) != d.Len(Users) || all[0].ID() != "aaa-first" {
		t.Fatalf("walk gave %d records starting %q", len(all), all[0].ID())
	}
	if !slices.IsSorted(ids(all)) {
		t.Fatal("served order is not sourcedId order")
	}
	for k := 0; k < len(all); k++ {
		if got := d.Records(Users, k, 1); len(got) != 1 || got[0].ID() != all[k].ID() {
			t.Fatalf("position %d: got %v, want %s", k, ids(got), all[k].ID())
		}
	}
	for _, id := range []string{d.StudentID(11), d.StaffID(0), "zzz-last"} {
		if _, ok := d.Get(Users, id); ok {
			t.Errorf("%s still served", id)
		}
	}
	g, _ := d.Get(Users, d.GuardianID(5))
	s, _ := d.Get(Users, d.StudentID(3))
	if g.(User).Status != "tobedeleted" || s.(User).GivenName != "Renamed" || s.(User).DateLastModified <= Stamp(DefaultEpoch) {
		t.Errorf("edits not served: %+v / %+v", g, s)
	}
	// Putting a removed generated record back restores it in place.
	d.Put(d.Generated(Users, 0))
	if got := d.Records(Users, 1, 1); got[0].ID() != d.StaffID(0) {
		t.Errorf("restored record at %v", ids(got))
	}
}

func TestBumpRevision(t *testing.T) {
	d := district(t, 1, TierS)
	a := d.Revision()
	b := d.BumpRevision()
	if a == b || d.Revision() != b {
		t.Errorf("revisions %q then %q", a, b)
	}
	if district(t, 1, TierS).Revision() != a {
		t.Error("a fresh district with the same seed starts at another revision")
	}
}

func TestAdvanceDayIsScriptedAndRepeatable(t *testing.T) {
	run := func() (DayLog, *District) {
		d := district(t, 4, TierS)
		return d.AdvanceDay(DayChanges{NewStudents: 2, Withdrawn: 3, Purged: 1, ContactEdits: 4, NewClasses: 1, DroppedClasses: 2}), d
	}
	log, d := run()
	log2, _ := run()
	if !slices.Equal(log.Added[Users], log2.Added[Users]) || !slices.Equal(log.Modified[Users], log2.Modified[Users]) {
		t.Error("the same day differs between runs")
	}
	if len(log.Added[Users]) != 4 || len(log.Added[Enrollments]) != 6 || len(log.Added[Classes]) != 1 ||
		len(log.ToBeDeleted[Classes]) != 2 || len(log.Removed[Users]) != 1 || len(log.Modified[Users]) == 0 {
		t.Errorf("log = %+v", log)
	}
	dayStart := Stamp(DefaultEpoch.Add(24 * time.Hour))
	for _, id := range append(log.Added[Users], log.Modified[Users]...) {
		r, ok := d.Get(Users, id)
		if !ok || r.(User).DateLastModified < dayStart {
			t.Errorf("%s: %v, stamped %s", id, ok, r.(User).DateLastModified)
		}
	}
	student, _ := d.Get(Users, log.Added[Users][0])
	guardian, _ := d.Get(Users, log.Added[Users][1])
	if student.(User).Agents[0] != guardian.ID() || guardian.(User).Agents[0] != student.ID() {
		t.Error("new student and guardian are not linked")
	}
	if log.Revision != d.Revision() || log.Revision == district(t, 4, TierS).Revision() {
		t.Error("revision did not move with the day")
	}
}

func TestFilterParsing(t *testing.T) {
	good := map[string][2]string{ // filter → a matching (status, modified) and a non-matching one
		"status='active'":                                             {"active|2026-01-01T00:00:00.000Z", "tobedeleted|2026-01-01T00:00:00.000Z"},
		"dateLastModified>'2026-01-01T00:00:00Z'":                     {"active|2026-01-01T00:00:01.000Z", "active|2026-01-01T00:00:00.000Z"},
		"dateLastModified>='2026-01-01'":                              {"active|2026-01-01T00:00:00.000Z", "active|2025-12-31T23:59:59.000Z"},
		"status!='active' OR dateLastModified<'2020-01-01'":           {"tobedeleted|2026-01-01T00:00:00.000Z", "active|2021-01-01T00:00:00.000Z"},
		"dateLastModified>'2026-01-01T00:00:00Z' AND status='active'": {"active|2026-02-01T00:00:00.000Z", "tobedeleted|2026-02-01T00:00:00.000Z"},
	}
	for expr, cases := range good {
		f, err := parseFilter(expr)
		if err != nil {
			t.Errorf("parseFilter(%q): %v", expr, err)
			continue
		}
		for i, c := range cases {
			status, modified, _ := cut(c)
			if got := f.match(status, modified); got != (i == 0) {
				t.Errorf("%q on %s = %v", expr, c, got)
			}
		}
	}
	for _, bad := range []string{"givenName='x'", "status=active", "status", "dateLastModified>'yesterday'"} {
		if _, err := parseFilter(bad); err == nil {
			t.Errorf("parseFilter(%q) accepted", bad)
		}
	}
}

func cut(s string) (string, string, bool) {
	for i := range s {
		if s[i] == '|' {
			return s[:i], s[i+1:], true
		}
	}
	return s, "", false
}
