package classlink

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/schoolstatus/rostersync/untrusted"
)

// Client pulls one district's roster. It is safe for concurrent use.
type Client struct {
	cfg    Config
	base   *url.URL
	signer OAuth1
}

// New checks cfg and returns a client for it.
func New(cfg Config) (*Client, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("classlink: %w", err)
	}
	cfg = cfg.withDefaults()
	if !strings.HasSuffix(cfg.BaseURL, "/") {
		cfg.BaseURL += "/"
	}
	base, err := url.Parse(cfg.BaseURL)
	if err != nil {
		return nil, fmt.Errorf("classlink: base_url: %w", err)
	}
	return &Client{
		cfg:  cfg,
		base: base,
		signer: OAuth1{
			ConsumerKey:     cfg.ClientID,
			ConsumerSecret:  cfg.ClientSecret,
			SignatureMethod: cfg.SignatureMethod,
			Version:         "1.0",
		},
	}, nil
}

// BaseURL is the OneRoster base the client talks to.
func (c *Client) BaseURL() string { return c.cfg.BaseURL }

// With is a copy of the client with change applied to its configuration
// (for example fewer attempts for a quick connection test).
func (c *Client) With(change func(*Config)) *Client {
	cp := *c
	change(&cp.cfg)
	cp.cfg = cp.cfg.withDefaults()
	return &cp
}

// param is one query parameter; order is kept so URLs read naturally.
type param struct{ name, value string }

// endpoint builds base+path?query, encoding per RFC 5849 §3.6 so that the
// URL sent and the signed parameters agree (spaces as %20).
func (c *Client) endpoint(path string, query []param) *url.URL {
	u := *c.base
	u.Path = strings.TrimSuffix(c.base.Path, "/") + "/" + path
	u.RawPath = ""
	var q strings.Builder
	for i, p := range query {
		if i > 0 {
			q.WriteByte('&')
		}
		q.WriteString(PercentEncode(p.name))
		q.WriteByte('=')
		q.WriteString(PercentEncode(p.value))
	}
	u.RawQuery = q.String()
	return &u
}

// response is an open answer; close releases the per-request timeout.
type response struct {
	*http.Response
	body   *trackingReader
	cancel context.CancelFunc
}

func (r *response) close() {
	// Drain a little so the connection can be reused, then release.
	_, _ = io.CopyN(io.Discard, r.body, 64<<10)
	r.Body.Close()
	r.cancel()
}

// send makes one authorized GET bounded by RequestTimeout.
func (c *Client) send(ctx context.Context, u *url.URL) (*response, error) {
	rctx, cancel := context.WithTimeout(ctx, c.cfg.RequestTimeout)
	req, err := http.NewRequestWithContext(rctx, http.MethodGet, u.String(), nil)
	if err != nil {
		cancel()
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	if err := c.authorize(req); err != nil {
		cancel()
		return nil, err
	}
	resp, err := c.cfg.HTTPClient.Do(req)
	if err != nil {
		cancel()
		return nil, c.scrub(err)
	}
	return &response{Response: resp, body: &trackingReader{r: resp.Body}, cancel: cancel}, nil
}

// judge classifies a non-200 answer, reading a short, scrubbed excerpt of
// its body for the error message.
func (c *Client) judge(op string, offset int, r *response) verdict {
	excerpt, _ := io.ReadAll(io.LimitReader(r.body, 300))
	// Redacted as received (a secret is matched as sent), then escaped: the
	// body is the server's, and it reaches terminals.
	detail := untrusted.Text(strings.TrimSpace(c.redact(strings.ToValidUTF8(string(excerpt), "?"))))
	e := &Error{Op: op, Offset: offset, Status: r.StatusCode, Detail: detail}
	v := verdict{status: r.StatusCode, err: e}
	switch code := r.StatusCode; {
	case code == http.StatusUnauthorized || code == http.StatusForbidden:
		e.Kind = ErrCredentials
	case code == http.StatusNotFound:
		e.Kind = ErrNotFound
	case code == http.StatusTooManyRequests:
		e.Kind = ErrRateLimited
		v.retry, v.rateLimited = true, true
		v.after, v.hasAfter = retryAfter(r.Header, c.cfg.Now())
	case code >= 500:
		e.Kind = ErrUpstream
		v.retry = true
		v.after, v.hasAfter = retryAfter(r.Header, c.cfg.Now())
	case code >= 300 && code < 400:
		// Never followed: the request carried the token or a signature.
		e.Kind = ErrUpstream
		e.Detail = "ClassLink answered with a redirect to " + c.redirectTarget(r)
	default:
		e.Kind = ErrUpstream
	}
	return v
}

// transportVerdict: the request did not get an answer (or lost it mid-body).
func transportVerdict(op string, offset int, err error) verdict {
	return verdict{retry: true, err: &Error{Kind: ErrUpstream, Op: op, Offset: offset, Err: err}}
}

// redirectTarget is where a redirect pointed, short and without secrets.
func (c *Client) redirectTarget(r *response) string {
	const most = 200
	where := r.Header.Get("Location")
	if u, err := r.Location(); err == nil {
		where = u.String()
	}
	where = strings.ToValidUTF8(c.redact(where), "?")
	if where == "" {
		return "an unnamed location"
	}
	if len(where) > most {
		where = strings.ToValidUTF8(where[:most], "") + "…"
	}
	return untrusted.Text(where)
}

// redact removes the secret and token from text that came from elsewhere
// (a server's error body could echo a header), in any letter case and
// percent-encoded.
func (c *Client) redact(s string) string {
	for _, secret := range []string{c.cfg.ClientSecret, c.cfg.Token} {
		if len(secret) >= 4 {
			s = replaceFold(s, secret)
			if enc := PercentEncode(secret); enc != secret {
				s = replaceFold(s, enc)
			}
		}
	}
	return s
}

// replaceFold replaces every case-insensitive occurrence of secret in s
// with the mask.
func replaceFold(s, secret string) string {
	lower, want := strings.ToLower(s), strings.ToLower(secret)
	if len(lower) != len(s) || !strings.Contains(lower, want) {
		if len(lower) == len(s) {
			return s
		}
		// Lower-casing changed byte lengths (rare scripts): compare rune by
		// rune instead of by offsets.
		return replaceFoldRunes(s, secret)
	}
	var b strings.Builder
	for {
		i := strings.Index(lower, want)
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		b.WriteString(s[:i])
		b.WriteString(mask)
		s, lower = s[i+len(want):], lower[i+len(want):]
	}
}

func replaceFoldRunes(s, secret string) string {
	rs, want := []rune(s), []rune(secret)
	var b strings.Builder
	for i := 0; i < len(rs); {
		if i+len(want) <= len(rs) && strings.EqualFold(string(rs[i:i+len(want)]), secret) {
			b.WriteString(mask)
			i += len(want)
			continue
		}
		b.WriteRune(rs[i])
		i++
	}
	return b.String()
}

// scrub rewrites a transport error's text through redact while keeping the
// error chain (timeouts stay detectable).
func (c *Client) scrub(err error) error {
	if msg := err.Error(); c.redact(msg) != msg {
		return &scrubbed{msg: c.redact(msg), err: err}
	}
	return err
}

type scrubbed struct {
	msg string
	err error
}

func (s *scrubbed) Error() string { return s.msg }
func (s *scrubbed) Unwrap() error { return s.err }

// trackingReader counts bytes and remembers a read failure, which tells a
// dropped connection (retry) from JSON the server really sent (malformed).
type trackingReader struct {
	r   io.Reader
	n   int64
	err error
}

func (t *trackingReader) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	t.n += int64(n)
	if err != nil && !errors.Is(err, io.EOF) && t.err == nil {
		t.err = err
	}
	return n, err
}

func formatUnix(s int64) string { return strconv.FormatInt(s, 10) }
