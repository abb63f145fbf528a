package sync

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
)

func TestReachAllowListAndAddressRules(t *testing.T) {
	r := &Reach{Hosts: RosterHosts([]string{"*.oneroster.com", "203.0.113.7", "10.1.2.3"}, "https://oneroster-proxy.classlink.io")}
	for _, ok := range []string{
		"https://springfield-ca-v2.oneroster.com/ims/oneroster/v1p1/",
		"https://Springfield-CA-v2.OneRoster.com/ims/oneroster/v1p1/",
		"https://oneroster-proxy.classlink.io/5/ims/oneroster/v1p1/",
		"https://203.0.113.7/ims/oneroster/v1p1/",
	} {
		if err := r.CheckURL(ok); err != nil {
			t.Errorf("CheckURL(%s) = %v", ok, err)
		}
	}
	for raw, rule := range map[string]string{
		"https://oneroster.com.evil.example/":           "not on the roster host allow-list",
		"https://evil-oneroster.com/":                   "not on the roster host allow-list",
		"https://oneroster.com/":                        "not on the roster host allow-list",
		"https://127.0.0.1:8443/":                       "not on the roster host allow-list",
		"https://10.1.2.3/ims/oneroster/v1p1/":          "a private address",
		"https://classlink.io.oneroster-proxy.example/": "not on the roster host allow-list",
	} {
		err := r.CheckURL(raw)
		var re *ReachError
		if !errors.As(err, &re) || !strings.Contains(err.Error(), rule) {
			t.Errorf("CheckURL(%s) = %v, want %q", raw, err, rule)
		}
	}
	for addr, rule := range map[string]string{
		"127.0.0.1":        "loopback",
		"::1":              "loopback",
		"::ffff:127.0.0.1": "loopback",
		"64:ff9b::7f00:1":  "loopback",
		"10.0.0.5":         "private",
		"172.16.3.4":       "private",
		"192.168.1.1":      "private",
		"100.64.0.1":       "private",
		"fc00::1":          "private",
		"169.254.169.254":  "link-local",
		"fe80::1":          "link-local",
		"fd00:ec2::254":    "metadata",
		"168.63.129.16":    "metadata",
		"100.100.100.200":  "metadata",
		"0.0.0.0":          "not a single host",
		"239.1.2.3":        "not a single host",
		"255.255.255.255":  "not a single host",
		"0.1.2.3":          "reserved",
		"192.0.0.170":      "reserved",
		"198.18.0.1":       "reserved",
		"240.0.0.1":        "reserved",
		"2001::1":          "reserved",
		"2001:db8::1":      "reserved",
		"2002:7f00:1::":    "loopback",
		"2002:a9fe:a9fe::": "link-local",
		"::7f00:1":         "loopback",
		"::a00:5":          "private",
	} {
		if got := r.addressRule(netip.MustParseAddr(addr)); !strings.Contains(got, rule) {
			t.Errorf("addressRule(%s) = %q, want %q", addr, got, rule)
		}
	}
	for _, addr := range []string{"93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946", "2002:5db8:d822::1", "198.20.0.1"} {
		if got := r.addressRule(netip.MustParseAddr(addr)); got != "" {
			t.Errorf("addressRule(%s) = %q", addr, got)
		}
	}
	r.Allow = []netip.Prefix{netip.MustParsePrefix("10.1.0.0/16")}
	if err := r.CheckURL("https://10.1.2.3/"); err != nil {
		t.Errorf("an allowed range: %v", err)
	}
	for _, bad := range []string{"*", "*.", "a b", "https://x", "x/y", "*.*.com"} {
		if _, err := ParseRosterHost(bad); err == nil {
			t.Errorf("ParseRosterHost(%q) accepted", bad)
		}
	}
}

// answers gives each lookup the next answer: a name that changes what it
// resolves to between the check and the connection (DNS rebinding).
type answers struct {
	n    atomic.Int32
	each [][]netip.Addr
}

func (a *answers) LookupNetIP(context.Context, string, string) ([]netip.Addr, error) {
	i := int(a.n.Add(1)) - 1
	return a.each[min(i, len(a.each)-1)], nil
}

func TestReachResolvesAndDialsTheAddressItChecked(t *testing.T) {
	var reached atomic.Int32
	local := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { reached.Add(1) }))
	defer local.Close()
	_, port, _ := net.SplitHostPort(local.Listener.Addr().String())

	public, loop := netip.MustParseAddr("93.184.216.34"), netip.MustParseAddr("127.0.0.1")
	rebind := &answers{each: [][]netip.Addr{{public}, {loop}}}
	r := &Reach{Hosts: []string{"*.oneroster.com"}, Resolver: rebind}
	url := "http://evil.oneroster.com:" + port + "/"
	// The check sees the public address...
	if err := r.Check(context.Background(), "https://evil.oneroster.com/"); err != nil {
		t.Fatal(err)
	}
	// ...the connection looks again and refuses the loopback answer.
	_, err := r.Client().Get(url)
	if err == nil || !strings.Contains(err.Error(), "it resolves to 127.0.0.1, a loopback address") {
		t.Fatalf("rebinding: %v", err)
	}
	// A name with one refused address among good ones is refused.
	mixed := &Reach{Hosts: []string{"*.oneroster.com"}, Resolver: &answers{each: [][]netip.Addr{{public, loop}}}}
	if err := mixed.Check(context.Background(), "https://x.oneroster.com/"); err == nil || !strings.Contains(err.Error(), "loopback") {
		t.Fatalf("mixed answers: %v", err)
	}
	if reached.Load() != 0 {
		t.Fatal("a refused address was connected to")
	}

	// Allowed by the operator, the connection goes to the address checked.
	ok := &Reach{Hosts: []string{"*.oneroster.com"}, Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}, Resolver: &answers{each: [][]netip.Addr{{loop}}}}
	resp, err := ok.Client().Get(url)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if reached.Load() != 1 {
		t.Fatal("the allowed address was not reached")
	}
}

// A closed port and an unreachable one read the same: an SSH session must
// not learn which ports the server's network has open.
func TestReachNeverSaysWhetherAPortIsOpen(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := l.Addr().String()
	l.Close()
	r := &Reach{Hosts: []string{"127.0.0.1"}, Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}}
	_, err = r.DialRoster(context.Background(), "tcp", closed)
	if err == nil || strings.Contains(err.Error(), "refused") || !strings.Contains(err.Error(), "cannot connect to") {
		t.Fatalf("a closed port: %v", err)
	}
}

// SFTP folders are reached only on the SFTP ports (22 unless the operator
// allows others with serve --sftp-ports), before any connection.
func TestReachSFTPOnlyOnItsPorts(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	var accepted atomic.Int64
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			accepted.Add(1)
			c.Close()
		}
	}()
	port := l.Addr().(*net.TCPAddr).Port
	r := &Reach{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}}
	_, err = r.DialSFTP(context.Background(), "tcp", l.Addr().String())
	var re *ReachError
	if !errors.As(err, &re) || !strings.Contains(err.Error(), "SFTP folders are reached only on port 22 (the operator allows others with serve --sftp-ports)") {
		t.Fatalf("port %d with the default ports: %v", port, err)
	}
	r.SFTPPorts = []int{22, port}
	c, err := r.DialSFTP(context.Background(), "tcp", l.Addr().String())
	if err != nil {
		t.Fatalf("an allowed port: %v", err)
	}
	c.Close()
	if n := accepted.Load(); n > 1 {
		t.Fatalf("%d connections; the refused port was dialled", n)
	}
	if _, err := ParseSFTPPorts([]string{"22", "70000"}); err == nil || !strings.Contains(err.Error(), "--sftp-ports: \"70000\" is not a port") {
		t.Fatalf("ParseSFTPPorts: %v", err)
	}
}
