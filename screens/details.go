package screens

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"

	"github.com/schoolstatus/rostersync/store"
	"github.com/schoolstatus/rostersync/untrusted"
)

// The District details fields, in screen order.
const (
	dtName = iota
	dtApplication
	dtSave
	dtRemove
	dtFields
)

// DistrictRemovedMsg is sent when a district was removed: the session
// leaves it for the Dropdown.
type DistrictRemovedMsg struct {
	TenantID int64
	Name     string
}

// Details corrects a district's name and application_id, or removes a
// district added by mistake (⋮ → District details; specialists only). Both
// are saved at once as revisions in the audit trail, not through Review:
// they are not settings, and the application_id is checked against
// ClassLink's list.
type Details struct {
	c      *Common
	edit   *Edit
	focus  int
	inputs [2]textinput.Model // name, application_id
	err    error

	removing bool            // asking for the Tenant ID to remove the district
	confirm  textinput.Model // the Tenant ID typed to confirm
	pending  bool            // a save or a removal is being written
	scroll   int
}

// detailsDone carries a save's or a removal's result, written in a command.
type detailsDone struct {
	saved   store.District
	entry   store.AuditEntry
	removed bool
	err     error
}

// NewDetails shows e's saved name and application_id.
func NewDetails(c *Common, e *Edit) *Details {
	s := &Details{c: c, edit: e}
	s.inputs[0] = newInput(c.Styles, "", "the district's name", 40)
	s.inputs[0].CharLimit = store.MaxNameLength
	s.inputs[0].SetValue(e.Saved.Name)
	s.inputs[1] = newInput(c.Styles, "", "a positive whole number from ClassLink", 20)
	s.inputs[1].CharLimit = 24 // longer than any valid ID: a wrong one is refused, never cut
	s.inputs[1].SetValue(strconv.FormatInt(e.Saved.ApplicationID, 10))
	s.confirm = newInput(c.Styles, "Tenant ID: ", "", 20)
	s.confirm.CharLimit = 24
	s.inputs[0].Focus()
	return s
}

// Init asks for ClassLink's list, which the application_id is checked
// against, when a partner token is set and the list has not come yet.
func (s *Details) Init() tea.Cmd {
	if s.c.ClassLinkDistricts != nil && s.c.classLink == nil {
		return s.c.ClassLinkDistricts()
	}
	return nil
}
func (s *Details) ID() ID        { return DetailsScreen }
func (s *Details) Crumb() string { return "District details" }
func (s *Details) Step() int     { return 3 }
func (s *Details) Typing() bool  { return s.removing || s.focus <= dtApplication }

var removeKey = key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "remove"))

func (s *Details) ShortHelp() []key.Binding {
	k := s.c.Keys
	if s.removing {
		return []key.Binding{removeKey, with(k.Back, "keep the district")}
	}
	return []key.Binding{k.Next, with(k.Select, "choose"), k.Back}
}

func (s *Details) FullHelp() [][]key.Binding {
	k := s.c.Keys
	return [][]key.Binding{{k.Next, k.Prev}, {with(k.Select, "save details / remove")}, {with(k.Back, "back")}}
}

func (s *Details) move(delta int) tea.Cmd {
	s.focus = nextField(s.focus, delta, dtFields, nil)
	return focusInput(s.inputs[:], 0, s.focus)
}

func (s *Details) Update(msg tea.Msg) (Screen, tea.Cmd) {
	switch m := msg.(type) {
	case ClassLinkDistrictsMsg:
		s.c.keepClassLink(m)
		return s, nil
	case detailsDone:
		return s, s.done(m)
	case tea.PasteMsg:
		var cmd tea.Cmd
		switch {
		case s.removing:
			s.confirm, cmd = s.confirm.Update(m)
		case s.focus <= dtApplication:
			s.inputs[s.focus], cmd = s.inputs[s.focus].Update(m)
		}
		return s, cmd
	}
	km, ok := msg.(tea.KeyPressMsg)
	if !ok || s.pending {
		return s, nil
	}
	k := s.c.Keys
	if s.removing {
		switch {
		case key.Matches(km, k.Back):
			s.removing, s.err = false, nil
			return s, nil
		case km.String() == "enter":
			return s, s.remove()
		}
		var cmd tea.Cmd
		s.confirm, cmd = s.confirm.Update(msg)
		return s, cmd
	}
	switch {
	case key.Matches(km, k.Back):
		return s, s.c.Back()
	case km.String() == "tab" || km.String() == "down":
		return s, s.move(1)
	case km.String() == "shift+tab" || km.String() == "up":
		return s, s.move(-1)
	case km.String() == "enter" && s.focus == dtRemove:
		s.removing, s.err = true, nil
		s.confirm.SetValue("")
		return s, s.confirm.Focus()
	case km.String() == "enter" && s.focus == dtSave:
		return s, s.save()
	case km.String() == "enter":
		return s, s.move(1)
	case s.focus <= dtApplication:
		var cmd tea.Cmd
		s.inputs[s.focus], cmd = s.inputs[s.focus].Update(msg)
		return s, cmd
	}
	return s, nil
}

// save stores the corrected name and application_id as the next revision;
// the person's unsaved changes go on on top of it.
func (s *Details) save() tea.Cmd {
	e := s.edit
	name := strings.TrimSpace(s.inputs[0].Value())
	app, err := store.ParseApplicationID(s.inputs[1].Value())
	if err == nil {
		err = store.CheckName(name)
	}
	if err != nil {
		s.err = err
		return nil
	}
	proxy := ""
	if s.c.ProxyBaseURL != nil {
		proxy = s.c.ProxyBaseURL(app)
	}
	id := store.Identity{Name: name, ApplicationID: app, Listing: s.c.Listing(e.Saved.TenantID), ProxyBaseURL: proxy}
	db, tenant, base, who, specialist := s.c.DB, e.Saved.TenantID, e.Saved.Revision, s.c.Actor, s.c.Specialist
	s.pending = true
	return s.c.Do(func() tea.Msg {
		saved, entry, err := db.CorrectIdentity(tenant, base, id, who, specialist)
		return detailsDone{saved: saved, entry: entry, err: err}
	})
}

func (s *Details) remove() tea.Cmd {
	e := s.edit
	db, tenant, base, typed, who, specialist := s.c.DB, e.Saved.TenantID, e.Saved.Revision, s.confirm.Value(), s.c.Actor, s.c.Specialist
	s.pending = true
	return s.c.Do(func() tea.Msg {
		_, err := db.RemoveDistrict(tenant, base, typed, who, specialist)
		return detailsDone{removed: true, err: err}
	})
}

// done takes a save's or a removal's result.
func (s *Details) done(m detailsDone) tea.Cmd {
	s.pending = false
	e := s.edit
	var conflict *store.ConflictError
	switch {
	case errors.As(m.err, &conflict):
		s.err = fmt.Errorf("%s saved revision %d meanwhile: go back to the District Home Page and open District details again", conflict.Current.SavedBy.Name(), conflict.Current.Revision)
		return nil
	case m.err != nil:
		s.err = m.err
		return nil
	case m.removed:
		return s.c.Post(DistrictRemovedMsg{TenantID: e.Saved.TenantID, Name: e.Saved.Name})
	case m.entry.Revision == 0:
		return tea.Batch(s.c.Flash("Nothing changed in the district's details."), s.c.Back())
	}
	e.Draft = store.Rebase(e.Saved, e.Draft, m.saved)
	e.Saved = m.saved
	return tea.Batch(s.c.Flash(fmt.Sprintf("Saved revision %d: the district's details were corrected.", m.saved.Revision)), s.c.Back())
}

func (s *Details) View() string {
	st := s.c.Styles
	d := s.edit.Saved
	w := s.c.Width
	head := truncate(st.Title.Render("District details")+st.Muted.Render(fmt.Sprintf("  District Tenant ID %d", d.TenantID)), w)
	switch {
	case d.Demo:
		return page{Head: head, Body: wrap("The built-in demo district's details are fixed.", w)}.render(st, w, s.c.Height)
	case !s.c.Specialist:
		return page{Head: head, Body: wrap("Only an onboarding specialist can correct a district's name or application_id, or remove a district. Ask yours, or "+SupportEmail+".", w)}.render(st, w, s.c.Height)
	}
	for i := range s.inputs {
		s.inputs[i].SetWidth(max(w-6, 8))
	}
	var b strings.Builder
	focus, focusEnd := 0, 0
	if s.removing {
		b.WriteString(st.Warning.Render(wrap(fmt.Sprintf("Remove %s from rostersync? Its configuration and everyone's drafts of it go; its history (revisions and sync runs) stays, with who removed it. The Connect directory is not touched.", untrusted.Text(d.Name)), w)) + "\n\n")
		b.WriteString(wrap(fmt.Sprintf("Type the District Tenant ID, %d, and press enter to remove it; esc keeps it.", d.TenantID), w) + "\n")
		focus = strings.Count(b.String(), "\n")
		focusEnd = focus
		b.WriteString(line(st, true, s.confirm.View()) + "\n")
	} else {
		labels := []string{"District name:", "District application_id:"}
		for i, in := range s.inputs {
			start := strings.Count(b.String(), "\n")
			b.WriteString(line(st, s.focus == i, labels[i]) + "\n    " + in.View() + "\n")
			if s.focus == i {
				focus, focusEnd = start, start+1
			}
		}
		for _, f := range []struct {
			id   int
			text string
		}{{dtSave, "Save details ›"}, {dtRemove, "Remove this district…"}} {
			if s.focus == f.id {
				focus = strings.Count(b.String(), "\n")
				focusEnd = focus
			}
			b.WriteString(line(st, s.focus == f.id, f.text) + "\n")
		}
	}
	if s.err != nil {
		b.WriteString(st.Error.Render(wrap("✗ "+untrusted.Text(ErrText(s.err)), w)) + "\n")
		focusEnd = strings.Count(b.String(), "\n") - 1
	}
	if s.pending {
		b.WriteString(st.Muted.Render("Saving…") + "\n")
	}
	if !s.removing {
		note := "Saved at once as a new revision with your name in the history."
		if s.c.ClassLinkDistricts != nil {
			note += " The application_id must be the one ClassLink's list of districts that shared the app gives this Tenant ID."
		}
		b.WriteString("\n" + st.Note.Render(wrap(note, w)))
	}
	return page{Head: head, Body: b.String(), Focus: focus, FocusEnd: focusEnd, Scroll: &s.scroll}.render(st, w, s.c.Height)
}
