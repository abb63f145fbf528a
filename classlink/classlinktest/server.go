package classlinktest

import (
	"crypto/hmac"
	"crypto/subtle"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/schoolstatus/rostersync/classlink"
)

// Tenant is one district that shared the app.
type Tenant struct {
	TenantID       int64
	ApplicationID  int64
	Name           string
	ConsumerKey    string // OAuth1 key for the direct path
	ConsumerSecret string
	District       *District
}

// ServerOptions configure a Server.
type ServerOptions struct {
	Tenants []Tenant
	// ProxyToken is the partner bearer token for /applications and the
	// proxy paths; "" disables them.
	ProxyToken string
	// Now is the server's clock for OAuth timestamps; default time.Now.
	Now func() time.Time
	// ClockSkew is how far an oauth_timestamp may be from Now; default 5m.
	ClockSkew time.Duration
	// Paging makes the server page like servers other than ClassLink's;
	// SetPaging changes it later.
	Paging Paging
}

// Paging is how a server pages. The zero value pages like ClassLink: up
// to MaxLimit records, X-Total-Count and x-count, no Link header.
type Paging struct {
	// Cap is the largest page served whatever limit asks (0: MaxLimit), as
	// servers that cap pages below ClassLink's 10,000 do.
	Cap int
	// Link sends Link: <…>; rel="next" on every page but the last: the same
	// query with offset moved past the page and limit set to the page size
	// served.
	Link bool
	// NoTotal leaves out X-Total-Count and x-count; a client knows it has
	// everything when a page comes back empty.
	NoTotal bool
	// NoPermRev leaves out x-perm-rev, as servers that keep no roster
	// revision do: a change during a pull goes unnoticed by the client.
	NoPermRev bool
}

// Server is a OneRoster server on 127.0.0.1.
type Server struct {
	opt   ServerOptions
	hs    *httptest.Server
	byApp map[int64]*Tenant
	byKey map[string]*Tenant

	mu       sync.Mutex
	paging   Paging
	faults   []*activeFault
	requests []Request
	nonces   map[string]time.Time

	bufs sync.Pool
}

// OneRosterPath is the path of the OneRoster 1.1 API below a server root.
const OneRosterPath = "/ims/oneroster/v1p1/"

// MaxLimit is the largest page the server serves, as ClassLink.
const MaxLimit = 10000

// DefaultLimit is OneRoster's page size when limit is absent.
const DefaultLimit = 100

// flushAt is how much encoded JSON is buffered before it is written out.
const flushAt = 32 << 10

// NewServer starts a server for the tenants on a loopback port.
func NewServer(opt ServerOptions) (*Server, error) {
	s, err := newServer(opt)
	if err != nil {
		return nil, err
	}
	s.hs = httptest.NewServer(s)
	return s, nil
}

func newServer(opt ServerOptions) (*Server, error) {
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.ClockSkew <= 0 {
		opt.ClockSkew = 5 * time.Minute
	}
	if opt.Paging.Cap < 0 {
		return nil, fmt.Errorf("classlinktest: paging cap %d is negative", opt.Paging.Cap)
	}
	s := &Server{opt: opt, paging: opt.Paging, byApp: map[int64]*Tenant{}, byKey: map[string]*Tenant{}, nonces: map[string]time.Time{}}
	for i := range opt.Tenants {
		t := &opt.Tenants[i]
		if t.District == nil || t.ApplicationID <= 0 {
			return nil, fmt.Errorf("classlinktest: tenant %d needs a district and a positive application id", i)
		}
		if _, dup := s.byApp[t.ApplicationID]; dup {
			return nil, fmt.Errorf("classlinktest: application id %d is used twice", t.ApplicationID)
		}
		s.byApp[t.ApplicationID] = t
		if t.ConsumerKey != "" {
			s.byKey[t.ConsumerKey] = t
		}
	}
	s.bufs.New = func() any { b := make([]byte, 0, flushAt+16<<10); return &b }
	return s, nil
}

// URL is the server root, e.g. http://127.0.0.1:41234; it is also the
// proxy root for Applications.
func (s *Server) URL() string { return s.hs.URL }

// BaseURL is the direct (OAuth1) OneRoster base.
func (s *Server) BaseURL() string { return s.hs.URL + OneRosterPath }

// ProxyBaseURL is the proxy OneRoster base for an application.
func (s *Server) ProxyBaseURL(applicationID int64) string {
	return s.hs.URL + "/" + strconv.FormatInt(applicationID, 10) + OneRosterPath
}

// ProxyTemplate is a template for classlink.ProxyBaseURL pointing here.
func (s *Server) ProxyTemplate() string { return s.hs.URL + "/{application_id}" + OneRosterPath }

// Tenant returns the tenant with that application id, or nil.
func (s *Server) Tenant(applicationID int64) *Tenant { return s.byApp[applicationID] }

// OAuth1Config is a client configuration for the tenant's direct path.
func (s *Server) OAuth1Config(applicationID int64) classlink.Config {
	t := s.byApp[applicationID]
	if t == nil {
		return classlink.Config{}
	}
	return classlink.Config{Mode: classlink.ModeOAuth1, BaseURL: s.BaseURL(),
		ClientID: t.ConsumerKey, ClientSecret: t.ConsumerSecret, SignatureMethod: classlink.HMACSHA256}
}

// ProxyConfig is a client configuration for the tenant through the proxy path.
func (s *Server) ProxyConfig(applicationID int64) classlink.Config {
	return classlink.Config{Mode: classlink.ModeProxy, BaseURL: s.ProxyBaseURL(applicationID), Token: s.opt.ProxyToken}
}

// SetPaging changes how the server pages from the next request on.
func (s *Server) SetPaging(p Paging) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.paging = p
}

func (s *Server) currentPaging() Paging {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.paging
}

// Close stops the server, waiting for requests in flight.
func (s *Server) Close() { s.hs.Close() }

// ServeHTTP routes: /applications, /ims/oneroster/v1p1/{endpoint} and
// /{application_id}/ims/oneroster/v1p1/{endpoint}.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rec := Request{Path: r.URL.Path}
	defer func() {
		if rec.Status != 0 {
			s.record(rec)
		}
	}()
	if r.Method != http.MethodGet {
		rec.Status = s.fail(w, http.StatusMethodNotAllowed, "only GET is served")
		return
	}
	path := r.URL.Path
	switch {
	case path == "/applications":
		rec.Endpoint, rec.Auth = "applications", "bearer"
		if !s.bearerOK(r) {
			rec.Status = s.fail(w, http.StatusUnauthorized, "a valid bearer token is required")
			return
		}
		if f := s.fault(rec.Endpoint, 0, 0, false); f != nil && s.simpleFault(w, r, f, &rec) {
			return
		}
		rec.Status = s.serveApplications(w)
	case strings.HasPrefix(path, OneRosterPath):
		rec.Endpoint, rec.Auth = strings.TrimPrefix(path, OneRosterPath), "oauth1"
		t, problem := s.verifyOAuth1(r)
		if t == nil {
			rec.Status = s.fail(w, http.StatusUnauthorized, problem)
			return
		}
		rec.ApplicationID = t.ApplicationID
		s.serveCollection(w, r, t, strings.TrimSuffix(OneRosterPath, "/"), &rec)
	default:
		app, rest, ok := strings.Cut(strings.TrimPrefix(path, "/"), "/")
		id, err := strconv.ParseInt(app, 10, 64)
		if !ok || err != nil || !strings.HasPrefix("/"+rest, OneRosterPath) {
			rec.Status = s.fail(w, http.StatusNotFound, "no such path")
			return
		}
		rec.Endpoint, rec.Auth, rec.ApplicationID = strings.TrimPrefix("/"+rest, OneRosterPath), "bearer", id
		if !s.bearerOK(r) {
			rec.Status = s.fail(w, http.StatusUnauthorized, "a valid bearer token is required")
			return
		}
		t := s.byApp[id]
		if t == nil {
			rec.Status = s.fail(w, http.StatusNotFound, "application "+app+" has not shared its roster")
			return
		}
		s.serveCollection(w, r, t, "/"+app+strings.TrimSuffix(OneRosterPath, "/"), &rec)
	}
}

func (s *Server) bearerOK(r *http.Request) bool {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	return ok && s.opt.ProxyToken != "" && subtle.ConstantTimeCompare([]byte(tok), []byte(s.opt.ProxyToken)) == 1
}

// verifyOAuth1 checks a two-legged OAuth 1.0a signature (RFC 5849) and
// returns the tenant whose key signed it, or why it was refused.
func (s *Server) verifyOAuth1(r *http.Request) (*Tenant, string) {
	p, err := classlink.ParseAuthorization(r.Header.Get("Authorization"))
	if err != nil {
		return nil, "OAuth 1.0a authorization required: " + err.Error()
	}
	t := s.byKey[p["oauth_consumer_key"]]
	if t == nil {
		return nil, "unknown oauth_consumer_key"
	}
	method := p["oauth_signature_method"]
	if method != classlink.HMACSHA256 && method != classlink.HMACSHA1 {
		return nil, "unsupported oauth_signature_method"
	}
	if v, ok := p["oauth_version"]; ok && v != "1.0" {
		return nil, "unsupported oauth_version"
	}
	ts, err := strconv.ParseInt(p["oauth_timestamp"], 10, 64)
	if err != nil {
		return nil, "bad oauth_timestamp"
	}
	now := s.opt.Now()
	if d := now.Sub(time.Unix(ts, 0)); d > s.opt.ClockSkew || d < -s.opt.ClockSkew {
		return nil, "oauth_timestamp is outside the allowed clock skew"
	}
	nonce := p["oauth_nonce"]
	if nonce == "" {
		return nil, "missing oauth_nonce"
	}
	params := classlink.QueryParams(r.URL.RawQuery)
	for k, v := range p {
		if k != "oauth_signature" && k != "realm" {
			params[k] = append(params[k], v)
		}
	}
	u := &url.URL{Scheme: "http", Host: r.Host, Path: r.URL.Path, RawPath: r.URL.RawPath}
	if r.TLS != nil {
		u.Scheme = "https"
	}
	want, _ := classlink.Signature(method, classlink.SignatureBaseString(r.Method, u, params), t.ConsumerSecret, "")
	if !hmac.Equal([]byte(want), []byte(p["oauth_signature"])) {
		return nil, "invalid oauth_signature"
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	key := t.ConsumerKey + "\x00" + nonce + "\x00" + p["oauth_timestamp"]
	if _, seen := s.nonces[key]; seen {
		return nil, "oauth_nonce was already used"
	}
	if len(s.nonces) > 50000 {
		for k, at := range s.nonces {
			if now.Sub(at) > 2*s.opt.ClockSkew {
				delete(s.nonces, k)
			}
		}
	}
	s.nonces[key] = now
	return t, ""
}

// fail writes a OneRoster status-info error.
func (s *Server) fail(w http.ResponseWriter, status int, msg string) int {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	b := append([]byte(`{"imsx_codeMajor":"failure","imsx_severity":"error","imsx_description":`), appendString(nil, msg)...)
	b = append(b, '}')
	_, _ = w.Write(b)
	return status
}

// simpleFault applies the faults that replace the answer; it reports
// whether the answer was written.
func (s *Server) simpleFault(w http.ResponseWriter, r *http.Request, f *Fault, rec *Request) bool {
	rec.Fault = f.Kind
	switch f.Kind {
	case FaultRateLimit:
		if f.RetryAfter != "" {
			w.Header().Set("Retry-After", f.RetryAfter)
		}
		rec.Status = s.fail(w, http.StatusTooManyRequests, "rate limit exceeded")
	case FaultBadGateway:
		rec.Status = s.fail(w, http.StatusBadGateway, "bad gateway: upstream timed out")
	case FaultServerError:
		rec.Status = s.fail(w, http.StatusInternalServerError, "internal server error")
	case FaultUnauthorized:
		rec.Status = s.fail(w, http.StatusUnauthorized, "unauthorized")
	case FaultRefuseFilter:
		rec.Status = s.fail(w, http.StatusBadRequest, "invalid_filter_field: this server does not filter")
	case FaultDelay:
		t := time.NewTimer(f.Delay)
		defer t.Stop()
		select {
		case <-t.C:
		case <-r.Context().Done():
			rec.Status = 499 // client went away
			return true
		}
		return false
	default:
		return false
	}
	return true
}

func (s *Server) serveApplications(w http.ResponseWriter) int {
	b := []byte(`{"status":1,"applications":[`)
	first := true
	for _, t := range s.opt.Tenants {
		if !first {
			b = append(b, ',')
		}
		first = false
		b = fmt.Appendf(b, `{"id":%d,"tenant_name":`, 1000+t.ApplicationID)
		b = appendString(b, t.Name)
		b = fmt.Appendf(b, `,"tenant_id":%d,"application_id":%d,"bearer":null,"name":"SchoolStatus Connect","oneroster_application_id":`, t.TenantID, t.ApplicationID)
		b = appendString(b, url.QueryEscape(strconv.FormatUint(splitmix(uint64(t.ApplicationID)), 36)+"="))
		b = append(b, '}')
	}
	b = append(b, "]}"...)
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(b)
	return http.StatusOK
}

// endpoints maps endpoint names to collections; schools is a view.
var endpoints = map[string]Collection{
	"orgs": Orgs, "schools": Orgs, "academicSessions": AcademicSessions, "courses": Courses,
	"classes": Classes, "users": Users, "enrollments": Enrollments,
}

func isSchool(r Record) bool { o, ok := r.(Org); return ok && o.Type == "school" }

// serveCollection answers one page, generating and encoding records as it
// writes them.
func (s *Server) serveCollection(w http.ResponseWriter, r *http.Request, t *Tenant, base string, rec *Request) {
	// The Date header tells the district's clock, the one its changes are
	// stamped with (noon of its current day unless Options.Now says
	// otherwise), as a real server's comes from the clock that stamps
	// its records; generated data is never dated after it.
	t.District.mu.RLock() // AdvanceDay moves the day
	now := t.District.now()
	t.District.mu.RUnlock()
	w.Header().Set("Date", now.UTC().Format(http.TimeFormat))
	coll, ok := endpoints[rec.Endpoint]
	if !ok {
		rec.Status = s.fail(w, http.StatusNotFound, "unknown collection "+rec.Endpoint)
		return
	}
	q := r.URL.Query()
	rec.Filter, rec.Fields, rec.Sort = q.Get("filter"), q.Get("fields"), q.Get("sort")
	limit, offset := DefaultLimit, 0
	var err error
	if v := q.Get("limit"); v != "" {
		if limit, err = strconv.Atoi(v); err != nil || limit < 1 {
			rec.Status = s.fail(w, http.StatusBadRequest, "limit must be a positive integer")
			return
		}
		limit = min(limit, MaxLimit)
	}
	if v := q.Get("offset"); v != "" {
		if offset, err = strconv.Atoi(v); err != nil || offset < 0 {
			rec.Status = s.fail(w, http.StatusBadRequest, "offset must be a non-negative integer")
			return
		}
	}
	rec.Limit, rec.Offset = limit, offset
	paging := s.currentPaging()
	if paging.Cap > 0 {
		limit = min(limit, paging.Cap)
	}
	if rec.Sort != "" && rec.Sort != "sourcedId" {
		rec.Status = s.fail(w, http.StatusBadRequest, "invalid_sort_field: this server sorts by sourcedId only")
		return
	}
	if ob := q.Get("orderBy"); ob != "" && ob != "asc" {
		rec.Status = s.fail(w, http.StatusBadRequest, "orderBy must be asc")
		return
	}
	f, err := parseFilter(rec.Filter)
	if err != nil {
		rec.Status = s.fail(w, http.StatusBadRequest, err.Error())
		return
	}
	fault := s.fault(rec.Endpoint, limit, offset, rec.Filter != "")
	if fault != nil {
		if s.simpleFault(w, r, fault, rec) {
			return
		}
		if fault.Kind == FaultRevisionFlip {
			t.District.BumpRevision()
		}
	}

	v := view{f: f, key: rec.Endpoint + "\x00" + rec.Filter}
	if rec.Endpoint == "schools" {
		v.keep = isSchool
	}
	v.snapshot(t.District, coll)
	cache := &t.District.cache
	total := v.total(cache)
	want := max(min(limit, total-offset), 0)
	var kind FaultKind
	if fault != nil {
		kind = fault.Kind
	}
	from := offset // where the records served start
	switch kind {
	case FaultEmptyCollection:
		total, want = 0, 0
	case FaultEmptyPage:
		want = 0
	case FaultOrderShift:
		from--
	}
	rec.PermRev = v.rev
	h := w.Header()
	h.Set("Content-Type", "application/json")
	if !paging.NoTotal {
		h.Set("X-Total-Count", strconv.Itoa(total))
		h.Set("x-count", strconv.Itoa(total))
	}
	if !paging.NoPermRev {
		h.Set("x-perm-rev", v.rev)
	}
	if paging.Link && want > 0 && offset+want < total {
		h.Set("Link", "<"+nextLink(r, limit, offset+want)+`>; rel="next"`)
	}
	rec.Status = http.StatusOK

	bp := s.bufs.Get().(*[]byte)
	defer s.bufs.Put(bp)
	buf := (*bp)[:0]
	flush := func() {
		n, _ := w.Write(buf)
		rec.Bytes += int64(n)
		buf = buf[:0]
	}
	if kind == FaultMissingEnvelope {
		buf = append(buf, `{"statusInfoSet":[{"imsx_codeMajor":"success","imsx_severity":"status"}]}`...)
		flush()
		return
	}
	stopAt := want
	switch kind {
	case FaultShortPage:
		stopAt = want / 2
	case FaultCutConnection:
		stopAt = want / 2
	}
	envelope := string(coll)
	buf = append(buf, `{"`...)
	buf = append(buf, envelope...)
	buf = append(buf, `":[`...)
	mask := parseFields(coll, rec.Fields)
	cur := v.seek(from, cache)
	for rec.Records < stopAt {
		e, ok := v.next(&cur)
		if !ok {
			break
		}
		if !v.matches(e) {
			continue
		}
		if rec.Records > 0 {
			buf = append(buf, ',')
		}
		if mask == idOnly && e.rec == nil {
			// A sweep of sourcedIds: no need to build the record.
			buf = append(buf, `{"sourcedId":`...)
			buf = appendString(buf, v.g.id(v.c, e.gi))
			buf = append(buf, '}')
		} else {
			buf = v.build(e).appendJSON(buf, mask, base)
		}
		rec.Records++
		if len(buf) >= flushAt {
			flush()
			if r.Context().Err() != nil {
				return
			}
		}
	}
	if kind == FaultCutConnection {
		flush()
		if fl, ok := w.(http.Flusher); ok {
			fl.Flush()
		}
		s.record(*rec)
		rec.Status = 0 // recorded already
		panic(http.ErrAbortHandler)
	}
	if v.narrowed() && kind == 0 {
		cache.setCursor(v.version, coll, v.key, offset+rec.Records, cur)
	}
	buf = append(buf, "]}"...)
	flush()
}

// nextLink is the URL of the page after this one: the request's own URL
// with limit and offset moved on, its query re-encoded the way url.Values
// does it ('+' for spaces), which a client must sign as it is.
func nextLink(r *http.Request, limit, offset int) string {
	q := r.URL.Query()
	q.Set("limit", strconv.Itoa(limit))
	q.Set("offset", strconv.Itoa(offset))
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	u := url.URL{Scheme: scheme, Host: r.Host, Path: r.URL.Path, RawQuery: q.Encode()}
	return u.String()
}
