package screens

import (
	"errors"
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/schoolstatus/rostersync/store"
	"github.com/schoolstatus/rostersync/untrusted"
)

// Review is step 8: what changed against the saved revision, every value
// in full, then Save (y only).
type Review struct {
	c        *Common
	edit     *Edit
	scroll   int
	scrolls  bool // the page did not fit: ↑/↓ scroll it
	err      error
	saving   bool
	conflict *store.ConflictError // someone else saved first
	drop     bool                 // r was pressed: only y drops the changes
}

// reviewSaved carries a save's result, done in a command.
type reviewSaved struct {
	district store.District
	entry    store.AuditEntry
	err      error
}

// NewReview reviews e.
func NewReview(c *Common, e *Edit) *Review { return &Review{c: c, edit: e} }

// Conflict shows that someone else saved since the edit began, as a
// refused save does (the router uses it when a resumed draft meets a
// newer save of the same fields).
func (r *Review) Conflict(c *store.ConflictError) { r.conflict = c }

func (r *Review) Init() tea.Cmd { return nil }
func (r *Review) ID() ID        { return ReviewScreen }
func (r *Review) Crumb() string { return "Review" }
func (r *Review) Step() int     { return 8 }

var (
	conflictReload  = key.NewBinding(key.WithKeys("r"), key.WithHelp("r", "reload theirs (drop mine; asks y)"))
	conflictReapply = key.NewBinding(key.WithKeys("a"), key.WithHelp("a", "re-apply mine on top"))
)

func (r *Review) ShortHelp() []key.Binding {
	k := r.c.Keys
	switch {
	case r.saving:
		return nil
	case r.conflict != nil && r.drop:
		return []key.Binding{with(k.Back, "keep them"), with(k.Confirm, "drop them")}
	case r.conflict != nil:
		return []key.Binding{with(k.Back, "back to edit"), conflictReapply, conflictReload}
	case !r.edit.Dirty():
		return []key.Binding{with(k.Select, "District Home Page"), with(k.Back, "back to edit")}
	}
	if r.scrolls {
		return []key.Binding{with(k.Back, "back to edit"), with(k.Confirm, "save"), with(k.Down, "scroll")}
	}
	return []key.Binding{with(k.Back, "back to edit"), with(k.Confirm, "save")}
}

func (r *Review) FullHelp() [][]key.Binding {
	k := r.c.Keys
	if r.conflict != nil || !r.edit.Dirty() || r.saving {
		return [][]key.Binding{r.ShortHelp()}
	}
	save := []key.Binding{with(k.Confirm, "save a new revision (y only)"), with(k.Back, "back to edit")}
	if !r.scrolls {
		return [][]key.Binding{save}
	}
	return [][]key.Binding{{with(k.Up, "scroll up"), with(k.Down, "scroll down")}, save}
}

func (r *Review) Update(msg tea.Msg) (Screen, tea.Cmd) {
	if res, ok := msg.(reviewSaved); ok {
		return r, r.saved(res)
	}
	km, ok := msg.(tea.KeyPressMsg)
	if !ok || r.saving {
		return r, nil
	}
	k := r.c.Keys
	if r.conflict != nil && r.drop {
		r.drop = false // any key but y keeps the changes
		if key.Matches(km, k.Confirm) {
			return r, r.c.Post(ReloadedMsg{District: r.conflict.Current})
		}
		return r, nil
	}
	if r.conflict != nil {
		switch {
		case key.Matches(km, conflictReload):
			r.drop = true
		case key.Matches(km, conflictReapply):
			return r, r.reapply()
		case key.Matches(km, k.Back):
			r.conflict = nil
			return r, r.c.Back()
		case key.Matches(km, k.Up):
			r.scroll = max(r.scroll-1, 0)
		case key.Matches(km, k.Down):
			r.scroll++
		}
		return r, nil
	}
	switch {
	case key.Matches(km, k.Up):
		r.scroll = max(r.scroll-1, 0)
	case key.Matches(km, k.Down):
		r.scroll++
	case !r.edit.Dirty() && km.String() == "enter":
		return r, r.c.Post(SavedMsg{District: r.edit.Saved})
	case r.edit.Dirty() && key.Matches(km, k.Confirm):
		return r, r.save()
	case key.Matches(km, k.Back):
		return r, r.c.Back()
	}
	return r, nil
}

// save stores the draft in a command (Edit.Save: the revision and the
// draft's deletion in one transaction).
func (r *Review) save() tea.Cmd {
	if r.c.CheckConnection != nil {
		// What the connection screen refused is refused here too, however
		// the draft got here (a resumed draft, a form left invalid).
		if err := r.c.CheckConnection(r.edit.Draft); err != nil {
			r.err = err
			return nil
		}
	}
	r.saving, r.err = true, nil
	e, db, who := *r.edit, r.c.DB, r.c.Actor
	return r.c.Do(func() tea.Msg {
		saved, entry, err := e.Save(db, who)
		return reviewSaved{district: saved, entry: entry, err: err}
	})
}

func (r *Review) saved(res reviewSaved) tea.Cmd {
	r.saving = false
	var conflict *store.ConflictError
	switch {
	case errors.As(res.err, &conflict):
		r.conflict, r.scroll = conflict, 0
		return nil
	case res.err != nil:
		r.err = res.err
		return nil
	}
	return r.c.Post(SavedMsg{District: res.district, Entry: res.entry})
}

// reapply puts the person's changes on top of the revision that was saved
// meanwhile; they review the result before saving again.
func (r *Review) reapply() tea.Cmd {
	e, current := r.edit, r.conflict.Current
	e.Draft = store.Rebase(e.Saved, e.Draft, current)
	e.Saved = current
	r.conflict, r.scroll = nil, 0
	return r.c.Flash(fmt.Sprintf("Your changes are now on top of revision %d: review them and save again.", current.Revision))
}

// conflictView tells who saved meanwhile and what they changed, and which
// fields both people changed.
func (r *Review) conflictView() string {
	st, cf, w := r.c.Styles, r.conflict, r.c.Width
	var b strings.Builder
	b.WriteString(st.Warning.Render(wrap(fmt.Sprintf("Someone else saved revision %d while you were editing", cf.Current.Revision), w)) + "\n")
	theirs := map[string]bool{}
	for _, e := range cf.Since {
		b.WriteString(wrap(fmt.Sprintf("Revision %d by %s, %s:", e.Revision, untrusted.Text(e.Actor.String()), r.c.SinceText(e.At)), w) + "\n")
		for _, ch := range e.Changes {
			theirs[ch.Field] = true
			b.WriteString(indent(wrap(untrusted.Text("• "+ch.Label()+": "+ch.From+" → "+ch.To), w-2), "  ") + "\n")
		}
	}
	mine := store.Diff(r.edit.Saved, r.edit.Draft)
	var both []string
	for _, ch := range mine {
		if theirs[ch.Field] {
			both = append(both, ch.Label())
		}
	}
	b.WriteString("\n" + wrap(fmt.Sprintf("Not saved yet: your %s.", plural(len(mine), "change")), w) + "\n")
	if len(both) > 0 {
		b.WriteString(st.Warning.Render(wrap("You both changed: "+strings.Join(both, ", ")+"; re-applying keeps yours.", w)) + "\n")
	}
	return b.String()
}

func (r *Review) View() string {
	st, w := r.c.Styles, r.c.Width
	if r.conflict != nil && r.drop {
		return Dialog(st, w, fmt.Sprintf("Drop your %s and load revision %d?", plural(len(r.edit.Changes()), "change"), r.conflict.Current.Revision),
			"They cannot be brought back.",
			Choice{Key: "n/esc", Text: "keep them (back)"}, Choice{Key: "y", Text: "drop them, load theirs"})
	}
	if r.conflict != nil {
		foot := wrap(st.Focused.Render("esc")+" back to edit · "+st.Focused.Render("a")+" re-apply mine on top · "+st.Focused.Render("r")+" reload theirs, drop mine", w)
		return page{Body: r.conflictView(), Foot: foot, Focus: -1, Scroll: &r.scroll, Scrolls: &r.scrolls}.render(st, w, r.c.Height)
	}
	changes := r.edit.Changes()
	head := st.Title.Render(wrap(fmt.Sprintf("Review changes against revision %d", r.edit.Saved.Revision), w))
	if len(changes) == 0 {
		return page{Head: head, Body: wrap(fmt.Sprintf("Nothing changed since revision %d: there is nothing to save.", r.edit.Saved.Revision), w)}.render(st, w, r.c.Height)
	}
	var b strings.Builder
	for _, n := range r.edit.Notes {
		b.WriteString(st.Warning.Render(wrap("• Note for the audit: "+untrusted.Text(n), w)) + "\n")
	}
	b.WriteString(st.Muted.Render(plural(len(changes), "change")) + "\n")
	// Every value in full, wrapped: what the person confirms is what they see.
	for _, ch := range changes {
		b.WriteString(wrap(ch.Label(), w) + "\n")
		b.WriteString(indent(wrap(st.Muted.Render(orDash(untrusted.Text(ch.From)))+" → "+st.Focused.Render(orDash(untrusted.Text(ch.To))), w-4), "    ") + "\n")
	}
	var foot strings.Builder
	if r.err != nil {
		foot.WriteString(st.Error.Render(wrap("✗ Not saved: "+untrusted.Text(ErrText(r.err)), w)) + "\n")
	}
	if r.saving {
		foot.WriteString(st.Muted.Render("Saving…"))
	} else {
		foot.WriteString(wrap(st.Focused.Render(fmt.Sprintf("Save as revision %d?", r.edit.Saved.Revision+1))+"  "+st.Muted.Render("esc back · y save"), w))
	}
	return page{Head: head, Body: b.String(), Foot: foot.String(), Focus: -1, Scroll: &r.scroll, Scrolls: &r.scrolls}.render(st, w, r.c.Height)
}
