package sync

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/schoolstatus/rostersync/untrusted"
)

// DefaultRosterHosts is where a served rostersync may fetch rosters unless
// the operator says otherwise: districts' own Roster Servers. ClassLink's
// proxy host is always added.
var DefaultRosterHosts = []string{"*.oneroster.com"}

// RosterHosts is the allow-list: hosts (DefaultRosterHosts when empty) and
// the host of ClassLink's proxy root.
func RosterHosts(hosts []string, proxyRoot string) []string {
	if len(hosts) == 0 {
		hosts = DefaultRosterHosts
	}
	out := append([]string(nil), hosts...)
	if u, err := untrusted.RosterURL(proxyRoot); err == nil {
		out = append(out, strings.ToLower(u.Hostname()))
	}
	return out
}

// Reach is what a server lets itself connect to when people it does not
// fully trust (SSH sessions, and the schedule that runs what they saved)
// choose the URL: hosts on an allow-list, at addresses that are none of
// loopback, private, link-local, cloud metadata and the like unless the
// operator allows them. Names are resolved and every address checked
// before anything connects, and the connection goes to the very address
// that was checked, so a name that changes its answer (DNS rebinding)
// gains nothing.
type Reach struct {
	// Hosts are host names or IP literals, or "*.example.com" for any name
	// under example.com, compared without regard to case.
	Hosts []string
	// Allow are address ranges reached although they are of a refused kind
	// (serve --roster-allow-net).
	Allow []netip.Prefix
	// Resolver looks names up; nil is net.DefaultResolver.
	Resolver Resolver
	// SFTPPorts are the ports DialSFTP connects to (serve --sftp-ports);
	// empty means 22 only.
	SFTPPorts []int

	once   sync.Once
	client *http.Client
}

// Resolver looks host names up (*net.Resolver is one).
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// ReachError says which rule refused a host, before any connection.
type ReachError struct {
	Host string
	Rule string // what refused it, for a person
}

func (e *ReachError) Error() string {
	return fmt.Sprintf("this server does not connect to %s: %s", untrusted.Quote(e.Host), e.Rule)
}

// ParseRosterHost checks one --roster-hosts entry: a host name, an IP
// address, or *.domain.
func ParseRosterHost(h string) (string, error) {
	h = strings.ToLower(strings.TrimSpace(h))
	name := strings.TrimPrefix(h, "*.")
	host := name
	if ip := net.ParseIP(name); ip != nil && strings.Contains(name, ":") {
		host = "[" + name + "]"
	}
	if _, err := untrusted.RosterURL("https://" + host + "/"); err != nil || name == "" || strings.ContainsAny(name, "*/") || strings.Contains(name, ":") && net.ParseIP(name) == nil {
		return "", fmt.Errorf("--roster-hosts: %s is not a host name, an IP address or *.domain", untrusted.Quote(h))
	}
	return h, nil
}

// allowedHost applies the allow-list.
func (r *Reach) allowedHost(host string) bool {
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	for _, h := range r.Hosts {
		h = strings.ToLower(h)
		if suffix, ok := strings.CutPrefix(h, "*."); ok {
			if strings.HasSuffix(host, "."+suffix) {
				return true
			}
		} else if host == h || net.ParseIP(host) != nil && net.ParseIP(h) != nil && net.ParseIP(host).Equal(net.ParseIP(h)) {
			return true
		}
	}
	return false
}

// metadata are cloud metadata and platform service addresses that are
// ordinary unicast addresses (the link-local ones are refused as such).
var metadata = []netip.Prefix{
	netip.MustParsePrefix("168.63.129.16/32"),   // Azure's platform endpoint
	netip.MustParsePrefix("100.100.100.200/32"), // Alibaba Cloud's metadata
	netip.MustParsePrefix("fd00:ec2::254/128"),  // AWS's IPv6 metadata
}

var (
	sharedSpace = netip.MustParsePrefix("100.64.0.0/10") // carrier-grade NAT
	nat64       = netip.MustParsePrefix("64:ff9b::/96")
	sixToFour   = netip.MustParsePrefix("2002::/16") // 2002:AABB:CCDD:: reaches AA.BB.CC.DD
	v4Compat    = netip.MustParsePrefix("::/96")     // the deprecated ::a.b.c.d
)

// reserved are special-purpose ranges no roster server lives in, some of
// which a host or its network treats as its own.
var reserved = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),      // "this network"
	netip.MustParsePrefix("192.0.0.0/24"),   // protocol assignments
	netip.MustParsePrefix("198.18.0.0/15"),  // benchmarking
	netip.MustParsePrefix("240.0.0.0/4"),    // reserved, and broadcast
	netip.MustParsePrefix("2001::/32"),      // Teredo: an IPv4 address behind a relay
	netip.MustParsePrefix("100::/64"),       // discard
	netip.MustParsePrefix("2001:db8::/32"),  // documentation
	netip.MustParsePrefix("fec0::/10"),      // site-local, deprecated
	netip.MustParsePrefix("2001:10::/28"),   // ORCHID
	netip.MustParsePrefix("2001:20::/28"),   // ORCHIDv2
	netip.MustParsePrefix("64:ff9b:1::/48"), // local-use NAT64
}

// addressRule says why addr is refused, "" when it may be reached.
func (r *Reach) addressRule(addr netip.Addr) string {
	addr = addr.Unmap()
	for _, p := range r.Allow {
		if p.Contains(addr) {
			return ""
		}
	}
	// An IPv4 address in IPv6 clothing is judged as itself.
	b := addr.As16()
	switch {
	case nat64.Contains(addr), v4Compat.Contains(addr) && !addr.IsLoopback() && !addr.IsUnspecified():
		if rule := r.addressRule(netip.AddrFrom4([4]byte(b[12:16]))); rule != "" {
			return rule
		}
	case sixToFour.Contains(addr):
		if rule := r.addressRule(netip.AddrFrom4([4]byte(b[2:6]))); rule != "" {
			return rule
		}
	}
	for _, p := range metadata {
		if p.Contains(addr) {
			return "a cloud metadata address"
		}
	}
	switch {
	case addr.IsLoopback():
		return "a loopback address"
	case addr.IsPrivate(), sharedSpace.Contains(addr):
		return "a private address"
	case addr.IsLinkLocalUnicast(), addr.IsLinkLocalMulticast():
		return "a link-local address (cloud metadata lives there)"
	case addr.IsUnspecified(), addr.IsMulticast(), addr.IsInterfaceLocalMulticast(), addr == netip.AddrFrom4([4]byte{255, 255, 255, 255}):
		return "not a single host's address"
	}
	for _, p := range reserved {
		if p.Contains(addr) {
			return "a reserved address"
		}
	}
	return ""
}

// CheckURL applies the rules that need no lookup to a roster URL: the
// allow-list, and the address rules to an IP literal. The connection screen
// and Review call it as a person types.
func (r *Reach) CheckURL(raw string) error {
	u, err := untrusted.RosterURL(raw)
	if err != nil {
		return err
	}
	return r.checkHost(u.Hostname())
}

func (r *Reach) checkHost(host string) error {
	if !r.allowedHost(host) {
		return &ReachError{Host: host, Rule: "it is not on the roster host allow-list (" + strings.Join(r.Hosts, ", ") + "; the operator sets it with serve --roster-hosts)"}
	}
	if ip, err := netip.ParseAddr(host); err == nil {
		if rule := r.addressRule(ip); rule != "" {
			return &ReachError{Host: host, Rule: "it is " + rule + " (the operator can allow it with serve --roster-allow-net)"}
		}
	}
	return nil
}

// resolve looks host up and checks every address it has: one refused
// address refuses the host.
func (r *Reach) resolve(ctx context.Context, host string) ([]netip.Addr, error) {
	if ip, err := netip.ParseAddr(host); err == nil {
		if rule := r.addressRule(ip); rule != "" {
			return nil, &ReachError{Host: host, Rule: "it is " + rule + " (the operator can allow it with serve --roster-allow-net)"}
		}
		return []netip.Addr{ip}, nil
	}
	var res Resolver = net.DefaultResolver
	if r.Resolver != nil {
		res = r.Resolver
	}
	addrs, err := res.LookupNetIP(ctx, "ip", host)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, &ReachError{Host: host, Rule: "its name does not resolve"}
	}
	for _, a := range addrs {
		if rule := r.addressRule(a); rule != "" {
			return nil, &ReachError{Host: host, Rule: fmt.Sprintf("it resolves to %s, %s (the operator can allow it with serve --roster-allow-net)", a.Unmap(), rule)}
		}
	}
	return addrs, nil
}

// Check applies every rule to a roster URL, resolving its host, before a
// client is made for it.
func (r *Reach) Check(ctx context.Context, raw string) error {
	if err := r.CheckURL(raw); err != nil {
		return err
	}
	u, _ := untrusted.RosterURL(raw)
	_, err := r.resolve(ctx, u.Hostname())
	return err
}

// DialRoster connects to a roster host: the allow-list and the address
// rules, then the checked address itself.
func (r *Reach) DialRoster(ctx context.Context, network, addr string) (net.Conn, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	if err := r.checkHost(host); err != nil {
		return nil, err
	}
	return r.dial(ctx, network, addr)
}

// DialSFTP connects to a district's SFTP guardians folder: any host the
// address rules allow (districts run their own servers), but only on the
// SFTP ports, so that a connection test cannot knock on every service of
// a host.
func (r *Reach) DialSFTP(ctx context.Context, network, addr string) (net.Conn, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	ports := r.SFTPPorts
	if len(ports) == 0 {
		ports = []int{22}
	}
	if p, err := strconv.Atoi(port); err != nil || !slices.Contains(ports, p) {
		list := make([]string, len(ports))
		for i, p := range ports {
			list[i] = strconv.Itoa(p)
		}
		return nil, &ReachError{Host: net.JoinHostPort(host, port), Rule: "SFTP folders are reached only on port " + strings.Join(list, ", ") + " (the operator allows others with serve --sftp-ports)"}
	}
	return r.dial(ctx, network, addr)
}

// ParseSFTPPorts reads serve --sftp-ports.
func ParseSFTPPorts(list []string) ([]int, error) {
	var out []int
	for _, s := range list {
		p, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || p < 1 || p > 65535 {
			return nil, fmt.Errorf("--sftp-ports: %s is not a port from 1 to 65535", untrusted.Quote(s))
		}
		out = append(out, p)
	}
	return out, nil
}

func (r *Reach) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	addrs, err := r.resolve(ctx, host)
	if err != nil {
		return nil, err
	}
	d := net.Dialer{Timeout: 30 * time.Second}
	for _, a := range addrs {
		conn, err := d.DialContext(ctx, network, net.JoinHostPort(a.Unmap().String(), port))
		if err == nil {
			return conn, nil
		}
	}
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	// The same words whether the port is closed, filtered or slow: an SSH
	// session must not learn which.
	return nil, fmt.Errorf("cannot connect to %s", untrusted.Quote(net.JoinHostPort(host, port)))
}

// Client is an HTTP client whose every connection goes through DialRoster
// (no environment proxy, which would hide the real destination).
func (r *Reach) Client() *http.Client {
	r.once.Do(func() {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.Proxy = nil
		t.DialContext = r.DialRoster
		t.MaxIdleConnsPerHost = 8
		r.client = &http.Client{Transport: t}
	})
	return r.client
}
