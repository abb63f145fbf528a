package screens

import (
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/schoolstatus/rostersync/store"
)

// Export shows the district's saved configuration in the JSON contract,
// secrets masked, and the command that writes it to a file.
type Export struct {
	c      *Common
	edit   *Edit
	offset int
}

// NewExport shows e's saved revision.
func NewExport(c *Common, e *Edit) *Export { return &Export{c: c, edit: e} }

func (x *Export) Init() tea.Cmd { return nil }
func (x *Export) ID() ID        { return ExportScreen }
func (x *Export) Crumb() string { return "Export" }
func (x *Export) Step() int     { return 3 }

func (x *Export) ShortHelp() []key.Binding {
	k := x.c.Keys
	return []key.Binding{k.Back, with(k.Up, "scroll up"), with(k.Down, "scroll down")}
}

func (x *Export) FullHelp() [][]key.Binding { return [][]key.Binding{x.ShortHelp(), {x.c.Keys.Quit}} }

func (x *Export) lines() []string {
	raw := store.ExportConfig(x.edit.Saved, false).MarshalIndent()
	return strings.Split(strings.TrimRight(string(raw), "\n"), "\n")
}

func (x *Export) Update(msg tea.Msg) (Screen, tea.Cmd) {
	km, ok := msg.(tea.KeyPressMsg)
	if !ok {
		return x, nil
	}
	k := x.c.Keys
	switch {
	case key.Matches(km, k.Up):
		x.offset = max(x.offset-1, 0)
	case key.Matches(km, k.Down):
		x.offset = min(x.offset+1, max(len(x.lines())-1, 0))
	case key.Matches(km, k.Back):
		return x, x.c.Back()
	}
	return x, nil
}

func (x *Export) View() string {
	st := x.c.Styles
	var b strings.Builder
	b.WriteString(st.Title.Render(fmt.Sprintf("Export · revision %d", x.edit.Saved.Revision)) + "\n")
	b.WriteString(st.Muted.Render(wrap(fmt.Sprintf("To a file: rostersync config export --district %d > district.json", x.edit.Saved.TenantID), x.c.Width)) + "\n\n")
	lines := x.lines()
	room := max(x.c.Height-4, 1)
	end := min(x.offset+room, len(lines))
	for _, l := range lines[x.offset:end] {
		b.WriteString(truncate(l, x.c.Width) + "\n")
	}
	return fit(b.String(), x.c.Height)
}
