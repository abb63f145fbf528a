package screens

import (
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
)

// Permissions is step 7: the custom permissions synced staff get, by role
// group.
type Permissions struct {
	c      *Common
	edit   *Edit
	matrix *Matrix
	scroll int
}

// NewPermissions edits e.Draft's permissions matrix.
func NewPermissions(c *Common, e *Edit) *Permissions {
	return &Permissions{c: c, edit: e, matrix: NewMatrix(c, &e.Draft.Permissions)}
}

func (p *Permissions) Init() tea.Cmd { return nil }
func (p *Permissions) ID() ID        { return PermissionsScreen }
func (p *Permissions) Crumb() string { return "Permissions" }
func (p *Permissions) Step() int     { return 7 }

func (p *Permissions) ShortHelp() []key.Binding {
	k := p.c.Keys
	return []key.Binding{with(k.Toggle, "toggle"), with(k.Continue, "review"), with(k.ToggleRow, "row"), with(k.ToggleColumn, "column"), k.Back}
}

func (p *Permissions) FullHelp() [][]key.Binding {
	k := p.c.Keys
	return [][]key.Binding{
		{k.Up, k.Down, k.Left, k.Right},
		{with(k.Toggle, "toggle the cell (enter too)"), with(k.ToggleRow, "toggle the permission for every group"), with(k.ToggleColumn, "toggle every permission of the group")},
		{with(k.Continue, "continue to Review"), with(k.Back, "back (changes are kept)")},
	}
}

func (p *Permissions) Update(msg tea.Msg) (Screen, tea.Cmd) {
	km, ok := msg.(tea.KeyPressMsg)
	if !ok {
		return p, nil
	}
	k := p.c.Keys
	switch {
	case km.String() == "enter":
		// enter toggles, as on a checkbox: it never moves on, so pressing
		// it twice can never reach Review's save.
		p.matrix.Update(tea.KeyPressMsg{Code: tea.KeySpace, Text: " "})
	case p.matrix.Update(km):
	case key.Matches(km, k.Continue):
		return p, p.c.Open(ReviewScreen)
	case key.Matches(km, k.Back):
		return p, p.c.Back()
	}
	return p, nil
}

func (p *Permissions) View() string {
	st, w := p.c.Styles, p.c.Width
	heads, rows, focus := p.matrix.View(w)
	desc := p.matrix.Description(w)
	// The column heads stay, and so does the focused permission's meaning
	// below the rows: at 50x16 the rows scroll around the focused one.
	return page{Head: st.Title.Render("Permissions for synced staff") + "\n" + heads, Body: rows,
		Foot: "\n" + desc, Focus: focus, FocusEnd: focus, Scroll: &p.scroll}.render(st, w, p.c.Height)
}
