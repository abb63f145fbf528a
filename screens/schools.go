package screens

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/schoolstatus/rostersync/untrusted"
)

// SchoolChoice is one ClassLink school offered for the SIS connection.
type SchoolChoice struct {
	SourcedID, Name, Identifier string
	ToBeDeleted                 bool
}

// SchoolsMsg carries the district's ClassLink schools.
type SchoolsMsg struct {
	TenantID int64
	Schools  []SchoolChoice
	// Summary says in one line for people why the list failed; Err is the
	// technical detail.
	Summary   string
	Err       error
	Cancelled bool // the person cancelled the wait
}

// Schools is "School connection to SIS": which ClassLink schools the sync
// covers (the config's "schools").
type Schools struct {
	c       *Common
	edit    *Edit
	wait    waiter
	loaded  bool
	summary string
	err     error
	detail  bool
	list    []SchoolChoice // ClassLink's, then selected ones ClassLink lacks
	shown   []int
	cursor  int
	scroll  int
	filter  searchField
}

// NewSchools edits e.Draft.Schools.
func NewSchools(c *Common, e *Edit) *Schools {
	s := &Schools{c: c, edit: e}
	s.filter = newSearchField(c, "Filter: ", "part of a name or number")
	s.useList(nil)
	return s
}

// Init asks ClassLink for the schools.
func (s *Schools) Init() tea.Cmd { return s.ask() }

func (s *Schools) ask() tea.Cmd {
	if s.c.Schools == nil {
		return nil
	}
	d := s.edit.Draft
	s.err, s.summary, s.detail = nil, "", false
	return s.wait.start(s.c, "Asking ClassLink for the district's schools", func(ctx context.Context) tea.Cmd { return s.c.Schools(ctx, d) })
}

func (s *Schools) ID() ID        { return SchoolsScreen }
func (s *Schools) Crumb() string { return "School connection to SIS" }
func (s *Schools) Step() int     { return 6 }
func (s *Schools) Typing() bool  { return s.filter.active }

var (
	allKey   = key.NewBinding(key.WithKeys("a"), key.WithHelp("a", "select all shown"))
	noneKey  = key.NewBinding(key.WithKeys("n"), key.WithHelp("n", "clear all shown"))
	retryKey = key.NewBinding(key.WithKeys("r"), key.WithHelp("r", "ask again"))
)

func (s *Schools) ShortHelp() []key.Binding {
	k := s.c.Keys
	switch {
	case s.filter.active:
		return s.filter.help(k)
	case s.wait.active():
		return []key.Binding{with(k.Back, "cancel"), with(k.Toggle, "toggle"), k.Up, k.Down}
	}
	keys := []key.Binding{with(k.Toggle, "toggle"), with(k.Continue, "review"), allKey, k.Filter}
	if s.err != nil {
		keys = append(keys, retryKey, detailKey)
	}
	return append(keys, k.Back)
}

func (s *Schools) FullHelp() [][]key.Binding {
	k := s.c.Keys
	if s.filter.active {
		return [][]key.Binding{s.ShortHelp()}
	}
	more := []key.Binding{allKey, noneKey, k.Filter}
	if s.err != nil {
		more = append(more, with(retryKey, "ask ClassLink again"), with(detailKey, "show or hide the technical detail"))
	}
	return [][]key.Binding{{k.Up, k.Down, with(k.Toggle, "connect / disconnect a school (enter too)")}, more, {with(k.Continue, "review and save"), with(k.Back, "back (changes are kept)")}}
}

func (s *Schools) selected(id string) bool { return slices.Contains(s.edit.Draft.Schools, id) }

func (s *Schools) set(id string, on bool) {
	d := &s.edit.Draft
	if on && !s.selected(id) {
		d.Schools = append(slices.Clone(d.Schools), id)
		slices.Sort(d.Schools)
	} else if !on {
		d.Schools = slices.DeleteFunc(slices.Clone(d.Schools), func(x string) bool { return x == id })
	}
}

// useList shows ClassLink's schools, then the connected ones it lacks.
func (s *Schools) useList(schools []SchoolChoice) {
	s.list = slices.Clone(schools)
	known := map[string]bool{}
	for _, sc := range s.list {
		known[sc.SourcedID] = true
	}
	for _, id := range s.edit.Draft.Schools {
		if !known[id] {
			s.list = append(s.list, SchoolChoice{SourcedID: id, Name: "(not found in ClassLink)", ToBeDeleted: true})
		}
	}
	s.applyFilter()
}

func (s *Schools) applyFilter() {
	q := strings.ToLower(strings.TrimSpace(s.filter.value()))
	s.shown = s.shown[:0]
	for i, sc := range s.list {
		if q == "" || strings.Contains(strings.ToLower(sc.Name+" "+sc.Identifier+" "+sc.SourcedID), q) {
			s.shown = append(s.shown, i)
		}
	}
	s.cursor = max(0, min(s.cursor, len(s.shown)-1))
}

func (s *Schools) Update(msg tea.Msg) (Screen, tea.Cmd) {
	if m, ok := msg.(SchoolsMsg); ok {
		if m.TenantID == s.edit.Saved.TenantID && s.wait.active() && !m.Cancelled {
			s.wait.stop()
			s.loaded, s.err, s.summary = m.Err == nil, m.Err, m.Summary
			if m.Err == nil {
				s.useList(m.Schools)
			}
		}
		return s, nil
	}
	k := s.c.Keys
	if s.filter.active {
		if cmd, changed, ok := s.filter.handle(msg, k.Back); ok {
			if changed {
				s.applyFilter()
			}
			return s, cmd
		}
	}
	km, ok := msg.(tea.KeyPressMsg)
	if !ok {
		return s, nil
	}
	switch {
	case key.Matches(km, k.Back) && s.wait.active():
		s.wait.stop()
		s.err, s.summary = context.Canceled, "You cancelled asking ClassLink; r asks again."
	case key.Matches(km, k.Back):
		return s, s.c.Back()
	case key.Matches(km, k.Up):
		s.cursor = max(s.cursor-1, 0)
	case key.Matches(km, k.Down):
		s.cursor = min(s.cursor+1, len(s.shown)-1)
	case (key.Matches(km, k.Toggle) || km.String() == "enter") && len(s.shown) > 0:
		id := s.list[s.shown[s.cursor]].SourcedID
		s.set(id, !s.selected(id))
	case key.Matches(km, allKey), key.Matches(km, noneKey):
		for _, i := range s.shown {
			if !s.list[i].ToBeDeleted || key.Matches(km, noneKey) {
				s.set(s.list[i].SourcedID, key.Matches(km, allKey))
			}
		}
	case key.Matches(km, k.Filter):
		return s, s.filter.open()
	case key.Matches(km, retryKey) && s.err != nil:
		return s, s.ask()
	case key.Matches(km, detailKey) && s.err != nil:
		s.detail = !s.detail
	case key.Matches(km, k.Continue):
		return s, s.c.Open(ReviewScreen)
	}
	return s, nil
}

func (s *Schools) View() string {
	st, w := s.c.Styles, s.c.Width
	head := truncate(st.Title.Render("School connection to SIS")+st.Muted.Render(fmt.Sprintf("  %d connected", len(s.edit.Draft.Schools))), w)
	if s.filter.active || s.filter.value() != "" {
		head += "\n" + truncate(s.filter.view(), w)
	}
	var b strings.Builder
	switch {
	case s.wait.active():
		b.WriteString(wrap(s.wait.view(), w) + "\n")
	case s.err != nil:
		b.WriteString(st.Error.Render(wrap("✗ Could not list the schools: "+untrusted.Text(s.summary), w)) + "\n")
		if s.detail {
			b.WriteString(st.Muted.Render(wrap("Detail: "+untrusted.Text(s.err.Error()), w)) + "\n")
		}
	}
	focus, focusEnd := -1, -1
	for i, idx := range s.shown {
		sc := s.list[idx]
		text := checkbox(s.selected(sc.SourcedID)) + " " + untrusted.Text(sc.Name)
		if sc.ToBeDeleted {
			text = st.Warning.Render(text)
		}
		if i != s.cursor {
			if sc.Identifier != "" {
				text += "  " + st.Muted.Render(untrusted.Text(sc.Identifier))
			}
			b.WriteString(line(st, false, truncate(text, w-2)) + "\n")
			continue
		}
		focus = strings.Count(b.String(), "\n")
		row := st.Focused.Render(cursorMark+" ") + indent(wrap(text, w-2), "  ")[2:]
		detail := "ClassLink id " + untrusted.Text(sc.SourcedID)
		if sc.Identifier != "" {
			detail = "school number " + untrusted.Text(sc.Identifier) + " · " + detail
		}
		row += "\n" + st.Muted.Render(indent(wrap(detail, w-6), "      "))
		focusEnd = focus + lineCount(row) - 1
		b.WriteString(row + "\n")
	}
	if len(s.shown) == 0 && !s.wait.active() && s.err == nil {
		if s.filter.value() != "" {
			b.WriteString(st.Muted.Render(wrap(fmt.Sprintf("No school matches %q.", s.filter.value()), w)) + "\n")
		} else if s.loaded {
			b.WriteString(st.Muted.Render(wrap("ClassLink lists no schools for this district.", w)) + "\n")
		}
	}
	b.WriteString("\n" + st.Note.Render(wrap("Only connected schools are synced. A connected school that ClassLink no longer lists stops the sync until it is disconnected here.", w)))
	return page{Head: head, Body: b.String(), Focus: focus, FocusEnd: focusEnd, Scroll: &s.scroll}.render(st, w, s.c.Height)
}
