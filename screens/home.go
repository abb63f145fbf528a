package screens

import (
	"context"
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
	scroll int
	test   waiter
	detail bool // the failed test's technical detail is shown
	// detailScroll is the detail page's offset.
	detailScroll int
	untick       bool // asking before unticking a step rostersync verified
}

// NewHome shows the district being edited.
func NewHome(c *Common, e *Edit) *Home { return &Home{c: c, edit: e} }

// Init reads what the page shows that others may have changed.
func (h *Home) Init() tea.Cmd { return h.Refresh() }

// Refresh reads the district's checklist and newest runs again, in a
// command (a run or a tick by another session, the daily schedule).
func (h *Home) Refresh() tea.Cmd {
	db, tenant := h.c.DB, h.edit.Saved.TenantID
	return func() tea.Msg {
		d, err := db.District(tenant)
		if err != nil {
			return nil // the page keeps what it shows; opening it again says why
		}
		msg, err := LatestRuns(db, tenant)
		if err != nil {
			return ChecklistMsg{District: d}
		}
		return tea.BatchMsg{
			func() tea.Msg { return ChecklistMsg{District: d} },
			func() tea.Msg { return msg },
		}
	}
}
func (h *Home) ID() ID        { return HomeScreen }
func (h *Home) Crumb() string { return "Home" }
func (h *Home) Step() int     { return 2 }

var (
	// testKey starts a connection test from the District Home Page.
	testKey = key.NewBinding(key.WithKeys("t"), key.WithHelp("t", "test connection"))
	// detailKey shows or hides a failure's technical detail.
	detailKey = key.NewBinding(key.WithKeys("d"), key.WithHelp("d", "details"))
)

func (h *Home) failed() bool { return h.edit.LastTest != nil && !h.edit.LastTest.OK }

func (h *Home) ShortHelp() []key.Binding {
	k := h.c.Keys
	switch {
	case h.detail:
		return []key.Binding{with(k.Back, "close"), k.Up, k.Down}
	case h.untick:
		return []key.Binding{with(k.Back, "keep it"), with(k.Confirm, "untick")}
	case h.test.active():
		return []key.Binding{with(k.Back, "cancel the test"), k.Up, k.Down}
	}
	keys := []key.Binding{with(k.Toggle, "mark step"), k.Menu}
	if h.c.TestConnection != nil {
		keys = append(keys, testKey)
	}
	if h.failed() {
		keys = append(keys, detailKey)
	}
	return append(keys, k.Back)
}

func (h *Home) FullHelp() [][]key.Binding {
	k := h.c.Keys
	if h.untick || h.test.active() || h.detail {
		return [][]key.Binding{h.ShortHelp()}
	}
	more := []key.Binding{with(k.Menu, "⋮ menu: Settings, connection, Preview sync, Export"), with(k.Select, "⋮ menu")}
	if h.c.TestConnection != nil {
		more = append(more, with(testKey, "test the ClassLink connection"))
	}
	if h.failed() {
		more = append(more, with(detailKey, "show or hide the technical detail of the failed test"))
	}
	return [][]key.Binding{
		{with(k.Up, "previous step"), with(k.Down, "next step"), with(k.Toggle, "mark step done / not done")},
		more,
		{with(k.Back, "choose another district")},
	}
}

func (h *Home) Update(msg tea.Msg) (Screen, tea.Cmd) {
	if m, ok := msg.(ConnectionTestedMsg); ok && m.Report.TenantID == h.edit.Saved.TenantID {
		h.test.stop()
		h.detail = false
		return h, nil
	}
	km, ok := msg.(tea.KeyPressMsg)
	if !ok {
		return h, nil
	}
	k := h.c.Keys
	if h.detail {
		switch {
		case key.Matches(km, detailKey), key.Matches(km, k.Back):
			h.detail = false
		case key.Matches(km, k.Up):
			h.detailScroll = max(h.detailScroll-1, 0)
		case key.Matches(km, k.Down):
			h.detailScroll++
		}
		return h, nil
	}
	if h.untick {
		switch {
		case key.Matches(km, k.Confirm):
			h.untick = false
			return h, h.setStep(false)
		case key.Matches(km, k.Back), key.Matches(km, k.Deny):
			h.untick = false
		}
		return h, nil
	}
	switch {
	case key.Matches(km, k.Back) && h.test.active():
		h.test.stop()
		return h, h.c.Flash("Connection test cancelled.")
	case key.Matches(km, k.Up):
		h.cursor = max(h.cursor-1, 0)
	case key.Matches(km, k.Down):
		h.cursor = min(h.cursor+1, len(store.GuideSteps)-1)
	case h.test.active():
		// While testing only moving and cancelling act.
	case key.Matches(km, k.Toggle):
		return h, h.toggleStep()
	case key.Matches(km, testKey) && h.c.TestConnection != nil:
		d := h.edit.Draft
		what := "Testing the connection to ClassLink"
		if b := h.c.ConnectionTestBudget; b > 0 {
			what += " (up to " + b.String() + ")"
		}
		return h, h.test.start(h.c, what, func(ctx context.Context) tea.Cmd { return h.c.TestConnection(ctx, d) })
	case key.Matches(km, detailKey) && h.failed():
		h.detail, h.detailScroll = true, 0
	case key.Matches(km, k.Menu), key.Matches(km, k.Select):
		return h, h.c.Open(MenuScreen)
	case key.Matches(km, k.Back):
		return h, h.c.Back()
	}
	return h, nil
}

func (h *Home) toggleStep() tea.Cmd {
	step := store.GuideSteps[h.cursor]
	item := h.edit.Saved.Checklist[step]
	switch {
	case item.Done && item.Verified:
		h.untick = true // rostersync checked it: ask first
		return nil
	case step == store.StepSelfCheck && !item.Done && !h.edit.PreviewPassed():
		return h.c.FlashError(fmt.Errorf("step 6 is the self-check: ⋮ → Preview sync of revision %d, without a threshold failure, marks it done", h.edit.Saved.Revision))
	}
	return h.setStep(!item.Done)
}

func (h *Home) setStep(done bool) tea.Cmd {
	step := store.GuideSteps[h.cursor]
	return h.c.SetStep(h.edit.Saved.TenantID, step, store.ChecklistItem{Done: done, By: h.c.Actor.Name()}, "")
}

// lastSync is the running sync or the newest roster run.
func (h *Home) lastSync() string {
	st := h.c.Styles
	if s := h.edit.Sync; s != nil && !s.Done {
		return st.Warning.Render(s.Phase + "…")
	}
	if h.edit.LastRun == nil {
		return st.Muted.Render("no sync has run yet")
	}
	return h.runText(*h.edit.LastRun)
}

// runText is a run in a line with when it ended (or started).
func (h *Home) runText(run store.Run) string {
	st, r := h.c.Styles, &run
	switch {
	case r.Status == store.RunFailed:
		return st.Error.Render(RunLine(*r) + ", " + h.c.SinceText(r.FinishedAt))
	case r.Status == store.RunInterrupted || r.Status == store.RunRunning:
		return st.Warning.Render(RunLine(*r) + ", started " + h.c.SinceText(r.StartedAt))
	}
	return RunLine(*r) + ", " + h.c.SinceText(r.FinishedAt)
}

func (h *Home) View() string {
	st, d, w := h.c.Styles, h.edit.Saved, h.c.Width
	title := untrusted.Text(d.Name)
	if d.Demo {
		title += "  " + st.Warning.Render("DEMO · built-in sample data")
	}
	head := truncate(st.Title.Render(title), w)
	if r := h.edit.LastTest; h.detail && r != nil && !r.OK {
		// The technical detail, for whoever fixes the connection.
		body := st.Error.Render(wrap("✗ Connection test failed: "+untrusted.Text(r.Summary), w)) + "\n\n" +
			st.Muted.Render(wrap("Detail ("+r.Reason+"): "+untrusted.Text(r.Err), w)) + "\n\n" + st.Muted.Render(wrap("d or esc closes the detail.", w))
		return page{Head: head, Body: body, Focus: -1, Scroll: &h.detailScroll}.render(st, w, h.c.Height)
	}
	if h.untick {
		step := store.GuideSteps[h.cursor]
		item := d.Checklist[step]
		return page{Head: head + "\n", Body: Dialog(st, w, fmt.Sprintf("Untick step %d, %s?", h.cursor+1, step.Title()),
			fmt.Sprintf("rostersync verified it (%s, %s). Unticking only changes the checklist; the next check that passes ticks it again.", item.By, h.c.SinceText(item.At)),
			Choice{"n/esc", "keep it ticked"}, Choice{"y", "untick it"})}.render(st, w, h.c.Height)
	}
	var b strings.Builder
	b.WriteString(st.Muted.Render(wrap(fmt.Sprintf("District Tenant ID %d · District application_id %d", d.TenantID, d.ApplicationID), w)) + "\n")
	b.WriteString(wrap(fmt.Sprintf("Revision %d · saved by %s, %s", d.Revision, actorText(d.SavedBy), h.c.SinceText(d.SavedAt)), w) + "\n")
	b.WriteString(wrap("Connection: "+connectionText(d), w) + "\n")
	if line := h.testLine(); line != "" {
		b.WriteString(line + "\n")
	}
	b.WriteString(wrap("Last sync: "+h.lastSync(), w) + "\n")
	if u := h.edit.LastUpload; u != nil {
		b.WriteString(wrap("Last guardians file: "+h.runText(*u), w) + "\n")
	}
	b.WriteString("\n")
	b.WriteString(st.Title.Render("Setup checklist") + "\n")
	focus, focusEnd := 0, 0
	for i, step := range store.GuideSteps {
		item := d.Checklist[step]
		text := fmt.Sprintf("%s %d. %s", checkbox(item.Done), i+1, step.Title())
		if item.Verified {
			text += st.Success.Render(" ✓ verified")
		}
		row := line(st, false, truncate(text, w-2))
		if i == h.cursor {
			// The focused step reads in full, with who ticked it.
			if item.Done && item.By != "" {
				text += st.Muted.Render(fmt.Sprintf(" (%s, %s)", item.By, h.c.SinceText(item.At)))
			}
			row = st.Focused.Render(cursorMark+" ") + indent(wrap(text, w-2), "  ")[2:]
			focus = lineCount(b.String())
			focusEnd = focus + lineCount(row) - 1
		}
		b.WriteString(row + "\n")
	}
	if h.edit.Dirty() {
		b.WriteString("\n" + st.Warning.Render(wrap(fmt.Sprintf("Unsaved changes: %d (⋮ → Settings to review and save)", len(h.edit.Changes())), w)))
	}
	return page{Head: head, Body: b.String(), Focus: focus - 1, FocusEnd: focusEnd - 1, Scroll: &h.scroll}.render(st, w, h.c.Height)
}

// testLine is the running or last connection test.
func (h *Home) testLine() string {
	st, w := h.c.Styles, h.c.Width
	switch r := h.edit.LastTest; {
	case h.test.active():
		return wrap(h.test.view(), w)
	case r == nil:
		return ""
	case r.OK:
		return st.Success.Render(wrap("✓ "+ReportText(*r), w))
	default:
		return st.Error.Render(wrap("✗ Connection test failed: "+untrusted.Text(r.Summary), w)) + "\n" + st.Muted.Render("  d shows the technical detail")
	}
}

// ReportText is a passed connection test in one line for people.
func ReportText(r ConnectionReport) string {
	if !r.OK {
		return "Connection test failed: " + untrusted.Text(r.Summary)
	}
	school := "no school yet"
	if r.School != "" {
		school = "first school " + untrusted.Text(r.School)
	}
	count := func(name string) string { // "?" when the server sends no total
		if n, ok := r.Counts[name]; ok {
			return strconv.Itoa(n)
		}
		return "?"
	}
	return fmt.Sprintf("Connected in %d ms · %s · %s orgs, %s users, %s classes, %s enrollments",
		r.Latency.Milliseconds(), school, count("orgs"), count("users"), count("classes"), count("enrollments"))
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
	return fmt.Sprintf("OAuth 1.0a %s · client %s · %s · %s", c.SignatureMethod, untrusted.Text(c.ClientID), secret, untrusted.Text(c.BaseURL))
}

// actorText names who saved, with the start of their key's fingerprint
// when they came over SSH (the whole one is in the history).
func actorText(a store.Actor) string {
	if a.Fingerprint == "" {
		return untrusted.Text(a.Name())
	}
	return untrusted.Text(a.Name()) + " (key " + truncate(a.Fingerprint, 19) + ")"
}
