package screens

import (
	"fmt"
	"path"
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"

	"github.com/schoolstatus/rostersync/store"
	"github.com/schoolstatus/rostersync/untrusted"
)

// Upload Guardians form fields.
const (
	ufFile = iota
	ufDryRun
	ufAbandon
	ufProcess
	ufSample
	ufFields
)

// What the Upload Guardians screen is doing.
const (
	upForm       = iota
	upReading    // the file is being read
	upConfirm    // Dry Run off: apply without a preview?
	upProcessing // checking or applying
	upResult     // a run's counts and rows
)

// SampleFileName is where Upload Guardians writes a sample file when no
// path is typed.
const SampleFileName = "guardians-sample.csv"

// UploadGuardians is SIS Rostering → Upload Guardians: choose a file (a
// local path with completion; over SSH guardians.csv from the SFTP folder),
// Dry Run on and Abandon off by default, a preview of what the file does
// (counts per action and its rows, errors first), then apply those very
// bytes after a y.
type UploadGuardians struct {
	c       *Common
	edit    *Edit
	state   int
	focus   int
	path    textinput.Model
	dryRun  bool
	abandon bool
	choices []string // path completions shown under the field
	err     string
	file    *GuardiansFile
	res     *GuardiansProcessedMsg
	cursor  int // the focused result row
	// applying: the run in progress applies (not a dry run).
	applying bool
}

// NewUploadGuardians starts with Dry Run on and Abandon off.
func NewUploadGuardians(c *Common, e *Edit) *UploadGuardians {
	s := &UploadGuardians{c: c, edit: e, dryRun: true}
	s.path = newInput(c.Styles, "", "path of the guardians.csv", max(c.Width-14, 16))
	s.path.CharLimit = 1024
	if s.local() {
		s.path.Focus()
	}
	return s
}

func (s *UploadGuardians) actions() *GuardiansActions {
	if s.c.Guardians == nil {
		return &GuardiansActions{}
	}
	return s.c.Guardians
}

func (s *UploadGuardians) local() bool { return s.actions().Local }

// fromSFTP says the file comes from the saved SFTP folder (over SSH).
func (s *UploadGuardians) fromSFTP() bool {
	return !s.local() && s.edit.Saved.Guardians.Source == store.GuardiansSFTP
}

func (s *UploadGuardians) Init() tea.Cmd { return nil }
func (s *UploadGuardians) ID() ID        { return UploadGuardiansScreen }
func (s *UploadGuardians) Crumb() string { return "Upload Guardians" }
func (s *UploadGuardians) Step() int     { return 6 }
func (s *UploadGuardians) Typing() bool {
	return s.state == upForm && s.focus == ufFile && s.local()
}

var (
	ugApply  = key.NewBinding(key.WithKeys("y"), key.WithHelp("y", "apply this file"))
	ugCancel = key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "back to the form"))
	ugRows   = key.NewBinding(key.WithKeys("up", "down"), key.WithHelp("↑/↓", "rows"))
	ugTab    = key.NewBinding(key.WithKeys("tab"), key.WithHelp("tab", "complete the path, next"))
)

func (s *UploadGuardians) ShortHelp() []key.Binding {
	k := s.c.Keys
	switch s.state {
	case upConfirm:
		return []key.Binding{ugApply, ugCancel}
	case upResult:
		if s.canApply() {
			return []key.Binding{ugApply, ugRows, ugCancel}
		}
		return []key.Binding{ugRows, ugCancel}
	}
	return []key.Binding{k.Next, with(k.Toggle, "toggle"), with(k.Select, "process"), k.Back}
}

func (s *UploadGuardians) FullHelp() [][]key.Binding {
	k := s.c.Keys
	return [][]key.Binding{
		{ugTab, with(k.Prev, "previous")},
		{with(k.Toggle, "Dry Run / Abandon"), with(k.Select, "process the file, write the sample")},
		{ugApply, ugRows},
		{with(k.Back, "back")},
	}
}

// canApply: a dry run's preview that was not refused can be applied.
func (s *UploadGuardians) canApply() bool {
	r := s.res
	return r != nil && r.Err == nil && r.Run.Mode == store.ModeDryRun && r.Run.GuardiansFile != nil &&
		r.Run.GuardiansFile.Status == store.FileProcessed && s.file != nil
}

func (s *UploadGuardians) Update(msg tea.Msg) (Screen, tea.Cmd) {
	switch msg := msg.(type) {
	case GuardiansFileReadMsg:
		return s, s.read(msg)
	case GuardiansProcessedMsg:
		if s.state == upProcessing && msg.TenantID == s.edit.Saved.TenantID {
			s.state, s.res, s.cursor = upResult, &msg, 0
		}
		return s, nil
	case tea.PasteMsg:
		if s.Typing() {
			var cmd tea.Cmd
			s.path, cmd = s.path.Update(msg)
			return s, cmd
		}
	case tea.KeyPressMsg:
		return s, s.key(msg)
	}
	return s, nil
}

func (s *UploadGuardians) key(km tea.KeyPressMsg) tea.Cmd {
	k := s.c.Keys
	switch s.state {
	case upReading, upProcessing:
		if key.Matches(km, k.Back) {
			return s.c.Back()
		}
		return nil
	case upConfirm:
		switch km.String() {
		case "y":
			return s.process(false)
		case "esc", "n":
			s.state = upForm
		}
		return nil
	case upResult:
		switch {
		case km.String() == "y" && s.canApply():
			return s.process(false)
		case key.Matches(km, k.Up):
			s.cursor = max(s.cursor-1, 0)
		case key.Matches(km, k.Down):
			s.cursor = min(s.cursor+1, max(len(s.res.Rows)-1, 0))
		case key.Matches(km, k.Back):
			s.state, s.res, s.file = upForm, nil, nil
		}
		return nil
	}
	s.err = ""
	switch {
	case key.Matches(km, k.Back):
		return s.c.Back()
	case km.String() == "tab" && s.Typing() && s.complete():
		return nil
	case km.String() == "tab" || km.String() == "down":
		return s.move(1)
	case km.String() == "shift+tab" || km.String() == "up":
		return s.move(-1)
	case s.focus == ufDryRun && (key.Matches(km, k.Toggle) || km.String() == "enter"):
		s.dryRun = !s.dryRun
	case s.focus == ufAbandon && (key.Matches(km, k.Toggle) || km.String() == "enter"):
		s.abandon = !s.abandon
	case km.String() == "enter" && (s.focus == ufProcess || s.focus == ufFile):
		return s.start()
	case km.String() == "enter" && s.focus == ufSample:
		return s.sample()
	case s.Typing():
		var cmd tea.Cmd
		s.path, cmd = s.path.Update(km)
		s.choices = nil
		return cmd
	}
	return nil
}

func (s *UploadGuardians) visible(f int) bool { return f != ufSample || s.local() }

func (s *UploadGuardians) move(delta int) tea.Cmd {
	s.focus = nextField(s.focus, delta, ufFields, s.visible)
	if s.focus == ufFile && s.local() {
		return s.path.Focus()
	}
	s.path.Blur()
	return nil
}

// complete completes the typed path; it reports whether it did anything
// (tab moves on otherwise).
func (s *UploadGuardians) complete() bool {
	a := s.actions()
	if a.Complete == nil {
		return false
	}
	done, choices := a.Complete(s.path.Value())
	changed := done != s.path.Value()
	if changed {
		s.path.SetValue(done)
		s.path.CursorEnd()
	}
	if len(choices) > 1 {
		s.choices = choices
		return true
	}
	s.choices = nil
	return changed
}

// start reads the file: the typed local path, or the SFTP folder's.
func (s *UploadGuardians) start() tea.Cmd {
	a := s.actions()
	path := strings.TrimSpace(s.path.Value())
	switch {
	case a.Read == nil:
		return nil
	case s.edit.Saved.Settings.ManageGuardians:
		s.err = "Allow sync to manage Guardians is on in the saved settings: guardians come from ClassLink. Turn it off and save first."
		return nil
	case s.local() && path == "":
		s.err = "Type the path of the guardians.csv to process."
		return nil
	case !s.local() && !s.fromSFTP():
		s.err = remoteNote(s.edit.Saved.TenantID)
		return nil
	}
	if !s.local() {
		path = ""
	}
	s.state = upReading
	return a.Read(s.edit.Saved, path)
}

func (s *UploadGuardians) read(msg GuardiansFileReadMsg) tea.Cmd {
	if s.state != upReading || msg.File.TenantID != s.edit.Saved.TenantID {
		return nil
	}
	if msg.Err != nil {
		s.state, s.err = upForm, msg.Err.Error()
		return nil
	}
	s.file = &msg.File
	if !s.dryRun {
		s.state = upConfirm
		return nil
	}
	return s.process(true)
}

func (s *UploadGuardians) process(dryRun bool) tea.Cmd {
	a := s.actions()
	if a.Process == nil || s.file == nil {
		return nil
	}
	s.state, s.applying = upProcessing, !dryRun
	return a.Process(s.edit.Saved, *s.file, dryRun, s.abandon)
}

func (s *UploadGuardians) sample() tea.Cmd {
	a := s.actions()
	if a.WriteSample == nil {
		return nil
	}
	path := strings.TrimSpace(s.path.Value())
	if path == "" {
		path = SampleFileName
	}
	return a.WriteSample(s.edit.Saved, path)
}

func remoteNote(tenantID int64) string {
	return fmt.Sprintf("Over SSH this screen never reads the server's files: set the Guardians source to an SFTP folder to process its guardians.csv here, or run `rostersync guardians upload --district %d FILE` on the server.", tenantID)
}

func (s *UploadGuardians) View() string {
	st := s.c.Styles
	title := st.Title.Render("Upload Guardians")
	h := s.c.Height - 1
	switch s.state {
	case upReading:
		return title + "\n" + fit(wrap("Reading the file…", s.c.Width), h)
	case upProcessing:
		what := "Checking the file (dry run)…"
		if s.applying {
			what = "Applying the file…"
		}
		return title + "\n" + fit(wrap(what, s.c.Width), h)
	case upConfirm:
		return title + "\n" + s.confirmView(h)
	case upResult:
		return title + "\n" + s.resultView(h)
	}
	return title + "\n" + s.formView(h)
}

func (s *UploadGuardians) formView(h int) string {
	st, w := s.c.Styles, s.c.Width
	var lines []string
	focusLine := 0
	add := func(f int, text string) {
		if f == s.focus {
			focusLine = len(lines)
		}
		lines = append(lines, truncate(line(st, f == s.focus, text), w))
	}
	switch {
	case s.local():
		s.path.SetWidth(max(w-10, 12))
		add(ufFile, "File: "+s.path.View())
		if len(s.choices) > 0 {
			lines = append(lines, st.Muted.Render(truncate("      "+strings.Join(s.choices, "  "), w)))
		}
	case s.fromSFTP():
		add(ufFile, "File: SFTP "+path.Join(folderText(s.edit.Saved.Guardians.SFTP.Folder), "guardians.csv"))
	default:
		add(ufFile, "File: none here over SSH")
	}
	add(ufDryRun, checkbox(s.dryRun)+" Dry Run: preview, nothing changes")
	add(ufAbandon, checkbox(s.abandon)+" Abandon: archive guardians not listed")
	add(ufProcess, "Process ›")
	if s.local() {
		add(ufSample, "Write a sample file ›")
	}
	lines = append(lines, "")
	if s.err != "" {
		for _, l := range wrapLines("✗ "+s.err, w) {
			lines = append(lines, st.Error.Render(l))
		}
	}
	var note string
	switch {
	case s.edit.Saved.Settings.ManageGuardians:
		note = "Allow sync to manage Guardians is on (saved): guardians come from ClassLink and a file is refused."
	case !s.local() && !s.fromSFTP():
		note = remoteNote(s.edit.Saved.TenantID)
	case s.focus == ufSample:
		note = "Writes a sample guardians.csv with this district's students to the path typed above (or " + SampleFileName + "); an existing file is never overwritten."
	default:
		note = "Columns: student_id, guardian_id, first_name, last_name, email, mobile, home_phone, language. A dry run shows what the file would do; y then applies the very file you previewed."
	}
	for _, l := range wrapLines(note, w) {
		lines = append(lines, st.Note.Render(l))
	}
	return scrolled(st, lines, focusLine, h)
}

func folderText(folder string) string {
	if folder == "" {
		return "~"
	}
	return folder
}

func (s *UploadGuardians) confirmView(h int) string {
	st, w := s.c.Styles, s.c.Width
	f := s.file
	text := fmt.Sprintf("Apply %s (%d bytes) to %s without a preview?", f.Name, len(f.Data), s.edit.Saved.Name)
	if s.abandon {
		text += " Abandon is on: guardians from earlier files that this file does not list are archived."
	}
	lines := wrapLines(text, w)
	lines = append(lines, "", st.Warning.Render("y applies it · esc goes back"))
	return fit(strings.Join(lines, "\n"), h)
}

func (s *UploadGuardians) resultView(h int) string {
	st, w := s.c.Styles, s.c.Width
	r := s.res
	if r.Err != nil {
		lines := wrapLines("✗ "+untrusted.Text(r.Err.Error()), w)
		for i := range lines {
			lines[i] = st.Error.Render(lines[i])
		}
		lines = append(lines, "", st.Muted.Render("esc back to the form"))
		return fit(strings.Join(lines, "\n"), h)
	}
	run, gf := r.Run, r.Run.GuardiansFile
	what := "Applied"
	if run.Mode == store.ModeDryRun {
		what = "Dry run (nothing changed)"
	}
	var head []string
	status := gf.Status
	if run.Status == store.RunFailed {
		status = "failed (" + run.Reason + ")"
	}
	head = append(head, wrapLines(fmt.Sprintf("%s · %s · %s · %d rows", what, truncate(untrusted.Text(gf.Name), 24), status, gf.Rows), w)...)
	if gf.Status == store.FileProcessed || gf.Rows > 0 {
		head = append(head, wrapLines(fmt.Sprintf("%d created · %d updated · %d linked · %d unchanged · %d archived · %d errors · %d warnings",
			gf.Created, gf.Updated, gf.Linked, gf.Unchanged, gf.Archived, gf.Errors, gf.Warnings), w)...)
	}
	if run.Message != "" {
		msg := wrapLines(untrusted.Lines(run.Message), w)
		if len(msg) > 3 {
			msg = append(msg[:2], truncate(msg[2]+" "+strings.Join(msg[3:], " "), w))
		}
		for _, l := range msg {
			head = append(head, st.Warning.Render(l))
		}
	}
	foot := st.Muted.Render("esc back to the form")
	if s.canApply() {
		foot = st.Warning.Render(truncate("y applies this file · esc back", w))
	}
	// The focused row in full, under the list.
	var detail []string
	if len(r.Rows) > 0 {
		row := r.Rows[min(s.cursor, len(r.Rows)-1)]
		detail = wrapLines(fmt.Sprintf("line %d: %s", row.Line, row.Result), w)
		if len(detail) > 3 {
			detail = append(detail[:2], truncate(strings.Join(detail[2:], " "), w))
		}
	}
	listH := h - len(head) - len(detail) - 2
	var rows []string
	for i, row := range r.Rows {
		rows = append(rows, truncate(line(st, i == s.cursor, fmt.Sprintf("line %d %s %s → %s", row.Line, row.Action, row.GuardianID, row.StudentID)), w))
	}
	if more := r.AllRows - len(r.Rows); more > 0 {
		rows = append(rows, st.Muted.Render(truncate(fmt.Sprintf("  … %d more rows (the CLI's --result writes them all)", more), w)))
	}
	out := append([]string{}, head...)
	if listH >= 1 && len(rows) > 0 {
		out = append(out, scrolled(st, rows, s.cursor, listH))
		for _, l := range detail {
			out = append(out, st.Muted.Render(l))
		}
	}
	out = append(out, "", foot)
	return fit(strings.Join(out, "\n"), h)
}
