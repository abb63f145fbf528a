package screens

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"charm.land/bubbles/v2/textinput"
	"charm.land/lipgloss/v2"

	"github.com/schoolstatus/rostersync/store"
	"github.com/schoolstatus/rostersync/untrusted"
)

// Markers that carry meaning without colour.
const (
	cursorMark = "›"
	checkedBox = "[x]"
	emptyBox   = "[ ]"
)

func checkbox(on bool) string {
	if on {
		return checkedBox
	}
	return emptyBox
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return strconv.Itoa(n) + " " + word + "s"
}

// wrap breaks s to width columns (at least 20, so narrow terminals still read).
func wrap(s string, width int) string {
	return lipgloss.Wrap(s, max(width, 20), " ")
}

// line renders a focusable row: a cursor mark when focused, indentation otherwise.
func line(st *Styles, focused bool, text string) string {
	if focused {
		return st.Focused.Render(cursorMark + " " + text)
	}
	return "  " + text
}

// fit holds content to h lines; what does not fit is counted on the last
// line ("↓ N more"), never dropped silently. Prefer page, which keeps the
// focus in view.
func fit(content string, h int) string {
	if h <= 0 {
		return ""
	}
	lines := strings.Split(content, "\n")
	if len(lines) > h {
		lines = append(lines[:h-1], fmt.Sprintf("  ↓ %d more", len(lines)-h+1))
	}
	return strings.Join(lines, "\n")
}

// inputLimit is the most characters a text field takes unless it sets its
// own limit: filters and searches need no more, and a field that took a
// pasted megabyte would cost every keystroke after it.
const inputLimit = 100

// newInput is a text field styled like the rest of the wizard, at most
// inputLimit characters long. The cursor does not blink: a blinking cursor
// repaints every half second, which over SSH is traffic for nothing.
func newInput(st *Styles, prompt, placeholder string, width int) textinput.Model {
	ti := textinput.New()
	ti.CharLimit = inputLimit
	ti.Prompt = prompt
	// In brackets: with NO_COLOR the muted style is gone, and an example
	// such as 02:00 must not read as a typed value.
	ti.Placeholder = bracketed(placeholder)
	ti.SetWidth(width)
	s := textinput.DefaultStyles(true)
	s.Focused.Prompt = st.Focused
	s.Blurred.Prompt = st.Muted
	s.Focused.Placeholder = st.Muted
	s.Blurred.Placeholder = st.Muted
	s.Cursor.Blink = false
	ti.SetStyles(s)
	return ti
}

// bracketed is a placeholder as shown: "(…)", never a bare value.
func bracketed(s string) string {
	if s == "" {
		return ""
	}
	return "(" + s + ")"
}

// ErrText is an error as a person should read it next to its field: a
// FieldError's message without the contract key in front, with control
// characters from outside (an upstream error's text) escaped.
func ErrText(err error) string {
	var fe *store.FieldError
	if errors.As(err, &fe) {
		return untrusted.Text(fe.Msg)
	}
	return untrusted.Text(err.Error())
}
