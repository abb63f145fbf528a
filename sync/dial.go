package sync

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"

	"github.com/schoolstatus/rostersync/classlink"
	"github.com/schoolstatus/rostersync/store"
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
	// HTTPClient, when set, carries every request (what the server lets
	// itself reach); nil is classlink's default client.
	HTTPClient *http.Client
}

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
func (dl *Dialer) Dial(_ context.Context, d store.District) (*classlink.Client, error) {
	cfg, err := dl.Config(d)
	if err != nil {
		return nil, err
	}
	return classlink.New(cfg)
}

// Config is the client configuration for d's saved connection.
func (dl *Dialer) Config(d store.District) (classlink.Config, error) {
	if d.Demo {
		if dl.Demo == nil {
			return classlink.Config{}, errors.New("the built-in demo district is not served by this process")
		}
		cfg, err := dl.Demo()
		if err != nil {
			return classlink.Config{}, fmt.Errorf("start the demo district's server: %w", err)
		}
		cfg.HTTPClient = dl.HTTPClient
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
			ClientSecret: c.ClientSecret, SignatureMethod: c.SignatureMethod, HTTPClient: dl.HTTPClient}, nil
	case store.ModeProxy:
		if err := dl.CheckProxyURL(d); err != nil {
			return classlink.Config{}, err
		}
		if dl.Token == "" {
			return classlink.Config{}, fmt.Errorf("district %d connects through the ClassLink proxy, which needs the partner token in %s", d.TenantID, TokenEnv)
		}
		return classlink.Config{Mode: classlink.ModeProxy, BaseURL: c.BaseURL, Token: dl.Token, HTTPClient: dl.HTTPClient}, nil
	}
	return classlink.Config{}, fmt.Errorf("connection.mode: %q is not supported", c.Mode)
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

// ProxyBaseURL is the proxy's OneRoster base for one district, "" when the
// configured root is not a valid URL.
func (dl *Dialer) ProxyBaseURL(applicationID int64) string {
	u, err := classlink.ProxyBaseURL(dl.Root()+"/{application_id}/ims/oneroster/v1p1/", applicationID)
	if err != nil {
		return ""
	}
	return u
}

// CheckProxyURL keeps the partner token on ClassLink's proxy and on this
// district: the token opens every district that shared the app, so a proxy
// URL must start with {proxy root}/{application_id}/. Connections that do
// not use the proxy pass.
func (dl *Dialer) CheckProxyURL(d store.District) error {
	if d.Connection.Mode != store.ModeProxy {
		return nil
	}
	prefix := dl.Root() + "/" + strconv.FormatInt(d.ApplicationID, 10) + "/"
	if !strings.HasPrefix(strings.TrimSpace(d.Connection.BaseURL), prefix) {
		return &store.FieldError{Field: "connection.base_url", Msg: fmt.Sprintf("a ClassLink proxy URL must start with %s (the partner token is only sent to ClassLink's proxy, for this district's application_id)", prefix)}
	}
	return nil
}

// Districts lists the districts that shared the app with the partner, from
// ClassLink's /applications.
func (dl *Dialer) Districts(ctx context.Context) ([]classlink.Application, error) {
	if dl.Token == "" {
		return nil, errors.New("no partner token: set " + TokenEnv)
	}
	return classlink.Applications(ctx, dl.Root(), classlink.Config{Token: dl.Token, MaxAttempts: 3, HTTPClient: dl.HTTPClient})
}
