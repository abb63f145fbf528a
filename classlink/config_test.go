package classlink

import (
	"bytes"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

func TestValidateBaseURL(t *testing.T) {
	ok := []string{
		"https://acme-ca-v2.oneroster.com/ims/oneroster/v1p1/",
		"https://oneroster-proxy.classlink.io/57/ims/oneroster/v1p1/",
		"http://127.0.0.1:8080/ims/oneroster/v1p1/",
		"http://127.10.0.3/x/",
		"http://[::1]:9000/ims/oneroster/v1p1/",
		"http://localhost:1234/",
		"HTTPS://Example.com/",
	}
	for _, u := range ok {
		if err := ValidateBaseURL(u); err != nil {
			t.Errorf("ValidateBaseURL(%q) = %v", u, err)
		}
	}
	bad := map[string]string{
		"":                                        "required",
		"http://example.com/ims/oneroster/v1p1/":  "loopback",
		"http://10.0.0.1/":                        "loopback",
		"http://localhost.evil.com/":              "loopback",
		"ftp://127.0.0.1/":                        "scheme",
		"https:///nohost":                         "no host",
		"https://user:pw@example.com/":            "password",
		"https://example.com/?x=1":                "query",
		"https://example.com/#frag":               "query or fragment",
		"/ims/oneroster/v1p1/":                    "no host",
		"https://example.com:99999/":              "port",
		"http://128.0.0.1/ims/oneroster/v1p1/":    "loopback",
		"http://[::2]/ims/oneroster/v1p1/":        "loopback",
		"javascript:alert(1)":                     "scheme",
		"https://example.com:notaport/":           "URL",
		"  ":                                      "required",
		"http://0.0.0.0/":                         "loopback",
		"https://exa mple.com/":                   "URL",
		"http://127.0.0.1.nip.io/":                "loopback",
		"gopher://localhost/":                     "scheme",
		"https://oneroster-proxy.classlink.io/?a": "query",
	}
	for u, frag := range bad {
		err := ValidateBaseURL(u)
		if err == nil {
			t.Errorf("ValidateBaseURL(%q) accepted", u)
			continue
		}
		if !strings.HasPrefix(err.Error(), "base_url") || !strings.Contains(err.Error(), frag) {
			t.Errorf("ValidateBaseURL(%q) = %q; want it to name base_url and say %q", u, err, frag)
		}
		if strings.Contains(err.Error(), "pw@") {
			t.Errorf("error repeats the password: %v", err)
		}
	}
}

func TestProxyBaseURL(t *testing.T) {
	got, err := ProxyBaseURL("", 57)
	if err != nil || got != "https://oneroster-proxy.classlink.io/57/ims/oneroster/v1p1/" {
		t.Errorf("ProxyBaseURL default = %q, %v", got, err)
	}
	got, err = ProxyBaseURL("http://127.0.0.1:9/{application_id}/ims/oneroster/v1p1", 3)
	if err != nil || got != "http://127.0.0.1:9/3/ims/oneroster/v1p1/" {
		t.Errorf("ProxyBaseURL loopback = %q, %v", got, err)
	}
	for _, tc := range []struct {
		tmpl string
		id   int64
		frag string
	}{
		{"", 0, "application_id"},
		{"", -5, "application_id"},
		{"https://proxy.example.com/ims/oneroster/v1p1/", 5, "placeholder"},
		{"http://proxy.example.com/{application_id}/", 5, "base_url"},
	} {
		if _, err := ProxyBaseURL(tc.tmpl, tc.id); err == nil || !strings.Contains(err.Error(), tc.frag) {
			t.Errorf("ProxyBaseURL(%q, %d) = %v, want error mentioning %q", tc.tmpl, tc.id, err, tc.frag)
		}
	}
}

func TestConfigNeverShowsSecrets(t *testing.T) {
	c := Config{Mode: ModeOAuth1, BaseURL: "https://x.example.com/", ClientID: "key-1",
		ClientSecret: "SUPER-SECRET-1", Token: "TOKEN-SECRET-2"}
	var logged bytes.Buffer
	slog.New(slog.NewTextHandler(&logged, nil)).Info("connect", "cfg", c)
	outs := []string{c.String(), c.GoString(), fmt.Sprintf("%v", c), fmt.Sprintf("%+v", c), fmt.Sprintf("%#v", c),
		fmt.Sprint(&c), logged.String()}
	for _, out := range outs {
		if strings.Contains(out, "SUPER-SECRET-1") || strings.Contains(out, "TOKEN-SECRET-2") {
			t.Errorf("secret visible: %s", out)
		}
		if !strings.Contains(out, "key-1") || !strings.Contains(out, mask) {
			t.Errorf("expected the client id and a mask in %s", out)
		}
	}
}

func TestConfigValidate(t *testing.T) {
	base := Config{Mode: ModeOAuth1, BaseURL: "https://x.example.com/", ClientID: "k", ClientSecret: "s"}
	if err := base.Validate(); err != nil {
		t.Fatalf("valid config rejected: %v", err)
	}
	for field, mutate := range map[string]func(*Config){
		"client_id":        func(c *Config) { c.ClientID = "" },
		"client_secret":    func(c *Config) { c.ClientSecret = "" },
		"signature_method": func(c *Config) { c.SignatureMethod = "PLAINTEXT" },
		"mode":             func(c *Config) { c.Mode = "oauth2" },
		"token":            func(c *Config) { c.Mode = ModeProxy },
		"base_url":         func(c *Config) { c.BaseURL = "http://example.com/" },
		"page_size":        func(c *Config) { c.PageSize = MaxPageSize + 1 },
	} {
		c := base
		mutate(&c)
		err := c.Validate()
		if err == nil || !strings.HasPrefix(err.Error(), field) {
			t.Errorf("%s: Validate() = %v, want an error naming %s", field, err, field)
		}
		if _, err := New(c); err == nil {
			t.Errorf("%s: New accepted an invalid config", field)
		}
	}
}

func TestReason(t *testing.T) {
	cases := map[error]string{
		nil: "",
		&Error{Kind: ErrCredentials, Op: "users", Offset: -1}:                        "credentials",
		&Error{Kind: ErrNotFound, Op: "users", Offset: -1}:                           "credentials",
		&Error{Kind: ErrRateLimited, Op: "users", Offset: -1}:                        "upstream",
		&Error{Kind: ErrUpstream, Op: "users", Offset: -1}:                           "upstream",
		&Error{Kind: ErrMalformed, Op: "users", Offset: -1}:                          "upstream",
		&Error{Kind: ErrRevisionChanged, Op: "users", Offset: -1}:                    "upstream",
		fmt.Errorf("wrapped: %w", &Error{Kind: ErrCredentials, Op: "x", Offset: -1}): "credentials",
	}
	for err, want := range cases {
		if got := Reason(err); got != want {
			t.Errorf("Reason(%v) = %q, want %q", err, got, want)
		}
	}
}
