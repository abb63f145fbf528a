package screens

import (
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
)

// Review is step 8: what changed against the saved revision, then Save.
type Review struct {
	c      *Common
	edit   *Edit
	offset int
	err    error
}

// NewReview reviews e.
func NewReview(c *Common, e *Edit) *Review { return &Review{c: c, edit: e} }

func (r *Review) Init() tea.Cmd { return nil }
func (r *Review) ID() ID        { return ReviewScreen }
func (r *Review) Crumb() string { return "Review" }
func (r *Review) Step() int     { return 8 }

func (r *Review) ShortHelp() []key.Binding {
	k := r.c.Keys
	return []key.Binding{with(k.Confirm, "save"), with(k.Back, "back to edit")}
}

func (r *Review) FullHelp() [][]key.Binding {
	k := r.c.Keys
	return [][]key.Binding{{with(k.Up, "scroll up"), with(k.Down, "scroll down")}, {with(k.Confirm, "save a new revision"), with(k.Back, "back to edit")}}
}

func (r *Review) Update(msg tea.Msg) (Screen, tea.Cmd) {
	km, ok := msg.(tea.KeyPressMsg)
	if !ok {
		return r, nil
	}
	k := r.c.Keys
	switch {
	case key.Matches(km, k.Up):
		r.offset = max(r.offset-1, 0)
	case key.Matches(km, k.Down):
		r.offset = min(r.offset+1, max(len(r.edit.Changes())-1, 0))
	case key.Matches(km, k.Confirm):
		return r, r.save()
	case key.Matches(km, k.Back):
		return r, r.c.Back()
	}
	return r, nil
}

func (r *Review) save() tea.Cmd {
	if !r.edit.Dirty() {
		return r.c.Post(SavedMsg{District: r.edit.Saved})
	}
	saved, entry, err := r.edit.Save(r.c.DB, r.c.Actor)
	if err != nil {
		r.err = err
		return nil
	}
	return r.c.Post(SavedMsg{District: saved, Entry: entry})
}

func (r *Review) View() string {
	st := r.c.Styles
	changes := r.edit.Changes()
	var b strings.Builder
	b.WriteString(st.Title.Render(fmt.Sprintf("Review changes against revision %d", r.edit.Saved.Revision)) + "\n")
	if len(changes) == 0 {
		b.WriteString("\nNothing changed since revision " + fmt.Sprint(r.edit.Saved.Revision) + ".\n\n")
		b.WriteString(st.Muted.Render("enter returns to the District Home Page · esc goes back to edit"))
		return fit(b.String(), r.c.Height)
	}
	b.WriteString(st.Muted.Render(plural(len(changes), "change")) + "\n\n")

	footer := r.confirmText()
	room := max(r.c.Height-5-lipgloss.Height(footer), 2) // title, count, blank, scroll line, blank
	labelW := min(44, r.c.Width/2+4)
	end := min(r.offset+room, len(changes))
	for _, ch := range changes[r.offset:end] {
		label := lipgloss.NewStyle().Width(labelW).Render(truncate(ch.Label(), labelW-1))
		b.WriteString("  " + label + " " + st.Muted.Render(ch.From) + " → " + st.Focused.Render(ch.To) + "\n")
	}
	if end < len(changes) || r.offset > 0 {
		b.WriteString(st.Muted.Render(fmt.Sprintf("  showing %d–%d of %d (↑/↓ scroll)", r.offset+1, end, len(changes))) + "\n")
	}
	b.WriteString("\n" + footer)
	return fit(b.String(), r.c.Height)
}

func (r *Review) confirmText() string {
	st := r.c.Styles
	var b strings.Builder
	for _, n := range r.edit.Notes {
		b.WriteString(st.Warning.Render(wrap("• "+n, r.c.Width)) + "\n")
	}
	if r.err != nil {
		b.WriteString(st.Error.Render(wrap("✗ Not saved: "+r.err.Error(), r.c.Width)) + "\n")
	}
	b.WriteString(st.Focused.Render(fmt.Sprintf("Save as revision %d?", r.edit.Saved.Revision+1)) + "  y/enter: save · esc: back to edit")
	return b.String()
}
