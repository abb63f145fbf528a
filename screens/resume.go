package screens

import (
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/schoolstatus/rostersync/store"
	"github.com/schoolstatus/rostersync/untrusted"
)

// ResumeMsg is the person's answer to the resume question.
type ResumeMsg struct {
	Draft  store.Draft
	Resume bool // false: start over, the draft is deleted
}

// Resume is shown at start when the person left unsaved changes last time.
// Starting over asks again, and only y discards the draft: enter, n and
// esc keep it (a draft cannot be brought back).
type Resume struct {
	c       *Common
	draft   store.Draft
	changes []store.Change // the draft's, worked out once: it does not change here
	cursor  int
	scroll  int
	discard bool // asking whether to discard the draft
}

// NewResume offers to resume d.
func NewResume(c *Common, d store.Draft) *Resume {
	return &Resume{c: c, draft: d, changes: store.Diff(d.Base, d.District)}
}

func (r *Resume) Init() tea.Cmd { return nil }
func (r *Resume) ID() ID        { return ResumeScreen }
func (r *Resume) Crumb() string { return "Resume" }
func (r *Resume) Step() int     { return 1 }

var resumeKeep = key.NewBinding(key.WithKeys("n", "esc", "enter"), key.WithHelp("n/esc", "keep the draft"))

func (r *Resume) ShortHelp() []key.Binding {
	k := r.c.Keys
	if r.discard {
		return []key.Binding{resumeKeep, with(k.Confirm, "discard it")}
	}
	return []key.Binding{with(k.Select, "choose"), k.Up, k.Down}
}

func (r *Resume) FullHelp() [][]key.Binding { return [][]key.Binding{r.ShortHelp()} }

func (r *Resume) Update(msg tea.Msg) (Screen, tea.Cmd) {
	km, ok := msg.(tea.KeyPressMsg)
	if !ok {
		return r, nil
	}
	k := r.c.Keys
	if r.discard {
		r.discard = false // any key but y keeps the draft
		if key.Matches(km, k.Confirm) {
			return r, r.c.Post(ResumeMsg{Draft: r.draft, Resume: false})
		}
		return r, nil
	}
	switch {
	case key.Matches(km, k.Up):
		r.cursor = 0
	case key.Matches(km, k.Down):
		r.cursor = 1
	case key.Matches(km, k.Select) && r.cursor == 1:
		r.discard = true
	case key.Matches(km, k.Select):
		return r, r.c.Post(ResumeMsg{Draft: r.draft, Resume: true})
	}
	return r, nil
}

func (r *Resume) View() string {
	st, w := r.c.Styles, r.c.Width
	d := r.draft
	if r.discard {
		return Dialog(st, w, fmt.Sprintf("Discard your %s to %s?", plural(len(r.changes), "change"), untrusted.Text(d.District.Name)),
			"They cannot be brought back.",
			Choice{Key: "n/esc", Text: "keep the draft (back)"}, Choice{Key: "y", Text: "discard it and start over"})
	}
	head := st.Title.Render("You left unsaved changes")
	var b strings.Builder
	b.WriteString(wrap(fmt.Sprintf("%s (Tenant %d): %s on top of revision %d, last edited %s, on the %s screen.",
		untrusted.Text(d.District.Name), d.TenantID, plural(len(r.changes), "change"), d.Base.Revision, r.c.SinceText(d.UpdatedAt), strings.ReplaceAll(d.Screen, "_", " ")), w) + "\n")
	for _, ch := range r.changes {
		b.WriteString(st.Muted.Render(indent(wrap(untrusted.Text("• "+ch.Label()+": "+ch.From+" → "+ch.To), w-2), "  ")) + "\n")
	}
	b.WriteString("\n")
	// The choices stay in view; what is above them says "↑ N more".
	choices := strings.Count(b.String(), "\n")
	b.WriteString(line(st, r.cursor == 0, "Resume where I left off") + "\n" + line(st, r.cursor == 1, "Start over (discard the draft; asks again)"))
	return page{Head: head, Body: b.String(), Focus: choices, FocusEnd: choices + 1, Scroll: &r.scroll}.render(st, w, r.c.Height)
}
