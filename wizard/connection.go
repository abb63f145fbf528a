package wizard

import (
	"context"
	"errors"
	"net/url"
	"os"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/schoolstatus/rostersync/classlink"
	"github.com/schoolstatus/rostersync/screens"
	"github.com/schoolstatus/rostersync/store"
	rsync "github.com/schoolstatus/rostersync/sync"
)

// ProxyBaseURL is the proxy's OneRoster base for one district.
func ProxyBaseURL(applicationID int64) string { return rsync.ProxyBaseURL(applicationID) }

// checkConnection refuses what a session may not make this server reach:
// the partner token anywhere but this district's proxy URL, and, over SSH,
// anything but https (no requests to the server's own loopback services).
func (m *Model) checkConnection(d store.District) error {
	c := d.Connection
	if d.Demo || c.Mode == "" {
		return nil
	}
	if m.opts.Remote {
		if u, err := url.Parse(strings.TrimSpace(c.BaseURL)); err != nil || u.Scheme != "https" {
			return &store.FieldError{Field: "connection.base_url", Msg: "over SSH only https URLs are accepted"}
		}
	}
	if c.Mode == store.ModeProxy {
		return rsync.CheckProxyURL(d)
	}
	return nil
}

// ProbeDistrict is the connection test: one school, the totals of every
// collection, the latency and x-perm-rev. It tries each request at most
// twice so that a wrong URL answers in seconds, not minutes.
func ProbeDistrict(ctx context.Context, d store.District) screens.ConnectionReport {
	r := screens.ConnectionReport{TenantID: d.TenantID, Connection: d.Connection}
	fail := func(err error) screens.ConnectionReport {
		r.Reason, r.Err = classlink.Reason(err), screens.ErrText(err)
		if r.Reason == "" {
			r.Reason = "credentials"
		}
		return r
	}
	cfg, err := rsync.ClientConfig(d)
	if err != nil {
		return fail(err)
	}
	cfg.MaxAttempts = 2
	cfg.RequestTimeout = 20 * time.Second
	c, err := classlink.New(cfg)
	if err != nil {
		return fail(err)
	}
	p, err := c.Probe(ctx)
	if err != nil {
		return fail(err)
	}
	r.OK, r.Latency, r.Counts, r.PermRev = true, p.Latency, p.Counts, p.PermRev
	if p.School != nil {
		r.School = p.School.Name
	}
	return r
}

func (m *Model) testConnection(d store.District) tea.Cmd {
	if err := m.checkConnection(d); err != nil {
		r := screens.ConnectionReport{TenantID: d.TenantID, Connection: d.Connection, Reason: "credentials", Err: screens.ErrText(err)}
		return func() tea.Msg { return screens.ConnectionTestedMsg{Report: r} }
	}
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		return screens.ConnectionTestedMsg{Report: ProbeDistrict(ctx, d)}
	}
}

// ClassLinkDistricts lists the districts that shared the app with the
// partner, from ClassLink's /applications.
func ClassLinkDistricts(ctx context.Context) ([]screens.ClassLinkDistrict, error) {
	token := os.Getenv(classlink.TokenEnv)
	if token == "" {
		return nil, errors.New("no partner token: set " + classlink.TokenEnv)
	}
	apps, err := classlink.Applications(ctx, rsync.ProxyRoot(), classlink.Config{Token: token, MaxAttempts: 3})
	if err != nil {
		return nil, err
	}
	out := make([]screens.ClassLinkDistrict, 0, len(apps))
	for _, a := range apps {
		out = append(out, screens.ClassLinkDistrict{TenantID: a.TenantID, ApplicationID: a.ApplicationID, Name: a.TenantName})
	}
	return out, nil
}

func classLinkDistrictsCmd() tea.Msg {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ds, err := ClassLinkDistricts(ctx)
	return screens.ClassLinkDistrictsMsg{Districts: ds, Err: err}
}

// tested records a finished connection test; a pass on the saved
// connection marks guide step 1 verified.
func (m *Model) tested(r screens.ConnectionReport) {
	e := m.edit
	if e == nil || e.Saved.TenantID != r.TenantID {
		return
	}
	e.Testing, e.LastTest = false, &r
	if !r.OK {
		m.flash = screens.FlashMsg{Text: "Connection test failed: " + r.Err, Error: true}
		return
	}
	if r.Connection != e.Saved.Connection {
		m.flash = screens.FlashMsg{Text: "The connection works; save it to mark step 1 verified."}
		return
	}
	d, err := m.opts.DB.SetChecklistStep(r.TenantID, store.StepRosteringApp, store.ChecklistItem{Done: true, Verified: true, By: m.opts.Actor.User})
	if err != nil {
		m.flash = screens.FlashMsg{Text: err.Error(), Error: true}
		return
	}
	e.Saved.Checklist, e.Draft.Checklist = d.Checklist, d.Checklist
	m.flash = screens.FlashMsg{Text: "The connection works: step 1 is verified."}
}

// ProbeReport is a connection test as JSON (`classlink test --json`).
type ProbeReport struct {
	TenantID  int64          `json:"tenant_id"`
	OK        bool           `json:"ok"`
	LatencyMS int64          `json:"latency_ms"`
	School    string         `json:"school,omitempty"`
	Counts    map[string]int `json:"counts,omitempty"`
	PermRev   string         `json:"perm_rev,omitempty"`
	Reason    string         `json:"reason,omitempty"`
	Error     string         `json:"error,omitempty"`
}

// ProbeJSON shapes a report for printing; the connection (and its secret)
// is left out.
func ProbeJSON(r screens.ConnectionReport) ProbeReport {
	return ProbeReport{TenantID: r.TenantID, OK: r.OK, LatencyMS: r.Latency.Milliseconds(), School: r.School,
		Counts: r.Counts, PermRev: r.PermRev, Reason: r.Reason, Error: r.Err}
}
