package wizard

import (
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/lipgloss/v2"

	"github.com/schoolstatus/rostersync/screens"
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

	ctx := "rostersync · " + m.opts.Actor.User
	if e := m.edit; e != nil {
		ctx = fmt.Sprintf("%s · Tenant %d · revision %d", e.Saved.Name, e.Saved.TenantID, e.Saved.Revision)
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
		b.WriteString(s.Render(wrapTo(m.flash.Text, m.common.Width)) + "\n")
	}
	keys := m.common.Keys
	if m.confirmQuit {
		b.WriteString(m.help.ShortHelpView([]key.Binding{keys.Confirm, keys.Deny}))
		return b.String()
	}
	if m.showHelp {
		groups := append(m.top().FullHelp(), []key.Binding{with(keys.Help, "fewer keys"), with(keys.Quit, "quit (asks first if unsaved)")})
		b.WriteString(m.help.FullHelpView(groups))
	} else {
		b.WriteString(m.help.ShortHelpView(append(m.top().ShortHelp(), keys.Help, keys.Quit)))
	}
	return b.String()
}

func with(b key.Binding, desc string) key.Binding {
	b.SetHelp(b.Help().Key, desc)
	return b
}
