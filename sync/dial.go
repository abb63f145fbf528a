package sync

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/schoolstatus/rostersync/classlink"
	"github.com/schoolstatus/rostersync/store"
	"github.com/schoolstatus/rostersync/untrusted"
)

// DialFunc makes the ClassLink client for a district's saved connection.
// A process has one (Dialer.Dial, made by main); the engine, the wizard's
// connection test and its school list all reach ClassLink through it.
type DialFunc func(ctx context.Context, d store.District) (*classlink.Client, error)

// Dialer turns a district's saved connection into a ClassLink client:
// OAuth 1.0a with the stored key and secret, or ClassLink's proxy with the
// partner token. main makes one per process and hands Dial to the engine
// and the wizard.
type Dialer struct {
	// Demo gives the connection of the built-in demo district, whose
	// roster main serves in-process (started on first use). Nil: the demo
	// district cannot be reached.
	Demo func() (classlink.Config, error)
	// ProxyRoot is ClassLink's proxy host without a trailing slash;
	// empty means classlink.DefaultProxyRoot.
	ProxyRoot string
	// Token is the partner bearer token; empty when none is set.
	Token string
	// HTTPClient, when set, carries every request; nil is classlink's
	// default client. Reach, when set, replaces it.
	HTTPClient *http.Client
	// Reach, when set, is what the process may connect to for a roster
	// (serve: SSH users choose the URLs). Nil reaches anywhere a valid
	// roster URL points.
	Reach *Reach
	// DemoSchools are the demo district's schools, connected when the
	// demo district is added, so that its first preview works.
	DemoSchools []string

	// ClassLink's list of districts that shared the app, kept a while:
	// every proxy dial checks the district's application_id against it.
	appsMu sync.Mutex
	apps   map[int64]int64 // tenant_id → application_id
	appsAt time.Time
}

// How long ClassLink's list of districts is reused before it is asked for
// again; a district not on it, or on it with another application_id, asks
// again once the list is older than appsRecheck (it may just have shared
// the app).
const (
	appsFresh   = 5 * time.Minute
	appsRecheck = 30 * time.Second
)

// Environment variables main reads the proxy settings from.
const (
	// ProxyRootEnv overrides ClassLink's proxy host (tests, or if ClassLink
	// moves it).
	ProxyRootEnv = "ROSTERSYNC_CLASSLINK_PROXY"
	// TokenEnv holds the partner bearer token.
	TokenEnv = classlink.TokenEnv
)

// DialerFromEnv is a Dialer with the proxy root and partner token taken
// from the environment (ProxyRootEnv, TokenEnv) and the demo given.
func DialerFromEnv(demo func() (classlink.Config, error)) *Dialer {
	return &Dialer{Demo: demo, ProxyRoot: os.Getenv(ProxyRootEnv), Token: os.Getenv(TokenEnv)}
}

// Dial is a DialFunc.
func (dl *Dialer) Dial(ctx context.Context, d store.District) (*classlink.Client, error) {
	cfg, err := dl.Config(ctx, d)
	if err != nil {
		return nil, err
	}
	return classlink.New(cfg)
}

// Config is the client configuration for d's saved connection. Through the
// proxy, the partner token is only sent for a district ClassLink lists with
// the district's application_id, to the URL built from them. With Reach
// set, a URL off its rules is refused before anything connects.
func (dl *Dialer) Config(ctx context.Context, d store.District) (classlink.Config, error) {
	cfg, err := dl.config(ctx, d)
	if err != nil || d.Demo || dl.Reach == nil {
		return cfg, err
	}
	if err := dl.Reach.Check(ctx, cfg.BaseURL); err != nil {
		return classlink.Config{}, err
	}
	return cfg, nil
}

// CheckReach applies what needs no lookup of Reach's rules to d's
// connection, for forms; Dial applies them all.
func (dl *Dialer) CheckReach(d store.District) error {
	c := d.Connection
	if dl.Reach == nil || d.Demo || c.Mode == "" {
		return nil
	}
	u := c.BaseURL
	if c.Mode == store.ModeProxy {
		u = dl.ProxyBaseURL(d.ApplicationID)
	}
	if u == "" {
		return nil // the URL's own rule speaks for it
	}
	if err := dl.Reach.CheckURL(u); err != nil {
		return &store.FieldError{Field: "connection.base_url", Msg: err.Error()}
	}
	return nil
}

// httpClient carries every request to ClassLink.
func (dl *Dialer) httpClient() *http.Client {
	if dl.Reach != nil {
		return dl.Reach.Client()
	}
	return dl.HTTPClient
}

func (dl *Dialer) config(ctx context.Context, d store.District) (classlink.Config, error) {
	if d.Demo {
		if dl.Demo == nil {
			return classlink.Config{}, errors.New("the built-in demo district is not served by this process")
		}
		cfg, err := dl.Demo()
		if err != nil {
			return classlink.Config{}, fmt.Errorf("start the demo district's server: %w", err)
		}
		// Served by this process on loopback: the one exception to Reach.
		return cfg, nil
	}
	c := d.Connection
	if err := d.SecretProblemOf("connection."); err != nil {
		return classlink.Config{}, err // a lost or different secrets key
	}
	if !c.Configured() {
		return classlink.Config{}, fmt.Errorf("district %d has no ClassLink connection yet: set it up in the wizard or with config import", d.TenantID)
	}
	switch c.Mode {
	case store.ModeOAuth1:
		return classlink.Config{Mode: classlink.ModeOAuth1, BaseURL: c.BaseURL, ClientID: c.ClientID,
			ClientSecret: c.ClientSecret, SignatureMethod: c.SignatureMethod, HTTPClient: dl.httpClient()}, nil
	case store.ModeProxy:
		if dl.Token == "" {
			return classlink.Config{}, fmt.Errorf("district %d connects through the ClassLink proxy, which needs the partner token in %s", d.TenantID, TokenEnv)
		}
		if err := dl.CheckProxyURL(d); err != nil {
			return classlink.Config{}, err
		}
		if err := dl.CheckListed(ctx, d); err != nil {
			return classlink.Config{}, err
		}
		return classlink.Config{Mode: classlink.ModeProxy, BaseURL: dl.ProxyBaseURL(d.ApplicationID), Token: dl.Token, HTTPClient: dl.httpClient()}, nil
	}
	return classlink.Config{}, fmt.Errorf("connection.mode: %s is not supported", untrusted.Quote(c.Mode))
}

// PartnerToken reports whether a partner token is set, so ClassLink's list
// of districts can be asked for.
func (dl *Dialer) PartnerToken() bool { return dl.Token != "" }

// Root is ClassLink's proxy host, without a trailing slash.
func (dl *Dialer) Root() string {
	if dl.ProxyRoot != "" {
		return strings.TrimSuffix(dl.ProxyRoot, "/")
	}
	return classlink.DefaultProxyRoot
}

// ProxyBaseURL is the proxy's OneRoster base for one district, built from
// the proxy root and the application_id (never typed); "" when the
// configured root is not a valid URL.
func (dl *Dialer) ProxyBaseURL(applicationID int64) string {
	u, err := untrusted.ProxyURL(dl.Root(), applicationID)
	if err != nil {
		return ""
	}
	return u
}

// CheckProxyURL keeps the partner token on ClassLink's proxy and on this
// district: the token opens every district that shared the app, so a
// stored or imported proxy URL must be, after normalisation, the one built
// from the proxy root and the district's application_id. Connections that
// do not use the proxy pass.
func (dl *Dialer) CheckProxyURL(d store.District) error {
	if d.Connection.Mode != store.ModeProxy {
		return nil
	}
	built, err := untrusted.ProxyURL(dl.Root(), d.ApplicationID)
	if err != nil {
		return &store.FieldError{Field: "connection.base_url", Msg: err.Error()}
	}
	if !untrusted.SameURL(d.Connection.BaseURL, built) {
		return &store.FieldError{Field: "connection.base_url", Msg: fmt.Sprintf("a ClassLink proxy URL is built from the proxy root and the district's application_id: it must be %s, got %s (the partner token is only sent to ClassLink's proxy, for this district)", built, untrusted.Quote(d.Connection.BaseURL))}
	}
	return nil
}

// CheckListed is the tenant isolation check before the partner token is
// sent: ClassLink's list must have district d with d's application_id.
func (dl *Dialer) CheckListed(ctx context.Context, d store.District) error {
	l := dl.Listing(ctx, d.TenantID)
	if l.Checked && l.ApplicationID != d.ApplicationID {
		l = dl.listing(ctx, d.TenantID, appsRecheck) // it may just have shared the app
	}
	switch {
	case !l.Checked:
		return fmt.Errorf("district %d: the partner token is not sent, because its application_id cannot be checked: %s", d.TenantID, l.Why)
	case l.ApplicationID == 0:
		return fmt.Errorf("district %d: the partner token is not sent: %s", d.TenantID, l.Why)
	case l.ApplicationID != d.ApplicationID:
		return &store.FieldError{Field: "application_id", Msg: fmt.Sprintf("district %d has application_id %d, but ClassLink's list of districts that shared the app gives District Tenant ID %d application_id %d: the partner token is not sent; a specialist corrects it in District details", d.TenantID, d.ApplicationID, d.TenantID, l.ApplicationID)}
	}
	return nil
}

// Listing is what ClassLink's list of districts says about tenantID
// (store.NoListing without a partner token, or without a Dialer).
func (dl *Dialer) Listing(ctx context.Context, tenantID int64) store.Listing {
	if dl == nil {
		return store.NoListing
	}
	return dl.listing(ctx, tenantID, appsFresh)
}

func (dl *Dialer) listing(ctx context.Context, tenantID int64, maxAge time.Duration) store.Listing {
	if dl.Token == "" {
		return store.NoListing
	}
	apps, err := dl.applications(ctx, maxAge)
	return store.ListingOf(tenantID, apps, err)
}

// applications is ClassLink's list as tenant_id → application_id, asked
// for again when the kept one is older than maxAge.
func (dl *Dialer) applications(ctx context.Context, maxAge time.Duration) (map[int64]int64, error) {
	dl.appsMu.Lock()
	if dl.apps != nil && time.Since(dl.appsAt) < maxAge {
		apps := dl.apps
		dl.appsMu.Unlock()
		return apps, nil
	}
	dl.appsMu.Unlock()
	if _, err := dl.Districts(ctx); err != nil {
		return nil, err
	}
	dl.appsMu.Lock()
	defer dl.appsMu.Unlock()
	return dl.apps, nil
}

// Districts lists the districts that shared the app with the partner, from
// ClassLink's /applications.
func (dl *Dialer) Districts(ctx context.Context) ([]classlink.Application, error) {
	if dl.Token == "" {
		return nil, errors.New("no partner token: set " + TokenEnv)
	}
	if dl.Reach != nil {
		if err := dl.Reach.Check(ctx, dl.Root()); err != nil {
			return nil, err
		}
	}
	list, err := classlink.Applications(ctx, dl.Root(), classlink.Config{Token: dl.Token, MaxAttempts: 3, HTTPClient: dl.httpClient()})
	if err != nil {
		return nil, err
	}
	apps := make(map[int64]int64, len(list))
	for _, a := range list {
		apps[a.TenantID] = a.ApplicationID
	}
	dl.appsMu.Lock()
	dl.apps, dl.appsAt = apps, time.Now()
	dl.appsMu.Unlock()
	return list, nil
}
