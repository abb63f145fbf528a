package screens

import (
	"fmt"
	"strconv"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/schoolstatus/rostersync/store"
	"github.com/schoolstatus/rostersync/untrusted"
)

// Home is step 2, the District Home Page: the district's identity, the
// guide's setup checklist, the last saved revision and the connection.
type Home struct {
	c      *Common
	edit   *Edit
	cursor int
}

// NewHome shows the district being edited.
func NewHome(c *Common, e *Edit) *Home { return &Home{c: c, edit: e} }

func (h *Home) Init() tea.Cmd { return nil }
func (h *Home) ID() ID        { return HomeScreen }
func (h *Home) Crumb() string { return "Home" }
func (h *Home) Step() int     { return 2 }

// testKey starts a connection test from the District Home Page.
var testKey = key.NewBinding(key.WithKeys("t"), key.WithHelp("t", "test connection"))

func (h *Home) ShortHelp() []key.Binding {
	k := h.c.Keys
	keys := []key.Binding{with(k.Toggle, "mark step"), k.Menu}
	if h.c.TestConnection != nil {
		keys = append(keys, testKey)
	}
	return append(keys, k.Back)
}

func (h *Home) FullHelp() [][]key.Binding {
	k := h.c.Keys
	return [][]key.Binding{
		{with(k.Up, "previous step"), with(k.Down, "next step"), with(k.Toggle, "mark step done / not done")},
		{with(k.Menu, "⋮ menu: Settings, connection, Export"), with(k.Select, "⋮ menu"), with(testKey, "test the ClassLink connection")},
		{with(k.Back, "choose another district")},
	}
}

func (h *Home) Update(msg tea.Msg) (Screen, tea.Cmd) {
	km, ok := msg.(tea.KeyPressMsg)
	if !ok {
		return h, nil
	}
	k := h.c.Keys
	switch {
	case key.Matches(km, k.Up):
		h.cursor = max(h.cursor-1, 0)
	case key.Matches(km, k.Down):
		h.cursor = min(h.cursor+1, len(store.GuideSteps)-1)
	case key.Matches(km, k.Toggle):
		return h, h.toggleStep()
	case key.Matches(km, testKey) && h.c.TestConnection != nil && !h.edit.Testing:
		h.edit.Testing = true
		return h, h.c.TestConnection(h.edit.Draft)
	case key.Matches(km, k.Menu), key.Matches(km, k.Select):
		return h, h.c.Open(MenuScreen)
	case key.Matches(km, k.Back):
		return h, h.c.Back()
	}
	return h, nil
}

func (h *Home) lastSync() string {
	st := h.c.Styles
	if s := h.edit.Sync; s != nil && !s.Done {
		return st.Warning.Render(s.Phase + "…")
	}
	r, ok, err := h.c.DB.LastRun(h.edit.Saved.TenantID)
	switch {
	case err != nil:
		return st.Error.Render(ErrText(err))
	case !ok:
		return st.Muted.Render("no sync has run yet")
	case r.Status == store.RunFailed:
		return st.Error.Render(RunLine(r) + ", " + h.c.SinceText(r.FinishedAt))
	case r.Status == store.RunInterrupted || r.Status == store.RunRunning:
		return st.Warning.Render(RunLine(r) + ", started " + h.c.SinceText(r.StartedAt))
	}
	return RunLine(r) + ", " + h.c.SinceText(r.FinishedAt)
}

func (h *Home) toggleStep() tea.Cmd {
	step := store.GuideSteps[h.cursor]
	item := h.edit.Saved.Checklist[step]
	if step == store.StepSelfCheck && !item.Done && !PreviewPassed(h.c.DB, h.edit.Saved) {
		return h.c.FlashError(fmt.Errorf("step 6 is the self-check: ⋮ → Preview sync of revision %d, without a threshold failure, marks it done", h.edit.Saved.Revision))
	}
	next := store.ChecklistItem{Done: !item.Done, By: h.c.Actor.Name()}
	d, err := h.c.DB.SetChecklistStep(h.edit.Saved.TenantID, step, next)
	if err != nil {
		return h.c.FlashError(err)
	}
	h.edit.Saved.Checklist = d.Checklist
	h.edit.Draft.Checklist = d.Checklist
	return nil
}

func (h *Home) View() string {
	st, d := h.c.Styles, h.edit.Saved
	var b strings.Builder
	title := untrusted.Text(d.Name)
	if d.Demo {
		title += "  " + st.Warning.Render("DEMO · built-in sample data")
	}
	b.WriteString(st.Title.Render(title) + "\n")
	b.WriteString(st.Muted.Render(fmt.Sprintf("District Tenant ID %d · District application_id %d", d.TenantID, d.ApplicationID)) + "\n")
	b.WriteString(fmt.Sprintf("Revision %d · saved by %s, %s\n", d.Revision, actorText(d.SavedBy), h.c.SinceText(d.SavedAt)))
	b.WriteString("Connection: " + connectionText(d) + "\n")
	if line := h.testLine(); line != "" {
		b.WriteString(line + "\n")
	}
	b.WriteString(wrap("Last sync: "+h.lastSync(), h.c.Width-2) + "\n\n")
	b.WriteString(st.Title.Render("Setup checklist") + st.Muted.Render("  (space marks a step done)") + "\n")
	for i, step := range store.GuideSteps {
		item := d.Checklist[step]
		text := fmt.Sprintf("%s %d. %s", checkbox(item.Done), i+1, step.Title())
		if item.Verified {
			text += st.Success.Render(" ✓ verified")
		}
		if item.Done && item.By != "" && i == h.cursor {
			text += st.Muted.Render(fmt.Sprintf(" (%s, %s)", item.By, h.c.SinceText(item.At)))
		}
		b.WriteString(line(st, i == h.cursor, truncate(text, h.c.Width-2)) + "\n")
	}
	if h.edit.Dirty() {
		b.WriteString("\n" + st.Warning.Render(fmt.Sprintf("Unsaved changes: %d (open ⋮ → Settings to review and save)", len(h.edit.Changes()))))
	}
	return fit(b.String(), h.c.Height)
}

// testLine is the running or last connection test.
func (h *Home) testLine() string {
	st := h.c.Styles
	switch r := h.edit.LastTest; {
	case h.edit.Testing:
		line := "Testing the connection…"
		if b := h.c.ConnectionTestBudget; b > 0 {
			line += " (up to " + b.String() + ")"
		}
		return st.Muted.Render(indent(wrap(line, h.c.Width-4), "  "))
	case r == nil:
		return ""
	case r.OK:
		return st.Success.Render(indent(wrap("✓ "+ReportText(*r), h.c.Width-4), "  "))
	default:
		return st.Error.Render(indent(wrap("✗ "+ReportText(*r), h.c.Width-4), "  "))
	}
}

// ReportText is a connection test in one line.
func ReportText(r ConnectionReport) string {
	if !r.OK {
		return fmt.Sprintf("Connection test failed (%s): %s", r.Reason, untrusted.Text(r.Err))
	}
	school := "no school"
	if r.School != "" {
		school = "first school " + untrusted.Text(r.School)
	}
	count := func(name string) string { // "?" when the server sends no total
		if n, ok := r.Counts[name]; ok {
			return strconv.Itoa(n)
		}
		return "?"
	}
	return fmt.Sprintf("Connected in %d ms · %s · %s orgs, %s users, %s classes, %s enrollments · x-perm-rev %s",
		r.Latency.Milliseconds(), school, count("orgs"), count("users"), count("classes"), count("enrollments"), orDash(r.PermRev))
}

func orDash(s string) string {
	if s == "" {
		return "–"
	}
	return s
}

func connectionText(d store.District) string {
	c := d.Connection.Masked()
	switch {
	case d.Demo:
		return "built-in demo roster (no ClassLink credentials needed)"
	case c.Mode == "":
		return "not set up yet"
	case c.Mode == store.ModeProxy:
		return "ClassLink proxy · " + untrusted.Text(c.BaseURL)
	}
	secret := "secret " + c.ClientSecret
	if d.SecretProblem() != nil {
		secret = "secret cannot be decrypted: enter it again"
	}
	return fmt.Sprintf("OAuth 1.0a %s · client %s · %s\n  %s", c.SignatureMethod, untrusted.Text(c.ClientID), secret, untrusted.Text(c.BaseURL))
}

// actorText names who saved, with the start of their key's fingerprint
// when they came over SSH (the whole one is in the history).
func actorText(a store.Actor) string {
	if a.Fingerprint == "" {
		return untrusted.Text(a.Name())
	}
	return untrusted.Text(a.Name()) + " (key " + truncate(a.Fingerprint, 19) + ")"
}
