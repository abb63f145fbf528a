package screens

import (
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/schoolstatus/rostersync/store"
	"github.com/schoolstatus/rostersync/untrusted"
)

// History is Sync history: runs and saved revisions together, newest
// first; enter opens one.
type History struct {
	c      *Common
	edit   *Edit
	items  []store.HistoryItem
	err    error
	cursor int
	open   bool
	scroll int // first line of an open entry shown
}

// NewHistory lists e's district's history.
func NewHistory(c *Common, e *Edit) *History {
	h := &History{c: c, edit: e}
	h.items, h.err = c.DB.History(e.Saved.TenantID)
	return h
}

func (h *History) Init() tea.Cmd { return nil }
func (h *History) ID() ID        { return HistoryScreen }
func (h *History) Crumb() string { return "Sync history" }
func (h *History) Step() int     { return 3 }

func (h *History) ShortHelp() []key.Binding {
	k := h.c.Keys
	if h.open {
		return []key.Binding{with(k.Back, "close"), with(k.Up, "scroll up"), with(k.Down, "scroll down")}
	}
	return []key.Binding{with(k.Select, "details"), k.Up, k.Down, k.Back}
}

func (h *History) FullHelp() [][]key.Binding { return [][]key.Binding{h.ShortHelp()} }

func (h *History) Update(msg tea.Msg) (Screen, tea.Cmd) {
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
	case h.open:
	case key.Matches(km, k.Up):
		h.cursor = max(h.cursor-1, 0)
	case key.Matches(km, k.Down):
		h.cursor = min(h.cursor+1, len(h.items)-1)
	case key.Matches(km, k.Select) && len(h.items) > 0:
		h.open, h.scroll = true, 0
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
	st := h.c.Styles
	var b strings.Builder
	b.WriteString(st.Title.Render("Sync history") + st.Muted.Render("  runs and saved revisions, newest first") + "\n\n")
	if h.err != nil {
		b.WriteString(st.Error.Render(untrusted.Text(h.err.Error())))
		return fit(b.String(), h.c.Height)
	}
	if len(h.items) == 0 {
		b.WriteString("Nothing yet.")
		return fit(b.String(), h.c.Height)
	}
	if h.open {
		lines := strings.Split(strings.TrimRight(h.detail(h.items[h.cursor]), "\n"), "\n")
		room := max(h.c.Height-3, 1)
		h.scroll = min(h.scroll, max(len(lines)-room, 0))
		end := min(h.scroll+room, len(lines))
		b.WriteString(strings.Join(lines[h.scroll:end], "\n"))
		if end < len(lines) || h.scroll > 0 {
			b.WriteString("\n" + h.c.Styles.Muted.Render(fmt.Sprintf("lines %d–%d of %d (↑/↓ scroll)", h.scroll+1, end, len(lines))))
		}
		return fit(b.String(), h.c.Height)
	}
	room := max(h.c.Height-3, 3)
	start := max(0, min(h.cursor-room/2, len(h.items)-room))
	for i := start; i < len(h.items) && i < start+room; i++ {
		text := itemLine(h.c, h.items[i])
		if r := h.items[i].Run; r != nil && r.Status == store.RunFailed {
			text = st.Error.Render(text)
		} else if r != nil && r.Status == store.RunInterrupted {
			text = st.Warning.Render(text)
		}
		b.WriteString(line(st, i == h.cursor, truncate(text, h.c.Width-2)) + "\n")
	}
	return fit(b.String(), h.c.Height)
}

func (h *History) detail(it store.HistoryItem) string {
	st := h.c.Styles
	w := h.c.Width
	var b strings.Builder
	if r := it.Run; r != nil {
		b.WriteString(st.Focused.Render(RunLine(*r)) + "\n")
		b.WriteString(st.Muted.Render(wrap(fmt.Sprintf("run %s · %s · revision %d · x-perm-rev %s · %s to %s", r.ID, r.Trigger, r.ConfigRevision, orDash(r.PermRev),
			r.StartedAt.Local().Format("15:04:05"), r.FinishedAt.Local().Format("15:04:05")), w)) + "\n\n")
		b.WriteString(planTable(st, *r, -1, -1, w) + "\n")
		if d := runDetail(st, *r, w); d != "" {
			b.WriteString(d + "\n")
		}
		return b.String()
	}
	e := it.Revision
	b.WriteString(st.Focused.Render(fmt.Sprintf("Revision %d", e.Revision)) + " by " + untrusted.Text(e.Actor.String()) + ", " + e.At.Local().Format("Jan 02 15:04") + "\n\n")
	for _, ch := range e.Changes {
		b.WriteString("  " + truncate(untrusted.Text(ch.Label()+": "+ch.From+" → "+ch.To), w-2) + "\n")
	}
	for _, n := range e.Notes {
		b.WriteString(st.Warning.Render(wrap("• "+untrusted.Text(n), w)) + "\n")
	}
	return b.String()
}
