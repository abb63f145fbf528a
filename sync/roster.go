package sync

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	gosync "sync"
	"time"

	"github.com/schoolstatus/rostersync/classlink"
	"github.com/schoolstatus/rostersync/store"
)

// roster is the in-scope part of a district's roster, compact and sorted
// by sourcedId, ready to be walked against the directory: built from what
// a pull kept (pulled) once every collection arrived. Memberships are
// pairs of indexes, so an L-tier roster costs a few hundred MB.
type roster struct {
	permRev string
	schools []rosterSchool // the selected schools, as ClassLink names them
	classes []rosterClass  // active classes of selected schools
	users   []rosterUser   // active students and staff in scope, linked guardians
	members []rosterMember // by (class, user), one per pair
	roles   []string       // membership roles, interned
	pulled  pulledCounts
}

type rosterSchool struct{ id, name string }

type rosterClass struct{ id, name, school string }

func (k rosterClass) sourcedID() string { return k.id }

type rosterUser struct {
	id                string
	kind              userKind
	group             store.RoleGroup
	given, family     string
	email, sms, phone string
	agents            []string // sourcedIds of linked users, as sent; dropped once linked
	guardianOf        []string // guardians: the in-scope students linked either way, sorted
}

func (u rosterUser) sourcedID() string { return u.id }

type rosterMember struct {
	class, user int32 // indexes into classes and users
	role        uint8 // index into roles
}

// pulledCounts are the records ClassLink has per collection, in scope or not.
type pulledCounts struct{ orgs, classes, users, enrollments int }

// missingSchoolsError: selected schools ClassLink does not have (or no
// longer has as active).
type missingSchoolsError struct{ ids []string }

func (e *missingSchoolsError) Error() string {
	if len(e.ids) == 0 {
		return "no schools are connected to the SIS: choose them on the \"School connection to SIS\" screen"
	}
	return fmt.Sprintf("ClassLink has no active org for %d selected school(s): %s; fix the selection on the \"School connection to SIS\" screen",
		len(e.ids), strings.Join(e.ids, ", "))
}

// progressEvery is how many records pass between two pull progress reports.
const progressEvery = 10_000

// scope is what decides which records a pull keeps: the selected schools
// and the district's orgs of type district.
type scope struct {
	selected, districtOrgs map[string]bool
}

// orgsPull is what the orgs collection says: the selected schools as
// ClassLink names them, and the district orgs.
type orgsPull struct {
	scope
	schools []rosterSchool
	count   int
	permRev string
	// start is when the pull began by the server's clock (the Date of its
	// answer), else by this machine's: pullStart.
	start time.Time
}

// share estimates how many of a collection's total records a pull keeps:
// as many as the selected schools' share of the orgs, so that the lists
// are sized once (an L-tier district's users would otherwise be copied
// as their list grows).
func (o *orgsPull) share(total int) int {
	if total <= 0 || o.count <= len(o.districtOrgs) {
		return 0
	}
	return min(total, total*len(o.schools)/(o.count-len(o.districtOrgs))+16)
}

// pullOrgs reads every org (a few hundred at most, so every pull reads
// them all) and finds the selected schools.
func pullOrgs(ctx context.Context, c *classlink.Client, d store.District, progress func(classlink.Collection, int)) (*orgsPull, error) {
	o := &orgsPull{scope: scope{selected: make(map[string]bool, len(d.Schools)), districtOrgs: map[string]bool{}}}
	for _, id := range d.Schools {
		o.selected[id] = true
	}
	if len(o.selected) == 0 {
		return nil, &missingSchoolsError{}
	}
	found := map[string]string{}
	asked := time.Now()
	info, err := c.Orgs(ctx, classlink.ListOptions{}, func(org classlink.Org) error {
		o.count++
		if strings.EqualFold(org.Type, "district") {
			o.districtOrgs[org.SourcedID] = true
		}
		if o.selected[org.SourcedID] && org.Status != classlink.StatusToBeDeleted {
			found[org.SourcedID] = org.Name
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	progress(classlink.Orgs, o.count)
	o.permRev = info.PermRev
	o.start = pullStart(info, asked)
	if o.count == 0 {
		return nil, &classlink.Error{Kind: classlink.ErrMalformed, Op: "orgs", Offset: -1, Detail: "ClassLink sent no orgs at all"}
	}
	var missing []string
	for _, id := range d.Schools {
		if name, ok := found[id]; ok {
			o.schools = append(o.schools, rosterSchool{id, name})
		} else {
			missing = append(missing, id)
		}
	}
	if len(missing) > 0 {
		return nil, &missingSchoolsError{ids: missing}
	}
	slices.SortFunc(o.schools, func(a, b rosterSchool) int { return strings.Compare(a.id, b.id) })
	return o, nil
}

// pullStart is when a pull began, the moment no later change can be dated
// before: by the server's clock, which stamps dateLastModified (the Date
// of its first answer), else by this machine's when the server sends
// none. The demo district's server tells its own clock, whose dates are
// not today's; a server whose Date is off only makes the next pull start
// earlier than it could.
func pullStart(info classlink.PullInfo, asked time.Time) time.Time {
	if !info.Date.IsZero() {
		return info.Date
	}
	return asked.UTC()
}

// keepClass is what a pull keeps of a class: active classes of selected
// schools.
func (s scope) keepClass(k classlink.Class) (rosterClass, bool) {
	if k.Status == classlink.StatusToBeDeleted || !s.selected[k.School] || !usableID(k.SourcedID) {
		return rosterClass{}, false
	}
	return rosterClass{id: k.SourcedID, name: strings.TrimSpace(k.Title), school: k.School}, true
}

// keepUser is what a pull keeps of a user: active students and staff of
// the selected schools (staff also of the district org), every active
// guardian until links decide. Staff agents are not used.
func (s scope) keepUser(u classlink.User) (rosterUser, bool) {
	if u.Status == classlink.StatusToBeDeleted || !usableID(u.SourcedID) {
		return rosterUser{}, false
	}
	kind, group := classify(u, s.selected, s.districtOrgs)
	switch kind {
	case kindNone:
		return rosterUser{}, false
	case kindStaff:
		u.Agents = nil
	}
	return rosterUser{
		id: u.SourcedID, kind: kind, group: group,
		given: strings.TrimSpace(u.GivenName), family: strings.TrimSpace(u.FamilyName),
		email: strings.TrimSpace(u.Email), sms: u.SMS, phone: u.Phone, agents: u.Agents,
	}, true
}

// keepEnrollment: a pull keeps every active enrollment, in scope or not
// (a user or class that comes into scope later brings its enrollments).
func keepEnrollment(e classlink.Enrollment) bool {
	return e.Status != classlink.StatusToBeDeleted && usableID(e.SourcedID)
}

// pullAll pulls the whole roster consistently: every collection at the
// same x-perm-rev, restarted from nothing when ClassLink moves it or when
// a collection's pages repeat a record (classlink.ErrInconsistentPages:
// the order shifted between pages, so another record was never sent).
func pullAll(ctx context.Context, c *classlink.Client, d store.District, report func(Progress)) (*pulled, *orgsPull, error) {
	var p *pulled
	var o *orgsPull
	attempt := 0
	err := classlink.Consistent(ctx, func(ctx context.Context) error {
		attempt++
		var err error
		p, o, err = pullOnce(ctx, c, d, attempt, report)
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	return p, o, nil
}

func pullOnce(ctx context.Context, c *classlink.Client, d store.District, attempt int, report func(Progress)) (*pulled, *orgsPull, error) {
	progress := func(coll classlink.Collection, n int) {
		report(Progress{Phase: PhasePull, Collection: coll, Records: n, Attempt: attempt})
	}
	o, err := pullOrgs(ctx, c, d, progress)
	if err != nil {
		return nil, nil, err
	}
	p := newPulled(d, o)
	revs := []string{o.permRev}

	info, err := c.Classes(ctx, classlink.ListOptions{Begin: func(n int) { p.classes = slices.Grow(p.classes, o.share(n)) }}, func(k classlink.Class) error {
		p.counts.classes++
		if p.counts.classes%progressEvery == 0 {
			progress(classlink.Classes, p.counts.classes)
		}
		p.since.see(classlink.Classes, k.DateLastModified)
		p.takeClass(o.scope, k)
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	progress(classlink.Classes, p.counts.classes)
	revs = append(revs, info.PermRev)

	// Users and enrollments are most of the roster: they are pulled at
	// the same time, so that both cores decode while ClassLink prepares
	// the next pages. Their callbacks touch different parts of p; the
	// enrollments keep their own watermarks until both are done, and
	// progress is reported one call at a time.
	var mu gosync.Mutex
	progress = func(coll classlink.Collection, n int) {
		mu.Lock()
		defer mu.Unlock()
		report(Progress{Phase: PhasePull, Collection: coll, Records: n, Attempt: attempt})
	}
	both, stop := context.WithCancel(ctx)
	defer stop()
	enrollSince := newWatermarks(o.start)
	var enrollInfo classlink.PullInfo
	var enrollErr error
	enrolled := make(chan struct{})
	var caught *panicked
	go func() {
		defer close(enrolled)
		defer catch(&caught, stop)
		enrollInfo, enrollErr = c.Enrollments(both, classlink.ListOptions{Begin: p.enrollments.grow}, func(e classlink.Enrollment) error {
			p.counts.enrollments++
			if p.counts.enrollments%progressEvery == 0 {
				progress(classlink.Enrollments, p.counts.enrollments)
			}
			enrollSince.see(classlink.Enrollments, e.DateLastModified)
			p.takeEnrollment(e)
			return nil
		})
		if enrollErr != nil {
			stop()
		}
	}()
	info, err = c.Users(both, classlink.ListOptions{Begin: func(n int) { p.users = slices.Grow(p.users, o.share(n)) }}, func(u classlink.User) error {
		p.counts.users++
		if p.counts.users%progressEvery == 0 {
			progress(classlink.Users, p.counts.users)
		}
		p.since.see(classlink.Users, u.DateLastModified)
		p.takeUser(o.scope, u)
		return nil
	})
	if err != nil {
		stop()
	}
	<-enrolled
	if caught != nil {
		panic(caught) // for Run to recover
	}
	if err := firstFailure(ctx, err, enrollErr); err != nil {
		return nil, nil, err
	}
	p.since.take(enrollSince, classlink.Enrollments)
	progress(classlink.Users, p.counts.users)
	progress(classlink.Enrollments, p.counts.enrollments)
	revs = append(revs, info.PermRev, enrollInfo.PermRev)

	// Each collection checked its own pages; the collections must agree too.
	if err := sameRevision(revs); err != nil {
		return nil, nil, err
	}
	p.meta.PermRev = revs[0]
	p.sort()
	return p, o, nil
}

// firstFailure picks, of two pulls that ran together, the error that is
// not the other's doing: one that failed cancels its partner.
func firstFailure(ctx context.Context, a, b error) error {
	switch {
	case a == nil:
		return b
	case b == nil:
		return a
	case ctx.Err() == nil && errors.Is(a, context.Canceled):
		return b
	}
	return a
}

func sameRevision(revs []string) error {
	for _, rev := range revs[1:] {
		if rev != revs[0] {
			return &classlink.Error{Kind: classlink.ErrRevisionChanged, Op: "roster", Offset: -1,
				Detail: fmt.Sprintf("x-perm-rev went from %q to %q between collections", revs[0], rev)}
		}
	}
	return nil
}

// usableID: sourcedIds are opaque, but an empty one cannot be a key and
// a NUL would break the membership key order.
func usableID(id string) bool { return id != "" && !strings.ContainsRune(id, 0) }

// sortDedupe sorts by sourcedId in byte order (a server's own sort may
// collate differently). A pull that repeats an id fails in classlink, so
// compacting is only a guard.
func sortDedupe[T any](s []T, id func(T) string) []T {
	byID := func(a, b T) int { return strings.Compare(id(a), id(b)) }
	if !slices.IsSortedFunc(s, byID) {
		slices.SortStableFunc(s, byID)
	}
	return slices.CompactFunc(s, func(a, b T) bool { return id(a) == id(b) })
}

// buildRoster makes the plan's roster of what a pull kept: guardians
// linked to in-scope students (the others dropped), enrollments between
// in-scope classes and in-scope students and staff as pairs of indexes.
// It takes p's slices over (and changes them): p is spent afterwards.
func buildRoster(p *pulled, o *orgsPull) *roster {
	r := &roster{permRev: p.meta.PermRev, schools: o.schools, classes: p.classes, users: p.users}
	r.pulled = p.counts
	r.pulled.orgs = o.count

	// Each interned class and user of the enrollments, as an index into
	// the roster (-1: not in scope); users before guardians are dropped.
	classAt := make([]int32, len(p.enrollments.classes))
	for i, id := range p.enrollments.classes {
		classAt[i] = -1
		if k, ok := sort.Find(len(r.classes), func(k int) int { return strings.Compare(id, r.classes[k].id) }); ok {
			classAt[i] = int32(k)
		}
	}
	userAt := make([]int32, len(p.enrollments.users))
	for i, id := range p.enrollments.users {
		userAt[i] = -1
		if k, ok := sort.Find(len(r.users), func(k int) int { return strings.Compare(id, r.users[k].id) }); ok && r.users[k].kind != kindGuardian {
			userAt[i] = int32(k)
		}
	}
	t := &p.enrollments
	r.roles = t.roles
	r.members = make([]rosterMember, 0, t.len())
	for i := range t.len() {
		ci, ui := classAt[t.class[i]], userAt[t.user[i]]
		if ci >= 0 && ui >= 0 {
			r.members = append(r.members, rosterMember{class: ci, user: ui, role: t.role[i]})
		}
	}
	p.enrollments = enrollTable{}

	moved := r.linkGuardians()
	for i := range r.members {
		r.members[i].user = moved[r.members[i].user]
	}
	// Indexes follow sourcedId order, so this is (classroom, user) order.
	r.members = sortMembers(r.members, len(r.classes))
	r.members = slices.CompactFunc(r.members, func(a, b rosterMember) bool { return a.class == b.class && a.user == b.user })
	return r
}

// sortMembers sorts by class, then user, keeping the order of equal pairs:
// a counting sort by class (millions of memberships, a few hundred
// thousand classes at most), then each class's few members by user.
func sortMembers(m []rosterMember, classes int) []rosterMember {
	start := make([]int, classes+1)
	for _, x := range m {
		start[x.class+1]++
	}
	for i := 1; i <= classes; i++ {
		start[i] += start[i-1]
	}
	out := make([]rosterMember, len(m))
	next := slices.Clone(start[:classes])
	for _, x := range m {
		out[next[x.class]] = x
		next[x.class]++
	}
	for k := range classes {
		slices.SortStableFunc(out[start[k]:start[k+1]], func(a, b rosterMember) int { return cmp.Compare(a.user, b.user) })
	}
	return out
}

// linkGuardians resolves student–guardian links from both sides (agents may
// be one-sided or name users that do not exist), gives each guardian its
// in-scope students, drops guardians without any, and frees the agents. It
// returns where each user that stayed moved to.
func (r *roster) linkGuardians() (moved []int32) {
	// users is sorted by sourcedId: a binary search finds an agent without
	// a map of a million entries.
	find := func(id string) (int32, bool) {
		j, ok := sort.Find(len(r.users), func(k int) int { return strings.Compare(id, r.users[k].id) })
		return int32(j), ok
	}
	type link struct{ guardian, student int32 }
	var links []link
	for i, u := range r.users {
		for _, a := range u.agents {
			j, ok := find(a)
			if !ok {
				continue
			}
			switch {
			case u.kind == kindStudent && r.users[j].kind == kindGuardian:
				links = append(links, link{j, int32(i)})
			case u.kind == kindGuardian && r.users[j].kind == kindStudent:
				links = append(links, link{int32(i), j})
			}
		}
		r.users[i].agents = nil
	}
	slices.SortFunc(links, func(a, b link) int {
		return cmp.Or(cmp.Compare(a.guardian, b.guardian), cmp.Compare(a.student, b.student))
	})
	links = slices.Compact(links)
	for _, l := range links {
		g := &r.users[l.guardian]
		g.guardianOf = append(g.guardianOf, r.users[l.student].id)
	}
	moved = make([]int32, len(r.users))
	n := 0
	for i, u := range r.users {
		moved[i] = int32(n)
		if u.kind == kindGuardian && len(u.guardianOf) == 0 {
			moved[i] = -1
			continue
		}
		r.users[n] = u
		n++
	}
	clear(r.users[n:])
	r.users = r.users[:n]
	return moved
}
