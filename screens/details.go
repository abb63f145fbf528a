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
}

// NewDetails shows e's saved name and application_id.
func NewDetails(c *Common, e *Edit) *Details {
	s := &Details{c: c, edit: e}
	s.inputs[0] = newInput(c.Styles, "", "the district's name", 40)
	s.inputs[0].CharLimit = store.MaxNameLength
	s.inputs[0].SetValue(e.Saved.Name)
	s.inputs[1] = newInput(c.Styles, "", "a positive whole number from ClassLink", 20)
	s.inputs[1].CharLimit = 18
	s.inputs[1].SetValue(strconv.FormatInt(e.Saved.ApplicationID, 10))
	s.confirm = newInput(c.Styles, "Tenant ID: ", "", 20)
	s.confirm.CharLimit = 18
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
	s.focus = (s.focus + delta + dtFields) % dtFields
	var cmd tea.Cmd
	for i := range s.inputs {
		if i == s.focus {
			cmd = s.inputs[i].Focus()
		} else {
			s.inputs[i].Blur()
		}
	}
	return cmd
}

func (s *Details) Update(msg tea.Msg) (Screen, tea.Cmd) {
	if m, ok := msg.(ClassLinkDistrictsMsg); ok {
		s.c.keepClassLink(m)
		return s, nil
	}
	km, ok := msg.(tea.KeyPressMsg)
	if !ok {
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
	saved, entry, err := s.c.DB.CorrectIdentity(e.Saved.TenantID, e.Saved.Revision, id, s.c.Actor, s.c.Specialist)
	var conflict *store.ConflictError
	switch {
	case errors.As(err, &conflict):
		s.err = fmt.Errorf("%s saved revision %d meanwhile: go back to the District Home Page and open District details again", conflict.Current.SavedBy.Name(), conflict.Current.Revision)
		return nil
	case err != nil:
		s.err = err
		return nil
	case entry.Revision == 0:
		return tea.Batch(s.c.Flash("Nothing changed in the district's details."), s.c.Back())
	}
	e.Draft = store.Rebase(e.Saved, e.Draft, saved)
	e.Saved = saved
	return tea.Batch(s.c.Flash(fmt.Sprintf("Saved revision %d: the district's details were corrected.", saved.Revision)), s.c.Back())
}

func (s *Details) remove() tea.Cmd {
	e := s.edit
	_, err := s.c.DB.RemoveDistrict(e.Saved.TenantID, e.Saved.Revision, s.confirm.Value(), s.c.Actor, s.c.Specialist)
	if err != nil {
		s.err = err
		return nil
	}
	return s.c.Post(DistrictRemovedMsg{TenantID: e.Saved.TenantID, Name: e.Saved.Name})
}

func (s *Details) View() string {
	st := s.c.Styles
	d := s.edit.Saved
	w := s.c.Width
	var b strings.Builder
	b.WriteString(st.Title.Render("District details") + st.Muted.Render(fmt.Sprintf("  District Tenant ID %d", d.TenantID)) + "\n\n")
	switch {
	case d.Demo:
		b.WriteString(wrap("The built-in demo district's details are fixed.", w) + "\n")
		return fit(b.String(), s.c.Height)
	case !s.c.Specialist:
		b.WriteString(wrap("Only an onboarding specialist can correct a district's name or application_id, or remove a district. Ask yours, or "+SupportEmail+".", w) + "\n")
		return fit(b.String(), s.c.Height)
	}
	if s.removing {
		b.WriteString(st.Warning.Render(wrap(fmt.Sprintf("Remove %s from rostersync? Its configuration and everyone's drafts of it go; its history (revisions and sync runs) stays, with who removed it. The Connect directory is not touched.", untrusted.Text(d.Name)), w)) + "\n\n")
		b.WriteString(wrap(fmt.Sprintf("Type the District Tenant ID, %d, and press enter to remove it; esc keeps it.", d.TenantID), w) + "\n")
		b.WriteString(line(st, true, s.confirm.View()) + "\n")
	} else {
		b.WriteString(line(st, s.focus == dtName, "District name:           "+s.inputs[0].View()) + "\n")
		b.WriteString(line(st, s.focus == dtApplication, "District application_id: "+s.inputs[1].View()) + "\n")
		b.WriteString(line(st, s.focus == dtSave, "Save details ›") + "\n")
		b.WriteString(line(st, s.focus == dtRemove, "Remove this district…") + "\n")
	}
	if s.err != nil {
		b.WriteString(st.Error.Render(wrap("✗ "+ErrText(s.err), w)) + "\n")
	}
	if !s.removing {
		note := "Saved at once as a new revision with your name in the history."
		if s.c.ClassLinkDistricts != nil {
			note += " The application_id must be the one ClassLink's list of districts that shared the app gives this Tenant ID."
		}
		b.WriteString("\n" + st.Note.Render(wrap(note, w)) + "\n")
	}
	return fit(b.String(), s.c.Height)
}
