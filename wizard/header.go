package wizard

import (
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/lipgloss/v2"

	"github.com/schoolstatus/rostersync/screens"
	"github.com/schoolstatus/rostersync/untrusted"
)

// headerHeight is the header's lines plus the blank line under it.
const headerHeight = 3

// header is "Step N of M · District ▸ Home ▸ …" and a line of context.
func (m *Model) header() string {
	st := m.common.Styles
	width := m.common.Width
	step := st.Step.Render(fmt.Sprintf("Step %d of %d", m.top().Step(), screens.TotalSteps))
	var crumbs []string
	for _, s := range m.stack {
		if c := s.Crumb(); c != "" {
			crumbs = append(crumbs, c)
		}
	}
	// Keep the end of the path when it does not fit: where you are matters most.
	room := width - lipgloss.Width(step) - 3
	full := crumbs
	for i := 1; i < len(full) && lipgloss.Width(strings.Join(crumbs, " ▸ ")) > room; i++ {
		crumbs = append([]string{"…"}, full[i:]...)
	}
	var path []string
	for i, c := range crumbs {
		if i == len(crumbs)-1 {
			path = append(path, st.CrumbLast.Render(c))
		} else {
			path = append(path, st.Crumb.Render(c))
		}
	}
	first := step + st.Crumb.Render(" · ") + strings.Join(path, st.Crumb.Render(" ▸ "))

	ctx := st.Context.Render("rostersync · " + untrusted.Text(m.opts.Actor.Name()))
	if e := m.edit; e != nil {
		// The longest form that fits: the name and the unsaved count matter
		// most, the IDs least.
		unsaved := ""
		if n := len(e.Changes()); n > 0 {
			unsaved = st.Context.Render(" · ") + st.Warning.Render(fmt.Sprintf("● %s unsaved", ChangesText(n)))
		}
		name := untrusted.Text(e.Saved.Name)
		forms := []string{
			fmt.Sprintf("%s · Tenant %d · revision %d", name, e.Saved.TenantID, e.Saved.Revision),
			fmt.Sprintf("%s · rev %d", name, e.Saved.Revision),
		}
		ctx = ""
		for _, f := range forms {
			if lipgloss.Width(f)+lipgloss.Width(unsaved) <= width {
				ctx = st.Context.Render(f) + unsaved
				break
			}
		}
		if ctx == "" {
			ctx = st.Context.Render(screens.Truncate(name, max(width-lipgloss.Width(unsaved), 8))) + unsaved
		}
	}
	return screens.Truncate(first, width) + "\n" + screens.Truncate(ctx, width) + "\n"
}

// footer is the flash line, if any, and the keys that work right now.
func (m *Model) footer() string {
	st := m.common.Styles
	var b strings.Builder
	if m.flash.Text != "" {
		s := st.Success
		if m.flash.Error {
			s = st.Error
		}
		b.WriteString(s.Render(wrapTo(untrusted.Text(m.flash.Text), m.common.Width)) + "\n")
	}
	keys := m.common.Keys
	typing := false
	if t, ok := m.top().(screens.Typing); ok {
		typing = t.Typing()
	}
	switch {
	case m.ask == askQuit:
		b.WriteString(m.shortHelp([]key.Binding{screens.WithHelp(keys.Back, "stay"), screens.WithHelp(keys.Confirm, "quit, keep the draft"), discardKey}, nil))
	case m.ask == askDiscard:
		b.WriteString(m.shortHelp([]key.Binding{screens.WithHelp(keys.Back, "keep them"), screens.WithHelp(keys.Confirm, "discard and quit")}, nil))
	case m.showHelp:
		// Scrolling is offered, and never dropped, only when the help
		// does not fit: its last line then says how much more there is.
		always := []key.Binding{keys.Quit}
		if m.helpScrolls {
			always = []key.Binding{helpScroll, keys.Quit}
		}
		b.WriteString(m.shortHelp([]key.Binding{helpClose}, always))
	case typing:
		b.WriteString(m.shortHelp(m.top().ShortHelp(), []key.Binding{keys.Quit}))
	default:
		b.WriteString(m.shortHelp(m.top().ShortHelp(), []key.Binding{keys.Help, keys.QuitKey}))
	}
	return b.String()
}

var (
	discardKey = key.NewBinding(key.WithKeys("d"), key.WithHelp("d", "discard…"))
	helpScroll = key.NewBinding(key.WithKeys("up", "down"), key.WithHelp("↑/↓", "scroll"))
	helpClose  = key.NewBinding(key.WithKeys("?", "esc"), key.WithHelp("?/esc", "close help"))
)

// shortHelp is one line of keys: the screen's, as many as fit, then the
// ones that are always there ("? help", "q quit"), which never drop.
func (m *Model) shortHelp(screen, always []key.Binding) string {
	st := m.common.Styles.Help
	item := func(b key.Binding) string {
		return st.ShortKey.Render(b.Help().Key) + " " + st.ShortDesc.Render(b.Help().Desc)
	}
	sep := st.ShortSeparator.Render(" • ")
	var tail []string
	for _, b := range always {
		tail = append(tail, item(b))
	}
	room := m.common.Width - lipgloss.Width(strings.Join(tail, sep)) - lipgloss.Width(sep)
	var head []string
	for _, b := range screen {
		if !b.Enabled() {
			continue
		}
		next := append(head, item(b))
		if lipgloss.Width(strings.Join(next, sep)) > room {
			break
		}
		head = next
	}
	return screens.Truncate(strings.Join(append(head, tail...), sep), m.common.Width)
}

// helpPage is every key of the screen, one per line, shown in place of
// the screen (it scrolls like any page).
func (m *Model) helpPage() string {
	st := m.common.Styles.Help
	keys := m.common.Keys
	groups := append(m.top().FullHelp(), []key.Binding{screens.WithHelp(keys.Help, "close this help"), screens.WithHelp(keys.QuitKey, "quit where no field is typed in"), screens.WithHelp(keys.Quit, "quit (asks first if unsaved)")})
	keyW := 0
	for _, g := range groups {
		for _, b := range g {
			if b.Enabled() {
				keyW = max(keyW, lipgloss.Width(b.Help().Key))
			}
		}
	}
	// A long description wraps under itself, never cut: the page scrolls.
	descW := max(m.common.Width-keyW-2, 12)
	var lines []string
	for _, g := range groups {
		for _, b := range g {
			if !b.Enabled() {
				continue
			}
			for i, part := range strings.Split(lipgloss.Wrap(b.Help().Desc, descW, " "), "\n") {
				k := b.Help().Key
				if i > 0 {
					k = ""
				}
				lines = append(lines, st.FullKey.Render(fmt.Sprintf("%-*s", keyW, k))+"  "+st.FullDesc.Render(part))
			}
		}
	}
	return m.common.Styles.Title.Render("Keys on this screen") + "\n" + strings.Join(lines, "\n")
}
