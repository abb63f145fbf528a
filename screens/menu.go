package screens

import (
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
)

// MenuItem is one entry of a list of places to go: the ⋮ menu, the
// Settings page, the SIS Rostering page.
type MenuItem struct {
	Title, Description string
	Open               ID
	// Unavailable, when set, says why the entry cannot be opened; it is
	// shown instead of opening anything. UnavailableIf says it when it
	// depends on the draft (it returns "" while the entry opens).
	Unavailable   string
	UnavailableIf func() string
	// Summary, when set, adds a live line under the description (e.g. the
	// current Daily Sync settings).
	Summary func() string
}

func (it MenuItem) unavailable() string {
	if it.Unavailable == "" && it.UnavailableIf != nil {
		return it.UnavailableIf()
	}
	return it.Unavailable
}

// menuList is the shared body of those screens.
type menuList struct {
	c      *Common
	title  string
	items  []MenuItem
	cursor int
	scroll int
}

func (m *menuList) ShortHelp() []key.Binding {
	k := m.c.Keys
	return []key.Binding{k.Select, k.Up, k.Down, k.Back}
}

func (m *menuList) FullHelp() [][]key.Binding {
	k := m.c.Keys
	return [][]key.Binding{{k.Up, k.Down, k.Select}, {k.Back}}
}

func (m *menuList) update(msg tea.Msg) tea.Cmd {
	km, ok := msg.(tea.KeyPressMsg)
	if !ok {
		return nil
	}
	k := m.c.Keys
	switch {
	case key.Matches(km, k.Up):
		m.cursor = max(m.cursor-1, 0)
	case key.Matches(km, k.Down):
		m.cursor = min(m.cursor+1, len(m.items)-1)
	case key.Matches(km, k.Select):
		it := m.items[m.cursor]
		if why := it.unavailable(); why != "" {
			return m.c.Flash(it.Title + ": " + why)
		}
		return m.c.Open(it.Open)
	case key.Matches(km, k.Back):
		return m.c.Back()
	}
	return nil
}

func (m *menuList) view() string {
	st, w := m.c.Styles, m.c.Width
	var b strings.Builder
	for i, it := range m.items {
		title := it.Title
		if it.unavailable() != "" {
			title = st.Muted.Render(title + " (not here)")
		}
		b.WriteString(line(st, i == m.cursor, truncate(title, w-2)) + "\n")
	}
	// What the focused entry is, under the list, in a box of fixed width
	// (it must not jump as the description changes): one line per entry
	// keeps every entry in view.
	it := m.items[m.cursor]
	inner := max(w-4, 10)
	about := st.Muted.Render(wrap(it.Description, inner))
	if it.Summary != nil {
		about += "\n" + wrap(it.Summary(), inner)
	}
	if why := it.unavailable(); why != "" {
		about += "\n" + st.Note.Render(wrap(why, inner))
	}
	b.WriteString(st.Box.Width(w).Render(about))
	return page{Head: st.Title.Render(m.title), Body: b.String(), Focus: m.cursor, Scroll: &m.scroll}.render(st, w, m.c.Height)
}

func indent(s, prefix string) string {
	return prefix + strings.ReplaceAll(s, "\n", "\n"+prefix)
}

// Menu is step 3, the District Home Page's ⋮ menu.
type Menu struct{ menuList }

// NewMenu lists the actions the wizard offers for the district.
func NewMenu(c *Common) *Menu {
	return &Menu{menuList{c: c, title: "⋮ District Home Page", items: []MenuItem{
		{Title: "Settings", Description: "SIS Rostering: District-Level Daily Sync and permissions", Open: SettingsScreen},
		{Title: "ClassLink connection", Description: "How the sync reaches the roster: Roster Server (OAuth 1.0a) or ClassLink proxy", Open: ConnectionScreen},
		{Title: "Preview sync", Description: "A dry run: what the sync would change, per record type, with examples (the self-check)", Open: PreviewScreen},
		{Title: "Run sync now", Description: "Apply the previewed plan to the Connect directory (enable and launch)", Open: RunNowScreen},
		{Title: "Sync history", Description: "Runs and saved revisions, with failure reasons", Open: HistoryScreen},
		{Title: "Directory", Description: "Browse the users and classrooms the sync produced", Open: DirectoryScreen},
		{Title: "Export", Description: "The district's configuration as JSON (secrets masked)", Open: ExportScreen},
		details(c),
	}}}
}

// details is the ⋮ menu's District details entry, for specialists.
func details(c *Common) MenuItem {
	it := MenuItem{Title: "District details", Description: "Correct the district's name or application_id, or remove a district added by mistake", Open: DetailsScreen}
	if !c.Specialist {
		it.Unavailable = "only an onboarding specialist can correct or remove a district"
	}
	return it
}

func (m *Menu) Init() tea.Cmd                        { return nil }
func (m *Menu) ID() ID                               { return MenuScreen }
func (m *Menu) Crumb() string                        { return "" }
func (m *Menu) Step() int                            { return 3 }
func (m *Menu) Update(msg tea.Msg) (Screen, tea.Cmd) { return m, m.update(msg) }
func (m *Menu) View() string                         { return m.view() }

// Settings is step 4, the district's Settings page.
type Settings struct{ menuList }

// NewSettings shows the Settings sections rostersync configures.
func NewSettings(c *Common) *Settings {
	return &Settings{menuList{c: c, title: "Settings", items: []MenuItem{
		{Title: "SIS Rostering", Description: "How the district's roster comes from ClassLink: the daily sync, school and classroom connections", Open: SISRosteringScreen},
	}}}
}

func (s *Settings) Init() tea.Cmd                        { return nil }
func (s *Settings) ID() ID                               { return SettingsScreen }
func (s *Settings) Crumb() string                        { return "Settings" }
func (s *Settings) Step() int                            { return 4 }
func (s *Settings) Update(msg tea.Msg) (Screen, tea.Cmd) { return s, s.update(msg) }
func (s *Settings) View() string                         { return s.view() }

// SISRostering is step 5, the SIS Rostering page.
type SISRostering struct{ menuList }

// NewSISRostering lists the SIS Rostering sections.
func NewSISRostering(c *Common, e *Edit) *SISRostering {
	return &SISRostering{menuList{c: c, title: "SIS Rostering", items: []MenuItem{
		{Title: "District-Level Daily Sync", Description: "The four sync settings, the deletion threshold and start time, and staff permissions", Open: DailySyncScreen,
			Summary: func() string { return dailySyncSummary(e.Draft.Settings) }},
		{Title: "School connection to SIS", Description: "Which ClassLink schools the sync covers", Open: SchoolsScreen,
			Summary: func() string { return plural(len(e.Draft.Schools), "school") + " connected" }},
		{Title: "Classroom connections", Description: "Per-classroom links to SIS classes",
			Unavailable: "set per classroom in Connect's web UI; the daily sync keeps them"},
		{Title: "Guardians source", Description: "Where guardians come from while the sync does not manage them: none, uploads, or an SFTP folder read by the daily sync", Open: GuardiansSourceScreen,
			UnavailableIf: func() string { return guardiansManaged(e) }, Summary: func() string { return guardiansSummary(e.Draft.Guardians) }},
		{Title: "Upload Guardians", Description: "Process a guardians.csv: a dry run first, then apply", Open: UploadGuardiansScreen,
			UnavailableIf: func() string { return guardiansManaged(e) }},
	}}}
}

func (s *SISRostering) Init() tea.Cmd                        { return nil }
func (s *SISRostering) ID() ID                               { return SISRosteringScreen }
func (s *SISRostering) Crumb() string                        { return "SIS Rostering" }
func (s *SISRostering) Step() int                            { return 5 }
func (s *SISRostering) Update(msg tea.Msg) (Screen, tea.Cmd) { return s, s.update(msg) }
func (s *SISRostering) View() string                         { return s.view() }
