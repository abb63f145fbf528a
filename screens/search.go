package screens

import (
	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
)

// searchField is a list's filter: "/" opens it, typing or pasting edits
// it, enter keeps the text and returns the keys to the list, esc clears it.
type searchField struct {
	c      *Common
	input  textinput.Model
	active bool
}

func newSearchField(c *Common, prompt, placeholder string) searchField {
	return searchField{c: c, input: newInput(c.Styles, prompt, placeholder, 40)}
}

// fit sizes the field to the screen (before it scrolls its text).
func (f *searchField) fit() {
	f.input.SetWidth(max(f.c.Width-lipgloss.Width(f.input.Prompt)-1, 8))
}

func (f *searchField) open() tea.Cmd {
	f.active = true
	return f.input.Focus()
}

func (f *searchField) clear() { f.input.SetValue("") }

// handle takes a key or a paste while the field is open; changed says the
// text is different afterwards, so the list should filter again, and ok
// says the message was the field's.
func (f *searchField) handle(msg tea.Msg, back key.Binding) (cmd tea.Cmd, changed, ok bool) {
	before := f.input.Value()
	f.fit()
	switch msg := msg.(type) {
	case tea.KeyPressMsg:
		switch {
		case msg.String() == "enter":
			f.active = false
			f.input.Blur()
		case key.Matches(msg, back):
			f.active = false
			f.input.Blur()
			f.input.SetValue("")
		default:
			f.input, cmd = f.input.Update(msg)
		}
	case tea.PasteMsg:
		f.input, cmd = f.input.Update(msg)
	default:
		return nil, false, false
	}
	return cmd, f.input.Value() != before, true
}

func (f *searchField) value() string { return f.input.Value() }
func (f *searchField) view() string {
	f.fit()
	return f.input.View()
}

// help is the footer while the field is open.
func (f *searchField) help(k *KeyMap) []key.Binding {
	return []key.Binding{with(k.Select, "done"), with(k.Back, "clear")}
}
