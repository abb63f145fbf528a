package screens

import (
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"github.com/schoolstatus/rostersync/store"
	"github.com/schoolstatus/rostersync/untrusted"
)

// History is Sync history: runs and saved revisions together, newest
// first; enter opens one.
type History struct {
	c       *Common
	edit    *Edit
	items   []store.HistoryItem
	loaded  bool
	err     error
	cursor  int
	scroll  int
	open    bool
	detail  bool // a failed run's technical detail is shown
	scrolls bool // the open entry did not fit: ↑/↓ scroll it
}

// historyLoaded carries the district's history, read in a command.
type historyLoaded struct {
	items []store.HistoryItem
	err   error
}

// NewHistory lists e's district's history.
func NewHistory(c *Common, e *Edit) *History { return &History{c: c, edit: e} }

func (h *History) Init() tea.Cmd {
	db, tenant := h.c.DB, h.edit.Saved.TenantID
	return func() tea.Msg {
		items, err := db.History(tenant)
		return historyLoaded{items: items, err: err}
	}
}
func (h *History) ID() ID        { return HistoryScreen }
func (h *History) Crumb() string { return "Sync history" }
func (h *History) Step() int     { return 3 }

func (h *History) ShortHelp() []key.Binding {
	k := h.c.Keys
	if h.open {
		keys := []key.Binding{with(k.Back, "close")}
		if h.scrolls {
			keys = append(keys, with(k.Up, "scroll up"), with(k.Down, "scroll down"))
		}
		if r := h.items[h.cursor].Run; r != nil && h.c.runTechnical(*r) != "" {
			keys = append(keys, detailKey)
		}
		return keys
	}
	if len(h.items) == 0 {
		return []key.Binding{k.Back}
	}
	return []key.Binding{with(k.Select, "details"), k.Up, k.Down, k.Back}
}

func (h *History) FullHelp() [][]key.Binding { return [][]key.Binding{h.ShortHelp()} }

func (h *History) Update(msg tea.Msg) (Screen, tea.Cmd) {
	if m, ok := msg.(historyLoaded); ok {
		h.items, h.err, h.loaded = m.items, m.err, true
		return h, nil
	}
	km, ok := msg.(tea.KeyPressMsg)
	if !ok {
		return h, nil
	}
	k := h.c.Keys
	switch {
	case key.Matches(km, k.Back) && h.open:
		h.open = false
	case key.Matches(km, k.Back):
		return h, h.c.Back()
	case h.open && key.Matches(km, k.Up):
		h.scroll = max(h.scroll-1, 0)
	case h.open && key.Matches(km, k.Down):
		h.scroll++
	case h.open && key.Matches(km, detailKey):
		h.detail = !h.detail
	case h.open:
	case key.Matches(km, k.Up):
		h.cursor = max(h.cursor-1, 0)
	case key.Matches(km, k.Down):
		h.cursor = min(h.cursor+1, len(h.items)-1)
	case key.Matches(km, k.Select) && len(h.items) > 0:
		h.open, h.scroll, h.detail = true, 0, false
	}
	return h, nil
}

// itemLine is one history entry in a line.
func itemLine(c *Common, it store.HistoryItem) string {
	when := it.At.Local().Format("Jan 02 15:04")
	if r := it.Run; r != nil {
		return when + "  " + RunLine(*r)
	}
	e := it.Revision
	return fmt.Sprintf("%s  revision %d by %s, %s", when, e.Revision, untrusted.Text(e.Actor.Name()), plural(len(e.Changes), "change"))
}

func (h *History) View() string {
	st, w := h.c.Styles, h.c.Width
	head := truncate(st.Title.Render("Sync history")+st.Muted.Render("  runs and saved revisions, newest first"), w)
	switch {
	case h.err != nil:
		return page{Head: head, Body: st.Error.Render(wrap(untrusted.Text(ErrText(h.err)), w))}.render(st, w, h.c.Height)
	case !h.loaded:
		return page{Head: head, Body: st.Muted.Render("Reading the history…")}.render(st, w, h.c.Height)
	case len(h.items) == 0:
		return page{Head: head, Body: "Nothing yet."}.render(st, w, h.c.Height)
	case h.open:
		return page{Head: head, Body: h.itemDetail(h.items[h.cursor]), Focus: -1, Scroll: &h.scroll, Scrolls: &h.scrolls}.render(st, w, h.c.Height)
	}
	var b strings.Builder
	focus, focusEnd := 0, 0
	for i, it := range h.items {
		text := itemLine(h.c, it)
		style := lipgloss.NewStyle()
		if r := it.Run; r != nil && r.Status == store.RunFailed {
			style = st.Error
		} else if r != nil && r.Status == store.RunInterrupted {
			style = st.Warning
		}
		if i != h.cursor {
			b.WriteString(line(st, false, truncate(style.Render(text), w-2)) + "\n")
			continue
		}
		// The focused entry reads in full.
		focus = lineCount(b.String())
		row := st.Focused.Render(cursorMark+" ") + indent(wrap(style.Render(text), w-2), "  ")[2:]
		focusEnd = focus + lineCount(row) - 1
		b.WriteString(row + "\n")
	}
	return page{Head: head, Body: b.String(), Focus: focus, FocusEnd: focusEnd, Scroll: &h.scroll}.render(st, w, h.c.Height)
}

func (h *History) itemDetail(it store.HistoryItem) string {
	st := h.c.Styles
	w := h.c.Width
	var b strings.Builder
	if r := it.Run; r != nil {
		b.WriteString(st.Focused.Render(wrap(upperFirst(RunLine(*r)), w)) + "\n")
		b.WriteString(st.Muted.Render(wrap(fmt.Sprintf("run %s · %s · revision %d · %s to %s", r.ID, r.Trigger, r.ConfigRevision,
			r.StartedAt.Local().Format("Jan 02 15:04:05"), r.FinishedAt.Local().Format("15:04:05")), w)) + "\n\n")
		b.WriteString(planTable(st, *r, -1, -1, w) + "\n")
		if d := runDetail(h.c, *r, w, h.detail); d != "" {
			b.WriteString(d + "\n")
		}
		return b.String()
	}
	e := it.Revision
	b.WriteString(wrap(st.Focused.Render(fmt.Sprintf("Revision %d", e.Revision))+" by "+untrusted.Text(e.Actor.String())+", "+e.At.Local().Format("Jan 02 15:04"), w) + "\n\n")
	for _, ch := range e.Changes {
		b.WriteString(indent(wrap(untrusted.Text(ch.Label()+": "+ch.From+" → "+ch.To), w-2), "  ") + "\n")
	}
	for _, n := range e.Notes {
		b.WriteString(st.Warning.Render(wrap("• "+untrusted.Text(n), w)) + "\n")
	}
	return b.String()
}
