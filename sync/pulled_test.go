package sync

import (
	"bytes"
	"context"
	"reflect"
	"testing"

	"github.com/schoolstatus/rostersync/classlink/classlinktest"
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
		again, err := decodePulled(bytes.NewReader(encoded(t, p)), pulledMeta{})
		if err != nil || !reflect.DeepEqual(again.users, p.users) || !reflect.DeepEqual(again.enrollments, p.enrollments) {
			t.Fatalf("a stream read, written and read again differs (%v)", err)
		}
	})
}
