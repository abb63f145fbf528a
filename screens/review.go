package screens

import (
	"errors"
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"github.com/schoolstatus/rostersync/store"
	"github.com/schoolstatus/rostersync/untrusted"
)

// Review is step 8: what changed against the saved revision, then Save.
type Review struct {
	c        *Common
	edit     *Edit
	offset   int
	err      error
	conflict *store.ConflictError // someone else saved first
}

// NewReview reviews e.
func NewReview(c *Common, e *Edit) *Review { return &Review{c: c, edit: e} }

func (r *Review) Init() tea.Cmd { return nil }
func (r *Review) ID() ID        { return ReviewScreen }
func (r *Review) Crumb() string { return "Review" }
func (r *Review) Step() int     { return 8 }

func (r *Review) ShortHelp() []key.Binding {
	k := r.c.Keys
	if r.conflict != nil {
		return []key.Binding{conflictReload, conflictReapply, k.Back}
	}
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
	if r.conflict != nil {
		switch {
		case key.Matches(km, conflictReload):
			return r, r.c.Post(ReloadedMsg{District: r.conflict.Current})
		case key.Matches(km, conflictReapply):
			r.reapply()
		case key.Matches(km, k.Back):
			r.conflict = nil
			return r, r.c.Back()
		}
		return r, nil
	}
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
	if r.c.CheckConnection != nil {
		// What the connection screen refused is refused here too, however
		// the draft got here (a resumed draft, a form left invalid).
		if err := r.c.CheckConnection(r.edit.Draft); err != nil {
			r.err = err
			return nil
		}
	}
	saved, entry, err := r.edit.Save(r.c.DB, r.c.Actor)
	var conflict *store.ConflictError
	if errors.As(err, &conflict) {
		r.conflict, r.err = conflict, nil
		return nil
	}
	if err != nil {
		r.err = err
		return nil
	}
	return r.c.Post(SavedMsg{District: saved, Entry: entry})
}

// reapply puts the person's changes on top of the revision that was saved
// meanwhile; they review the result before saving again.
func (r *Review) reapply() {
	e, current := r.edit, r.conflict.Current
	e.Draft = store.Rebase(e.Saved, e.Draft, current)
	e.Saved = current
	r.conflict, r.offset = nil, 0
	r.c.Flash(fmt.Sprintf("Your changes are now on top of revision %d: review them and save again.", current.Revision))
}

var (
	conflictReload  = key.NewBinding(key.WithKeys("r"), key.WithHelp("r", "reload theirs (drop mine)"))
	conflictReapply = key.NewBinding(key.WithKeys("a"), key.WithHelp("a", "re-apply mine on top"))
)

// conflictView tells who saved meanwhile and what they changed, and which
// fields both people changed.
func (r *Review) conflictView() string {
	st, cf := r.c.Styles, r.conflict
	w := r.c.Width - 4
	var b strings.Builder
	b.WriteString(st.Warning.Render(fmt.Sprintf("Someone else saved revision %d while you were editing", cf.Current.Revision)) + "\n")
	theirs := map[string]bool{}
	for _, e := range cf.Since {
		b.WriteString(wrap(fmt.Sprintf("Revision %d by %s, %s:", e.Revision, untrusted.Text(e.Actor.String()), r.c.SinceText(e.At)), w) + "\n")
		for i, ch := range e.Changes {
			theirs[ch.Field] = true
			if i == 4 {
				b.WriteString(st.Muted.Render(fmt.Sprintf("  … and %d more", len(e.Changes)-4)) + "\n")
				break
			}
			b.WriteString(truncate(untrusted.Text("  • "+ch.Label()+": "+ch.From+" → "+ch.To), w) + "\n")
		}
	}
	mine := r.edit.Changes()
	var both []string
	for _, ch := range mine {
		if theirs[ch.Field] {
			both = append(both, ch.Label())
		}
	}
	b.WriteString(fmt.Sprintf("\nNot saved yet: your %s.", plural(len(mine), "change")))
	if len(both) > 0 {
		b.WriteString(" " + st.Warning.Render(wrap("You both changed: "+strings.Join(both, ", ")+"; re-applying keeps yours.", w)))
	}
	b.WriteString("\n\nr: reload their revision and drop your changes\na: re-apply your changes on top, then review\nesc: back to edit")
	return st.Dialog.Render(b.String())
}

func (r *Review) View() string {
	st := r.c.Styles
	if r.conflict != nil {
		return fit(r.conflictView(), r.c.Height)
	}
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
		b.WriteString("  " + label + " " + st.Muted.Render(untrusted.Text(ch.From)) + " → " + st.Focused.Render(untrusted.Text(ch.To)) + "\n")
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
		b.WriteString(st.Warning.Render(wrap("• "+untrusted.Text(n), r.c.Width)) + "\n")
	}
	if r.err != nil {
		b.WriteString(st.Error.Render(wrap("✗ Not saved: "+untrusted.Text(r.err.Error()), r.c.Width)) + "\n")
	}
	b.WriteString(st.Focused.Render(fmt.Sprintf("Save as revision %d?", r.edit.Saved.Revision+1)) + "  y/enter: save · esc: back to edit")
	return b.String()
}
