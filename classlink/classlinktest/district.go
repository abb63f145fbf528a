package classlinktest

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"sync"
	"time"
)

// District is a generated roster plus the overlay of changes made since.
// It is safe for concurrent use.
type District struct {
	opt Options
	gen *generator

	mu      sync.RWMutex
	ov      map[Collection]*overlay
	rev     int
	version uint64 // moves on every change; keys the view caches
	day     int
	cache   viewCache
}

// overlay holds one collection's changes; it stays small. An overlay is
// never changed once published: a change makes a new one.
type overlay struct {
	replaced map[int]Record // generated index → its new version
	removed  []int          // generated indexes no longer served, sorted
	added    []Record       // records with new sourcedIds, sorted by sourcedId

	// addedAt[a] counts the generated records that sort before added[a],
	// found once (by binary search over generated ids) on first use.
	addedOnce sync.Once
	addedAt   []int
}

// positions returns addedAt for a view of collection c of g.
func (o *overlay) positions(g *generator, c Collection, n int) []int {
	o.addedOnce.Do(func() {
		o.addedAt = make([]int, len(o.added))
		for a, r := range o.added {
			id := r.ID()
			o.addedAt[a] = sort.Search(n, func(i int) bool { return g.id(c, i) >= id })
		}
	})
	return o.addedAt
}

func (o *overlay) clone() *overlay {
	c := &overlay{replaced: make(map[int]Record, len(o.replaced)), removed: slices.Clone(o.removed), added: slices.Clone(o.added)}
	for k, v := range o.replaced {
		c.replaced[k] = v
	}
	return c
}

// NewDistrict makes a district from opt. A zero Tier means TierS and a zero
// Epoch DefaultEpoch; a zero Mess means tidy data, so pass DefaultMess()
// for the untidiness real districts have.
func NewDistrict(opt Options) (*District, error) {
	if opt.Tier.Name == "" && opt.Tier.Students == 0 {
		opt.Tier = TierS
	}
	if err := opt.Tier.validate(); err != nil {
		return nil, err
	}
	if opt.Epoch.IsZero() {
		opt.Epoch = DefaultEpoch
	}
	if opt.DistrictName == "" {
		opt.DistrictName = "Demo Unified School District"
	}
	if opt.EmailDomain == "" {
		opt.EmailDomain = "demo-usd.example.org"
	}
	d := &District{opt: opt, gen: newGenerator(opt), ov: map[Collection]*overlay{}}
	for _, c := range AllCollections {
		d.ov[c] = &overlay{replaced: map[int]Record{}}
	}
	return d, nil
}

// Options returns the options the district was made with (defaults filled).
func (d *District) Options() Options { return d.opt }

// Tier is the district's size.
func (d *District) Tier() Tier { return d.opt.Tier }

// Revision is the current x-perm-rev.
func (d *District) Revision() string {
	d.mu.RLock()
	defer d.mu.RUnlock()
	return d.revision()
}

func (d *District) revision() string {
	return strconv.FormatUint(splitmix(d.opt.Seed)%1_000_000_007, 36) + "-" + strconv.Itoa(d.rev)
}

// BumpRevision moves x-perm-rev without changing data (ClassLink moves it on
// any sync of the district, even one that changed nothing visible).
func (d *District) BumpRevision() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.rev++
	d.version++
	return d.revision()
}

// now is the timestamp for overlay changes: noon of the current day, so
// changes made on day n sort after every record generated or changed
// before it (generated records date from the year before the epoch).
func (d *District) now() time.Time {
	if d.opt.Now != nil {
		return d.opt.Now()
	}
	return d.opt.Epoch.Add(time.Duration(d.day)*24*time.Hour + 12*time.Hour)
}

// Stamp formats t as dateLastModified.
func Stamp(t time.Time) string { return t.UTC().Format(dateLayout) }

// changed is called with the lock held after every change.
func (d *District) changed() {
	d.rev++
	d.version++
}

// Len is how many records the collection serves now.
func (d *District) Len(c Collection) int {
	d.mu.RLock()
	defer d.mu.RUnlock()
	o := d.ov[c]
	return d.gen.count(c) - len(o.removed) + len(o.added)
}

// Get returns the record with sourcedId id as served now.
func (d *District) Get(c Collection, id string) (Record, bool) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	return d.get(c, id)
}

func (d *District) get(c Collection, id string) (Record, bool) {
	o := d.ov[c]
	if i, ok := d.gen.index(c, id); ok {
		if _, gone := slices.BinarySearch(o.removed, i); gone {
			return nil, false
		}
		if r, ok := o.replaced[i]; ok {
			return r, true
		}
		return d.gen.record(c, i), true
	}
	if k, ok := findAdded(o.added, id); ok {
		return o.added[k], true
	}
	return nil, false
}

func findAdded(added []Record, id string) (int, bool) {
	k := sort.Search(len(added), func(k int) bool { return added[k].ID() >= id })
	return k, k < len(added) && added[k].ID() == id
}

// ErrNoRecord is returned when an edit names a record that is not served.
var ErrNoRecord = errors.New("classlinktest: no such record")

// Put adds r, or replaces the record with the same sourcedId. It is served
// as given: set DateLastModified (Stamp) if a delta pull should see it.
func (d *District) Put(r Record) {
	if r == nil || r.ID() == "" {
		panic("classlinktest: Put needs a record with a sourcedId")
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	c := r.Collection()
	o := d.ov[c].clone()
	if i, ok := d.gen.index(c, r.ID()); ok {
		if k, gone := slices.BinarySearch(o.removed, i); gone {
			o.removed = slices.Delete(o.removed, k, k+1)
		}
		o.replaced[i] = r
	} else if k, ok := findAdded(o.added, r.ID()); ok {
		o.added[k] = r
	} else {
		o.added = slices.Insert(o.added, k, r)
	}
	d.ov[c] = o
	d.changed()
}

// Remove stops serving a record (a hard delete, as when a SIS purges).
func (d *District) Remove(c Collection, id string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	o := d.ov[c].clone()
	if i, ok := d.gen.index(c, id); ok {
		k, gone := slices.BinarySearch(o.removed, i)
		if gone {
			return fmt.Errorf("%w: %s %s", ErrNoRecord, c, id)
		}
		o.removed = slices.Insert(o.removed, k, i)
		delete(o.replaced, i)
	} else if k, ok := findAdded(o.added, id); ok {
		o.added = slices.Delete(o.added, k, k+1)
	} else {
		return fmt.Errorf("%w: %s %s", ErrNoRecord, c, id)
	}
	d.ov[c] = o
	d.changed()
	return nil
}

// MarkToBeDeleted sets a record's status to tobedeleted, stamped now.
func (d *District) MarkToBeDeleted(c Collection, id string) error {
	d.mu.RLock()
	r, ok := d.get(c, id)
	now := d.now()
	d.mu.RUnlock()
	if !ok {
		return fmt.Errorf("%w: %s %s", ErrNoRecord, c, id)
	}
	d.Put(withStatus(r, "tobedeleted", Stamp(now)))
	return nil
}

// Modify applies fn to a copy of the record with sourcedId id, stamps it
// now and serves the result. R is the record's type, e.g.
// Modify(d, id, func(u *User) { u.Email = "" }).
func Modify[R Record](d *District, id string, fn func(*R)) error {
	var zero R
	c := zero.Collection()
	d.mu.RLock()
	r, ok := d.get(c, id)
	now := d.now()
	d.mu.RUnlock()
	if !ok {
		return fmt.Errorf("%w: %s %s", ErrNoRecord, c, id)
	}
	v := r.(R)
	fn(&v)
	d.Put(withStatus(v, v.status(), Stamp(now)))
	return nil
}

// IDs the generator uses, for tests and scripted changes. They are only
// valid for the district's tier; sourcedIds stay opaque to the client.

// DistrictOrgID is the district org's sourcedId.
func (d *District) DistrictOrgID() string { return d.gen.orgID(0) }

// SchoolID is the sourcedId of school p (0-based).
func (d *District) SchoolID(p int) string { return d.gen.schoolID(p) }

// SchoolIDs are the sourcedIds of every school, SchoolID(0) first.
func (d *District) SchoolIDs() []string {
	ids := make([]string, d.opt.Tier.Schools)
	for p := range ids {
		ids[p] = d.SchoolID(p)
	}
	return ids
}

// StaffID is the sourcedId of staff member t (0..Staff-1); the first four
// are the district office.
func (d *District) StaffID(t int) string { return d.gen.staffID(t) }

// StudentID is the sourcedId of student s.
func (d *District) StudentID(s int) string { return d.gen.studentID(s) }

// GuardianID is the sourcedId of guardian j.
func (d *District) GuardianID(j int) string { return d.gen.guardianID(j) }

// ClassID is the sourcedId of class k.
func (d *District) ClassID(k int) string { return d.gen.id(Classes, k) }

// EnrollmentID is the sourcedId of enrollment e.
func (d *District) EnrollmentID(e int) string { return d.gen.id(Enrollments, e) }

// Generated returns generated record i of c, ignoring the overlay.
func (d *District) Generated(c Collection, i int) Record { return d.gen.record(c, i) }
