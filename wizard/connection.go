package wizard

import (
	"context"
	"errors"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/schoolstatus/rostersync/screens"
	"github.com/schoolstatus/rostersync/store"
	rsync "github.com/schoolstatus/rostersync/sync"
	"github.com/schoolstatus/rostersync/untrusted"
)

// checkConnection refuses what a session may not make this server reach,
// as the person types and again at Review: the partner token anywhere but
// this district's built proxy URL, and a host off the server's roster
// allow-list or at a refused address (serve's Reach; the dial checks again
// after resolving).
func (m *Model) checkConnection(d store.District) error { return connectionRule(m.opts.Dialer, d) }

// connectionRule is checkConnection for every way of saving.
func connectionRule(dl *rsync.Dialer, d store.District) error {
	if d.Demo || d.Connection.Mode == "" || dl == nil {
		return nil
	}
	if err := dl.CheckProxyURL(d); err != nil {
		return err
	}
	return dl.CheckReach(d)
}

// report shapes sync's connection test for the screens, with the
// connection that was tested.
func report(d store.District, r rsync.ConnectionReport) screens.ConnectionReport {
	return screens.ConnectionReport{TenantID: r.TenantID, Connection: d.Connection, OK: r.OK, Latency: r.Latency,
		School: r.School, Counts: r.Counts, PermRev: r.PermRev, Reason: r.Reason, Summary: r.Summary, Err: r.Error}
}

// testConnection tests d's connection until ctx is cancelled.
func (m *Model) testConnection(ctx context.Context, d store.District) tea.Cmd {
	if err := m.checkConnection(d); err != nil {
		r := screens.ConnectionReport{TenantID: d.TenantID, Connection: d.Connection, Reason: store.ReasonCredentials, Summary: rsync.Explain(err), Err: screens.ErrText(err)}
		return func() tea.Msg { return screens.ConnectionTestedMsg{Report: r} }
	}
	dial := m.opts.Engine.Dial
	tctx, done, err := m.out.begin(ctx, outTest, m.top())
	if err != nil {
		// The wait ends as if cancelled; the refusal says when to try again.
		r := screens.ConnectionReport{TenantID: d.TenantID, Connection: d.Connection, Cancelled: true}
		return tea.Batch(func() tea.Msg { return screens.ConnectionTestedMsg{Report: r} },
			func() tea.Msg { return screens.FlashMsg{Text: "No test: " + err.Error() + ".", Error: true} })
	}
	return func() tea.Msg { // bounded by rsync.ConnectionTestBudget
		defer done()
		r := report(d, rsync.TestConnection(tctx, dial, d))
		r.Cancelled = errors.Is(tctx.Err(), context.Canceled)
		return screens.ConnectionTestedMsg{Report: r}
	}
}

// classLinkDistricts asks ClassLink for the districts that shared the app
// with the partner, for the Dropdown.
func (m *Model) classLinkDistricts() tea.Cmd {
	dialer := m.opts.Dialer
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		apps, err := dialer.Districts(ctx)
		msg := screens.ClassLinkDistrictsMsg{Err: err}
		for _, a := range apps {
			msg.Districts = append(msg.Districts, screens.ClassLinkDistrict{TenantID: a.TenantID, ApplicationID: a.ApplicationID, Name: listedName(a.TenantName)})
		}
		return msg
	}
}

// tested records a finished connection test; a pass on the saved
// connection marks guide step 1 verified (in a command).
func (m *Model) tested(r screens.ConnectionReport) tea.Cmd {
	e := m.edit
	if e == nil || e.Saved.TenantID != r.TenantID || r.Cancelled {
		return nil
	}
	e.LastTest = &r
	switch {
	case !r.OK:
		m.flash = screens.FlashMsg{Text: "Connection test failed: " + r.Summary, Error: true}
		return nil
	case r.Connection != e.Saved.Connection:
		m.flash = screens.FlashMsg{Text: "The connection works; save it to mark step 1 verified."}
		return nil
	}
	db, by := m.opts.DB, m.opts.Actor.Name()
	return m.work(func() tea.Msg {
		d, err := db.SetChecklistStep(r.TenantID, store.StepRosteringApp, store.ChecklistItem{Done: true, Verified: true, By: by})
		return screens.ChecklistMsg{District: d, Text: "The connection works: step 1 is verified.", Err: err}
	})
}

// listedName is a district name from ClassLink fit to store: control
// characters escaped, cut to the longest name allowed.
func listedName(name string) string {
	name = strings.TrimSpace(untrusted.Text(name))
	if r := []rune(name); len(r) > store.MaxNameLength {
		name = string(r[:store.MaxNameLength-1]) + "…"
	}
	return name
}
