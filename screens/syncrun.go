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
	moved    bool // the person moved the cursor: its examples come first
	scroll   int
	detail   bool
	bar      progress.Model
}

// NewPreview starts a dry run of e's saved revision.
func NewPreview(c *Common, e *Edit) *SyncRun { return newSyncRun(c, e, true) }

// NewRunNow asks to apply e's saved revision, after a passed preview.
func NewRunNow(c *Common, e *Edit) *SyncRun { return newSyncRun(c, e, false) }

func newSyncRun(c *Common, e *Edit, dry bool) *SyncRun {
	s := &SyncRun{c: c, edit: e, dry: dry, confirm: !dry}
	s.bar = progress.New(progress.WithWidth(10), progress.WithoutPercentage(), progress.WithFillCharacters('█', '░'))
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

var rerunKey = key.NewBinding(key.WithKeys("r"), key.WithHelp("r", "preview again"))

// failedRun reports a finished run that failed for a reason with a
// technical detail to show.
func (s *SyncRun) failedRun() bool {
	sync := s.edit.Sync
	return sync != nil && sync.Done && sync.Err == nil && s.c.runTechnical(sync.Run) != ""
}

func (s *SyncRun) ShortHelp() []key.Binding {
	k := s.c.Keys
	switch {
	case s.confirm && !s.running() && !s.edit.PreviewPassed():
		return []key.Binding{k.Back}
	case s.confirm && !s.running():
		return []key.Binding{with(k.Back, "not now"), with(k.Confirm, "apply now")}
	case s.running() && s.dry:
		return []key.Binding{with(k.Back, "cancel the preview")}
	case s.running():
		return []key.Binding{with(k.Back, "leave (the sync goes on)")}
	}
	keys := []key.Binding{with(k.Up, "type"), with(k.Left, "action")}
	if s.failedRun() {
		keys = append(keys, detailKey)
	}
	if s.dry {
		keys = append(keys, rerunKey)
	}
	return append(keys, k.Back)
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
	if s.failedRun() {
		last = append(last, with(detailKey, "show or hide the technical detail"))
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
	case s.confirm && key.Matches(km, k.Confirm) && !s.running() && s.edit.PreviewPassed():
		s.confirm = false
		return s, s.c.StartSync(s.edit.Saved, false)
	case s.running() || s.confirm:
		return s, nil
	case key.Matches(km, k.Up):
		s.row = max(s.row-1, 0)
		s.moved = true
	case key.Matches(km, k.Down):
		s.row = min(s.row+1, len(store.RecordTypes)-1)
		s.moved = true
	case key.Matches(km, k.Left):
		s.col = max(s.col-1, 0)
		s.moved = true
	case key.Matches(km, k.Right):
		s.col = min(s.col+1, len(store.Actions)-1)
		s.moved = true
	case key.Matches(km, detailKey) && s.failedRun():
		s.detail = !s.detail
	case s.dry && key.Matches(km, rerunKey):
		return s, s.c.StartSync(s.edit.Saved, true)
	}
	return s, nil
}

func (s *SyncRun) View() string {
	st, w := s.c.Styles, s.c.Width
	title := "Preview sync (a dry run: nothing is changed)"
	if !s.dry {
		title = "Run sync now"
	}
	head := st.Title.Render(wrap(title, w))
	if s.edit.Dirty() {
		head += "\n" + st.Warning.Render(wrap(fmt.Sprintf("This uses the saved revision %d; your unsaved changes are not in it.", s.edit.Saved.Revision), w))
	}
	sync := s.edit.Sync
	var body string
	focus, focusEnd := -1, -1
	switch {
	case s.confirm && !s.running():
		body = s.confirmView()
		focus, focusEnd = lineCount(body)-1, lineCount(body)-1 // the question
	case sync == nil:
		body = st.Muted.Render("Starting…")
	case !sync.Done:
		body = s.progressView(sync)
	case sync.Err != nil:
		body = st.Error.Render(wrap("✗ "+untrusted.Text(upperFirst(ErrText(sync.Err))), w))
	default:
		// The outcome stays in view above the plan.
		head += "\n" + s.outcome(sync.Run)
		var heads string
		heads, body, focus, focusEnd = s.resultView(sync, s.c.Height-lineCount(head))
		if heads != "" {
			head += "\n" + heads
		}
	}
	return page{Head: head, Body: body, Focus: focus, FocusEnd: focusEnd, Scroll: &s.scroll}.render(st, w, s.c.Height)
}

func (s *SyncRun) confirmView() string {
	st, w := s.c.Styles, s.c.Width
	if !s.edit.PreviewPassed() {
		return wrap(fmt.Sprintf("Preview the sync of revision %d first (⋮ → Preview sync). A preview without a threshold failure is the guide's self-check; then this applies the same plan.", s.edit.Saved.Revision), w)
	}
	var b strings.Builder
	b.WriteString(wrap("This is the guide's \"enable and launch\" step: the sync pulls the roster from ClassLink and applies it to the Connect directory now, for the schools connected to SIS.", w) + "\n\n")
	if last := s.edit.LastPreview; last != nil {
		b.WriteString(st.Muted.Render(wrap(fmt.Sprintf("The last preview (%s) planned:", s.c.SinceText(last.FinishedAt)), w)) + "\n")
		b.WriteString(planTable(st, *last, -1, -1, w) + "\n\n")
	}
	b.WriteString(st.Focused.Render("Apply it now?") + "  " + st.Muted.Render("esc not now · y apply"))
	return b.String()
}

func (s *SyncRun) progressView(sync *SyncState) string {
	st, w := s.c.Styles, s.c.Width
	var b strings.Builder
	elapsed := s.c.Now().Sub(sync.Started).Round(time.Second)
	spin := st.Focused.Render(spinnerFrames[s.c.SpinFrame%len(spinnerFrames)])
	b.WriteString(fmt.Sprintf("%s %s… %s\n\n", spin, strings.ToUpper(sync.Phase[:1])+sync.Phase[1:], st.Muted.Render(elapsed.String())))
	s.bar.SetWidth(max(min(w-32, 40), 6))
	for _, coll := range []string{"orgs", "classes", "users", "enrollments"} {
		n, total := sync.Pulled[coll], sync.Totals[coll]
		pct := 0.0
		if total > 0 {
			pct = min(float64(n)/float64(total), 1)
		}
		b.WriteString(truncate(fmt.Sprintf("  %-12s %s %s", coll, s.bar.ViewAs(pct), st.Muted.Render(countText(n, total))), w) + "\n")
	}
	if sync.Attempt > 1 {
		b.WriteString(st.Warning.Render(wrap(fmt.Sprintf("ClassLink's roster changed during the pull; pulling again (attempt %d of 4)", sync.Attempt), w)) + "\n")
	}
	switch {
	case sync.Phase == "applying" && sync.ToApply > 0:
		b.WriteString("\n" + truncate(fmt.Sprintf("  %-12s %s %s", "applying", s.bar.ViewAs(float64(sync.Applied)/float64(sync.ToApply)), st.Muted.Render(countText(sync.Applied, sync.ToApply))), w) + "\n")
	case sync.Applied > 0: // creates and updates are written as the plan goes
		b.WriteString("\n" + truncate(fmt.Sprintf("  %-12s %s", "written", st.Muted.Render(fmt.Sprint(sync.Applied, " directory changes so far"))), w) + "\n")
	}
	if s.dry {
		b.WriteString("\n" + st.Muted.Render("esc cancels the preview"))
	}
	return b.String()
}

func countText(n, total int) string {
	if total > 0 {
		return fmt.Sprintf("%d / %d", n, total)
	}
	return fmt.Sprint(n)
}

// resultView is the finished run: its outcome, the plan table and the
// samples of the focused cell; focus..focusEnd are the focused row and
// its samples.
// outcome is the run in a line: succeeded or failed, and why.
func (s *SyncRun) outcome(run store.Run) string {
	st, w := s.c.Styles, s.c.Width
	text := upperFirst(RunLine(run)) + fmt.Sprintf(" · revision %d", run.ConfigRevision)
	if run.Status == store.RunFailed {
		return st.Error.Render(wrap("✗ "+text, w))
	}
	return st.Success.Render(wrap("✓ "+text, w))
}

func (s *SyncRun) resultView(sync *SyncState, room int) (heads, body string, focus, focusEnd int) {
	st, w := s.c.Styles, s.c.Width
	run := sync.Run
	if !RunPlanned(run) {
		// Nothing was planned: the reason is all there is to show.
		return "", runDetail(s.c, run, w, s.detail), -1, -1
	}
	// The table's column heads stay above what scrolls; below its rows come
	// the focused cell's examples, then the run's warnings and detail.
	table := strings.Split(planTable(st, run, s.row, s.col, w), "\n")
	cut := len(table) - len(store.RecordTypes)
	heads = strings.Join(table[:cut], "\n")
	room -= cut
	var b strings.Builder
	b.WriteString(strings.Join(table[cut:], "\n") + "\n")
	// Why a run failed comes before the examples; a run that succeeded has
	// only its warnings to add, after them.
	detail := runDetail(s.c, run, w, s.detail)
	failed := run.Status != store.RunSucceeded
	if failed && detail != "" {
		b.WriteString(detail + "\n")
	}
	typ, action := store.RecordTypes[s.row], store.Actions[s.col]
	samples := samplesOf(sync.Samples, typ, action)
	count := "  none"
	if n := *run.Counts.Of(typ).Of(action); n > 0 {
		count = fmt.Sprintf("  %d in all, %s", n, plural(len(samples), "example"))
	}
	b.WriteString("\n")
	examples := strings.Count(b.String(), "\n")
	b.WriteString(wrap(st.Title.Render(fmt.Sprintf("%s · %s", typ, action))+st.Muted.Render(count), w) + "\n")
	for _, smp := range samples {
		text := st.Muted.Render(untrusted.Text(smp.SourcedID)) // a record without a name reads as its ID
		if smp.Name != "" {
			text = untrusted.Text(smp.Name) + " " + text
		}
		if len(smp.Fields) > 0 {
			text += " · " + strings.Join(smp.Fields, ", ")
		}
		if smp.Reason != "" {
			text += " · " + smp.Reason
		}
		b.WriteString("  • " + truncate(text, w-4) + "\n")
	}
	// All the rows and the examples when they fit; else the focused row
	// and its first examples, the point of moving the cursor; else, once
	// the cursor moved, those examples under the cell's name (which names
	// the cell), and before that the table.
	focus, focusEnd = 0, strings.Count(b.String(), "\n")-1
	if focusEnd+1 > room {
		focus, focusEnd = s.row, min(focusEnd, examples+2)
	}
	if focusEnd-focus+1 > room-2 && s.moved { // room-2: the markers
		focus = examples
	}
	if !failed && detail != "" {
		b.WriteString("\n" + detail + "\n")
	}
	if s.dry && run.Status != store.RunFailed {
		b.WriteString("\n" + st.Success.Render(wrap("The self-check passed (step 6). ⋮ → Run sync now applies this plan.", w)))
	}
	return heads, b.String(), focus, focusEnd
}
