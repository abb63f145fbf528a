package classlink

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/schoolstatus/rostersync/untrusted"
)

// Mode says how requests reach the district's roster.
type Mode string

const (
	// ModeOAuth1 talks to the district's own Roster Server with two-legged
	// OAuth 1.0a signatures.
	ModeOAuth1 Mode = "oauth1"
	// ModeProxy talks to ClassLink's OneRoster proxy with a bearer token.
	ModeProxy Mode = "proxy"
)

// Signature methods accepted by ModeOAuth1.
const (
	HMACSHA256 = "HMAC-SHA256"
	HMACSHA1   = "HMAC-SHA1"
)

// TokenEnv is the environment variable the CLI reads the partner bearer
// token from. The package itself never reads the environment.
const TokenEnv = "ROSTERSYNC_CLASSLINK_TOKEN"

// DefaultProxyRoot is ClassLink's OneRoster proxy host; GET {root}/applications
// lists the districts that shared the app.
const DefaultProxyRoot = "https://oneroster-proxy.classlink.io"

// DefaultProxyTemplate is the proxy's OneRoster base for one district.
// ClassLink's developer pages show {root}/{application_id}/ims/oneroster/v1p1/schools,
// but the shape is not specified anywhere precisely (DESIGN §3), which is why
// the wizard keeps the resulting base URL editable.
const DefaultProxyTemplate = DefaultProxyRoot + "/{application_id}/ims/oneroster/v1p1/"

const applicationIDPlaceholder = "{application_id}"

// Limits and defaults.
const (
	MaxPageSize           = 10000 // ClassLink's ceiling for limit
	MinPageSize           = 50    // 502 halving stops here
	DefaultPageSize       = MaxPageSize
	DefaultRequestTimeout = 60 * time.Second
	DefaultMaxAttempts    = 6
	DefaultRetryBaseDelay = 500 * time.Millisecond
	DefaultRetryMaxDelay  = 30 * time.Second
	DefaultMaxRetryAfter  = 5 * time.Minute
)

const mask = "********"

// Config describes one connection. The zero values of the optional fields
// select the defaults above.
type Config struct {
	Mode Mode
	// BaseURL is the OneRoster base ending in /ims/oneroster/v1p1/; in proxy
	// mode it already holds the application id (see ProxyBaseURL).
	BaseURL string

	// OAuth1 consumer key and secret.
	ClientID     string
	ClientSecret string
	// SignatureMethod is HMACSHA256 (default) or HMACSHA1.
	SignatureMethod string

	// Token is the proxy bearer token.
	Token string

	// HTTPClient defaults to a client of this package's own; its Timeout
	// should stay zero because RequestTimeout bounds each request. Whatever
	// its CheckRedirect, the client never follows a redirect: every request
	// carries the token or a signature, which must not go anywhere else.
	HTTPClient *http.Client

	PageSize int // records per page, default and max 10000
	// RequestTimeout bounds one request, headers and the whole body (a
	// page is read whole before it is decoded). Default 60s.
	RequestTimeout time.Duration
	MaxAttempts    int // per request, default 6

	// Backoff: attempt n waits a random time in [d/2, d] with
	// d = RetryBaseDelay·2^(n-1) capped at RetryMaxDelay. A Retry-After
	// header is honoured as given; one longer than MaxRetryAfter gives up,
	// and so does any wait that would end past the context's deadline
	// (the caller's time budget), at once, with Error.RetryAt set.
	RetryBaseDelay time.Duration
	RetryMaxDelay  time.Duration
	MaxRetryAfter  time.Duration

	// Hooks for tests: the clock (OAuth timestamps, Retry-After dates), the
	// nonce source and the sleep between attempts. Sleep must return
	// ctx.Err() when ctx ends first.
	Now   func() time.Time
	Nonce func() string
	Sleep func(ctx context.Context, d time.Duration) error
}

// String masks the secret and the token, so a Config can be printed or logged.
func (c Config) String() string {
	return fmt.Sprintf("classlink.Config{Mode:%s BaseURL:%s ClientID:%s ClientSecret:%s SignatureMethod:%s Token:%s PageSize:%d}",
		c.Mode, c.BaseURL, c.ClientID, masked(c.ClientSecret), c.signatureMethod(), masked(c.Token), c.PageSize)
}

// GoString masks like String (it backs %#v).
func (c Config) GoString() string { return c.String() }

// LogValue masks like String for log/slog.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("mode", string(c.Mode)),
		slog.String("base_url", c.BaseURL),
		slog.String("client_id", c.ClientID),
		slog.String("client_secret", masked(c.ClientSecret)),
		slog.String("signature_method", c.signatureMethod()),
		slog.String("token", masked(c.Token)),
	)
}

func masked(s string) string {
	if s == "" {
		return ""
	}
	return mask
}

func (c Config) signatureMethod() string {
	if c.SignatureMethod == "" {
		return HMACSHA256
	}
	return c.SignatureMethod
}

// Validate reports the first problem with c, naming the field as the
// connection JSON does (DESIGN §5).
func (c Config) Validate() error {
	if err := ValidateBaseURL(c.BaseURL); err != nil {
		return err
	}
	switch c.Mode {
	case ModeOAuth1:
		if c.ClientID == "" {
			return errors.New("client_id: required for mode oauth1")
		}
		if c.ClientSecret == "" {
			return errors.New("client_secret: required for mode oauth1")
		}
		switch c.signatureMethod() {
		case HMACSHA256, HMACSHA1:
		default:
			return fmt.Errorf("signature_method: %q is not supported; use %s or %s", c.SignatureMethod, HMACSHA256, HMACSHA1)
		}
	case ModeProxy:
		if c.Token == "" {
			return fmt.Errorf("token: required for mode proxy (the CLI reads it from %s)", TokenEnv)
		}
	default:
		return fmt.Errorf("mode: %q is not supported; use %s or %s", c.Mode, ModeOAuth1, ModeProxy)
	}
	if c.PageSize < 0 || c.PageSize > MaxPageSize {
		return fmt.Errorf("page_size: %d is outside 1..%d", c.PageSize, MaxPageSize)
	}
	return nil
}

// withDefaults fills the zero fields.
func (c Config) withDefaults() Config {
	if c.SignatureMethod == "" {
		c.SignatureMethod = HMACSHA256
	}
	if c.PageSize == 0 {
		c.PageSize = DefaultPageSize
	}
	if c.PageSize > MaxPageSize {
		c.PageSize = MaxPageSize
	}
	if c.RequestTimeout <= 0 {
		c.RequestTimeout = DefaultRequestTimeout
	}
	if c.MaxAttempts <= 0 {
		c.MaxAttempts = DefaultMaxAttempts
	}
	if c.RetryBaseDelay <= 0 {
		c.RetryBaseDelay = DefaultRetryBaseDelay
	}
	if c.RetryMaxDelay <= 0 {
		c.RetryMaxDelay = DefaultRetryMaxDelay
	}
	if c.MaxRetryAfter <= 0 {
		c.MaxRetryAfter = DefaultMaxRetryAfter
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Nonce == nil {
		c.Nonce = randomNonce
	}
	if c.Sleep == nil {
		c.Sleep = sleep
	}
	if c.HTTPClient == nil {
		c.HTTPClient = defaultHTTPClient
	}
	c.HTTPClient = withoutRedirects(c.HTTPClient)
	return c
}

// withoutRedirects is a copy of hc that hands a redirect back as the answer
// instead of following it; judge turns it into an error.
func withoutRedirects(hc *http.Client) *http.Client {
	cp := *hc
	cp.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &cp
}

var defaultHTTPClient = func() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = 8
	return &http.Client{Transport: t}
}()

// ValidateBaseURL is rostersync's one rule for a roster URL
// (untrusted.RosterURL): https, or http only to loopback hosts (tests and
// the demo district); no user name, query, fragment, dot segments or
// percent-encoding.
func ValidateBaseURL(raw string) error {
	if _, err := untrusted.RosterURL(raw); err != nil {
		return fmt.Errorf("base_url: %w", err)
	}
	return nil
}

// ProxyBaseURL substitutes applicationID into template (DefaultProxyTemplate
// when empty) and validates the result.
func ProxyBaseURL(template string, applicationID int64) (string, error) {
	if template == "" {
		template = DefaultProxyTemplate
	}
	if applicationID <= 0 {
		return "", fmt.Errorf("application_id: must be a positive integer, got %d", applicationID)
	}
	if !strings.Contains(template, applicationIDPlaceholder) {
		return "", fmt.Errorf("base_url template: %q has no %s placeholder", template, applicationIDPlaceholder)
	}
	u := strings.ReplaceAll(template, applicationIDPlaceholder, strconv.FormatInt(applicationID, 10))
	if !strings.HasSuffix(u, "/") {
		u += "/"
	}
	if err := ValidateBaseURL(u); err != nil {
		return "", err
	}
	return u, nil
}
