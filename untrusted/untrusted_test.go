package untrusted

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestTextEscapesWhatWouldReachATerminal(t *testing.T) {
	for in, want := range map[string]string{
		"Springfield USD":                   "Springfield USD",
		"Zürich Schulen · 学区":               "Zürich Schulen · 学区",
		"evil\x1b[2J\x1b]52;c;aGk=\x07name": `evil\x1b[2J\x1b]52;c;aGk=\x07name`,
		"two\r\nlines":                      `two\r\nlines`,
		"nul\x00":                           `nul\x00`,
		"tab\there":                         `tab\there`,
		"c1\u009bcsi":                       `c1\u009bcsi`,
		"bidi\u202eexe.pdf":                 `bidi\u202eexe.pdf`,
		"bad\xffutf8":                       `bad\xffutf8`,
		"del\x7f":                           `del\x7f`,
	} {
		if got := Text(in); got != want {
			t.Errorf("Text(%q) = %q, want %q", in, got, want)
		}
	}
	if got := Lines("line one\nline \x1b[31mtwo"); got != "line one\nline \\x1b[31mtwo" {
		t.Errorf("Lines = %q", got)
	}
}

func TestQuoteEchoesOnlyAShortPrefix(t *testing.T) {
	if got := Quote(`short "name"`); got != `"short \"name\""` {
		t.Errorf("Quote = %s", got)
	}
	huge := strings.Repeat("\x1b[31mA", 1<<20)
	got := Quote(huge)
	if len(got) > 200 || strings.Contains(got, "\x1b") || !strings.Contains(got, "(6291456 bytes)") || !strings.Contains(got, "…") {
		t.Errorf("Quote(huge) = %s", got)
	}
}

func TestCheckLineRefusesControlCharacters(t *testing.T) {
	for _, ok := range []string{"Springfield USD", "Zürich · 学区", "O'Brien-Smith (North)"} {
		if err := CheckLine(ok); err != nil {
			t.Errorf("CheckLine(%q) = %v", ok, err)
		}
	}
	for in, found := range map[string]string{
		"evil\x1b[2J": `\x1b at character 5`,
		"a\nb":        `\n at character 2`,
		"a\rb":        `\r`,
		"nul\x00":     `\x00`,
		"x\u202ey":    `\u202e`,
		"\u0085":      `\u0085`,
	} {
		err := CheckLine(in)
		if err == nil || !strings.Contains(err.Error(), found) || !strings.Contains(err.Error(), "control characters") {
			t.Errorf("CheckLine(%q) = %v, want it to name %s", in, err, found)
		}
	}
	if err := CheckLine("bad\xff"); err == nil || !strings.Contains(err.Error(), "UTF-8") {
		t.Errorf("invalid UTF-8: %v", err)
	}
	if err := CheckLength("ábc", 3); err != nil {
		t.Error(err)
	}
	if err := CheckLength("abcd", 3); err == nil || !strings.Contains(err.Error(), "at most 3") {
		t.Errorf("CheckLength = %v", err)
	}
}

func TestRosterURL(t *testing.T) {
	for _, ok := range []string{
		"https://acme-ca-v2.oneroster.com/ims/oneroster/v1p1/",
		"https://oneroster-proxy.classlink.io/57/ims/oneroster/v1p1/",
		"https://oneroster-proxy.classlink.io/57/ims/oneroster/v1p1",
		"http://127.0.0.1:8080/ims/oneroster/v1p1/",
		"http://[::1]:9000/ims/oneroster/v1p1/",
		"http://localhost:1234/",
		"HTTPS://Example.com/",
		"https://example.com",
	} {
		if _, err := RosterURL(ok); err != nil {
			t.Errorf("RosterURL(%q) = %v", ok, err)
		}
	}
	proxy := "https://oneroster-proxy.classlink.io"
	for raw, frag := range map[string]string{
		proxy + "/62/../63/ims/oneroster/v1p1/":           "dot segments",
		proxy + "/62/./ims/oneroster/v1p1/":               "dot segments",
		proxy + "/62/%2e%2e/63/ims/oneroster/v1p1/":       "percent-encoded",
		proxy + "/62/..%2f63/ims/oneroster/v1p1/":         "percent-encoded",
		proxy + "/62/%2E%2E/63/":                          "percent-encoded",
		proxy + "/62//ims/oneroster/v1p1/":                "empty path segments",
		proxy + `/62/..\63/`:                              "backslash",
		proxy + "/ims/oneroster/v1p1/?a=1":                "query",
		proxy + "/ims/oneroster/v1p1/?":                   "query",
		proxy + "/ims/oneroster/v1p1/#frag":               "fragment",
		proxy + "/ims/oneroster/v1p1/#":                   "fragment",
		"https://example.com:99999/":                      "port",
		"https://example.com:0/":                          "port",
		"https://example.com:/":                           "port",
		"https://example.com:0443/":                       "port",
		"https://user:pw@example.com/":                    "user name or password",
		"https://user@example.com/":                       "user name or password",
		"http://example.com/":                             "loopback",
		"http://127.0.0.1.nip.io/":                        "loopback",
		"ftp://127.0.0.1/":                                "scheme",
		"javascript:alert(1)":                             "scheme",
		"https:///nohost":                                 "no host",
		"/ims/oneroster/v1p1/":                            "no host",
		"https://exa mple.com/":                           "spaces",
		"https://example.com/\x1b[2J":                     "control characters",
		"https://bücher.example/":                         "xn--",
		"https://example.com./":                           "not a host name",
		"":                                                "required",
		"https://example.com/" + strings.Repeat("a", 600): "at most 512",
	} {
		_, err := RosterURL(raw)
		if err == nil || !strings.Contains(err.Error(), frag) {
			t.Errorf("RosterURL(%.60q) = %v, want %q", raw, err, frag)
		}
		if err != nil && (strings.Contains(err.Error(), "pw@") || len(err.Error()) > 300) {
			t.Errorf("RosterURL(%.60q) echoes too much: %v", raw, err)
		}
	}
}

func TestSameURLAndProxyURL(t *testing.T) {
	for _, pair := range [][2]string{
		{"https://Oneroster-Proxy.classlink.io/57/ims/oneroster/v1p1/", "https://oneroster-proxy.classlink.io:443/57/ims/oneroster/v1p1"},
		{"HTTP://127.0.0.1:80/x/", "http://127.0.0.1/x"},
	} {
		if !SameURL(pair[0], pair[1]) {
			t.Errorf("SameURL(%q, %q) = false", pair[0], pair[1])
		}
	}
	for _, pair := range [][2]string{
		{"https://oneroster-proxy.classlink.io/57/ims/oneroster/v1p1/", "https://oneroster-proxy.classlink.io/58/ims/oneroster/v1p1/"},
		{"https://oneroster-proxy.classlink.io/57/ims/oneroster/v1p1/", "https://oneroster-proxy.classlink.io:8443/57/ims/oneroster/v1p1/"},
		{"https://oneroster-proxy.classlink.io/57/ims/oneroster/v1p1/", "https://oneroster-proxy.classlink.io/58/../57/ims/oneroster/v1p1/"},
		{"https://a.example/x/", "http://a.example/x/"},
	} {
		if SameURL(pair[0], pair[1]) {
			t.Errorf("SameURL(%q, %q) = true", pair[0], pair[1])
		}
	}
	got, err := ProxyURL("https://oneroster-proxy.classlink.io/", 57)
	if err != nil || got != "https://oneroster-proxy.classlink.io/57/ims/oneroster/v1p1/" {
		t.Errorf("ProxyURL = %q, %v", got, err)
	}
	if _, err := ProxyURL("http://proxy.example.com", 57); err == nil || !strings.Contains(err.Error(), "proxy root") {
		t.Errorf("a plain-http root: %v", err)
	}
	if _, err := ProxyURL("https://proxy.example.com", 0); err == nil || !strings.Contains(err.Error(), "application_id") {
		t.Errorf("application_id 0: %v", err)
	}
}

func FuzzText(f *testing.F) {
	for _, s := range []string{"plain", "\x1b[2J", "a\r\nb", "\xff\xfe", "\u202e", "\u0085"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, out := range []string{Text(s), Quote(s)} {
			if !utf8.ValidString(out) {
				t.Fatalf("%q gave invalid UTF-8 %q", s, out)
			}
			for _, r := range out {
				if unsafe(r) {
					t.Fatalf("%q gave %q, which still holds %U", s, out, r)
				}
			}
		}
		if CheckLine(s) == nil && Text(s) != s {
			t.Fatalf("%q passes CheckLine but Text changes it", s)
		}
	})
}

func FuzzRosterURL(f *testing.F) {
	for _, s := range []string{"https://a.oneroster.com/ims/oneroster/v1p1/", "https://p/62/../63/", "https://p/%2e%2e/", "http://127.0.0.1:1/x/", "https://h:99999/"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		u, err := RosterURL(raw)
		if err != nil {
			if len(err.Error()) > 400 {
				t.Fatalf("error echoes too much: %d bytes", len(err.Error()))
			}
			return
		}
		if strings.ContainsAny(raw, "%?#\\ ") || u.User != nil || !SameURL(raw, raw) {
			t.Fatalf("accepted %q", raw)
		}
		for _, seg := range strings.Split(u.Path, "/") {
			if seg == "." || seg == ".." {
				t.Fatalf("accepted a dot segment: %q", raw)
			}
		}
		if u.Scheme == "http" && !IsLoopbackHost(u.Hostname()) {
			t.Fatalf("accepted plain http to %q", raw)
		}
	})
}
