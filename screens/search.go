package screens

import (
	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
)

// searchKey opens a list's search field.
var searchKey = key.NewBinding(key.WithKeys("/"), key.WithHelp("/", "filter"))

// searchField is a list's filter: "/" opens it, typing edits it, enter
// keeps the text and returns the keys to the list, esc clears it.
type searchField struct {
	input  textinput.Model
	active bool
}

func newSearchField(st *Styles, prompt, placeholder string) searchField {
	return searchField{input: newInput(st, prompt, placeholder, 40)}
}

func (f *searchField) open() tea.Cmd {
	f.active = true
	return f.input.Focus()
}

// update takes a key while the field is open; changed says the text is
// different afterwards, so the list should filter again.
func (f *searchField) update(km tea.KeyPressMsg, back key.Binding) (cmd tea.Cmd, changed bool) {
	before := f.input.Value()
	switch {
	case km.String() == "enter":
		f.active = false
		f.input.Blur()
	case key.Matches(km, back):
		f.active = false
		f.input.Blur()
		f.input.SetValue("")
	default:
		f.input, cmd = f.input.Update(km)
	}
	return cmd, f.input.Value() != before
}

func (f *searchField) value() string { return f.input.Value() }
func (f *searchField) view() string  { return f.input.View() }

// help is the footer while the field is open.
func (f *searchField) help(k *KeyMap) []key.Binding {
	return []key.Binding{with(k.Select, "done"), with(k.Back, "clear")}
}
