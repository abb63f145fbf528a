package screens

import (
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
)

// Forms move their focus the same way: tab/shift+tab step through the
// fields that apply in the form's current state, wrapping around, and the
// text field under the focus (if any) takes the cursor.

// nextField is the field delta steps from f among n fields, skipping those
// visible says do not take the focus now (nil: all do).
func nextField(f, delta, n int, visible func(int) bool) int {
	for range n {
		f = (f + delta + n) % n
		if visible == nil || visible(f) {
			break
		}
	}
	return f
}

// focusInput gives the cursor to inputs[i] for the field first+i that is
// focused, and takes it from the others.
func focusInput(inputs []textinput.Model, first, focused int) tea.Cmd {
	var cmd tea.Cmd
	for i := range inputs {
		if first+i == focused {
			cmd = inputs[i].Focus()
		} else {
			inputs[i].Blur()
		}
	}
	return cmd
}
