package store

import (
	"net"
	"net/url"
	"strings"
)

// Connection modes (DESIGN.md §3): the district's own Roster Server with
// OAuth 1.0a, or ClassLink's OneRoster proxy with the partner bearer token.
const (
	ModeOAuth1 = "oauth1"
	ModeProxy  = "proxy"
)

// Signature methods for OAuth 1.0a; SHA-256 is ClassLink's default.
const (
	HMACSHA256 = "HMAC-SHA256"
	HMACSHA1   = "HMAC-SHA1"
)

// SecretMask is what a secret prints as. Importing it keeps the stored secret.
const SecretMask = "********"

// Connection is how the sync reaches a district's roster in ClassLink.
// ClientSecret is stored in the 0600 database and never printed unmasked
// unless the user asks for --include-secrets.
type Connection struct {
	Mode            string `json:"mode"`
	BaseURL         string `json:"base_url"`
	ClientID        string `json:"client_id"`
	ClientSecret    string `json:"client_secret"`
	SignatureMethod string `json:"signature_method"`
}

// Masked returns a copy safe to show or print.
func (c Connection) Masked() Connection {
	if c.ClientSecret != "" {
		c.ClientSecret = SecretMask
	}
	return c
}

// Configured reports whether the connection has enough to try a pull.
func (c Connection) Configured() bool {
	switch c.Mode {
	case ModeOAuth1:
		return c.BaseURL != "" && c.ClientID != "" && c.ClientSecret != ""
	case ModeProxy:
		return c.BaseURL != ""
	}
	return false
}

// Validate checks mode, URL and signature method. An empty connection is
// valid: a district can be set up before its credentials arrive.
func (c Connection) Validate() error {
	if c == (Connection{}) {
		return nil
	}
	switch c.Mode {
	case ModeOAuth1, ModeProxy:
	default:
		return fieldErr("connection.mode", "must be %q or %q, got %q", ModeOAuth1, ModeProxy, c.Mode)
	}
	if err := ValidateBaseURL(c.BaseURL); err != nil {
		return err
	}
	switch c.SignatureMethod {
	case HMACSHA256, HMACSHA1:
	case "":
		if c.Mode == ModeOAuth1 {
			return fieldErr("connection.signature_method", "must be %q or %q", HMACSHA256, HMACSHA1)
		}
	default:
		return fieldErr("connection.signature_method", "must be %q or %q, got %q", HMACSHA256, HMACSHA1, c.SignatureMethod)
	}
	return nil
}

// ValidateBaseURL accepts only https URLs, except http to loopback addresses
// (tests and the built-in demo district): roster data and signed requests
// must never cross a network in clear text.
func ValidateBaseURL(raw string) error {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return fieldErr("connection.base_url", "must be an https:// URL such as https://example-ca-v2.oneroster.com/ims/oneroster/v1p1/, got %q", raw)
	}
	if u.User != nil {
		return fieldErr("connection.base_url", "must not contain a user name or password")
	}
	if u.Scheme == "http" && !IsLoopbackHost(u.Hostname()) {
		return fieldErr("connection.base_url", "must use https (http is allowed only for loopback addresses), got %q", raw)
	}
	return nil
}

// IsLoopbackHost reports whether host is localhost or a loopback IP.
func IsLoopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
