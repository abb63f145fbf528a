package sync

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	gosync "sync"

	"github.com/schoolstatus/rostersync/classlink"
	"github.com/schoolstatus/rostersync/classlink/classlinktest"
	"github.com/schoolstatus/rostersync/store"
)

// DialDistrict is the default Engine.Dial: a client for the district's
// saved connection (ClientConfig).
func DialDistrict(_ context.Context, d store.District) (*classlink.Client, error) {
	cfg, err := ClientConfig(d)
	if err != nil {
		return nil, err
	}
	return classlink.New(cfg)
}

// ClientConfig turns a district's saved connection into a client
// configuration: OAuth 1.0a with the stored key and secret, or the proxy
// with the partner token from the environment (classlink.TokenEnv). The
// demo district is served by one in-process classlinktest server, started
// on first use and kept for the life of the process.
func ClientConfig(d store.District) (classlink.Config, error) {
	if d.Demo {
		srv, err := demoServer()
		if err != nil {
			return classlink.Config{}, fmt.Errorf("start the demo district's server: %w", err)
		}
		return srv.OAuth1Config(classlinktest.DemoApplicationID), nil
	}
	c := d.Connection
	if !c.Configured() {
		return classlink.Config{}, fmt.Errorf("district %d has no ClassLink connection yet: set it up in the wizard or with config import", d.TenantID)
	}
	switch c.Mode {
	case store.ModeOAuth1:
		return classlink.Config{Mode: classlink.ModeOAuth1, BaseURL: c.BaseURL, ClientID: c.ClientID,
			ClientSecret: c.ClientSecret, SignatureMethod: c.SignatureMethod}, nil
	case store.ModeProxy:
		if err := CheckProxyURL(d); err != nil {
			return classlink.Config{}, err
		}
		token := os.Getenv(classlink.TokenEnv)
		if token == "" {
			return classlink.Config{}, fmt.Errorf("district %d connects through the ClassLink proxy, which needs the partner token in %s", d.TenantID, classlink.TokenEnv)
		}
		return classlink.Config{Mode: classlink.ModeProxy, BaseURL: c.BaseURL, Token: token}, nil
	}
	return classlink.Config{}, fmt.Errorf("connection.mode: %q is not supported", c.Mode)
}

var demo struct {
	once gosync.Once
	srv  *classlinktest.Server
	err  error
}

// demoServer starts the demo district's server once per process.
func demoServer() (*classlinktest.Server, error) {
	demo.once.Do(func() { demo.srv, demo.err = classlinktest.Demo() })
	return demo.srv, demo.err
}

// ProxyRootEnv overrides ClassLink's proxy host (tests, or if ClassLink
// moves it); the partner token is in classlink.TokenEnv.
const ProxyRootEnv = "ROSTERSYNC_CLASSLINK_PROXY"

// ProxyRoot is ClassLink's proxy host, without a trailing slash.
func ProxyRoot() string {
	if r := os.Getenv(ProxyRootEnv); r != "" {
		return strings.TrimSuffix(r, "/")
	}
	return classlink.DefaultProxyRoot
}

// ProxyBaseURL is the proxy's OneRoster base for one district, "" when the
// configured root is not a valid URL.
func ProxyBaseURL(applicationID int64) string {
	u, err := classlink.ProxyBaseURL(ProxyRoot()+"/{application_id}/ims/oneroster/v1p1/", applicationID)
	if err != nil {
		return ""
	}
	return u
}

// CheckProxyURL keeps the partner token on ClassLink's proxy and on this
// district: the token opens every district that shared the app, so a proxy
// URL must start with {proxy root}/{application_id}/. The rest of the path
// stays editable because ClassLink does not document it precisely.
func CheckProxyURL(d store.District) error {
	prefix := ProxyRoot() + "/" + strconv.FormatInt(d.ApplicationID, 10) + "/"
	if !strings.HasPrefix(strings.TrimSpace(d.Connection.BaseURL), prefix) {
		return &store.FieldError{Field: "connection.base_url", Msg: fmt.Sprintf("a ClassLink proxy URL must start with %s (the partner token is only sent to ClassLink's proxy, for this district's application_id)", prefix)}
	}
	return nil
}

// CheckConnection applies CheckProxyURL to a district that connects
// through the proxy; other connections pass.
func CheckConnection(d store.District) error {
	if d.Connection.Mode == store.ModeProxy {
		return CheckProxyURL(d)
	}
	return nil
}
