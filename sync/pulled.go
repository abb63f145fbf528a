package sync

import (
	"bytes"
	"maps"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/schoolstatus/rostersync/classlink"
	"github.com/schoolstatus/rostersync/store"
)

// pulled is a district's roster as ClassLink has it, before the plan's
// view of it: what a pull keeps of each collection, sorted by sourcedId,
// and the ids of what it pulled and did not keep. A full pull makes it
// from nothing; the district keeps it between runs (the store's pulled
// roster), so that a daily run updates it with what changed since
// (changes.go) and builds the same roster a full pull would.
type pulled struct {
	meta  pulledMeta
	since watermarks
	records
	counts pulledCounts
}

// records are what a pull kept of classes, users and enrollments, and the
// ids of those it did not keep: a whole pull's, or a pull of changes'.
type records struct {
	classes     []rosterClass // keepClass
	users       []rosterUser  // keepUser, with their agents
	enrollments enrollTable   // every active enrollment
	dropped     [3][]string   // classes, users and enrollments pulled but not kept
}

// takeClass files a pulled class as kept or dropped.
func (r *records) takeClass(s scope, k classlink.Class) {
	if kept, ok := s.keepClass(k); ok {
		r.classes = append(r.classes, kept)
	} else if usableID(k.SourcedID) {
		r.dropped[dropClasses] = append(r.dropped[dropClasses], k.SourcedID)
	}
}

// takeUser files a pulled user as kept or dropped.
func (r *records) takeUser(s scope, u classlink.User) {
	if kept, ok := s.keepUser(u); ok {
		r.users = append(r.users, kept)
	} else if usableID(u.SourcedID) {
		r.dropped[dropUsers] = append(r.dropped[dropUsers], u.SourcedID)
	}
}

// takeEnrollment files a pulled enrollment as kept or dropped.
func (r *records) takeEnrollment(e classlink.Enrollment) {
	if !keepEnrollment(e) || !r.enrollments.add(e.SourcedID, e.Class, e.User, e.Role) {
		if usableID(e.SourcedID) {
			r.dropped[dropEnrollments] = append(r.dropped[dropEnrollments], e.SourcedID)
		}
	}
}

// Indexes of pulled.dropped.
const (
	dropClasses = iota
	dropUsers
	dropEnrollments
)

// pulledMeta says what a pulled roster was pulled for: a pull for another
// database, other settings, other connected schools or other district orgs
// cannot be updated, only replaced. The schools and district orgs are its
// scope (what it kept depends on them); the revision alone cannot tell,
// as a restored backup, or a database made again beside the kept rosters,
// numbers its next save as an earlier one was.
type pulledMeta struct {
	Format         int       `json:"format"`
	Database       string    `json:"database"` // store.DB.DatabaseID
	ConfigRevision int64     `json:"config_revision"`
	Schools        []string  `json:"schools"` // the connected schools, sorted
	DistrictOrgs   []string  `json:"district_orgs"`
	PermRev        string    `json:"perm_rev"`
	FullPullAt     time.Time `json:"full_pull_at"`
	// Since is, per collection, where the next run's pull of changes
	// starts (less changeMargin): watermarks.since.
	Since map[classlink.Collection]time.Time `json:"since"`
}

// pulledFormat is the layout of the meta and the stream (pulled_codec.go).
// Format 1 could keep a Since after the pull (a record dated in the future).
const pulledFormat = 2

func newPulled(d store.District, o *orgsPull) *pulled {
	p := &pulled{since: newWatermarks(o.start)}
	p.meta.Format = pulledFormat
	p.meta.ConfigRevision = d.Revision
	p.meta.Schools = connectedSchools(d)
	p.meta.DistrictOrgs = slices.Sorted(maps.Keys(o.districtOrgs))
	return p
}

// connectedSchools are the district's connected schools, sorted: the
// scope a kept roster was pulled for.
func connectedSchools(d store.District) []string {
	s := slices.Clone(d.Schools)
	slices.Sort(s)
	return slices.Compact(s)
}

// sort puts every list in sourcedId order (a server's own sort may
// collate differently), each id once.
func (r *records) sort() {
	r.classes = sortDedupe(r.classes, rosterClass.sourcedID)
	r.users = sortDedupe(r.users, rosterUser.sourcedID)
	for i := range r.dropped {
		slices.Sort(r.dropped[i])
		r.dropped[i] = slices.Compact(r.dropped[i])
	}
	r.enrollments.sort()
}

// watermarks track, per collection, the newest dateLastModified pulled
// that is not after the moment the pull began (until, by the server's
// clock: pullStart). A record dated later — a SIS clock ahead, a date
// typed wrong, a zone-less date in a zone ahead of UTC, a change made
// while the pull went on — never moves where the next pull starts: every
// change made after the pull read a record is dated after until. A record
// without a readable date makes its collection unusable for a pull of
// changes.
type watermarks struct {
	until      time.Time
	newest     map[classlink.Collection]time.Time
	unreadable map[classlink.Collection]bool
}

func newWatermarks(until time.Time) watermarks {
	return watermarks{until: until, newest: map[classlink.Collection]time.Time{}, unreadable: map[classlink.Collection]bool{}}
}

func (w watermarks) see(c classlink.Collection, date string) {
	t, ok := parseModified(date)
	switch {
	case !ok:
		w.unreadable[c] = true
	case t.After(w.until):
		// Dated after the pull began: not a starting point (see above).
	case t.After(w.newest[c]):
		w.newest[c] = t
	}
}

// since is where the next pull of changes of collection c starts (less
// changeMargin): the newest date pulled, never after the pull began; the
// pull's start itself when no record had an earlier date (an empty
// collection, or one whose every date is ahead of the server's clock).
// Too early only costs records pulled again; too late would miss changes.
func (w watermarks) since(c classlink.Collection) time.Time {
	if t := w.newest[c]; !t.IsZero() && t.Before(w.until) {
		return t
	}
	return w.until
}

// take adopts o's watermark of collection c (kept apart while c was
// pulled at the same time as another).
func (w watermarks) take(o watermarks, c classlink.Collection) {
	if t, ok := o.newest[c]; ok {
		w.newest[c] = t
	}
	if o.unreadable[c] {
		w.unreadable[c] = true
	}
}

// usable reports whether every collection has a trustworthy start for
// the next pull of changes.
func (w watermarks) usable() bool {
	for _, c := range changingCollections {
		if w.unreadable[c] || w.since(c).IsZero() {
			return false
		}
	}
	return true
}

// changingCollections are the collections a daily run pulls changes of.
var changingCollections = []classlink.Collection{classlink.Classes, classlink.Users, classlink.Enrollments}

// parseModified reads a dateLastModified as OneRoster servers write it.
func parseModified(s string) (time.Time, bool) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02"} {
		if t, err := time.Parse(layout, strings.TrimSpace(s)); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

// enrollTable holds enrollments column by column: an L-tier district's
// 2.5 million cost about 25 bytes each, ids included. Classes, users and
// roles are interned.
type enrollTable struct {
	ids    []byte   // sourcedIds back to back
	ends   []uint32 // entry i's id is ids[ends[i-1]:ends[i]]
	class  []int32  // into classes
	user   []int32  // into users
	role   []uint8  // into roles
	sorted bool     // ids arrived in byte order so far

	classes, users, roles      []string
	classIdx, userIdx, roleIdx map[string]int32
}

// grow makes room for n more entries.
func (t *enrollTable) grow(n int) {
	if n <= 0 {
		return
	}
	t.ids = slices.Grow(t.ids, n*12)
	t.ends = slices.Grow(t.ends, n)
	t.class = slices.Grow(t.class, n)
	t.user = slices.Grow(t.user, n)
	t.role = slices.Grow(t.role, n)
}

func (t *enrollTable) len() int { return len(t.ends) }

func (t *enrollTable) id(i int) []byte {
	start := uint32(0)
	if i > 0 {
		start = t.ends[i-1]
	}
	return t.ids[start:t.ends[i]]
}

func intern(list *[]string, idx *map[string]int32, s string) int32 {
	if *idx == nil {
		*idx = map[string]int32{}
	}
	i, ok := (*idx)[s]
	if !ok {
		i = int32(len(*list))
		(*idx)[s] = i
		*list = append(*list, s)
	}
	return i
}

// add appends an enrollment; it refuses a 256th distinct role (a server
// inventing roles: the first 255 are kept).
func (t *enrollTable) add(id, class, user, role string) bool {
	r, ok := t.roleIdx[role]
	if !ok {
		if len(t.roles) == 255 {
			return false
		}
		r = intern(&t.roles, &t.roleIdx, role)
	}
	if n := t.len(); n == 0 {
		t.sorted = true
	} else if t.sorted && compareStr(id, t.id(n-1)) <= 0 {
		t.sorted = false
	}
	t.ids = append(t.ids, id...)
	t.ends = append(t.ends, uint32(len(t.ids)))
	t.class = append(t.class, intern(&t.classes, &t.classIdx, class))
	t.user = append(t.user, intern(&t.users, &t.userIdx, user))
	t.role = append(t.role, uint8(r))
	return true
}

// push appends an entry whose class, user and role are already interned.
func (t *enrollTable) push(id []byte, class, user int32, role uint8) {
	t.ids = append(t.ids, id...)
	t.ends = append(t.ends, uint32(len(t.ids)))
	t.class = append(t.class, class)
	t.user = append(t.user, user)
	t.role = append(t.role, role)
}

// copyFrom appends entry i of o.
func (t *enrollTable) copyFrom(o *enrollTable, i int) {
	t.add(string(o.id(i)), o.classes[o.class[i]], o.users[o.user[i]], o.roles[o.role[i]])
}

// sort puts the entries in sourcedId order, keeping the first of a
// repeated id, and lets the interning maps go.
func (t *enrollTable) sort() {
	t.classIdx, t.userIdx, t.roleIdx = nil, nil, nil
	if t.sorted || t.len() == 0 {
		return
	}
	order := make([]int32, t.len())
	for i := range order {
		order[i] = int32(i)
	}
	sort.SliceStable(order, func(a, b int) bool { return bytes.Compare(t.id(int(order[a])), t.id(int(order[b]))) < 0 })
	var s enrollTable
	s.grow(t.len())
	s.classes, s.users, s.roles = t.classes, t.users, t.roles
	for k, i := range order {
		if k > 0 && bytes.Equal(t.id(int(order[k-1])), t.id(int(i))) {
			continue
		}
		s.push(t.id(int(i)), t.class[i], t.user[i], t.role[i])
	}
	s.sorted = true
	*t = s
}

// compareStr compares a string with bytes without converting either.
func compareStr(s string, b []byte) int {
	n := min(len(s), len(b))
	for i := range n {
		if s[i] != b[i] {
			if s[i] < b[i] {
				return -1
			}
			return 1
		}
	}
	return len(s) - len(b)
}
