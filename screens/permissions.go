package screens

import (
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
)

// Permissions is step 7: the custom permissions synced staff get, by role
// group.
type Permissions struct {
	c      *Common
	edit   *Edit
	matrix *Matrix
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
	return []key.Binding{with(k.Toggle, "toggle"), k.ToggleRow, k.ToggleColumn, with(k.Select, "review"), k.Back}
}

func (p *Permissions) FullHelp() [][]key.Binding {
	k := p.c.Keys
	return [][]key.Binding{
		{k.Up, k.Down, k.Left, k.Right},
		{with(k.Toggle, "toggle the cell"), with(k.ToggleRow, "toggle the permission for every group"), with(k.ToggleColumn, "toggle every permission of the group")},
		{with(k.Select, "review and save"), with(k.Back, "back (changes are kept)")},
	}
}

func (p *Permissions) Update(msg tea.Msg) (Screen, tea.Cmd) {
	km, ok := msg.(tea.KeyPressMsg)
	if !ok {
		return p, nil
	}
	switch {
	case p.matrix.Update(km):
	case key.Matches(km, p.c.Keys.Select), key.Matches(km, p.c.Keys.Continue):
		return p, p.c.Open(ReviewScreen)
	case key.Matches(km, p.c.Keys.Back):
		return p, p.c.Back()
	}
	return p, nil
}

func (p *Permissions) View() string {
	st := p.c.Styles
	var b strings.Builder
	b.WriteString(st.Title.Render("Permissions for synced staff") + "\n")
	b.WriteString(p.matrix.View(p.c.Width) + "\n\n")
	b.WriteString(p.matrix.Description(p.c.Width))
	return fit(b.String(), p.c.Height)
}
