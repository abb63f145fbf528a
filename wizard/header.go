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

	ctx := "rostersync · " + untrusted.Text(m.opts.Actor.Name())
	if e := m.edit; e != nil {
		ctx = fmt.Sprintf("%s · Tenant %d · revision %d", untrusted.Text(e.Saved.Name), e.Saved.TenantID, e.Saved.Revision)
		if n := len(e.Changes()); n > 0 {
			ctx += " · " + st.Warning.Render(fmt.Sprintf("● %s unsaved", changesText(n)))
		}
	}
	return lipgloss.NewStyle().MaxWidth(width).Render(first) + "\n" +
		lipgloss.NewStyle().MaxWidth(width).Render(st.Context.Render(ctx)) + "\n"
}

// footer is the flash line, if any, and the current screen's keys.
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
	switch {
	case m.confirmQuit:
		b.WriteString(m.shortHelp([]key.Binding{keys.Confirm, keys.Deny}, nil))
	case m.showHelp:
		groups := append(m.top().FullHelp(), []key.Binding{screens.WithHelp(keys.Help, "fewer keys"), screens.WithHelp(keys.Quit, "quit (asks first if unsaved)")})
		b.WriteString(m.fullHelp(groups))
	default:
		b.WriteString(m.shortHelp(m.top().ShortHelp(), []key.Binding{keys.Help, keys.Quit}))
	}
	return b.String()
}

// shortHelp is one line of keys: the screen's, as many as fit, then the
// ones that are always there ("? help", "ctrl+c quit"), which never drop.
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
	return lipgloss.NewStyle().MaxWidth(m.common.Width).Render(strings.Join(append(head, tail...), sep))
}

// fullHelp lays every binding out in as many columns as fit, so no key is
// cut off on a narrow terminal (the help bubble's full view truncates).
func (m *Model) fullHelp(groups [][]key.Binding) string {
	st := m.common.Styles.Help
	var entries []string
	keyW := 0
	for _, g := range groups {
		for _, b := range g {
			if b.Enabled() {
				keyW = max(keyW, lipgloss.Width(b.Help().Key))
			}
		}
	}
	colW := 0
	for _, g := range groups {
		for _, b := range g {
			if !b.Enabled() {
				continue
			}
			e := st.FullKey.Render(fmt.Sprintf("%-*s", keyW, b.Help().Key)) + " " + st.FullDesc.Render(b.Help().Desc)
			entries = append(entries, e)
			colW = max(colW, lipgloss.Width(e)+3)
		}
	}
	cols := max(1, m.common.Width/max(colW, 1))
	rows := (len(entries) + cols - 1) / cols
	lines := make([]string, rows)
	for i, e := range entries {
		r := i % rows
		if i/rows < cols-1 {
			e += strings.Repeat(" ", colW-lipgloss.Width(e))
		}
		lines[r] += e
	}
	return lipgloss.NewStyle().MaxWidth(m.common.Width).Render(strings.Join(lines, "\n"))
}
