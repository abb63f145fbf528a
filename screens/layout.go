package screens

import (
	"fmt"
	"strings"

	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"
)

// The layout primitives every screen uses so that, at any size from the
// minimum up, the focus stays in view, what does not fit says so, and no
// text is cut without "…". See doc.go.

// Truncate cuts s to w columns, ending in "…" when it had to cut; styles
// are kept.
func Truncate(s string, w int) string { return truncate(s, w) }

func truncate(s string, w int) string {
	if w < 1 {
		return ""
	}
	return ansi.Truncate(s, w, "…")
}

// truncateLines applies truncate to every line of s.
func truncateLines(s string, w int) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		if lipgloss.Width(l) > w {
			lines[i] = truncate(l, w)
		}
	}
	return strings.Join(lines, "\n")
}

// lineCount is the number of lines s takes on screen ("" takes none).
func lineCount(s string) int {
	if s == "" {
		return 0
	}
	return strings.Count(s, "\n") + 1
}

// page is a screen laid out in a fixed height: Head stays at the top and
// Foot at the bottom; Body scrolls between them so that its lines Focus
// through FocusEnd stay in view, and "↑ N more" / "↓ N more" say what is
// above and below. A Body without a focus (Focus < 0) scrolls freely from
// *Scroll and says "lines a–b of n" instead.
type page struct {
	Head, Body, Foot string
	Focus, FocusEnd  int
	// Scroll is the screen's own offset (the first body line shown), kept
	// between frames so the view moves only as far as the focus needs.
	Scroll *int
	// Scrolls, when set, is told whether Body did not fit (so the footer
	// offers scroll keys only when there is something to scroll to).
	Scrolls *bool
}

// render lays the page out in width × height.
func (p page) render(st *Styles, width, height int) string {
	head, foot := splitLines(p.Head), splitLines(p.Foot)
	body := splitLines(p.Body)
	// The body gets at least three lines (a line and its two markers) when
	// there is that much room; else the foot joins the end of the body and
	// scrolls with it, then the head joins its start: nothing is dropped.
	if len(head)+len(foot)+min(len(body), 3) > height && len(foot) > 0 {
		body, foot = append(body, foot...), nil
	}
	if len(head)+min(len(body), 3) > height && len(head) > 0 {
		if p.Focus >= 0 {
			p.Focus += len(head)
			p.FocusEnd += len(head)
		}
		body, head = append(head, body...), nil
	}
	room := max(height-len(head)-len(foot), 0)
	var scroll int
	if p.Scroll != nil {
		scroll = *p.Scroll
	}
	if p.Scrolls != nil {
		*p.Scrolls = len(body) > room
	}
	shown := window(st, body, p.Focus, p.FocusEnd, room, &scroll)
	if p.Scroll != nil {
		*p.Scroll = scroll
	}
	lines := append(append(head, shown...), foot...)
	if len(lines) > height {
		lines = lines[:height]
	}
	return truncateLines(strings.Join(lines, "\n"), width)
}

func splitLines(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(strings.TrimRight(s, "\n"), "\n")
}

// window picks the body lines that fit in room, moving *scroll only as far
// as needed to show focus..focusEnd, and marks what is cut.
func window(st *Styles, body []string, focus, focusEnd, room int, scroll *int) []string {
	n := len(body)
	if n <= room {
		*scroll = 0
		return body
	}
	if room <= 0 {
		return nil
	}
	if room < 3 {
		// No space for markers and a line: show the focus alone.
		f := max(focus, 0)
		*scroll = min(f, n-1)
		return body[*scroll:min(*scroll+room, n)]
	}
	if focusEnd < focus {
		focusEnd = focus
	}
	free := focus < 0
	if free {
		// A text page: one line says where we are, the rest is text.
		w := room - 1
		*scroll = max(0, min(*scroll, n-w))
		end := min(*scroll+w, n)
		out := append([]string{}, body[*scroll:end]...)
		return append(out, st.Muted.Render(fmt.Sprintf("lines %d–%d of %d (↑/↓ scroll)", *scroll+1, end, n)))
	}
	focusEnd = min(focusEnd, n-1)
	start := max(0, min(*scroll, n-1))
	// The window's size depends on which markers show; settle in a few rounds.
	var w int
	for range 4 {
		w = room
		if start > 0 {
			w--
		}
		if start+w < n {
			w--
		}
		switch {
		case focus < start:
			start = focus
		case focusEnd >= start+w:
			start = min(focusEnd-w+1, focus)
		}
		// Never leave blank lines at the end while text is hidden above.
		if start > 0 && n-start < room-1 {
			start = max(n-(room-1), 0)
		}
	}
	w = room
	if start > 0 {
		w--
	}
	if start+w < n {
		w--
	}
	*scroll = start
	var out []string
	if start > 0 {
		out = append(out, st.Muted.Render(fmt.Sprintf("  ↑ %d more", start)))
	}
	end := min(start+w, n)
	out = append(out, body[start:end]...)
	if end < n {
		out = append(out, st.Muted.Render(fmt.Sprintf("  ↓ %d more", n-end)))
	}
	return out
}

// Choice is one answer of a dialog: its key and what it does.
type Choice struct{ Key, Text string }

// Dialog is a bordered question that wraps to width: the title, the text,
// then the choices one per line, the safe one first, so a narrow terminal
// never loses the way out.
func Dialog(st *Styles, width int, title, text string, safe Choice, others ...Choice) string {
	inner := max(width-4, 10) // border and padding
	var b strings.Builder
	b.WriteString(st.Warning.Render(wrap(title, inner)))
	if text != "" {
		b.WriteString("\n" + wrap(text, inner))
	}
	b.WriteString("\n")
	var parts []string
	for _, c := range append([]Choice{safe}, others...) {
		parts = append(parts, st.Focused.Render(c.Key)+" "+c.Text)
	}
	if one := strings.Join(parts, "  ·  "); lipgloss.Width(one) <= inner {
		b.WriteString("\n" + one)
	} else {
		for _, p := range parts {
			b.WriteString("\n" + wrap(p, inner))
		}
	}
	return st.Dialog.Width(max(width, 14)).Render(b.String())
}

// Scrolled is text shown as a page that scrolls from *scroll, saying
// "lines a–b of n" when it does not fit (the help page, long details).
// scrolls is told whether the text did not fit.
func Scrolled(st *Styles, text string, scroll *int, scrolls *bool, width, height int) string {
	return page{Body: text, Focus: -1, Scroll: scroll, Scrolls: scrolls}.render(st, width, height)
}
