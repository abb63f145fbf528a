package sync

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/schoolstatus/rostersync/classlink/classlinktest"
	"github.com/schoolstatus/rostersync/store"
)

func pulledOf(t testing.TB, f *fixture) *pulled {
	t.Helper()
	d, err := f.db.District(testTenant)
	if err != nil {
		t.Fatal(err)
	}
	c, err := f.dial(context.Background(), d)
	if err != nil {
		t.Fatal(err)
	}
	p, _, err := pullAll(context.Background(), c, d, func(Progress) {})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func encoded(t testing.TB, p *pulled) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := p.encode(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// What a pull keeps reads back as it was: every kept class, user (with
// agents) and enrollment, and every dropped id.
func TestPulledRosterRoundTrip(t *testing.T) {
	f := newFixture(t, fixtureOptions{mess: classlinktest.DefaultMess()})
	p := pulledOf(t, f)
	if len(p.users) < 400 || p.enrollments.len() < 500 || len(p.dropped[dropUsers]) == 0 || len(p.dropped[dropEnrollments]) == 0 {
		t.Fatalf("a thin pull: %d users, %d enrollments, dropped %d/%d/%d", len(p.users), p.enrollments.len(),
			len(p.dropped[0]), len(p.dropped[1]), len(p.dropped[2]))
	}
	raw := encoded(t, p)
	q, err := decodePulled(bytes.NewReader(raw), p.meta)
	if err != nil {
		t.Fatal(err)
	}
	p.enrollments.classIdx, p.enrollments.userIdx, p.enrollments.roleIdx = nil, nil, nil
	if !reflect.DeepEqual(p.classes, q.classes) || !reflect.DeepEqual(p.users, q.users) || !reflect.DeepEqual(p.dropped, q.dropped) {
		t.Fatal("classes, users or dropped ids differ after a round trip")
	}
	if !reflect.DeepEqual(p.enrollments, q.enrollments) {
		t.Fatal("enrollments differ after a round trip")
	}
	if !bytes.Equal(encoded(t, q), raw) {
		t.Fatal("encoding again gives other bytes")
	}
}

// A damaged stream is refused, never a panic or a huge allocation.
func FuzzDecodePulled(f *testing.F) {
	var seed pulled
	seed.classes = []rosterClass{{"cls-1", "Algebra", "org-1"}, {"cls-2", "Art", "org-1"}}
	seed.users = []rosterUser{{id: "usr-1", kind: kindStudent, given: "Ana", agents: []string{"usr-2"}},
		{id: "usr-2", kind: kindGuardian, email: "g@x.org", sms: "(212) 874-1234", agents: []string{"usr-1", "usr-9"}},
		{id: "usr-3", kind: kindStaff, group: 2, family: "Zoë"}}
	seed.enrollments.add("enr-1", "cls-1", "usr-1", "student")
	seed.enrollments.add("enr-2", "cls-1", "usr-3", "teacher")
	seed.enrollments.add("enr-3", "cls-2", "usr-1", "student")
	seed.dropped = [3][]string{{"cls-0"}, {"usr-0", "usr-00"}, {"enr-0"}}
	f.Add(encoded(f, &seed))
	f.Add([]byte{0, 0, 0, 0, 0, 0, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, raw []byte) {
		p, err := decodePulled(bytes.NewReader(raw), pulledMeta{})
		if err != nil {
			return
		}
		// Whatever decodes is usable as the plan uses it.
		for _, u := range p.users {
			_, _, _ = u.group.Key(), u.kind.store(), u.kind.countsName()
		}
		t2 := &p.enrollments
		for i := range t2.len() {
			_, _, _ = t2.classes[t2.class[i]], t2.users[t2.user[i]], t2.roles[t2.role[i]]
		}
		again, err := decodePulled(bytes.NewReader(encoded(t, p)), pulledMeta{})
		if err != nil || !reflect.DeepEqual(again.users, p.users) || !reflect.DeepEqual(again.enrollments, p.enrollments) {
			t.Fatalf("a stream read, written and read again differs (%v)", err)
		}
	})
}

// A kept roster whose contents are wrong (a role group out of range,
// written with a valid checksum) or whose bytes changed on disk (its
// checksum) is discarded: the daily run pulls in full, says so in its
// message, and keeps a good one again for the next run's pull of changes.
func TestADamagedKeptRosterIsPulledAgainInFull(t *testing.T) {
	for _, c := range []struct {
		name  string
		spoil func(f *fixture)
	}{
		{"a role group out of range", func(f *fixture) {
			raw, _, _ := f.db.PulledRosterMeta(testTenant)
			var meta pulledMeta
			if err := json.Unmarshal(raw, &meta); err != nil {
				t.Fatal(err)
			}
			var p *pulled
			if err := f.db.ReadPulledRoster(testTenant, func(r io.Reader) (err error) { p, err = decodePulled(r, meta); return err }); err != nil {
				t.Fatal(err)
			}
			for i := range p.users {
				if p.users[i].kind == kindStaff {
					p.users[i].group = 9
					break
				}
			}
			if err := f.db.SavePulledRoster(testTenant, raw, p.encode); err != nil {
				t.Fatal(err)
			}
		}},
		{"a byte changed on disk", func(f *fixture) {
			path := filepath.Join(f.db.PulledDir(), "9")
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			b[len(b)/2] ^= 0x04
			if err := os.WriteFile(path, b, 0o600); err != nil {
				t.Fatal(err)
			}
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t, fixtureOptions{})
			f.mustSucceed()
			c.spoil(f)
			f.roster.AdvanceDay(classlinktest.DayChanges{NewStudents: 1})
			r, kind := pullKind(t, f.engine, RunOptions{})
			if r.Status != store.RunSucceeded || r.Counts.Students.Create != 1 || !strings.Contains(kind, "damaged") ||
				!strings.Contains(r.Message, "warning: ") || !strings.Contains(r.Message, "damaged") || !strings.Contains(r.Message, "pulled the whole roster") {
				t.Fatalf("run: %s/%s %q, pulled %q", r.Status, r.Reason, r.Message, kind)
			}
			f.roster.AdvanceDay(classlinktest.DayChanges{NewStudents: 1})
			if r, kind := pullKind(t, f.engine, RunOptions{}); r.Status != store.RunSucceeded || kind != PassChanges || r.Message != "" {
				t.Fatalf("the next run: %s %q, pulled %q", r.Status, r.Message, kind)
			}
		})
	}
}
