package sync

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/schoolstatus/rostersync/classlink"
	"github.com/schoolstatus/rostersync/store"
)

// A daily run updates the roster pulled last time with what changed
// since, instead of pulling everything again (DESIGN §3): for classes,
// users and enrollments, the records whose dateLastModified is newer than
// where the last pull left off (watermarks.since: the newest date it had,
// never after that pull began; filter=dateLastModified>'…', less
// changeMargin), and
// a sweep of the sourcedIds still there (fields=sourcedId) to find the
// records that vanished. Orgs are few and always pulled whole. The result
// is the roster a full pull would make, or a *fullPullNeeded when only a
// full pull can tell.

// changeMargin is how far before the newest date pulled last time the
// next pull of changes starts, for servers whose clocks or commits are
// not quite in order; a record changed in it is pulled again, harmlessly.
const changeMargin = time.Hour

// fullPullNeeded says why a pull of changes cannot make the roster;
// kept is set when the roster kept from the last run could not be read
// (a person is told: the cache is not doing its job).
type fullPullNeeded struct {
	reason string
	kept   error
}

func (e *fullPullNeeded) Error() string { return "a full pull is needed: " + e.reason }

// collectionChanges is what one collection's pull of changes found.
type collectionChanges struct {
	changed map[string]bool // every sourcedId the pull of changes sent
	// present marks the records kept last time (kept) and dropped last
	// time (dropped) that the sweep still found.
	kept, dropped bitset
	ids           int // sourcedIds the sweep found
}

// changes are the records of one pull of changes, not yet merged.
type changes struct {
	orgs  *orgsPull
	since watermarks
	records
	colls   [3]collectionChanges
	permRev string
}

// pullChanges pulls what changed since the kept roster was pulled,
// consistently (one x-perm-rev, restarted like a full pull), and returns
// it updated (it is spent either way).
func pullChanges(ctx context.Context, c *classlink.Client, d store.District, kept *keptRoster, report func(Progress)) (*pulled, *orgsPull, error) {
	var ch *changes
	var prev *pulled
	attempt := 0
	err := classlink.Consistent(ctx, func(ctx context.Context) error {
		attempt++
		var err error
		ch, prev, err = pullChangesOnce(ctx, c, d, kept, attempt, report)
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	return prev.update(ch), ch.orgs, nil
}

// pullChangesOnce pulls the changes of every collection first, while the
// kept roster is still being read, then sweeps the sourcedIds against it.
func pullChangesOnce(ctx context.Context, c *classlink.Client, d store.District, kept *keptRoster, attempt int, report func(Progress)) (*changes, *pulled, error) {
	o, err := pullOrgs(ctx, c, d, func(coll classlink.Collection, n int) {
		report(Progress{Phase: PhasePull, Collection: coll, Records: n, Attempt: attempt})
	})
	if err != nil {
		return nil, nil, err
	}
	if !slices.Equal(slices.Sorted(maps.Keys(o.districtOrgs)), kept.meta.DistrictOrgs) {
		return nil, nil, &fullPullNeeded{reason: "the district's orgs of type district changed"}
	}
	ch := &changes{orgs: o, since: newWatermarks(o.start), permRev: o.permRev}
	revs := []string{o.permRev}
	pass := func(coll classlink.Collection, kind string, n int) {
		report(Progress{Phase: PhasePull, Collection: coll, Records: n, Attempt: attempt, Pass: kind})
	}

	for k, coll := range changingCollections {
		cc := &ch.colls[k]
		cc.changed = map[string]bool{}
		opt := classlink.ListOptions{Filter: classlink.ModifiedSince(kept.meta.Since[coll].Add(-changeMargin))}
		n := 0
		seen := func(id, modified string) {
			n++
			if n%progressEvery == 0 {
				pass(coll, PassChanges, n)
			}
			ch.since.see(coll, modified)
			if usableID(id) {
				cc.changed[id] = true
			}
		}
		var info classlink.PullInfo
		switch coll {
		case classlink.Classes:
			info, err = c.Classes(ctx, opt, func(r classlink.Class) error {
				seen(r.SourcedID, r.DateLastModified)
				ch.takeClass(o.scope, r)
				return nil
			})
		case classlink.Users:
			info, err = c.Users(ctx, opt, func(r classlink.User) error {
				seen(r.SourcedID, r.DateLastModified)
				ch.takeUser(o.scope, r)
				return nil
			})
		case classlink.Enrollments:
			info, err = c.Enrollments(ctx, opt, func(r classlink.Enrollment) error {
				seen(r.SourcedID, r.DateLastModified)
				ch.takeEnrollment(r)
				return nil
			})
		}
		if err != nil {
			if refusedFilter(err) {
				return nil, nil, &fullPullNeeded{reason: fmt.Sprintf("ClassLink refused the filter on %s (%v)", coll, err)}
			}
			return nil, nil, err
		}
		pass(coll, PassChanges, n)
		revs = append(revs, info.PermRev)
	}
	prev, err := kept.wait()
	if err != nil {
		return nil, nil, &fullPullNeeded{reason: err.Error(), kept: err}
	}
	for k, coll := range changingCollections {
		if err := ch.sweep(ctx, c, k, prev, func(n int) { pass(coll, PassIDs, n) }, &revs); err != nil {
			return nil, nil, err
		}
	}
	if err := sameRevision(revs); err != nil {
		return nil, nil, err
	}
	return ch, prev, nil
}

// sweep reads the sourcedIds still there and marks them in prev; a
// sourcedId neither pulled last time nor among the changes means a record
// changed without a newer dateLastModified.
func (ch *changes) sweep(ctx context.Context, c *classlink.Client, k int, prev *pulled, progress func(int), revs *[]string) error {
	coll, cc := changingCollections[k], &ch.colls[k]
	var kept known
	dropped := knownStrings(prev.dropped[k]) // changingCollections and dropped share their order
	switch coll {
	case classlink.Classes:
		kept = known{n: len(prev.classes), cmp: func(i int, id string) int { return strings.Compare(id, prev.classes[i].id) }}
	case classlink.Users:
		kept = known{n: len(prev.users), cmp: func(i int, id string) int { return strings.Compare(id, prev.users[i].id) }}
	case classlink.Enrollments:
		t := &prev.enrollments
		kept = known{n: t.len(), cmp: func(i int, id string) int { return compareStr(id, t.id(i)) }}
	}
	kept.seen, dropped.seen = newBitset(kept.n), newBitset(dropped.n)
	unknown := ""
	mark := func(id string) {
		cc.ids++
		if cc.ids%progressEvery == 0 {
			progress(cc.ids)
		}
		if !usableID(id) || cc.changed[id] || kept.mark(id) || dropped.mark(id) {
			return
		}
		if unknown == "" {
			unknown = id
		}
	}
	opt := classlink.ListOptions{Fields: []string{"sourcedId"}}
	var info classlink.PullInfo
	var err error
	switch coll {
	case classlink.Classes:
		info, err = c.Classes(ctx, opt, func(r classlink.Class) error { mark(r.SourcedID); return nil })
	case classlink.Users:
		info, err = c.Users(ctx, opt, func(r classlink.User) error { mark(r.SourcedID); return nil })
	case classlink.Enrollments:
		info, err = c.Enrollments(ctx, opt, func(r classlink.Enrollment) error { mark(r.SourcedID); return nil })
	}
	if err != nil {
		return err
	}
	progress(cc.ids)
	*revs = append(*revs, info.PermRev)
	if unknown != "" {
		return &fullPullNeeded{reason: fmt.Sprintf("%s %s is there but was neither pulled last time nor changed since (its dateLastModified did not move)", coll, unknown)}
	}
	cc.kept, cc.dropped = kept.seen, dropped.seen
	return nil
}

// refusedFilter reports a server that does not take the filter.
func refusedFilter(err error) bool {
	var e *classlink.Error
	if !errors.As(err, &e) {
		return false
	}
	switch e.Status {
	case http.StatusBadRequest, http.StatusUnprocessableEntity, http.StatusNotImplemented:
		return true
	}
	return false
}

// known is a sorted list of sourcedIds the sweep marks; it reads ids in
// the server's order, which is sourcedId order when the server's
// collation is byte order, and finds any other by binary search.
type known struct {
	n    int
	cmp  func(i int, id string) int // id compared with entry i
	seen bitset
	next int
}

func knownStrings(list []string) known {
	return known{n: len(list), cmp: func(i int, id string) int { return strings.Compare(id, list[i]) }}
}

func (k *known) mark(id string) bool {
	i := k.next
	if i >= k.n || k.cmp(i, id) != 0 {
		var ok bool
		if i, ok = sort.Find(k.n, func(j int) int { return k.cmp(j, id) }); !ok {
			return false
		}
	}
	k.seen.set(i)
	k.next = i + 1
	return true
}

type bitset []uint64

func newBitset(n int) bitset    { return make(bitset, (n+63)/64) }
func (b bitset) set(i int)      { b[i/64] |= 1 << (i % 64) }
func (b bitset) has(i int) bool { return b[i/64]&(1<<(i%64)) != 0 }

// stays reports whether entry i of a kept list stays: the sweep found it
// and it did not change.
func (cc *collectionChanges) stays(seen bitset, i int, id string) bool {
	return seen.has(i) && !cc.changed[id]
}

// update merges ch into p: what vanished or changed goes, the changes come
// in, each list stays in sourcedId order. p is changed in place.
func (p *pulled) update(ch *changes) *pulled {
	cl, us, en := &ch.colls[dropClasses], &ch.colls[dropUsers], &ch.colls[dropEnrollments]
	ch.sort()

	p.classes = mergeKept(p.classes, func(i int) bool { return cl.stays(cl.kept, i, p.classes[i].id) }, ch.classes, rosterClass.sourcedID)
	p.users = mergeKept(p.users, func(i int) bool { return us.stays(us.kept, i, p.users[i].id) }, ch.users, rosterUser.sourcedID)
	for k, cc := range []*collectionChanges{cl, us, en} {
		old := p.dropped[k]
		p.dropped[k] = mergeKept(old, func(i int) bool { return cc.stays(cc.dropped, i, old[i]) }, ch.dropped[k], func(s string) string { return s })
	}

	// Enrollments: a new table of what stays and what changed.
	t, add := &p.enrollments, &ch.enrollments
	nt := enrollTable{classes: t.classes, users: t.users, roles: t.roles, sorted: true}
	nt.classIdx, nt.userIdx, nt.roleIdx = indexOf(t.classes), indexOf(t.users), indexOf(t.roles)
	nt.grow(t.len() + add.len())
	j := 0
	for i := range t.len() {
		id := t.id(i)
		for j < add.len() && bytesLess(add.id(j), id) {
			nt.copyFrom(add, j)
			j++
		}
		if !en.kept.has(i) || en.changed[string(id)] {
			continue
		}
		nt.push(id, t.class[i], t.user[i], t.role[i])
	}
	for ; j < add.len(); j++ {
		nt.copyFrom(add, j)
	}
	nt.classIdx, nt.userIdx, nt.roleIdx = nil, nil, nil
	p.enrollments = nt

	p.counts = pulledCounts{orgs: ch.orgs.count, classes: cl.ids, users: us.ids, enrollments: en.ids}
	p.meta.PermRev = ch.permRev
	p.since.until = ch.since.until
	for _, c := range changingCollections {
		if ch.since.unreadable[c] {
			p.since.unreadable[c] = true
		} else if t := ch.since.newest[c]; t.After(p.since.newest[c]) {
			p.since.newest[c] = t
		}
	}
	return p
}

func bytesLess(a, b []byte) bool { return bytes.Compare(a, b) < 0 }

func indexOf(list []string) map[string]int32 {
	m := make(map[string]int32, len(list))
	for i, s := range list {
		m[s] = int32(i)
	}
	return m
}

// mergeKept keeps the entries of base that keep says stay, in place, and
// merges in extra (sorted, ids not in what stays).
func mergeKept[T any](base []T, keep func(i int) bool, extra []T, id func(T) string) []T {
	n := 0
	for i := range base {
		if keep(i) {
			base[n] = base[i]
			n++
		}
	}
	clear(base[n:])
	base = base[:n]
	if len(extra) == 0 {
		return base
	}
	// Merge from the back, so nothing is moved twice.
	out := slices.Grow(base, len(extra))[:n+len(extra)]
	i, j := n-1, len(extra)-1
	for k := len(out) - 1; j >= 0; k-- {
		if i >= 0 && id(out[i]) > id(extra[j]) {
			out[k] = out[i]
			i--
		} else {
			out[k] = extra[j]
			j--
		}
	}
	return out
}
