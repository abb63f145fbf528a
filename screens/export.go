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
	c       *Common
	edit    *Edit
	offset  int
	scrolls bool // the page did not fit: ↑/↓ scroll it
}

// NewExport shows e's saved revision.
func NewExport(c *Common, e *Edit) *Export { return &Export{c: c, edit: e} }

func (x *Export) Init() tea.Cmd { return nil }
func (x *Export) ID() ID        { return ExportScreen }
func (x *Export) Crumb() string { return "Export" }
func (x *Export) Step() int     { return 3 }

func (x *Export) ShortHelp() []key.Binding {
	k := x.c.Keys
	if !x.scrolls {
		return []key.Binding{k.Back}
	}
	return []key.Binding{k.Back, with(k.Up, "scroll up"), with(k.Down, "scroll down")}
}

func (x *Export) FullHelp() [][]key.Binding { return [][]key.Binding{x.ShortHelp()} }

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
		x.offset++
	case key.Matches(km, k.Back):
		return x, x.c.Back()
	}
	return x, nil
}

func (x *Export) View() string {
	st, w := x.c.Styles, x.c.Width
	head := st.Title.Render(fmt.Sprintf("Export · revision %d", x.edit.Saved.Revision)) + "\n" +
		st.Muted.Render(wrap(fmt.Sprintf("To a file: rostersync config export --district %d > district.json", x.edit.Saved.TenantID), w))
	raw := strings.TrimRight(string(store.ExportConfig(x.edit.Saved, false).MarshalIndent()), "\n")
	var lines []string
	for _, l := range strings.Split(raw, "\n") {
		// A long value wraps under its key rather than being cut.
		in := len(l) - len(strings.TrimLeft(l, " "))
		lines = append(lines, indent(wrap(strings.TrimLeft(l, " "), w-in-2), strings.Repeat(" ", in))[0:])
	}
	return page{Head: head, Body: strings.Join(lines, "\n"), Focus: -1, Scroll: &x.offset, Scrolls: &x.scrolls}.render(st, w, x.c.Height)
}
