package screens

import (
	"context"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/schoolstatus/rostersync/store"
)

// Common is what every screen of one session shares: the window size, the
// styles and keys, the database and who is at the keyboard.
type Common struct {
	Width, Height int // of the screen's own area, without header and footer
	Styles        *Styles
	Keys          *KeyMap
	DB            *store.DB
	Actor         store.Actor
	// Now is the clock; tests replace it so views are stable.
	Now func() time.Time
	// CanOpen says whether this person may open a district (SSH access
	// lists); nil means every district.
	CanOpen func(tenantID int64) bool
	// Specialist: an onboarding specialist (or the operator at the
	// machine), who may set an application_id ClassLink's list cannot
	// check, and correct or remove districts. District IT staff over SSH
	// may not.
	Specialist bool
	// ProxyBaseURL fills the ClassLink proxy's base URL for an
	// application_id; nil leaves the field for the person to type.
	ProxyBaseURL func(applicationID int64) string
	// TestConnection starts a connection test of d; its ConnectionTestedMsg
	// arrives later. Cancelling ctx ends it. Nil hides the action.
	TestConnection func(ctx context.Context, d store.District) tea.Cmd
	// ConnectionTestBudget is the longest a connection test takes (waits
	// ClassLink asks for included), shown while one runs.
	ConnectionTestBudget time.Duration
	// ClassLinkDistricts lists the districts that shared the app with the
	// partner (ClassLinkDistrictsMsg). Nil when no partner token is set.
	ClassLinkDistricts func() tea.Cmd
	// StartSync starts a sync of d's saved revision (a preview when dryRun);
	// its SyncProgressMsg and SyncDoneMsg arrive later.
	StartSync func(d store.District, dryRun bool) tea.Cmd
	// Schools lists d's ClassLink schools (SchoolsMsg arrives later);
	// cancelling ctx ends it.
	Schools func(ctx context.Context, d store.District) tea.Cmd
	// CheckConnection says what this session may not connect to (a proxy
	// URL off this district's, plain http over SSH); nil accepts all.
	CheckConnection func(d store.District) error
	// ExplainRun says what became of a failed or unfinished run, why, and
	// what to do (sync.ExplainRun); nil shows the run's message.
	ExplainRun func(store.Run) string
	// Guardians reaches the guardians file engine and local files for
	// Guardians source and Upload Guardians.
	Guardians *GuardiansActions

	// DemoSchools are connected when the demo district is added.
	DemoSchools []string

	// SpinFrame is the spinner's frame, turned by the router while a wait
	// (waiter) is in progress; waits counts them.
	SpinFrame int
	waits     int

	outbox []tea.Msg // see messages.go

	// classLink is ClassLink's list of districts as last received.
	classLink *ClassLinkDistrictsMsg
}

// Listing is what ClassLink's list of districts (as last received) says
// about tenantID, for store.CheckApplicationID.
func (c *Common) Listing(tenantID int64) store.Listing {
	switch {
	case c.ClassLinkDistricts == nil:
		return store.NoListing
	case c.classLink == nil:
		return store.Listing{Pending: true, Why: "ClassLink's list of districts has not arrived yet"}
	}
	apps := map[int64]int64{}
	for _, d := range c.classLink.Districts {
		apps[d.TenantID] = d.ApplicationID
	}
	return store.ListingOf(tenantID, apps, c.classLink.Err)
}

// keepClassLink remembers ClassLink's list for Listing.
func (c *Common) keepClassLink(m ClassLinkDistrictsMsg) { c.classLink = &m }

// Waiting reports whether a long wait is in progress (the router keeps
// the spinner turning).
func (c *Common) Waiting() bool { return c.waits > 0 }

// Allowed applies CanOpen.
func (c *Common) Allowed(tenantID int64) bool { return c.CanOpen == nil || c.CanOpen(tenantID) }

// SinceText says how long ago t was, for "saved 3 min ago".
func (c *Common) SinceText(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	d := c.Now().Sub(t)
	switch {
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		return plural(int(d/time.Minute), "min") + " ago"
	case d < 48*time.Hour:
		return plural(int(d/time.Hour), "hour") + " ago"
	}
	return t.Local().Format("Jan 2, 2006 15:04")
}
