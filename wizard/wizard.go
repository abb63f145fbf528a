package wizard

import (
	"context"
	"encoding/json"
	"fmt"
	gosync "sync"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"github.com/schoolstatus/rostersync/screens"
	"github.com/schoolstatus/rostersync/store"
	rsync "github.com/schoolstatus/rostersync/sync"
	"github.com/schoolstatus/rostersync/untrusted"
)

// Minimum terminal size below which the wizard shows a message instead of
// a broken layout.
const (
	MinWidth  = 50
	MinHeight = 16
)

// draftDelay is how long after the last change the draft is written, so a
// lost connection loses at most this much work without a write per key.
const draftDelay = 700 * time.Millisecond

// Options configure one wizard session.
type Options struct {
	DB    *store.DB
	Actor store.Actor
	// CanOpen limits the districts this person may see (nil: all).
	CanOpen func(tenantID int64) bool
	// Role is the SSH key's role (store.RoleSpecialist or
	// store.RoleDistrict); empty is the operator at the machine, who has a
	// specialist's rights.
	Role string
	// Now replaces the clock in tests.
	Now func() time.Time
	// Dialer is the process's way to ClassLink (proxy root, partner token,
	// the demo district). Nil reaches only stored OAuth 1.0a connections.
	Dialer *rsync.Dialer
	// Engine runs syncs; one per process so that a district never syncs
	// twice at once. Its Dial is the one way this session reaches
	// ClassLink. Nil makes one on Dialer.Dial.
	Engine *rsync.Engine
	// Runs is the context syncs started in this session run under (the
	// server's, so that a stop cancels them; nil: until the process ends),
	// and RunsGoing counts them so a stopping server can wait.
	Runs      context.Context
	RunsGoing *gosync.WaitGroup
	// DraftDelay is how long after a change the draft is written; zero
	// means draftDelay.
	DraftDelay time.Duration
	// LocalFiles lets the session read and write files on this machine
	// (Upload Guardians' path and sample file). Only RunLocal sets it: an
	// SSH session never reads the server's files.
	LocalFiles bool
}

// Model is the router: a stack of screens along the click path.
type Model struct {
	opts   Options
	common *screens.Common
	stack  []screens.Screen
	edit   *screens.Edit

	width, height int
	showHelp      bool
	confirmQuit   bool
	flash         screens.FlashMsg

	// ended closes when the session quits: sync goroutines stop reporting.
	ended chan struct{}
	// previews cancel the dry runs still going when the session quits.
	previews map[*screens.SyncState]func()

	// draftSaved is the draft last written, to skip writes that change nothing.
	draftSaved []byte
	draftTimer bool
	quitting   bool
}

// New builds a session's wizard.
func New(opts Options) *Model {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Dialer == nil {
		opts.Dialer = &rsync.Dialer{}
	}
	if opts.Engine == nil {
		opts.Engine = &rsync.Engine{DB: opts.DB, Dial: opts.Dialer.Dial}
	}
	if opts.Runs == nil {
		opts.Runs = context.Background()
	}
	if opts.RunsGoing == nil {
		opts.RunsGoing = &gosync.WaitGroup{}
	}
	if opts.DraftDelay <= 0 {
		opts.DraftDelay = draftDelay
	}
	st := screens.NewStyles(true)
	m := &Model{
		opts: opts,
		common: &screens.Common{
			Styles:  st,
			Keys:    screens.DefaultKeyMap(),
			DB:      opts.DB,
			Actor:   opts.Actor,
			Now:     opts.Now,
			CanOpen: opts.CanOpen,

			Specialist: specialist(opts),

			ProxyBaseURL: opts.Dialer.ProxyBaseURL,
		},
		width:    80,
		height:   24,
		ended:    make(chan struct{}),
		previews: map[*screens.SyncState]func(){},
	}
	if d, ok, err := opts.DB.LatestDraft(opts.Actor.Owner()); err == nil && ok && m.common.Allowed(d.TenantID) {
		m.stack = []screens.Screen{screens.NewResume(m.common, d)}
	} else {
		m.stack = []screens.Screen{screens.NewDropdown(m.common)}
	}
	m.common.StartSync = m.startSync
	m.common.TestConnection = m.testConnection
	m.common.ConnectionTestBudget = rsync.ConnectionTestBudget
	m.common.Schools = m.listSchools
	m.common.CheckConnection = m.checkConnection
	m.common.Guardians = m.guardiansActions()
	if opts.Dialer.PartnerToken() {
		m.common.ClassLinkDistricts = m.classLinkDistricts
	}
	m.layout()
	return m
}

// Init asks the terminal for its background so styles suit it.
func (m *Model) Init() tea.Cmd { return tea.Batch(tea.RequestBackgroundColor, m.top().Init()) }

func (m *Model) top() screens.Screen { return m.stack[len(m.stack)-1] }

// Edit is the district being edited, or nil on the Dropdown.
func (m *Model) Edit() *screens.Edit { return m.edit }

// Screen is the screen on top.
func (m *Model) Screen() screens.ID { return m.top().ID() }

func (m *Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
		m.layout()
		return m, nil
	case tea.BackgroundColorMsg:
		*m.common.Styles = *screens.NewStyles(msg.IsDark())
		return m, nil
	case tea.KeyPressMsg:
		return m, m.key(msg)
	case screens.FlashMsg:
		m.flash = msg
		return m, nil
	case screens.OpenMsg:
		return m, m.open(msg.ID)
	case screens.BackMsg:
		return m, m.back()
	case screens.DistrictChosenMsg:
		return m, m.choose(msg.District)
	case screens.SavedMsg:
		return m, m.saved(msg)
	case screens.ResumeMsg:
		return m, m.resume(msg)
	case syncProgress:
		return m, m.syncProgressed(msg)
	case syncDone:
		m.syncFinished(msg)
		return m, nil
	case screens.ConnectionTestedMsg:
		m.tested(msg.Report)
		return m, nil
	case screens.DistrictRemovedMsg:
		return m, m.removed(msg)
	case screens.ReloadedMsg:
		m.saved(screens.SavedMsg{District: msg.District})
		m.flash = screens.FlashMsg{Text: fmt.Sprintf("Reloaded revision %d; your changes were dropped.", msg.District.Revision)}
		return m, nil
	case EndMsg:
		return m, m.quit()
	case AccessChangedMsg:
		return m, m.accessChanged(msg)
	case draftTickMsg:
		m.draftTimer = false
		m.KeepDraft()
		return m, nil
	}
	return m, m.updateScreen(msg)
}

// updateScreen gives msg to the screen on top, then handles what it posted
// (navigation, flashes) before anything else can arrive.
func (m *Model) updateScreen(msg tea.Msg) tea.Cmd {
	s, cmd := m.top().Update(msg)
	m.stack[len(m.stack)-1] = s
	cmds := []tea.Cmd{cmd}
	for _, posted := range m.common.TakeOutbox() {
		_, c := m.Update(posted)
		cmds = append(cmds, c)
	}
	return tea.Batch(cmds...)
}

func (m *Model) key(msg tea.KeyPressMsg) tea.Cmd {
	keys := m.common.Keys
	if m.confirmQuit {
		switch msg.String() {
		case "y", "enter", "ctrl+c":
			return m.quit()
		case "d":
			if m.edit != nil {
				m.opts.DB.DeleteDraft(m.opts.Actor.Owner(), m.edit.Saved.TenantID)
				m.edit = nil
			}
			return m.quit()
		case "n", "esc":
			m.confirmQuit = false
			m.layout()
		}
		return nil
	}
	m.flash = screens.FlashMsg{}
	if key.Matches(msg, keys.Quit) {
		if m.edit != nil && m.edit.Dirty() {
			m.confirmQuit = true
			m.layout()
			return nil
		}
		return m.quit()
	}
	typing := false
	if t, ok := m.top().(screens.Typing); ok {
		typing = t.Typing()
	}
	if !typing && key.Matches(msg, keys.Help) {
		m.showHelp = !m.showHelp
		m.layout()
		return nil
	}
	return tea.Batch(m.updateScreen(msg), m.scheduleDraft())
}

// quit keeps the draft, releases this session's syncs and ends the program.
func (m *Model) quit() tea.Cmd {
	m.KeepDraft()
	m.End()
	return tea.Quit
}

// End releases what the session's syncs hold on it: previews are cancelled
// (nobody will look at them; an applied run goes on and is recorded) and
// every sync stops reporting to the session. Whoever runs the program calls
// it once the program is over, however it ended (a quit, a dropped link, a
// panic, a stop); calling it again does nothing.
func (m *Model) End() {
	if m.quitting {
		return
	}
	m.quitting = true
	for _, cancel := range m.previews {
		cancel()
	}
	close(m.ended)
}

// editScreens build the screens that work on the district being edited.
var editScreens = map[screens.ID]func(*screens.Common, *screens.Edit) screens.Screen{
	screens.HomeScreen:         func(c *screens.Common, e *screens.Edit) screens.Screen { return screens.NewHome(c, e) },
	screens.SettingsScreen:     func(c *screens.Common, _ *screens.Edit) screens.Screen { return screens.NewSettings(c) },
	screens.SISRosteringScreen: func(c *screens.Common, e *screens.Edit) screens.Screen { return screens.NewSISRostering(c, e) },
	screens.DailySyncScreen:    func(c *screens.Common, e *screens.Edit) screens.Screen { return screens.NewDailySync(c, e) },
	screens.PermissionsScreen:  func(c *screens.Common, e *screens.Edit) screens.Screen { return screens.NewPermissions(c, e) },
	screens.ReviewScreen:       func(c *screens.Common, e *screens.Edit) screens.Screen { return screens.NewReview(c, e) },
	screens.ExportScreen:       func(c *screens.Common, e *screens.Edit) screens.Screen { return screens.NewExport(c, e) },
	screens.DetailsScreen:      func(c *screens.Common, e *screens.Edit) screens.Screen { return screens.NewDetails(c, e) },
	screens.ConnectionScreen:   func(c *screens.Common, e *screens.Edit) screens.Screen { return screens.NewConnection(c, e) },
	screens.PreviewScreen:      func(c *screens.Common, e *screens.Edit) screens.Screen { return screens.NewPreview(c, e) },
	screens.RunNowScreen:       func(c *screens.Common, e *screens.Edit) screens.Screen { return screens.NewRunNow(c, e) },
	screens.HistoryScreen:      func(c *screens.Common, e *screens.Edit) screens.Screen { return screens.NewHistory(c, e) },
	screens.DirectoryScreen:    func(c *screens.Common, e *screens.Edit) screens.Screen { return screens.NewDirectory(c, e) },
	screens.SchoolsScreen:      func(c *screens.Common, e *screens.Edit) screens.Screen { return screens.NewSchools(c, e) },
	screens.GuardiansSourceScreen: func(c *screens.Common, e *screens.Edit) screens.Screen {
		return screens.NewGuardiansSource(c, e)
	},
	screens.UploadGuardiansScreen: func(c *screens.Common, e *screens.Edit) screens.Screen {
		return screens.NewUploadGuardians(c, e)
	},
}

// newScreen builds screen id for the current edit.
func (m *Model) newScreen(id screens.ID) screens.Screen {
	if id == screens.MenuScreen {
		return screens.NewMenu(m.common)
	}
	if build, ok := editScreens[id]; ok {
		return build(m.common, m.edit)
	}
	return screens.NewDropdown(m.common)
}

func (m *Model) open(id screens.ID) tea.Cmd {
	if m.edit == nil && id != screens.DropdownScreen {
		return nil
	}
	s := m.newScreen(id)
	m.stack = append(m.stack, s)
	m.KeepDraft()
	return s.Init()
}

func (m *Model) back() tea.Cmd {
	if len(m.stack) <= 1 {
		return nil
	}
	m.KeepDraft()
	m.stack = m.stack[:len(m.stack)-1]
	if m.top().ID() == screens.DropdownScreen && m.edit != nil {
		// Leaving the district: its unsaved changes stay as a draft.
		if m.edit.Dirty() {
			m.flash = screens.FlashMsg{Text: fmt.Sprintf("Unsaved changes to %s are kept as a draft.", m.edit.Saved.Name)}
		}
		m.edit = nil
		m.draftSaved = nil
		m.stack[0] = screens.NewDropdown(m.common)
		return m.stack[0].Init() // ClassLink's list, again
	}
	return nil
}

// choose starts editing a district, picking up the person's draft for it.
func (m *Model) choose(d store.District) tea.Cmd {
	if !m.common.Allowed(d.TenantID) {
		m.flash = screens.FlashMsg{Text: fmt.Sprintf("You do not have access to district %d.", d.TenantID), Error: true}
		return nil
	}
	m.edit = screens.NewEdit(d)
	if draft, ok := m.draftFor(d.TenantID); ok {
		m.edit = editFromDraft(d, draft)
		m.flash = screens.FlashMsg{Text: "Your unsaved changes to this district were restored."}
	}
	m.stack = []screens.Screen{m.stack[0], m.newScreen(screens.HomeScreen)}
	return nil
}

func (m *Model) draftFor(tenantID int64) (store.Draft, bool) {
	d, ok, err := m.opts.DB.Draft(m.opts.Actor.Owner(), tenantID)
	return d, ok && err == nil
}

// editFromDraft rebuilds an edit; when someone saved since the draft began,
// the person's changes are re-applied on top of the newer revision.
func editFromDraft(current store.District, d store.Draft) *screens.Edit {
	e := screens.NewEdit(current)
	if d.Base.Revision == current.Revision {
		e.Draft = d.District
		e.Draft.Checklist = current.Checklist
	} else {
		e.Draft = store.Rebase(d.Base, d.District, current)
	}
	e.Notes = d.Notes
	return e
}

func (m *Model) resume(msg screens.ResumeMsg) tea.Cmd {
	dropdown := screens.NewDropdown(m.common)
	if !msg.Resume {
		m.opts.DB.DeleteDraft(m.opts.Actor.Owner(), msg.Draft.TenantID)
		m.stack = []screens.Screen{dropdown}
		return dropdown.Init()
	}
	if !m.common.Allowed(msg.Draft.TenantID) { // access narrowed while Resume was shown
		m.stack = []screens.Screen{dropdown}
		m.flash = screens.FlashMsg{Text: fmt.Sprintf("You do not have access to district %d.", msg.Draft.TenantID), Error: true}
		return dropdown.Init()
	}
	current, err := m.opts.DB.District(msg.Draft.TenantID)
	if err != nil {
		m.stack = []screens.Screen{dropdown}
		m.flash = screens.FlashMsg{Text: "Cannot resume: " + err.Error(), Error: true}
		return nil
	}
	m.edit = editFromDraft(current, msg.Draft)
	id, _ := screens.ParseID(msg.Draft.Screen)
	m.stack = []screens.Screen{dropdown}
	for _, step := range screens.Path(id)[1:] {
		m.stack = append(m.stack, m.newScreen(step))
	}
	if current.Revision != msg.Draft.Base.Revision {
		m.flash = screens.FlashMsg{Text: fmt.Sprintf("%s saved revision %d since; your changes were re-applied on top.", current.SavedBy, current.Revision)}
	}
	return m.top().Init()
}

func (m *Model) saved(msg screens.SavedMsg) tea.Cmd {
	m.opts.DB.DeleteDraft(m.opts.Actor.Owner(), msg.District.TenantID)
	m.draftSaved = nil
	var running *screens.SyncState
	if m.edit != nil && m.edit.Saved.TenantID == msg.District.TenantID {
		running = m.edit.Sync
	}
	m.edit = screens.NewEdit(msg.District)
	m.edit.Sync = running
	m.stack = []screens.Screen{m.stack[0], m.newScreen(screens.HomeScreen)}
	if msg.Entry.Revision > 0 {
		m.flash = screens.FlashMsg{Text: fmt.Sprintf("Saved revision %d (%s).", msg.Entry.Revision, changesText(len(msg.Entry.Changes)))}
	}
	return nil
}

func changesText(n int) string {
	if n == 1 {
		return "1 change"
	}
	return fmt.Sprintf("%d changes", n)
}

type draftTickMsg struct{}

// EndMsg tells a session to keep its draft and quit: its server is stopping,
// nobody typed for too long, or its key was removed from the access list.
// The server says which once the terminal is restored.
type EndMsg struct{}

func (m *Model) scheduleDraft() tea.Cmd {
	if m.edit == nil || m.draftTimer {
		return nil
	}
	m.draftTimer = true
	return tea.Tick(m.opts.DraftDelay, func(time.Time) tea.Msg { return draftTickMsg{} })
}

// KeepDraft writes the person's unsaved changes (or removes a draft that no
// longer differs from the saved revision). Failing to keep a draft must not
// stop the wizard, so the error is shown, not returned.
func (m *Model) KeepDraft() {
	if m.edit == nil {
		return
	}
	e := m.edit
	d := store.Draft{User: m.opts.Actor.Owner(), TenantID: e.Saved.TenantID, Screen: m.top().ID().String(), Base: e.Saved, District: e.Draft, Notes: e.Notes}
	if !e.Dirty() {
		if m.draftSaved != nil {
			m.opts.DB.DeleteDraft(d.User, d.TenantID)
			m.draftSaved = nil
		}
		return
	}
	raw, _ := json.Marshal(d)
	if string(raw) == string(m.draftSaved) {
		return
	}
	if err := m.opts.DB.PutDraft(d); err != nil {
		m.flash = screens.FlashMsg{Text: "Could not keep a draft: " + err.Error(), Error: true}
		return
	}
	m.draftSaved = raw
}

// layout gives the screen the room the header and footer leave.
func (m *Model) layout() {
	m.common.Width = m.width - 2
	m.common.Height = m.height - headerHeight - lipgloss.Height(m.footer())
}

func (m *Model) View() tea.View {
	var v tea.View
	v.AltScreen = true
	v.WindowTitle = "rostersync"
	if m.quitting {
		return v
	}
	v.SetContent(m.Render())
	return v
}

// Render is the whole frame as text, used by View and by tests.
func (m *Model) Render() string {
	st := m.common.Styles
	if m.width < MinWidth || m.height < MinHeight {
		return st.Warning.Render(fmt.Sprintf("Terminal too small: %d×%d.", m.width, m.height)) + "\n" +
			wrapTo(fmt.Sprintf("rostersync needs at least %d×%d. Make the window larger; nothing is lost.", MinWidth, MinHeight), m.width)
	}
	m.layout()
	body := m.top().View()
	if m.confirmQuit {
		body = m.quitDialog()
	}
	body = lipgloss.NewStyle().Height(m.common.Height).MaxHeight(m.common.Height).MaxWidth(m.common.Width).Render(body)
	return st.App.Render(m.header() + "\n" + body + "\n" + m.footer())
}

func (m *Model) quitDialog() string {
	st := m.common.Styles
	text := st.Warning.Render("Quit with unsaved changes?") + "\n" +
		wrapTo(fmt.Sprintf("You have %s to %s not saved yet. They are kept as a draft: the next time you start rostersync you can resume where you left off.",
			changesText(len(m.edit.Changes())), m.edit.Saved.Name), m.common.Width-4) + "\n\n" +
		"y/enter: quit and keep the draft · d: quit and discard · n/esc: stay"
	return st.Dialog.Render(text)
}

func wrapTo(s string, w int) string { return lipgloss.Wrap(s, max(w, 20), " ") }

// specialist reports whether the person has a specialist's rights: set an
// application_id ClassLink's list cannot check, correct or remove a
// district.
func specialist(o Options) bool { return o.Role != store.RoleDistrict }

// removed leaves a district that was just removed for the Dropdown.
func (m *Model) removed(msg screens.DistrictRemovedMsg) tea.Cmd {
	m.edit, m.draftSaved = nil, nil
	m.stack = []screens.Screen{screens.NewDropdown(m.common)}
	m.flash = screens.FlashMsg{Text: fmt.Sprintf("Removed %s (Tenant %d); its history is kept.", untrusted.Text(msg.Name), msg.TenantID)}
	return m.stack[0].Init()
}
