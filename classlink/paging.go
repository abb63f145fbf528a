package classlink

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
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
	collUsers = collection{"users", "users",
		[]string{"sourcedId", "status", "dateLastModified", "enabledUser", "username", "givenName", "familyName",
			"email", "sms", "phone", "identifier", "role", "roles", "orgs", "agents", "grades"}}
	collEnrollments = collection{"enrollments", "enrollments",
		[]string{"sourcedId", "status", "dateLastModified", "class", "user", "school", "role", "primary"}}
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
}

// Orgs streams every org (district, schools, …) to fn in sourcedId order.
// If fn returns an error the pull stops and returns it unchanged.
func (c *Client) Orgs(ctx context.Context, opt ListOptions, fn func(Org) error) (PullInfo, error) {
	return pull[orgWire](ctx, c, collOrgs, opt, fn)
}

// Schools streams the orgs of type school.
func (c *Client) Schools(ctx context.Context, opt ListOptions, fn func(Org) error) (PullInfo, error) {
	return pull[orgWire](ctx, c, collSchools, opt, fn)
}

// AcademicSessions streams school years, semesters, terms and grading periods.
func (c *Client) AcademicSessions(ctx context.Context, opt ListOptions, fn func(AcademicSession) error) (PullInfo, error) {
	return pull[sessionWire](ctx, c, collAcademicSessions, opt, fn)
}

// Courses streams courses.
func (c *Client) Courses(ctx context.Context, opt ListOptions, fn func(Course) error) (PullInfo, error) {
	return pull[courseWire](ctx, c, collCourses, opt, fn)
}

// Classes streams classes (Connect classrooms).
func (c *Client) Classes(ctx context.Context, opt ListOptions, fn func(Class) error) (PullInfo, error) {
	return pull[classWire](ctx, c, collClasses, opt, fn)
}

// Users streams students, staff and guardians.
func (c *Client) Users(ctx context.Context, opt ListOptions, fn func(User) error) (PullInfo, error) {
	return pull[userWire](ctx, c, collUsers, opt, fn)
}

// Enrollments streams enrollments.
func (c *Client) Enrollments(ctx context.Context, opt ListOptions, fn func(Enrollment) error) (PullInfo, error) {
	return pull[enrollmentWire](ctx, c, collEnrollments, opt, fn)
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

// pull fetches a collection page by page. offset always equals the records
// handed to fn, so a page that breaks off mid-body, a smaller page after a
// 502, or a server that caps its pages below the limit asked, continues
// exactly where delivery stopped; a rel="next" link under the base URL is
// followed instead when the server sends one. The pull is complete when
// the records reach the total, or, from a server that sends no total, when
// a page comes back empty; an empty page short of the total fails.
func pull[W, T any, P wire[W, T]](ctx context.Context, c *Client, coll collection, opt ListOptions, fn func(T) error) (info PullInfo, err error) {
	start := time.Now()
	size := c.cfg.PageSize
	if opt.PageSize > 0 {
		size = min(opt.PageSize, MaxPageSize)
	}
	info = PullInfo{Total: -1, PageSize: size}
	defer func() { info.Elapsed = time.Since(start) }()
	offset := 0
	var first *pageHeaders // headers of the first answered page
	var next *url.URL      // the server's link to the page at nextAt
	nextAt := 0
	op := coll.path
	var ids *idCheck

	for {
		pageStart := offset
		var done bool
		var pageErr error // a final error found while reading a page
		requests := 0
		err = c.retrying(ctx, op, pageStart, func() verdict {
			reqStart := offset
			requests++
			info.Requests++
			if requests > 1 {
				info.Retries++
			}
			u := next
			if u == nil || nextAt != offset {
				u = c.endpoint(coll.path, c.query(coll, opt, size, offset))
			}
			resp, err := c.send(ctx, u)
			if err != nil {
				return transportVerdict(op, offset, err)
			}
			defer func() {
				resp.close()
				info.Bytes += resp.body.n
			}()
			if resp.StatusCode != http.StatusOK {
				v := c.judge(op, offset, resp)
				if resp.StatusCode == http.StatusBadGateway && size > MinPageSize {
					// A big page is the usual reason for a 502 from ClassLink.
					size = max(size/2, MinPageSize)
					info.PageSize = size
					next = nil // ask by offset, at the smaller size
					v.free = true
				}
				return v
			}
			ph, problem := readPageHeaders(resp.Header)
			if problem != "" {
				return verdict{err: malformed(op, offset, problem, nil), status: 200}
			}
			if first == nil {
				first = &ph
				info.Total, info.PermRev = ph.total, ph.permRev
				ids = newIDCheck(min(ph.total, size))
			} else if ph.permRev != first.permRev {
				return verdict{status: 200, err: &Error{Kind: ErrRevisionChanged, Op: op, Offset: offset, Status: 200,
					Detail: fmt.Sprintf("x-perm-rev went from %q to %q", first.permRev, ph.permRev)}}
			} else if ph.total != first.total {
				return verdict{status: 200, err: &Error{Kind: ErrRevisionChanged, Op: op, Offset: offset, Status: 200,
					Detail: fmt.Sprintf("X-Total-Count went from %s to %s", totalText(first.total), totalText(ph.total))}}
			}
			link := c.nextLink(resp.Header, resp.Request.URL)
			n, derr := decodeEnvelope[W, T, P](resp.body, coll.key, ids, fn)
			offset += n
			if derr != nil {
				var cb callbackError
				switch {
				case errors.As(derr, &cb):
					pageErr = cb.err
					return verdict{}
				case ctx.Err() != nil:
					return verdict{err: ctx.Err()}
				case resp.body.err != nil:
					// The connection broke mid-page: ask again from offset.
					return transportVerdict(op, offset, resp.body.err)
				default:
					return verdict{status: 200, err: malformed(op, pageStart, "", derr)}
				}
			}
			got := offset - reqStart
			if first.total >= 0 && !xCountAgrees(resp.Header, first.total, got) {
				return verdict{status: 200, err: malformed(op, pageStart,
					fmt.Sprintf("x-count %s disagrees with X-Total-Count %d", resp.Header.Get("x-count"), first.total), nil)}
			}
			info.Pages++
			total := first.total
			switch {
			case total >= 0 && offset > total:
				return verdict{status: 200, err: malformed(op, pageStart,
					fmt.Sprintf("%d records arrived but X-Total-Count is %d", offset, total), nil)}
			case total >= 0 && offset == total:
				done = true
			case got == 0 && total >= 0:
				// A page may be shorter than asked (servers cap them), but
				// the rest must follow.
				return verdict{status: 200, err: malformed(op, reqStart,
					fmt.Sprintf("short page: no records at offset %d, %d expected in all", reqStart, total), nil)}
			case got == 0:
				done = true // no total: an empty page is the end
			default:
				next, nextAt = link, offset
				if info.Pages == 1 && total > 0 {
					ids.hashes = slices.Grow(ids.hashes, total-len(ids.hashes))
				}
				if total < 0 && ids.due() {
					if err := ids.err(op, pageStart); err != nil {
						return verdict{status: 200, err: err}
					}
				}
			}
			if done {
				if err := ids.err(op, -1); err != nil {
					return verdict{status: 200, err: err}
				}
			}
			return verdict{}
		})
		if pageErr != nil {
			return info, pageErr
		}
		if err != nil {
			return info, err
		}
		if done {
			return info, nil
		}
		if err := ctx.Err(); err != nil {
			return info, &Error{Kind: ErrUpstream, Op: op, Offset: offset, Detail: "cancelled", Err: err}
		}
	}
}
