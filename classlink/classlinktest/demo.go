package classlinktest

import (
	"sync"

	"github.com/schoolstatus/rostersync/classlink"
)

// The built-in demo district: ClassLink's own demo tenant as its developer
// pages show it (tenant 2, application 57, "ClassLink Demo"), S tier, fixed
// seed. Its credentials are published on purpose: they only open this
// in-process server.
const (
	DemoTenantID       int64  = 2
	DemoApplicationID  int64  = 57
	DemoTenantName            = "ClassLink Demo"
	DemoConsumerKey           = "rostersync-demo-key"
	DemoConsumerSecret        = "rostersync-demo-secret"
	DemoProxyToken            = "rostersync-demo-token"
	DemoSeed           uint64 = 20260801
)

// DemoDistrict builds the demo district's data without a server.
func DemoDistrict() *District {
	d, err := NewDistrict(Options{Seed: DemoSeed, Tier: TierS, Mess: DefaultMess(),
		DistrictName: "ClassLink Demo School District", EmailDomain: "demo.classlink.example.org"})
	if err != nil {
		panic(err) // TierS is valid; a failure here is a bug in this package
	}
	return d
}

// DemoSchoolIDs are the sourcedIds of the demo district's schools: the
// demo district is stored with them connected, so its first preview works.
func DemoSchoolIDs() []string { return DemoDistrict().SchoolIDs() }

// Demo starts the demo district's server on a loopback port. Take the
// connection from srv.OAuth1Config(DemoApplicationID) (direct, signed) or
// srv.ProxyConfig(DemoApplicationID) (bearer); srv.URL() is the proxy root
// for classlink.Applications. Close it when done.
func Demo() (*Server, error) {
	return NewServer(ServerOptions{
		Tenants: []Tenant{{
			TenantID: DemoTenantID, ApplicationID: DemoApplicationID, Name: DemoTenantName,
			ConsumerKey: DemoConsumerKey, ConsumerSecret: DemoConsumerSecret, District: DemoDistrict(),
		}},
		ProxyToken: DemoProxyToken,
	})
}

var shared struct {
	once sync.Once
	srv  *Server
	err  error
}

// SharedDemo is the connection of one demo server per process, started on
// the first call and kept until the process ends: what rostersync's main
// hands its dialer for the built-in demo district, and what tests that
// walk the demo use.
func SharedDemo() (classlink.Config, error) {
	shared.once.Do(func() { shared.srv, shared.err = Demo() })
	if shared.err != nil {
		return classlink.Config{}, shared.err
	}
	return shared.srv.OAuth1Config(DemoApplicationID), nil
}
