package classlinktest

import (
	"slices"
	"sort"
	"sync"
)

// view is one request's snapshot of a collection: the generator plus a
// copy of the overlay, so a page is consistent however the district changes
// meanwhile.
type view struct {
	g       *generator
	c       Collection
	n       int
	ov      *overlay
	rev     string
	version uint64
	// keep narrows the collection (the /schools view); nil keeps all.
	keep func(Record) bool
	f    *filter
	key  string // cache key: endpoint and filter
}

// cursor is a position in the merged order: the next generated index,
// the next removed entry and the next added record.
type cursor struct{ gi, ri, ai int }

// entry is one served record before it is built.
type entry struct {
	gi  int    // generated index, -1 for an added record
	rec Record // set for added and replaced records
}

func (v *view) snapshot(d *District, c Collection) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	v.g, v.c, v.n = d.gen, c, d.gen.count(c)
	v.ov = d.ov[c] // overlays are replaced, never changed in place
	v.rev, v.version = d.revision(), d.version
}

// next returns the entry at cur and advances it.
func (v *view) next(cur *cursor) (entry, bool) {
	for cur.ri < len(v.ov.removed) && v.ov.removed[cur.ri] < cur.gi {
		cur.ri++
	}
	for cur.gi < v.n && cur.ri < len(v.ov.removed) && v.ov.removed[cur.ri] == cur.gi {
		cur.gi++
		cur.ri++
	}
	haveGen, haveAdd := cur.gi < v.n, cur.ai < len(v.ov.added)
	switch {
	case !haveGen && !haveAdd:
		return entry{}, false
	case haveAdd && (!haveGen || v.ov.added[cur.ai].ID() < v.g.id(v.c, cur.gi)):
		e := entry{gi: -1, rec: v.ov.added[cur.ai]}
		cur.ai++
		return e, true
	default:
		e := entry{gi: cur.gi, rec: v.ov.replaced[cur.gi]}
		cur.gi++
		return e, true
	}
}

func (v *view) build(e entry) Record {
	if e.rec != nil {
		return e.rec
	}
	return v.g.record(v.c, e.gi)
}

// matches applies the filter (cheaply, without building generated records)
// and the view's narrowing.
func (v *view) matches(e entry) bool {
	if v.f != nil {
		var ok bool
		if e.rec != nil {
			ok = v.f.match(e.rec.status(), e.rec.modified())
		} else {
			ok = v.f.matchAt(v.g.status(v.c, e.gi), v.g.modifiedAt(v.c, e.gi), true)
		}
		if !ok {
			return false
		}
	}
	return v.keep == nil || v.keep(v.build(e))
}

func (v *view) narrowed() bool { return v.f != nil || v.keep != nil }

// total counts the served records.
func (v *view) total(cache *viewCache) int {
	if !v.narrowed() {
		return v.n - len(v.ov.removed) + len(v.ov.added)
	}
	if t, ok := cache.total(v.version, v.c, v.key); ok {
		return t
	}
	var cur cursor
	t := 0
	for {
		e, ok := v.next(&cur)
		if !ok {
			break
		}
		if v.matches(e) {
			t++
		}
	}
	cache.setTotal(v.version, v.c, v.key, t)
	return t
}

// seek returns a cursor at served position k.
func (v *view) seek(k int, cache *viewCache) cursor {
	if !v.narrowed() {
		return v.seekPlain(k)
	}
	if cur, ok := cache.cursor(v.version, v.c, v.key, k); ok {
		return cur
	}
	var cur cursor
	for i := 0; i < k; {
		e, ok := v.next(&cur)
		if !ok {
			return cur
		}
		if v.matches(e) {
			i++
		}
	}
	return cur
}

// seekPlain positions without scanning: binary searches over the
// generated ids and the small overlay.
func (v *view) seekPlain(k int) cursor {
	removedBefore := func(i int) int { return sort.SearchInts(v.ov.removed, i) } // removed indexes < i
	kept := func(i int) int { return i - removedBefore(i) }                      // kept generated indexes < i
	// Added records that come before position k.
	at := v.ov.positions(v.g, v.c, v.n)
	a := 0
	for a < len(v.ov.added) && a+kept(at[a]) < k {
		a++
	}
	// The (k-a)-th kept generated index.
	want := k - a
	gi := sort.Search(v.n, func(i int) bool { return kept(i+1) > want })
	return cursor{gi: gi, ri: removedBefore(gi), ai: a}
}

// viewCache remembers totals and page-end cursors of filtered views so
// that paging through them stays linear. It forgets everything when the
// district changes.
type viewCache struct {
	mu      sync.Mutex
	version uint64
	totals  map[string]int
	cursors map[string]map[int]cursor
}

func (c *viewCache) reset(version uint64) {
	if c.totals == nil || c.version != version {
		c.version = version
		c.totals = map[string]int{}
		c.cursors = map[string]map[int]cursor{}
	}
}

func (c *viewCache) total(version uint64, coll Collection, key string) (int, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.reset(version)
	t, ok := c.totals[string(coll)+"|"+key]
	return t, ok
}

func (c *viewCache) setTotal(version uint64, coll Collection, key string, t int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.reset(version)
	c.totals[string(coll)+"|"+key] = t
}

func (c *viewCache) cursor(version uint64, coll Collection, key string, k int) (cursor, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.reset(version)
	cur, ok := c.cursors[string(coll)+"|"+key][k]
	return cur, ok
}

func (c *viewCache) setCursor(version uint64, coll Collection, key string, k int, cur cursor) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.reset(version)
	m := c.cursors[string(coll)+"|"+key]
	if m == nil {
		m = map[int]cursor{}
		c.cursors[string(coll)+"|"+key] = m
	}
	if len(m) > 4096 { // a client seeking at random; stay bounded
		clear(m)
	}
	m[k] = cur
}

// Records returns up to limit records of c from served position offset,
// as the server would serve them unfiltered. Meant for tests.
func (d *District) Records(c Collection, offset, limit int) []Record {
	var v view
	v.snapshot(d, c)
	cur := v.seek(offset, &d.cache)
	out := make([]Record, 0, min(limit, 1024))
	for len(out) < limit {
		e, ok := v.next(&cur)
		if !ok {
			break
		}
		out = append(out, v.build(e))
	}
	return slices.Clip(out)
}
