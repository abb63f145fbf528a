package screens

import (
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/schoolstatus/rostersync/store"
)

// Screens ask the router for navigation by posting messages to Common's
// outbox rather than returning commands: Bubble Tea runs commands on other
// goroutines, so keys typed ahead (a fast typist, a test, a paste) could
// otherwise reach the old screen before the new one opened. The router
// handles the outbox right after the screen's Update, in order.

// OpenMsg asks the router to open a screen on top of the current one.
type OpenMsg struct{ ID ID }

// BackMsg asks the router to go back one screen.
type BackMsg struct{}

// DistrictChosenMsg is sent when the person picks or adds a district.
type DistrictChosenMsg struct{ District store.District }

// SavedMsg is sent after a revision is saved.
type SavedMsg struct {
	District store.District
	Entry    store.AuditEntry
}

// ReloadedMsg is sent when the person drops their changes for the revision
// someone else saved.
type ReloadedMsg struct{ District store.District }

// DoMsg asks the router to run Work, a database write (a save, a checklist
// tick, a new district), as a command so the screen never waits on the
// database; keys that arrive meanwhile are held and replayed after Work's
// message, in order, so a fast typist's next keys reach the next screen.
type DoMsg struct{ Work func() tea.Msg }

// ChecklistMsg carries a district whose checklist changed in the database;
// the router updates the edit's copy. Err is set when the change failed.
type ChecklistMsg struct {
	District store.District
	Text     string // what to tell the person on success
	Err      error
}

// RunsMsg carries a district's newest roster run (a sync or a preview),
// newest preview, and a guardians file upload newer than either.
type RunsMsg struct {
	TenantID             int64
	LastRun, LastPreview *store.Run
	LastUpload           *store.Run
}

// LatestRuns reads what RunsMsg carries in one walk of the district's
// runs, newest first. Guardians file uploads are not syncs: they never
// count as the last sync or a preview, and an upload older than both is
// left to the history.
func LatestRuns(db *store.DB, tenantID int64) (RunsMsg, error) {
	msg := RunsMsg{TenantID: tenantID}
	_, _, err := db.FindRun(tenantID, func(r store.Run) bool {
		switch {
		case !r.Roster():
			if msg.LastUpload == nil && msg.LastRun == nil {
				msg.LastUpload = &r
			}
		case msg.LastRun == nil:
			msg.LastRun = &r
		}
		if r.Roster() && r.Mode == store.ModeDryRun && msg.LastPreview == nil {
			msg.LastPreview = &r
		}
		return msg.LastRun != nil && msg.LastPreview != nil
	})
	return msg, err
}

// FlashMsg shows a short status line in the footer.
type FlashMsg struct {
	Text  string
	Error bool
}

// Post queues msg for the router. It returns a nil command so that screens
// can write `return s, s.c.Post(msg)`.
func (c *Common) Post(msg tea.Msg) tea.Cmd {
	c.outbox = append(c.outbox, msg)
	return nil
}

// TakeOutbox hands the router the queued messages.
func (c *Common) TakeOutbox() []tea.Msg {
	out := c.outbox
	c.outbox = nil
	return out
}

// Do runs work as a command whose result comes back as its message; see
// DoMsg.
func (c *Common) Do(work func() tea.Msg) tea.Cmd { return c.Post(DoMsg{Work: work}) }

// SetStep ticks or unticks a guide step of the district in a command; the
// result comes back as a ChecklistMsg.
func (c *Common) SetStep(tenantID int64, step store.GuideStep, item store.ChecklistItem, text string) tea.Cmd {
	db := c.DB
	return c.Do(func() tea.Msg {
		d, err := db.SetChecklistStep(tenantID, step, item)
		return ChecklistMsg{District: d, Text: text, Err: err}
	})
}

// Open asks for screen id.
func (c *Common) Open(id ID) tea.Cmd { return c.Post(OpenMsg{ID: id}) }

// Back asks to go back one screen.
func (c *Common) Back() tea.Cmd { return c.Post(BackMsg{}) }

// Flash shows text in the footer.
func (c *Common) Flash(text string) tea.Cmd { return c.Post(FlashMsg{Text: text}) }

// FlashError shows an error in the footer, as ErrText words it (no
// contract key in front of a field's message, outside text escaped).
func (c *Common) FlashError(err error) tea.Cmd {
	return c.Post(FlashMsg{Text: upperFirst(ErrText(err)), Error: true})
}

// ConnectionReport is what a connection test found.
type ConnectionReport struct {
	TenantID   int64
	Connection store.Connection // what was tested
	OK         bool
	Latency    time.Duration
	School     string         // the first school's name
	Counts     map[string]int // X-Total-Count per collection
	PermRev    string
	Reason     string // "credentials" or "upstream" when it failed
	Summary    string // the failure in one line for people
	Err        string // the technical detail, shown on request
	Cancelled  bool   // the person cancelled it: nothing to show
}

// ConnectionTestedMsg carries a finished connection test.
type ConnectionTestedMsg struct{ Report ConnectionReport }

// ClassLinkDistrict is a district that shared the rostering app with the
// partner, from ClassLink's /applications.
type ClassLinkDistrict struct {
	TenantID, ApplicationID int64
	Name                    string
}

// ClassLinkDistrictsMsg carries ClassLink's list for the Dropdown.
type ClassLinkDistrictsMsg struct {
	Districts []ClassLinkDistrict
	Err       error
}
