package classlink

import (
	"iter"
	"net/http"
	"net/url"
	"strings"
)

// nextLink reads the rel="next" target of a response's Link header
// (RFC 8288), resolved against the request's URL. It is nil when there is
// none, and also when the target is anywhere but under the client's base
// URL: the request carries the district's credentials, so a server cannot
// send them elsewhere (the pull then goes on by offset).
func (c *Client) nextLink(h http.Header, req *url.URL) *url.URL {
	for _, v := range h.Values("Link") {
		for target, rels := range linkValues(v) {
			if !hasRel(rels, "next") {
				continue
			}
			ref, err := url.Parse(target)
			if err != nil {
				return nil
			}
			u := req.ResolveReference(ref)
			if !c.underBase(u) {
				return nil
			}
			u.Fragment, u.RawFragment = "", ""
			return u
		}
	}
	return nil
}

// underBase: same scheme, host and port as the base URL, no user info,
// and a path below the base path without dot segments or encoded slashes.
func (c *Client) underBase(u *url.URL) bool {
	b := c.base
	if !strings.EqualFold(u.Scheme, b.Scheme) || u.User != nil || u.Opaque != "" ||
		!strings.EqualFold(u.Hostname(), b.Hostname()) || effectivePort(u) != effectivePort(b) {
		return false
	}
	if u.RawPath != "" && strings.Contains(strings.ToLower(u.RawPath), "%2f") {
		return false
	}
	for seg := range strings.SplitSeq(u.Path, "/") {
		if seg == "." || seg == ".." {
			return false
		}
	}
	return strings.HasPrefix(u.Path, b.Path)
}

func effectivePort(u *url.URL) string {
	if p := u.Port(); p != "" {
		return p
	}
	if strings.EqualFold(u.Scheme, "https") {
		return "443"
	}
	return "80"
}

// linkValues yields each link-value of one Link header field as its target
// and its rel parameter: `<a>; rel="next", <b>; rel=prev`. A malformed
// field yields what came before the fault.
func linkValues(field string) iter.Seq2[string, string] {
	return func(yield func(string, string) bool) {
		s := field
		for {
			s = strings.TrimLeft(s, " \t,")
			if !strings.HasPrefix(s, "<") {
				return
			}
			end := strings.IndexByte(s, '>')
			if end < 0 {
				return
			}
			target := s[1:end]
			s = s[end+1:]
			rel := ""
			for {
				s = strings.TrimLeft(s, " \t")
				if !strings.HasPrefix(s, ";") {
					break
				}
				s = strings.TrimLeft(s[1:], " \t")
				name, value := "", ""
				i := strings.IndexAny(s, "=;,")
				if i < 0 {
					name, s = s, ""
				} else {
					name, s = s[:i], s[i:]
				}
				if strings.HasPrefix(s, "=") {
					s = strings.TrimLeft(s[1:], " \t")
					if strings.HasPrefix(s, `"`) {
						j := strings.IndexByte(s[1:], '"')
						if j < 0 {
							return
						}
						value, s = s[1:1+j], s[2+j:]
					} else {
						j := strings.IndexAny(s, ";,")
						if j < 0 {
							j = len(s)
						}
						value, s = strings.TrimSpace(s[:j]), s[j:]
					}
				}
				if strings.EqualFold(strings.TrimSpace(name), "rel") && rel == "" {
					rel = value
				}
			}
			if !yield(target, rel) {
				return
			}
		}
	}
}

// hasRel: rel holds space-separated relation types, compared without case.
func hasRel(rels, want string) bool {
	for r := range strings.FieldsSeq(rels) {
		if strings.EqualFold(r, want) {
			return true
		}
	}
	return false
}
