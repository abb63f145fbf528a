package screens

import (
	"fmt"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/progress"
	tea "charm.land/bubbletea/v2"

	"github.com/schoolstatus/rostersync/store"
	"github.com/schoolstatus/rostersync/untrusted"
)

// SyncRun is Preview sync (a dry run) or Run sync now (an applied run)
// from the ⋮ menu: a live progress display, then the plan per record type
// with sample records of each action.
type SyncRun struct {
	c        *Common
	edit     *Edit
	dry      bool
	confirm  bool // Run sync now is waiting for y
	row, col int
	bar      progress.Model
}

// NewPreview starts a dry run of e's saved revision.
func NewPreview(c *Common, e *Edit) *SyncRun { return newSyncRun(c, e, true) }

// NewRunNow asks to apply e's saved revision, after a passed preview.
func NewRunNow(c *Common, e *Edit) *SyncRun { return newSyncRun(c, e, false) }

func newSyncRun(c *Common, e *Edit, dry bool) *SyncRun {
	s := &SyncRun{c: c, edit: e, dry: dry, confirm: !dry}
	s.bar = progress.New(progress.WithWidth(max(min(c.Width-30, 40), 10)), progress.WithoutPercentage(), progress.WithFillCharacters('█', '░'))
	return s
}

func (s *SyncRun) running() bool { return s.edit.Sync != nil && !s.edit.Sync.Done }

// Init starts the preview; a run already going for the district is shown
// instead of starting another.
func (s *SyncRun) Init() tea.Cmd {
	if s.running() || s.c.StartSync == nil || !s.dry {
		return nil
	}
	return s.c.StartSync(s.edit.Saved, true)
}

func (s *SyncRun) ID() ID {
	if s.dry {
		return PreviewScreen
	}
	return RunNowScreen
}

func (s *SyncRun) Crumb() string {
	if s.dry {
		return "Preview sync"
	}
	return "Run sync now"
}

func (s *SyncRun) Step() int { return 3 }

var (
	rerunKey = key.NewBinding(key.WithKeys("r"), key.WithHelp("r", "preview again"))
	applyKey = key.NewBinding(key.WithKeys("y"), key.WithHelp("y", "apply now"))
)

func (s *SyncRun) ShortHelp() []key.Binding {
	k := s.c.Keys
	switch {
	case s.confirm && !s.running() && !PreviewPassed(s.c.DB, s.edit.Saved):
		return []key.Binding{k.Back}
	case s.confirm && !s.running():
		return []key.Binding{applyKey, with(k.Back, "not now")}
	case s.running() && s.dry:
		return []key.Binding{with(k.Back, "cancel the preview")}
	case s.running():
		return []key.Binding{with(k.Back, "leave (the sync goes on)")}
	}
	keys := []key.Binding{with(k.Up, "type"), with(k.Left, "action"), k.Back}
	if s.dry {
		keys = append(keys, rerunKey)
	}
	return keys
}

func (s *SyncRun) FullHelp() [][]key.Binding {
	k := s.c.Keys
	if s.confirm || s.running() {
		return [][]key.Binding{s.ShortHelp()}
	}
	last := []key.Binding{k.Back}
	if s.dry {
		last = append(last, rerunKey)
	}
	return [][]key.Binding{{with(k.Up, "previous record type"), with(k.Down, "next record type")}, {with(k.Left, "previous action"), with(k.Right, "next action")}, last}
}

func (s *SyncRun) Update(msg tea.Msg) (Screen, tea.Cmd) {
	km, ok := msg.(tea.KeyPressMsg)
	if !ok {
		return s, nil
	}
	k := s.c.Keys
	switch {
	case key.Matches(km, k.Back):
		if s.running() && s.dry && s.edit.Sync.Cancel != nil {
			s.edit.Sync.Cancel()
		}
		return s, s.c.Back()
	case s.confirm && key.Matches(km, applyKey) && !s.running() && PreviewPassed(s.c.DB, s.edit.Saved):
		s.confirm = false
		return s, s.c.StartSync(s.edit.Saved, false)
	case s.running() || s.confirm:
		return s, nil
	case key.Matches(km, k.Up):
		s.row = max(s.row-1, 0)
	case key.Matches(km, k.Down):
		s.row = min(s.row+1, len(store.RecordTypes)-1)
	case key.Matches(km, k.Left):
		s.col = max(s.col-1, 0)
	case key.Matches(km, k.Right):
		s.col = min(s.col+1, len(store.Actions)-1)
	case s.dry && key.Matches(km, rerunKey):
		return s, s.c.StartSync(s.edit.Saved, true)
	}
	return s, nil
}

func (s *SyncRun) View() string {
	st := s.c.Styles
	var b strings.Builder
	title := "Preview sync (dry run: nothing is changed)"
	if !s.dry {
		title = "Run sync now"
	}
	b.WriteString(st.Title.Render(title) + "\n")
	if s.edit.Dirty() {
		b.WriteString(st.Warning.Render(wrap(fmt.Sprintf("This uses the saved revision %d; your unsaved changes are not in it.", s.edit.Saved.Revision), s.c.Width)) + "\n")
	}
	sync := s.edit.Sync
	switch {
	case s.confirm && !s.running():
		b.WriteString(s.confirmView())
	case sync == nil:
		b.WriteString(st.Muted.Render("Starting…"))
	case !sync.Done:
		b.WriteString(s.progressView(sync))
	default:
		b.WriteString(s.resultView(sync))
	}
	return fit(b.String(), s.c.Height)
}

func (s *SyncRun) confirmView() string {
	st := s.c.Styles
	w := s.c.Width
	if !PreviewPassed(s.c.DB, s.edit.Saved) {
		return "\n" + wrap(fmt.Sprintf("Preview the sync of revision %d first (⋮ → Preview sync). A preview without a threshold failure is the guide's self-check; then this applies the same plan.", s.edit.Saved.Revision), w)
	}
	var b strings.Builder
	b.WriteString("\n" + wrap("This is the guide's \"enable and launch\" step: the sync pulls the roster from ClassLink and applies it to the Connect directory now, for the schools connected to SIS.", w) + "\n\n")
	if last, ok, _ := s.c.DB.LastPreview(s.edit.Saved.TenantID); ok {
		b.WriteString(st.Muted.Render(fmt.Sprintf("The last preview (%s) planned:", s.c.SinceText(last.FinishedAt))) + "\n")
		b.WriteString(planTable(st, last, -1, -1, w) + "\n\n")
	}
	b.WriteString(st.Focused.Render("Apply it now?") + "  y: apply · esc: not now")
	return b.String()
}

func (s *SyncRun) progressView(sync *SyncState) string {
	st := s.c.Styles
	var b strings.Builder
	elapsed := s.c.Now().Sub(sync.Started).Round(time.Second)
	b.WriteString(fmt.Sprintf("\n%s… %s\n\n", strings.ToUpper(sync.Phase[:1])+sync.Phase[1:], st.Muted.Render(elapsed.String())))
	for _, coll := range []string{"orgs", "classes", "users", "enrollments"} {
		n, total := sync.Pulled[coll], sync.Totals[coll]
		pct := 0.0
		if total > 0 {
			pct = min(float64(n)/float64(total), 1)
		}
		b.WriteString(fmt.Sprintf("  %-12s %s %s\n", coll, s.bar.ViewAs(pct), st.Muted.Render(countText(n, total))))
	}
	if sync.Attempt > 1 {
		b.WriteString(st.Warning.Render(fmt.Sprintf("  ClassLink's roster changed during the pull; pulling again (attempt %d of 4)", sync.Attempt)) + "\n")
	}
	switch {
	case sync.Phase == "applying" && sync.ToApply > 0:
		b.WriteString(fmt.Sprintf("\n  %-12s %s %s\n", "applying", s.bar.ViewAs(float64(sync.Applied)/float64(sync.ToApply)), st.Muted.Render(countText(sync.Applied, sync.ToApply))))
	case sync.Applied > 0: // creates and updates are written as the plan goes
		b.WriteString(fmt.Sprintf("\n  %-12s %s\n", "written", st.Muted.Render(fmt.Sprint(sync.Applied, " directory changes so far"))))
	}
	return b.String()
}

func countText(n, total int) string {
	if total > 0 {
		return fmt.Sprintf("%d / %d", n, total)
	}
	return fmt.Sprint(n)
}

func (s *SyncRun) resultView(sync *SyncState) string {
	st := s.c.Styles
	w := s.c.Width
	var b strings.Builder
	if sync.Err != nil {
		return "\n" + st.Error.Render(wrap("✗ "+untrusted.Text(sync.Err.Error()), w))
	}
	run := sync.Run
	status := st.Success.Render("✓ " + RunLine(run))
	if run.Status == store.RunFailed {
		status = st.Error.Render("✗ " + RunLine(run))
	}
	b.WriteString(status + st.Muted.Render(fmt.Sprintf(" · revision %d · x-perm-rev %s", run.ConfigRevision, orDash(run.PermRev))) + "\n\n")
	if run.Status == store.RunFailed && run.Reason != store.ReasonThreshold {
		// Nothing was planned: the reason is all there is to show.
		return b.String() + runDetail(st, run, w)
	}
	b.WriteString(planTable(st, run, s.row, s.col, w) + "\n")
	if d := runDetail(st, run, w); d != "" {
		b.WriteString(d + "\n")
	}
	typ, action := store.RecordTypes[s.row], store.Actions[s.col]
	samples := samplesOf(sync.Samples, typ, action)
	// Show as many samples as the screen has room for.
	used := strings.Count(b.String(), "\n") + 4
	if s.dry && run.Status != store.RunFailed {
		used += 2
	}
	samples = samples[:max(0, min(len(samples), s.c.Height-used))]
	b.WriteString("\n" + st.Title.Render(fmt.Sprintf("%s · %s", typ, action)) + st.Muted.Render(fmt.Sprintf("  (%d in all; up to %d shown)", *run.Counts.Of(typ).Of(action), len(samples))) + "\n")
	for _, smp := range samples {
		text := untrusted.Text(smp.Name) + st.Muted.Render(" "+untrusted.Text(smp.SourcedID))
		if len(smp.Fields) > 0 {
			text += " · " + strings.Join(smp.Fields, ", ")
		}
		if smp.Reason != "" {
			text += " · " + smp.Reason
		}
		b.WriteString("  • " + truncate(text, w-4) + "\n")
	}
	if s.dry && run.Status != store.RunFailed {
		b.WriteString("\n" + st.Success.Render(wrap("The self-check passed (step 6). ⋮ → Run sync now applies this plan.", w)))
	}
	return b.String()
}
