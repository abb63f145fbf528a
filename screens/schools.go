package screens

import (
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
	Err      error
}

// Schools is "School connection to SIS": which ClassLink schools the sync
// covers (the config's "schools").
type Schools struct {
	c       *Common
	edit    *Edit
	loading bool
	err     error
	list    []SchoolChoice // ClassLink's, then selected ones ClassLink lacks
	shown   []int
	cursor  int
	filter  searchField
}

// NewSchools edits e.Draft.Schools.
func NewSchools(c *Common, e *Edit) *Schools {
	s := &Schools{c: c, edit: e, loading: c.Schools != nil}
	s.filter = newSearchField(c.Styles, "Filter: ", "press / to filter")
	return s
}

func (s *Schools) Init() tea.Cmd {
	if s.c.Schools == nil {
		return nil
	}
	return s.c.Schools(s.edit.Draft)
}

func (s *Schools) ID() ID        { return SchoolsScreen }
func (s *Schools) Crumb() string { return "School connection to SIS" }
func (s *Schools) Step() int     { return 6 }
func (s *Schools) Typing() bool  { return s.filter.active }

var (
	allKey  = key.NewBinding(key.WithKeys("a"), key.WithHelp("a", "select all shown"))
	noneKey = key.NewBinding(key.WithKeys("n"), key.WithHelp("n", "clear all shown"))
)

func (s *Schools) ShortHelp() []key.Binding {
	k := s.c.Keys
	if s.filter.active {
		return s.filter.help(k)
	}
	return []key.Binding{with(k.Toggle, "toggle"), allKey, searchKey, with(k.Continue, "review"), k.Back}
}

func (s *Schools) FullHelp() [][]key.Binding {
	k := s.c.Keys
	return [][]key.Binding{{k.Up, k.Down, with(k.Toggle, "connect / disconnect a school")}, {allKey, noneKey, searchKey}, {with(k.Continue, "review and save"), with(k.Back, "back (changes are kept)")}}
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
		if m.TenantID == s.edit.Saved.TenantID {
			s.loading, s.err, s.list = false, m.Err, m.Schools
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
		return s, nil
	}
	km, ok := msg.(tea.KeyPressMsg)
	if !ok {
		return s, nil
	}
	k := s.c.Keys
	if s.filter.active {
		cmd, changed := s.filter.update(km, k.Back)
		if changed {
			s.applyFilter()
		}
		return s, cmd
	}
	switch {
	case key.Matches(km, k.Back):
		return s, s.c.Back()
	case key.Matches(km, k.Up):
		s.cursor = max(s.cursor-1, 0)
	case key.Matches(km, k.Down):
		s.cursor = min(s.cursor+1, len(s.shown)-1)
	case key.Matches(km, k.Toggle) && len(s.shown) > 0:
		id := s.list[s.shown[s.cursor]].SourcedID
		s.set(id, !s.selected(id))
	case key.Matches(km, allKey), key.Matches(km, noneKey):
		for _, i := range s.shown {
			if !s.list[i].ToBeDeleted || key.Matches(km, noneKey) {
				s.set(s.list[i].SourcedID, key.Matches(km, allKey))
			}
		}
	case key.Matches(km, searchKey):
		return s, s.filter.open()
	case key.Matches(km, k.Continue), km.String() == "enter":
		return s, s.c.Open(ReviewScreen)
	}
	return s, nil
}

func (s *Schools) View() string {
	st := s.c.Styles
	var b strings.Builder
	b.WriteString(st.Title.Render("School connection to SIS") + st.Muted.Render(fmt.Sprintf("  %d of %d connected", len(s.edit.Draft.Schools), len(s.list))) + "\n")
	b.WriteString(s.filter.view() + "\n")
	switch {
	case s.loading:
		b.WriteString(st.Muted.Render("Asking ClassLink for the district's schools…") + "\n")
	case s.err != nil:
		b.WriteString(st.Error.Render(wrap("✗ Could not list the schools: "+ErrText(s.err)+" (check ⋮ → ClassLink connection).", s.c.Width)) + "\n")
	}
	room := max(s.c.Height-5, 3)
	start := max(0, min(s.cursor-room/2, len(s.shown)-room))
	for i := start; i < len(s.shown) && i < start+room; i++ {
		sc := s.list[s.shown[i]]
		text := checkbox(s.selected(sc.SourcedID)) + " " + untrusted.Text(sc.Name)
		detail := untrusted.Text(sc.SourcedID)
		if sc.Identifier != "" {
			detail = untrusted.Text(sc.Identifier) + " · " + detail
		}
		if sc.ToBeDeleted {
			text = st.Warning.Render(text)
		}
		b.WriteString(line(st, i == s.cursor, truncate(text+"  "+st.Muted.Render(detail), s.c.Width-2)) + "\n")
	}
	b.WriteString("\n" + st.Note.Render(wrap("Only connected schools are synced. A connected school missing from ClassLink fails the sync with reason schools_not_found.", s.c.Width)))
	return fit(b.String(), s.c.Height)
}
