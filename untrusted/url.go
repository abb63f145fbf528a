package untrusted

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
)

// MaxURLLength is the longest roster URL accepted.
const MaxURLLength = 512

// allowedURL is what every URL message ends with.
const allowedURL = "an https:// URL (http:// only for localhost, 127.0.0.0/8 or ::1)"

// RosterURL parses raw and checks it is a URL rostersync may call a roster
// server at: https (http only to a loopback host), a host and an optional
// port 1–65535, no user name or password, no query or fragment, and a path
// that means only what it says: no dot segments (/../), no empty segments
// (//), no percent-encoding (%2e, %2f) and no backslashes, so that what a
// person confirms is exactly where requests go. The error says what is
// wrong without repeating more than a short prefix of raw.
func RosterURL(raw string) (*url.URL, error) {
	if strings.TrimSpace(raw) == "" {
		return nil, fmt.Errorf("required; must be %s", allowedURL)
	}
	if len(raw) > MaxURLLength {
		return nil, fmt.Errorf("is %d characters long; at most %d are allowed", len(raw), MaxURLLength)
	}
	if strings.ContainsFunc(raw, func(r rune) bool { return r <= ' ' || r == 0x7f || unsafe(r) }) {
		return nil, errors.New("must not contain spaces or control characters; must be " + allowedURL)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("%s is not a URL; must be %s", Quote(raw), allowedURL)
	}
	switch u.Scheme {
	case "https", "http":
	case "":
		return nil, fmt.Errorf("%s has no host; must be %s", Quote(raw), allowedURL)
	default:
		return nil, fmt.Errorf("scheme %s is not allowed; must be %s", Quote(u.Scheme), allowedURL)
	}
	if u.Opaque != "" || u.Host == "" || u.Hostname() == "" {
		return nil, fmt.Errorf("%s has no host; must be %s", Quote(raw), allowedURL)
	}
	if u.User != nil || strings.Contains(u.Host, "@") {
		return nil, errors.New("must not contain a user name or password; must be " + allowedURL)
	}
	if u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || strings.ContainsAny(raw, "?#") {
		return nil, errors.New("must not have a query or fragment (nothing after ? or #)")
	}
	if p := u.Port(); p != "" || strings.HasSuffix(u.Host, ":") {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 || strconv.Itoa(n) != p {
			return nil, fmt.Errorf("port %s is not a port number (1–65535)", Quote(p))
		}
	}
	host := u.Hostname()
	if net.ParseIP(host) == nil {
		if strings.HasSuffix(host, ".") || strings.HasPrefix(host, ".") || strings.Contains(host, "..") {
			return nil, fmt.Errorf("host %s is not a host name", Quote(host))
		}
		for _, r := range host {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '.') {
				return nil, fmt.Errorf("host %s may only hold letters, digits, '-' and '.' (an international name in its xn-- form)", Quote(host))
			}
		}
	}
	if strings.Contains(raw, "%") {
		return nil, errors.New("must not contain percent-encoded characters (%2e, %2f, …): write the path as it is")
	}
	if strings.Contains(raw, `\`) {
		return nil, errors.New("must not contain backslashes")
	}
	segments := strings.Split(strings.TrimPrefix(u.Path, "/"), "/")
	for i, seg := range segments {
		switch {
		case seg == "." || seg == "..":
			return nil, errors.New("must not contain dot segments (/./ or /../): write the path it leads to")
		case seg == "" && i < len(segments)-1:
			return nil, errors.New("must not contain empty path segments (//)")
		}
	}
	if u.Scheme == "http" && !IsLoopbackHost(host) {
		return nil, fmt.Errorf("http:// is allowed only for loopback hosts (localhost, 127.0.0.0/8, ::1); use https:// for %s", Quote(host))
	}
	return u, nil
}

// IsLoopbackHost reports whether host is localhost or a loopback IP.
func IsLoopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// SameURL reports whether two roster URLs that pass RosterURL lead to the
// same place: scheme and host compared without regard to case, the port
// with the scheme's default filled in, the path exactly (a trailing slash
// added to both).
func SameURL(a, b string) bool {
	ua, err := RosterURL(a)
	if err != nil {
		return false
	}
	ub, err := RosterURL(b)
	if err != nil {
		return false
	}
	return origin(ua) == origin(ub) && withSlash(ua.Path) == withSlash(ub.Path)
}

// Origin is the URL's scheme, host and port ("https://host:443"), lower
// case, with the default port filled in.
func Origin(raw string) (string, error) {
	u, err := RosterURL(raw)
	if err != nil {
		return "", err
	}
	return origin(u), nil
}

func origin(u *url.URL) string {
	port := u.Port()
	if port == "" {
		port = map[string]string{"https": "443", "http": "80"}[u.Scheme]
	}
	return u.Scheme + "://" + net.JoinHostPort(strings.ToLower(u.Hostname()), port)
}

func withSlash(p string) string {
	if !strings.HasSuffix(p, "/") {
		return p + "/"
	}
	return p
}

// ProxyPath is the OneRoster path under ClassLink's proxy, after the
// application_id.
const ProxyPath = "/ims/oneroster/v1p1/"

// ProxyURL builds a district's OneRoster base on ClassLink's proxy:
// {root}/{application_id}/ims/oneroster/v1p1/. The proxy URL is only ever
// built, never typed, because the partner token goes with every request
// to it.
func ProxyURL(root string, applicationID int64) (string, error) {
	if applicationID <= 0 {
		return "", fmt.Errorf("application_id must be a positive whole number, got %d", applicationID)
	}
	if _, err := RosterURL(root); err != nil {
		return "", fmt.Errorf("the ClassLink proxy root: %w", err)
	}
	built := strings.TrimSuffix(root, "/") + "/" + strconv.FormatInt(applicationID, 10) + ProxyPath
	if _, err := RosterURL(built); err != nil {
		return "", err
	}
	return built, nil
}
