package screens

import (
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

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

// View renders the grid to width: the full permission names when they
// fit (from 48 columns up), the role groups' names above the columns, or
// their short forms when the columns are narrow (the description names
// the focused one in full). focus is the focused row's line in rows.
func (m *Matrix) View(width int) (heads, rows string, focus int) {
	st := m.c.Styles
	labelW, colW := matrixWidths(width)
	wide := !m.Narrow(width)
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
	heads = strings.TrimRight(b.String(), "\n")
	b.Reset()
	for r, p := range store.AllPermissions {
		if r == m.row {
			focus = strings.Count(b.String(), "\n")
		}
		label := truncate(p.Title(), labelW-2)
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
	return heads, strings.TrimRight(b.String(), "\n"), focus
}

// Narrow reports whether the columns show short forms (DA, SA, T, SS).
func (m *Matrix) Narrow(width int) bool {
	_, colW := matrixWidths(width)
	return colW < 9
}

// matrixWidths are the label column's width (the longest permission name,
// its cursor mark and a space, when they fit) and each role group's.
func matrixWidths(width int) (labelW, colW int) {
	longest := 0
	for _, p := range store.AllPermissions {
		longest = max(longest, lipgloss.Width(p.Title()))
	}
	labelW = min(longest+3, width-20)
	return labelW, min(max((width-labelW)/4, 5), 11)
}

func (m *Matrix) head(text string, col, w int) string {
	st := m.c.Styles.ColumnHead
	if col == m.col {
		st = m.c.Styles.Focused
	}
	return lipgloss.PlaceHorizontal(w, lipgloss.Center, st.Render(text))
}

// Description tells what the focused permission means on and off, for
// the focused role group (with its short form when the columns use them).
func (m *Matrix) Description(width int) string {
	st := m.c.Styles
	p, g := m.Focused()
	state := "not granted"
	if m.perms.Has(g, p) {
		state = "granted"
	}
	group := g.Title()
	if m.Narrow(width) {
		group += " (" + columnShort[m.col] + ")"
	}
	head := st.Focused.Render(p.Title()) + " · " + group + ": " + state
	return wrap(head, width) + "\n" + wrap("On: "+p.WhenOn(), width) + "\n" + wrap("Off: "+p.WhenOff(), width)
}
