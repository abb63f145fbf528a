package store

import "github.com/schoolstatus/rostersync/untrusted"

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
	if err := checkText("connection.client_id", c.ClientID, MaxClientIDLength); err != nil {
		return err
	}
	// A secret the key could not open is kept as it is (IsSealed).
	if !IsSealed(c.ClientSecret) && (untrusted.CheckLine(c.ClientSecret) != nil || untrusted.CheckLength(c.ClientSecret, MaxSecretLength) != nil) {
		return fieldErr("connection.client_secret", "must be one line of printable text of at most %d characters", MaxSecretLength)
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

// ValidateBaseURL is the one rule for a roster URL (untrusted.RosterURL):
// https only, except http to loopback addresses (tests and the built-in
// demo district), so roster data and signed requests never cross a network
// in clear text; no user name, query, fragment, dot segments or encoded
// characters, so that the URL a person confirms is where requests go.
func ValidateBaseURL(raw string) error {
	if _, err := untrusted.RosterURL(raw); err != nil {
		return &FieldError{Field: "connection.base_url", Msg: err.Error()}
	}
	return nil
}

// IsLoopbackHost reports whether host is localhost or a loopback IP.
func IsLoopbackHost(host string) bool { return untrusted.IsLoopbackHost(host) }
