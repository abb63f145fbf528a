package classlink

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// collection describes one OneRoster endpoint.
type collection struct {
	path   string   // below the base URL
	key    string   // envelope key of the JSON answer
	fields []string // what the sync uses
}

var (
	collOrgs = collection{"orgs", "orgs",
		[]string{"sourcedId", "status", "dateLastModified", "name", "type", "identifier", "parent"}}
	// /schools answers with the "orgs" key, as OneRoster 1.1 specifies.
	collSchools          = collection{"schools", "orgs", collOrgs.fields}
	collAcademicSessions = collection{"academicSessions", "academicSessions",
		[]string{"sourcedId", "status", "dateLastModified", "title", "type", "startDate", "endDate", "parent", "schoolYear"}}
	collCourses = collection{"courses", "courses",
		[]string{"sourcedId", "status", "dateLastModified", "title", "courseCode", "org", "schoolYear"}}
	collClasses = collection{"classes", "classes",
		[]string{"sourcedId", "status", "dateLastModified", "title", "classCode", "course", "school", "terms"}}
	// roles is a 1.2 field; 1.1 servers ignore field names they do not know
	// (that is the guess; a server that rejects it can be given Fields).
	// Users and enrollments are most of a district's bytes, so they ask
	// for what the sync reads and no more: username, identifier, grades,
	// an enrollment's school and primary come only when Fields names them.
	collUsers = collection{"users", "users",
		[]string{"sourcedId", "status", "dateLastModified", "enabledUser", "givenName", "familyName",
			"email", "sms", "phone", "role", "roles", "orgs", "agents"}}
	collEnrollments = collection{"enrollments", "enrollments",
		[]string{"sourcedId", "status", "dateLastModified", "class", "user", "role"}}
)

func collectionByName(name Collection) (collection, bool) {
	for _, c := range []collection{collOrgs, collSchools, collAcademicSessions, collCourses, collClasses, collUsers, collEnrollments} {
		if c.path == string(name) {
			return c, true
		}
	}
	return collection{}, false
}

// DefaultFields is the fields= list sent for a collection when
// ListOptions.Fields is nil.
func DefaultFields(name Collection) []string {
	c, _ := collectionByName(name)
	return append([]string(nil), c.fields...)
}

// ListOptions narrow a pull.
type ListOptions struct {
	// Filter is a OneRoster filter, e.g. ModifiedSince(t) or
	// And(ModifiedSince(t), ActiveOnly).
	Filter string
	// Fields overrides the fields= list: nil sends DefaultFields, an empty
	// non-nil slice sends none (every field comes back).
	Fields []string
	// PageSize overrides Config.PageSize for this pull.
	PageSize int
	// Begin, when set, is called once before the first record with the
	// collection's total (X-Total-Count; -1 when the server sends none),
	// so that the caller can size what it collects.
	Begin func(total int)
}

// ActiveOnly is the filter for records that are not tobedeleted.
const ActiveOnly = "status='active'"

// ModifiedSince filters records changed after t.
func ModifiedSince(t time.Time) string {
	return "dateLastModified>'" + t.UTC().Format(time.RFC3339) + "'"
}

// And joins two filters; OneRoster 1.1 allows one logical operator.
func And(a, b string) string { return a + " AND " + b }

// PullInfo describes a finished pull (or as much as happened of a failed one).
type PullInfo struct {
	Total    int    // X-Total-Count; every record counted arrived
	PermRev  string // x-perm-rev, "" when the server sends none
	Pages    int    // pages that arrived whole
	Bytes    int64  // response body bytes read
	Requests int    // HTTP requests made, retries included
	Retries  int    // requests that were repeated
	PageSize int    // page size at the end (smaller after a 502)
	Elapsed  time.Duration
	// Date is the server's clock when it answered the first page (its
	// Date header): the clock its dateLastModified stamps come from.
	// Zero when it sent none or one that does not parse.
	Date time.Time
}

// Orgs streams every org (district, schools, …) to fn in sourcedId order.
// If fn returns an error the pull stops and returns it unchanged.
func (c *Client) Orgs(ctx context.Context, opt ListOptions, fn func(Org) error) (PullInfo, error) {
	return pull(ctx, c, collOrgs, opt, &orgDecoder{}, fn)
}

// Schools streams the orgs of type school.
func (c *Client) Schools(ctx context.Context, opt ListOptions, fn func(Org) error) (PullInfo, error) {
	return pull(ctx, c, collSchools, opt, &orgDecoder{}, fn)
}

// AcademicSessions streams school years, semesters, terms and grading periods.
func (c *Client) AcademicSessions(ctx context.Context, opt ListOptions, fn func(AcademicSession) error) (PullInfo, error) {
	return pull(ctx, c, collAcademicSessions, opt, &sessionDecoder{}, fn)
}

// Courses streams courses.
func (c *Client) Courses(ctx context.Context, opt ListOptions, fn func(Course) error) (PullInfo, error) {
	return pull(ctx, c, collCourses, opt, &courseDecoder{}, fn)
}

// Classes streams classes (Connect classrooms).
func (c *Client) Classes(ctx context.Context, opt ListOptions, fn func(Class) error) (PullInfo, error) {
	return pull(ctx, c, collClasses, opt, &classDecoder{}, fn)
}

// Users streams students, staff and guardians.
func (c *Client) Users(ctx context.Context, opt ListOptions, fn func(User) error) (PullInfo, error) {
	return pull(ctx, c, collUsers, opt, &userDecoder{}, fn)
}

// Enrollments streams enrollments.
func (c *Client) Enrollments(ctx context.Context, opt ListOptions, fn func(Enrollment) error) (PullInfo, error) {
	return pull(ctx, c, collEnrollments, opt, &enrollmentDecoder{}, fn)
}

// MaxRestarts is how often Consistent restarts a pull whose revision
// changed (DESIGN §3).
const MaxRestarts = 3

// Consistent runs pull and runs it again, up to MaxRestarts more times, while
// it fails with ErrRevisionChanged or ErrInconsistentPages. pull must start
// from nothing each time (drop what an earlier run collected). Other errors
// return at once.
func Consistent(ctx context.Context, pull func(ctx context.Context) error) error {
	var err error
	for range MaxRestarts + 1 {
		if err = pull(ctx); !errors.Is(err, ErrRevisionChanged) && !errors.Is(err, ErrInconsistentPages) {
			return err
		}
		if ctx.Err() != nil {
			return err
		}
	}
	return err
}

func (c *Client) query(coll collection, opt ListOptions, limit, offset int) []param {
	q := []param{{"limit", strconv.Itoa(limit)}, {"offset", strconv.Itoa(offset)}, {"sort", "sourcedId"}}
	if opt.Filter != "" {
		q = append(q, param{"filter", opt.Filter})
	}
	fields := opt.Fields
	if fields == nil {
		fields = coll.fields
	}
	if len(fields) > 0 {
		q = append(q, param{"fields", strings.Join(fields, ",")})
	}
	return q
}

// pageHeaders are the consistency headers of one page.
type pageHeaders struct {
	total   int // -1 when the server sends no total
	permRev string
}

// readPageHeaders reads the total from X-Total-Count, else x-count. A
// server may send neither; then only an empty page ends the pull.
func readPageHeaders(h http.Header) (pageHeaders, string) {
	ph := pageHeaders{total: -1, permRev: h.Get("x-perm-rev")}
	for _, name := range []string{"X-Total-Count", "x-count"} {
		v := h.Get(name)
		if v == "" {
			continue
		}
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || n < 0 {
			return ph, fmt.Sprintf("%s %.20q is not a count", name, v)
		}
		ph.total = n
		break
	}
	return ph, ""
}

func totalText(n int) string {
	if n < 0 {
		return "none"
	}
	return strconv.Itoa(n)
}

// xCountAgrees: ClassLink's x-count is taken to be the total like
// X-Total-Count; it is also accepted when it equals the page's own record
// count, in case that is what it means.
func xCountAgrees(h http.Header, total, pageRecords int) bool {
	xc := strings.TrimSpace(h.Get("x-count"))
	if xc == "" || h.Get("X-Total-Count") == "" {
		return true
	}
	n, err := strconv.Atoi(xc)
	return err == nil && (n == total || n == pageRecords)
}

// pull fetches a collection page by page and decodes each page with rd.
// offset always equals the records handed to fn, so a smaller page after
// a 502, or a server that caps its pages below the limit asked, continues
// exactly where the records stopped; a rel="next" link under the base URL
// is followed instead when the server sends one. The pull is complete
// when the records reach the total, or, from a server that sends no total,
// when a page comes back empty; an empty page short of the total fails.
//
// While a page is decoded the next one is already being fetched (the one
// at offset + the page size asked, or the server's next link); when the
// page turns out shorter than asked, that guess is dropped and the page
// size follows the server's.
func pull[T any](ctx context.Context, c *Client, coll collection, opt ListOptions, rd recordDecoder[T], fn func(T) error) (info PullInfo, err error) {
	start := time.Now()
	size := c.cfg.PageSize
	if opt.PageSize > 0 {
		size = min(opt.PageSize, MaxPageSize)
	}
	info = PullInfo{Total: -1, PageSize: size}
	op := coll.path
	var (
		first  *pageHeaders // headers of the first answered page
		ids    *idCheck
		ahead  *prefetch // the next page, being fetched
		spare  []byte    // a body buffer free for the next fetch
		offset int
		ask    = pageAsk{offset: 0, size: size}
		hint   int // the largest body so far: new buffers start at it
	)
	account := func(p page) {
		info.Requests += p.requests
		info.Retries += max(p.requests-1, 0)
		info.Bytes += p.bytes
	}
	defer func() {
		if ahead != nil {
			dropped := ahead.drop()
			account(dropped)
			putBuffer(dropped.body)
		}
		putBuffer(spare)
		info.Elapsed = time.Since(start)
	}()

	for {
		if err := ctx.Err(); err != nil {
			return info, &Error{Kind: ErrUpstream, Op: op, Offset: offset, Detail: "cancelled", Err: err}
		}
		var p page
		if ahead != nil && ahead.ask.same(ask) {
			p = <-ahead.done
		} else {
			if ahead != nil {
				dropped := ahead.drop()
				account(dropped)
				putBuffer(spare)
				spare = dropped.body
			}
			if spare == nil {
				spare = getBuffer(hint)
			}
			p, spare = c.fetch(ctx, coll, opt, ask, spare), nil
		}
		ahead = nil
		account(p)
		if p.size != ask.size { // halved after a 502
			size, info.PageSize = p.size, p.size
		}
		if p.err != nil {
			return info, p.err
		}
		body := p.body
		hint = max(hint, len(body))
		ph, problem := readPageHeaders(p.header)
		if problem != "" {
			return info, malformed(op, offset, problem, nil)
		}
		if first == nil {
			first = &ph
			info.Total, info.PermRev = ph.total, ph.permRev
			if date, err := http.ParseTime(p.header.Get("Date")); err == nil {
				info.Date = date.UTC()
			}
			ids = newIDCheck(min(max(ph.total, 0), size))
			if opt.Begin != nil {
				opt.Begin(ph.total)
			}
		} else if ph.permRev != first.permRev {
			return info, &Error{Kind: ErrRevisionChanged, Op: op, Offset: offset, Status: 200,
				Detail: fmt.Sprintf("x-perm-rev went from %q to %q", first.permRev, ph.permRev)}
		} else if ph.total != first.total {
			return info, &Error{Kind: ErrRevisionChanged, Op: op, Offset: offset, Status: 200,
				Detail: fmt.Sprintf("X-Total-Count went from %s to %s", totalText(first.total), totalText(ph.total))}
		}
		total := first.total
		link := c.nextLink(p.header, p.reqURL)

		// Guess the next page and fetch it while this one is decoded, from
		// the moment the caller took the page's first record (a caller
		// that wanted one record, as a probe, costs no request more).
		each := fn
		if link != nil || total < 0 || offset+size < total {
			guess := pageAsk{link: link, offset: offset + size, size: size}
			each = func(r T) error {
				if err := fn(r); err != nil || ahead != nil {
					return err
				}
				if spare == nil {
					spare = getBuffer(hint)
				}
				ahead, spare = c.startFetch(ctx, coll, opt, guess, spare), nil
				return nil
			}
		}

		pageStart := offset
		n, derr := decodePage(body, coll.key, rd, ids, each)
		putBuffer(spare)
		spare = body
		offset += n
		if derr != nil {
			var cb callbackError
			if errors.As(derr, &cb) {
				return info, cb.err
			}
			return info, malformed(op, pageStart, "", derr)
		}
		if !xCountAgrees(p.header, total, n) {
			return info, malformed(op, pageStart,
				fmt.Sprintf("x-count %s disagrees with X-Total-Count %d", p.header.Get("x-count"), total), nil)
		}
		info.Pages++
		done := false
		switch {
		case total >= 0 && offset > total:
			return info, malformed(op, pageStart, fmt.Sprintf("%d records arrived but X-Total-Count is %d", offset, total), nil)
		case total >= 0 && offset == total:
			done = true
		case n == 0 && total >= 0:
			// A page may be shorter than asked (servers cap them), but the
			// rest must follow.
			return info, malformed(op, pageStart, fmt.Sprintf("short page: no records at offset %d, %d expected in all", pageStart, total), nil)
		case n == 0:
			done = true // no total: an empty page is the end
		}
		if done {
			return info, ids.err(op, -1)
		}
		if info.Pages == 1 && total > 0 {
			ids.hashes = slices.Grow(ids.hashes, total-len(ids.hashes))
		}
		if total < 0 && ids.due() {
			if err := ids.err(op, pageStart); err != nil {
				return info, err
			}
		}
		if n < size {
			// The server caps its pages: ask for what it sends, so the
			// guesses hold from here on.
			size, info.PageSize = n, n
		}
		ask = pageAsk{link: link, offset: offset, size: size}
	}
}
