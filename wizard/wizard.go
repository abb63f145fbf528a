package wizard

import (
	"context"
	"fmt"
	"strings"
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

// spinEvery is how often the spinner turns while something is awaited.
const spinEvery = 250 * time.Millisecond

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
	// SpinEvery is how often the spinner turns while something is awaited;
	// zero means every 250 ms, below zero never (tests that run commands
	// one by one).
	SpinEvery time.Duration
}

// The quit dialog's two questions.
const (
	askNothing = iota
	askQuit
	askDiscard
)

// Model is the router: a stack of screens along the click path. It never
// touches the database in Update or View: reads and writes run as
// commands and come back as messages (see held for the keys that arrive
// meanwhile).
type Model struct {
	opts   Options
	common *screens.Common
	stack  []screens.Screen
	edit   *screens.Edit

	width, height int
	showHelp      bool
	helpScroll    int
	helpScrolls   bool // the help did not fit: ↑/↓ scroll it
	ask           int  // the quit dialog's question, if showing
	flash         screens.FlashMsg

	// ended closes when the session quits: sync goroutines stop reporting.
	ended chan struct{}
	// previews cancel the dry runs still going when the session quits.
	previews map[*screens.SyncState]func()
	// out is the session's one connection test or SFTP read at a time.
	out *outbound

	// drafts writes this session's drafts, newest last (see keepDraft).
	drafts *draftWriter
	// draftSaved is the draft last handed to the writer, to skip writes
	// that change nothing.
	draftSaved []byte
	draftTimer bool
	quitting   bool
	// keptDraft says the session ended with unsaved changes kept.
	keptDraft bool

	// busy counts database work that navigation waits for (a save, opening
	// a district); keys that arrive meanwhile are held, then replayed in
	// order, so type-ahead lands where the person meant.
	busy     int
	held     []tea.Msg
	spinning bool

	// overflowed counts frames a screen drew too big for its area (tests
	// assert it stays zero: every screen lays itself out to fit).
	overflowed int
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
	if opts.SpinEvery == 0 {
		opts.SpinEvery = spinEvery
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
			DemoSchools:  opts.Dialer.DemoSchools,
			ExplainRun:   rsync.ExplainRun,
		},
		width:    80,
		height:   24,
		ended:    make(chan struct{}),
		previews: map[*screens.SyncState]func(){},
		out:      &outbound{now: opts.Now},
		drafts:   &draftWriter{db: opts.DB},
	}
	// Before the loop starts: the one read that decides the first screen.
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
func (m *Model) Init() tea.Cmd {
	return tea.Batch(tea.RequestBackgroundColor, m.top().Init(), m.afterScreen())
}

func (m *Model) top() screens.Screen { return m.stack[len(m.stack)-1] }

// Edit is the district being edited, or nil on the Dropdown.
func (m *Model) Edit() *screens.Edit { return m.edit }

// Screen is the screen on top.
func (m *Model) Screen() screens.ID { return m.top().ID() }

// KeptDraft reports whether the session ended with unsaved changes kept
// as a draft, so the terminal can say so after the wizard closes.
func (m *Model) KeptDraft() bool { return m.keptDraft }

// tooSmall reports a terminal below the minimum: only ctrl+c and resizing
// act then, since the person cannot see what a key would do.
func (m *Model) tooSmall() bool { return m.width < MinWidth || m.height < MinHeight }

// Update handles msg, then whatever the screens posted meanwhile (a
// screen's Init may post database work too), so that nothing waits in the
// outbox for the next message.
func (m *Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	_, cmd := m.update(msg)
	cmd = tea.Batch(cmd, m.afterScreen())
	m.out.left(m.top()) // a test or read whose screen was left is cancelled
	return m, cmd
}

func (m *Model) update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
		m.layout()
		return m, nil
	case tea.BackgroundColorMsg:
		*m.common.Styles = *screens.NewStyles(msg.IsDark())
		return m, nil
	case tea.KeyPressMsg:
		if m.busy > 0 && !key.Matches(msg, m.common.Keys.Quit) {
			m.held = append(m.held, msg)
			return m, nil
		}
		return m, m.key(msg)
	case tea.PasteMsg:
		if m.busy > 0 {
			m.held = append(m.held, msg)
			return m, nil
		}
		if m.tooSmall() || m.ask != askNothing {
			return m, nil
		}
		return m, tea.Batch(m.updateScreen(msg), m.scheduleDraft())
	case workDone:
		return m, m.workDone(msg)
	case screens.DoMsg:
		return m, m.work(msg.Work)
	case screens.WaitMsg:
		if m.spinning || m.opts.SpinEvery < 0 {
			return m, nil
		}
		m.spinning = true
		return m, m.spinTick()
	case spinMsg:
		m.common.SpinFrame++
		if !m.common.Waiting() && (m.edit == nil || m.edit.Sync == nil || m.edit.Sync.Done) {
			m.spinning = false
			return m, nil
		}
		return m, m.spinTick()
	case screens.FlashMsg:
		m.flash = msg
		return m, nil
	case screens.OpenMsg:
		return m, m.open(msg.ID)
	case screens.BackMsg:
		return m, m.back()
	case screens.DistrictChosenMsg:
		return m, m.choose(msg.District)
	case opened:
		return m, m.opened(msg)
	case screens.SavedMsg:
		return m, m.saved(msg)
	case screens.ResumeMsg:
		return m, m.resume(msg)
	case screens.ChecklistMsg:
		m.checklistChanged(msg)
		return m, nil
	case screens.RunsMsg:
		if e := m.edit; e != nil && e.Saved.TenantID == msg.TenantID {
			e.TookRuns(msg)
		}
		return m, nil
	case draftWritten:
		if msg.err != nil {
			m.draftSaved = nil // try again at the next change
			m.flash = screens.FlashMsg{Text: "Could not keep a draft: " + msg.err.Error(), Error: true}
		}
		return m, nil
	case syncProgress:
		return m, m.syncProgressed(msg)
	case syncDone:
		m.syncFinished(msg)
		return m, nil
	case screens.ConnectionTestedMsg:
		return m, tea.Batch(m.tested(msg.Report), m.broadcast(msg))
	case screens.SchoolsMsg:
		return m, m.broadcast(msg)
	case screens.DistrictRemovedMsg:
		return m, m.removed(msg)
	case screens.ReloadedMsg:
		cmd := m.saved(screens.SavedMsg{District: msg.District})
		m.flash = screens.FlashMsg{Text: fmt.Sprintf("Reloaded revision %d; your changes were dropped.", msg.District.Revision)}
		return m, tea.Batch(cmd, m.deleteDraft(msg.District.TenantID))
	case EndMsg:
		return m, m.quit()
	case AccessChangedMsg:
		return m, m.accessChanged(msg)
	case draftTickMsg:
		m.draftTimer = false
		return m, m.keepDraft()
	}
	return m, m.updateScreen(msg)
}

// updateScreen gives msg to the screen on top, then handles what it posted
// (navigation, flashes) before anything else can arrive.
func (m *Model) updateScreen(msg tea.Msg) tea.Cmd {
	s, cmd := m.top().Update(msg)
	m.stack[len(m.stack)-1] = s
	return tea.Batch(cmd, m.afterScreen())
}

// broadcast gives a result every screen in the stack may be waiting for
// (a connection test started on Home, now under the ⋮ menu).
func (m *Model) broadcast(msg tea.Msg) tea.Cmd {
	var cmds []tea.Cmd
	for i, s := range m.stack {
		next, cmd := s.Update(msg)
		m.stack[i] = next
		cmds = append(cmds, cmd)
	}
	return tea.Batch(append(cmds, m.afterScreen())...)
}

// afterScreen handles what screens posted to the outbox, in order, until
// it is empty.
func (m *Model) afterScreen() tea.Cmd {
	var cmds []tea.Cmd
	for posted := m.common.TakeOutbox(); len(posted) > 0; posted = m.common.TakeOutbox() {
		for _, msg := range posted {
			_, c := m.update(msg)
			cmds = append(cmds, c)
		}
	}
	return tea.Batch(cmds...)
}

// workDone carries the message of database work the keys waited for.
type workDone struct{ msg tea.Msg }

// work runs fn as a command; keys that arrive before its message are
// held (see busy).
func (m *Model) work(fn func() tea.Msg) tea.Cmd {
	m.busy++
	return func() tea.Msg { return workDone{msg: fn()} }
}

func (m *Model) workDone(msg workDone) tea.Cmd {
	m.busy--
	_, cmd := m.Update(msg.msg)
	cmds := []tea.Cmd{cmd}
	for m.busy == 0 && len(m.held) > 0 {
		next := m.held[0]
		m.held = m.held[1:]
		_, c := m.Update(next)
		cmds = append(cmds, c)
	}
	return tea.Batch(cmds...)
}

type spinMsg struct{}

func (m *Model) spinTick() tea.Cmd {
	return tea.Tick(m.opts.SpinEvery, func(time.Time) tea.Msg { return spinMsg{} })
}

func (m *Model) key(msg tea.KeyPressMsg) tea.Cmd {
	keys := m.common.Keys
	if m.tooSmall() {
		if key.Matches(msg, keys.Quit) {
			return m.quit() // the changes are kept as a draft; nothing is lost
		}
		return nil
	}
	if m.ask != askNothing {
		return m.answerQuit(msg)
	}
	m.flash = screens.FlashMsg{}
	typing := false
	if t, ok := m.top().(screens.Typing); ok {
		typing = t.Typing()
	}
	if key.Matches(msg, keys.Quit) || !typing && key.Matches(msg, keys.QuitKey) {
		if m.edit != nil && m.edit.Dirty() {
			m.ask = askQuit
			m.layout()
			return nil
		}
		return m.quit()
	}
	if m.showHelp {
		// Only the help's own keys act while it covers the screen.
		switch {
		case key.Matches(msg, keys.Help), key.Matches(msg, keys.Back):
			m.showHelp = false
		case key.Matches(msg, keys.Up):
			m.helpScroll = max(m.helpScroll-1, 0)
		case key.Matches(msg, keys.Down):
			m.helpScroll++
		}
		m.layout()
		return nil
	}
	if !typing && key.Matches(msg, keys.Help) {
		m.showHelp, m.helpScroll = true, 0
		m.layout()
		return nil
	}
	return tea.Batch(m.updateScreen(msg), m.scheduleDraft())
}

// answerQuit handles a key while the quit dialog shows: y quits keeping
// the draft, d asks again before discarding, n or esc stays; ctrl+c a
// second time quits keeping the draft (nothing is lost).
func (m *Model) answerQuit(msg tea.KeyPressMsg) tea.Cmd {
	keys := m.common.Keys
	switch {
	case key.Matches(msg, keys.Quit):
		return m.quit()
	case m.ask == askDiscard && (key.Matches(msg, keys.Deny) || key.Matches(msg, keys.Back)):
		m.ask = askQuit // back to the first question
	case key.Matches(msg, keys.Deny), key.Matches(msg, keys.Back):
		m.ask = askNothing
	case m.ask == askQuit && key.Matches(msg, keys.Confirm):
		return m.quit()
	case m.ask == askQuit && msg.String() == "d":
		m.ask = askDiscard
	case m.ask == askDiscard && key.Matches(msg, keys.Confirm):
		m.drafts.write(m.drafts.next(), store.Draft{User: m.opts.Actor.Owner(), TenantID: m.edit.Saved.TenantID}, false)
		m.edit = nil
		return m.quit()
	}
	m.layout()
	return nil
}

// quit keeps the draft, releases this session's syncs and ends the program.
func (m *Model) quit() tea.Cmd {
	m.KeepDraft()
	m.keptDraft = m.edit != nil && m.edit.Dirty()
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
	m.out.end()
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
	return tea.Batch(m.keepDraft(), s.Init())
}

func (m *Model) back() tea.Cmd {
	if len(m.stack) <= 1 {
		return nil
	}
	keep := m.keepDraft()
	m.stack = m.stack[:len(m.stack)-1]
	if m.top().ID() == screens.DropdownScreen && m.edit != nil {
		// Leaving the district: its unsaved changes stay as a draft.
		if m.edit.Dirty() {
			m.flash = screens.FlashMsg{Text: fmt.Sprintf("Unsaved changes to %s are kept as a draft.", m.edit.Saved.Name)}
		}
		return tea.Batch(keep, m.toDropdown()) // the districts, again
	}
	if r, ok := m.top().(screens.Refresher); ok {
		return tea.Batch(keep, r.Refresh())
	}
	return keep
}

// opened is a district read for editing, with the person's draft and the
// district's newest runs.
type opened struct {
	district store.District
	draft    *store.Draft
	runs     screens.RunsMsg
	since    []store.AuditEntry // saves after the draft's base
	screen   screens.ID         // where to land
	resumed  bool               // from the Resume question
	err      error
}

// load reads district tenantID for editing: a command, as all database
// work is; the keys typed meanwhile wait for it.
func (m *Model) load(tenantID int64, screen screens.ID, resumed bool) tea.Cmd {
	db, owner := m.opts.DB, m.opts.Actor.Owner()
	return m.work(func() tea.Msg {
		o := opened{screen: screen, resumed: resumed}
		o.district, o.err = db.District(tenantID)
		if o.err != nil {
			return o
		}
		if d, ok, err := db.Draft(owner, tenantID); err == nil && ok {
			o.draft = &d
			if d.Base.Revision != o.district.Revision {
				all, _ := db.Audit(tenantID)
				for _, e := range all {
					if e.Revision > d.Base.Revision {
						o.since = append(o.since, e)
					}
				}
			}
		}
		o.runs, _ = screens.LatestRuns(db, tenantID)
		return o
	})
}

// choose starts editing a district, picking up the person's draft for it.
func (m *Model) choose(d store.District) tea.Cmd {
	if !m.common.Allowed(d.TenantID) {
		m.flash = screens.FlashMsg{Text: fmt.Sprintf("You do not have access to district %d.", d.TenantID), Error: true}
		return nil
	}
	return m.load(d.TenantID, screens.HomeScreen, false)
}

func (m *Model) opened(o opened) tea.Cmd {
	if o.err != nil {
		m.stack = m.stack[:1]
		m.flash = screens.FlashMsg{Text: "Cannot open the district: " + o.err.Error(), Error: true}
		return nil
	}
	m.edit = screens.NewEdit(o.district)
	m.edit.TookRuns(o.runs)
	m.draftSaved = nil
	if o.draft != nil {
		m.draftSaved = []byte("restored") // undoing every change deletes it
	}
	dropdown := m.stack[0]
	if o.resumed {
		dropdown = screens.NewDropdown(m.common)
	}
	var conflict *store.ConflictError
	if d := o.draft; d != nil {
		m.edit.Draft, m.edit.Notes = d.District, d.Notes
		m.edit.Saved = d.Base
		if d.Base.Revision != o.district.Revision {
			conflict = m.rebaseDraft(o.district, *d, o.since)
		} else {
			m.edit.Saved, m.edit.Draft.Checklist = o.district, o.district.Checklist
		}
		if !o.resumed && conflict == nil {
			m.flash = screens.FlashMsg{Text: "Your unsaved changes to this district were restored."}
		}
	}
	m.stack = []screens.Screen{dropdown}
	for _, step := range screens.Path(o.screen)[1:] {
		m.stack = append(m.stack, m.newScreen(step))
	}
	if conflict != nil {
		// Someone saved a field this person changed too: the same review
		// as a conflicting save.
		review := screens.NewReview(m.common, m.edit)
		review.Conflict(conflict)
		m.stack = append(m.stack, review)
	}
	var cmds []tea.Cmd
	if o.resumed {
		cmds = append(cmds, dropdown.Init())
	}
	return tea.Batch(append(cmds, m.top().Init())...)
}

// rebaseDraft puts a draft started on an older revision on top of current.
// When the other saves changed none of the person's fields it says so and
// goes on; when they did, it returns the conflict to review.
func (m *Model) rebaseDraft(current store.District, d store.Draft, since []store.AuditEntry) *store.ConflictError {
	theirs := map[string]bool{}
	for _, c := range store.Diff(d.Base, current) {
		theirs[c.Field] = true
	}
	for _, c := range store.Diff(d.Base, d.District) {
		if theirs[c.Field] {
			// The review shows who saved what; the edit stays on the draft's
			// base until the person chooses.
			return &store.ConflictError{Current: current, Since: since}
		}
	}
	m.edit.Draft = store.Rebase(d.Base, d.District, current)
	m.edit.Saved = current
	m.flash = screens.FlashMsg{Text: fmt.Sprintf("%s saved revision %d since; your changes were re-applied on top.", current.SavedBy.User, current.Revision)}
	return nil
}

func (m *Model) resume(msg screens.ResumeMsg) tea.Cmd {
	if !msg.Resume {
		return tea.Batch(m.deleteDraft(msg.Draft.TenantID), m.toDropdown())
	}
	if !m.common.Allowed(msg.Draft.TenantID) { // access narrowed while Resume was shown
		m.flash = screens.FlashMsg{Text: fmt.Sprintf("You do not have access to district %d.", msg.Draft.TenantID), Error: true}
		return m.toDropdown()
	}
	id, _ := screens.ParseID(msg.Draft.Screen)
	return m.load(msg.Draft.TenantID, id, true)
}

func (m *Model) saved(msg screens.SavedMsg) tea.Cmd {
	m.draftSaved = nil // the save deleted the draft in its transaction
	var running *screens.SyncState
	var last, preview, upload *store.Run
	if m.edit != nil && m.edit.Saved.TenantID == msg.District.TenantID {
		running, last, preview, upload = m.edit.Sync, m.edit.LastRun, m.edit.LastPreview, m.edit.LastUpload
	}
	m.edit = screens.NewEdit(msg.District)
	m.edit.Sync, m.edit.LastRun, m.edit.LastPreview, m.edit.LastUpload = running, last, preview, upload
	m.stack = []screens.Screen{m.stack[0], m.newScreen(screens.HomeScreen)}
	if msg.Entry.Revision > 0 {
		m.flash = screens.FlashMsg{Text: fmt.Sprintf("Saved revision %d (%s).", msg.Entry.Revision, ChangesText(len(msg.Entry.Changes)))}
	}
	return nil
}

// checklistChanged takes a district whose checklist changed in the
// database into the edit.
func (m *Model) checklistChanged(msg screens.ChecklistMsg) {
	if msg.Err != nil {
		m.flash = screens.FlashMsg{Text: screens.ErrText(msg.Err), Error: true}
		return
	}
	if e := m.edit; e != nil && e.Saved.TenantID == msg.District.TenantID {
		e.Saved.Checklist, e.Draft.Checklist = msg.District.Checklist, msg.District.Checklist
	}
	if msg.Text != "" {
		m.flash = screens.FlashMsg{Text: msg.Text}
	}
}

// ChangesText is "1 change" or "N changes".
func ChangesText(n int) string {
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

// layout gives the screen the room the header and footer leave.
func (m *Model) layout() {
	m.common.Width = m.width - 2
	m.common.Height = max(m.height-headerHeight-lipgloss.Height(m.footer()), 1)
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
	if m.tooSmall() {
		return st.Warning.Render(fmt.Sprintf("Terminal too small: %d×%d.", m.width, m.height)) + "\n" +
			wrapTo(fmt.Sprintf("rostersync needs at least %d×%d. Make the window larger; nothing is lost. Only ctrl+c (quit, keeping your changes as a draft) works until then.", MinWidth, MinHeight), m.width)
	}
	m.layout()
	var body string
	switch {
	case m.ask != askNothing:
		body = m.quitDialog()
	case m.showHelp:
		body = screens.Scrolled(st, m.helpPage(), &m.helpScroll, &m.helpScrolls, m.common.Width, m.common.Height)
	default:
		body = m.top().View()
	}
	body = m.fitBody(body)
	return st.App.Render(m.header() + "\n" + body + "\n" + m.footer())
}

// fitBody holds a screen to its area. Screens lay themselves out to fit;
// if one does not, what is cut is still marked, never silently dropped
// (Overflowed counts it for the tests).
func (m *Model) fitBody(body string) string {
	w, h := m.common.Width, m.common.Height
	lines := strings.Split(strings.TrimRight(body, "\n"), "\n")
	if len(lines) > h {
		m.overflowed++
		lines = append(lines[:h-1], m.common.Styles.Muted.Render(fmt.Sprintf("  ↓ %d more", len(lines)-h+1)))
	}
	for i, l := range lines {
		if lipgloss.Width(l) > w {
			m.overflowed++
			lines[i] = screens.Truncate(l, w)
		}
	}
	return lipgloss.NewStyle().Height(h).Render(strings.Join(lines, "\n"))
}

func (m *Model) quitDialog() string {
	st := m.common.Styles
	w := m.common.Width
	if m.ask == askDiscard {
		return screens.Dialog(st, w, fmt.Sprintf("Discard %s to %s?", ChangesText(len(m.edit.Changes())), m.edit.Saved.Name),
			"They cannot be brought back.",
			screens.Choice{Key: "n/esc", Text: "keep them (back)"}, screens.Choice{Key: "y", Text: "discard them and quit"})
	}
	return screens.Dialog(st, w, "Quit with unsaved changes?",
		fmt.Sprintf("You have %s to %s not saved yet. Quitting keeps them as a draft: the next time you start rostersync you can resume where you left off.",
			ChangesText(len(m.edit.Changes())), m.edit.Saved.Name),
		screens.Choice{Key: "n/esc", Text: "stay"},
		screens.Choice{Key: "y", Text: "quit and keep the draft"},
		screens.Choice{Key: "d", Text: "discard the changes and quit (asks again)"})
}

func wrapTo(s string, w int) string { return lipgloss.Wrap(s, max(w, 20), " ") }

// specialist reports whether the person has a specialist's rights: set an
// application_id ClassLink's list cannot check, correct or remove a
// district.
func specialist(o Options) bool { return o.Role != store.RoleDistrict }

// removed leaves a district that was just removed for the Dropdown.
func (m *Model) removed(msg screens.DistrictRemovedMsg) tea.Cmd {
	m.flash = screens.FlashMsg{Text: fmt.Sprintf("Removed %s (Tenant %d); its history is kept.", untrusted.Text(msg.Name), msg.TenantID)}
	return m.toDropdown()
}

// toDropdown leaves whatever is open for a fresh Dropdown, which reads the
// districts again; no district is being edited after it.
func (m *Model) toDropdown() tea.Cmd {
	m.edit, m.draftSaved = nil, nil
	m.stack = []screens.Screen{screens.NewDropdown(m.common)}
	return m.stack[0].Init()
}
