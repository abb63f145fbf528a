package screens

import (
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/schoolstatus/rostersync/store"
)

// Matrix is the permissions grid: permissions down, staff role groups
// across. Arrows move, space toggles a cell, r a whole row, c a whole column.
// It edits the Permissions it points at.
type Matrix struct {
	c        *Common
	perms    *store.Permissions
	row, col int
}

// NewMatrix edits perms.
func NewMatrix(c *Common, perms *store.Permissions) *Matrix { return &Matrix{c: c, perms: perms} }

// Focused is the permission and role group under the cursor.
func (m *Matrix) Focused() (store.Permission, store.RoleGroup) {
	return store.AllPermissions[m.row], store.RoleGroups[m.col]
}

// Update handles a key; it reports whether the key was the matrix's.
func (m *Matrix) Update(km tea.KeyPressMsg) bool {
	k := m.c.Keys
	p, g := m.Focused()
	switch {
	case key.Matches(km, k.Up):
		m.row = max(m.row-1, 0)
	case key.Matches(km, k.Down):
		m.row = min(m.row+1, len(store.AllPermissions)-1)
	case key.Matches(km, k.Left):
		m.col = max(m.col-1, 0)
	case key.Matches(km, k.Right):
		m.col = min(m.col+1, len(store.RoleGroups)-1)
	case key.Matches(km, k.Toggle):
		m.perms.Toggle(g, p)
	case key.Matches(km, k.ToggleRow):
		m.perms.ToggleRow(p)
	case key.Matches(km, k.ToggleColumn):
		m.perms.ToggleColumn(g)
	default:
		return false
	}
	return true
}

// columnHeads are the role group titles split in two lines, and the short
// forms used when the terminal is narrow.
var (
	columnHeads = [][2]string{{"District", "admin"}, {"School", "admin"}, {"Teacher", ""}, {"Support", "staff"}}
	columnShort = []string{"DA", "SA", "T", "SS"}
)

// View renders the grid to width.
func (m *Matrix) View(width int) string {
	st := m.c.Styles
	colW := min(max((width-20)/4, 5), 11)
	labelW := min(28, width-4*colW)
	wide := colW >= 9
	var b strings.Builder

	pad := strings.Repeat(" ", labelW)
	if wide {
		for r := range 2 {
			b.WriteString(pad)
			for i, h := range columnHeads {
				b.WriteString(m.head(h[r], i, colW))
			}
			b.WriteString("\n")
		}
	} else {
		b.WriteString(pad)
		for i, h := range columnShort {
			b.WriteString(m.head(h, i, colW))
		}
		b.WriteString("\n")
	}
	for r, p := range store.AllPermissions {
		label := truncate(p.Title(), labelW-3)
		b.WriteString(lipgloss.NewStyle().Width(labelW).Render(line(st, r == m.row, label)))
		for c, g := range store.RoleGroups {
			cell := checkbox(m.perms.Has(g, p))
			if r == m.row && c == m.col {
				cell = st.CellFocus.Render("›" + cell + "‹")
			} else {
				cell = " " + cell + " "
			}
			b.WriteString(lipgloss.PlaceHorizontal(colW, lipgloss.Center, cell))
		}
		b.WriteString("\n")
	}
	if !wide {
		b.WriteString(st.Muted.Render(wrap("DA District administrator · SA School administrator · T Teacher · SS Support staff", width)) + "\n")
	}
	return strings.TrimRight(b.String(), "\n")
}

func (m *Matrix) head(text string, col, w int) string {
	st := m.c.Styles.ColumnHead
	if col == m.col {
		st = m.c.Styles.Focused
	}
	return lipgloss.PlaceHorizontal(w, lipgloss.Center, st.Render(text))
}

// Description tells what the focused permission means on and off.
func (m *Matrix) Description(width int) string {
	st := m.c.Styles
	p, g := m.Focused()
	state := "not granted"
	if m.perms.Has(g, p) {
		state = "granted"
	}
	head := st.Focused.Render(p.Title()) + " · " + g.Title() + ": " + state
	return head + "\n" + wrap("On: "+p.WhenOn(), width) + "\n" + wrap("Off: "+p.WhenOff(), width)
}

// truncate cuts s to w columns with an ellipsis, keeping styles intact.
func truncate(s string, w int) string {
	if w < 2 {
		return s
	}
	return ansi.Truncate(s, w, "…")
}
