package screens

import (
	"fmt"
	"strconv"
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"github.com/schoolstatus/rostersync/store"
)

// The District-Level Daily Sync fields, in screen order.
const (
	dsEnable = iota
	dsGuardians
	dsUnarchive
	dsContacts
	dsThreshold
	dsStart
	dsZone
	dsContinue
	dsFields
)

var dailySyncHelp = [dsFields]string{
	dsEnable: "Runs the sync once a day at the start time below. Off means no scheduled run. " +
		"The guide says to keep it off until the self-check (step 6) is done.",
	dsGuardians: "On: guardians come from ClassLink; the sync creates, updates and archives them. " +
		"Off: guardians come from elsewhere (a guardians.csv upload or the automated SFTP guardians sync) " +
		"and the sync never creates, changes or archives a guardian. " +
		"A guardian without a unique email or a valid SMS number is skipped.",
	dsUnarchive: "On: a classroom that was archived and shows up again in the roster data is made active again. " +
		"Off: it stays archived. You can always change this.",
	dsContacts: "On: the sync overwrites the name, email and phones of users who have joined (activated their account) with ClassLink's. " +
		"Turn it on when ClassLink is the district's most up-to-date source of contact details. " +
		"Off: joined users keep the contact details they have in Connect. Users who have not joined are always updated.",
	dsThreshold: "The most SIS-managed records of one type (students, staff, guardians, classrooms) one run may archive, " +
		"as a percent of the active ones. Over it the run fails: it still creates and updates, " +
		"archives nothing, and reports how many it tried to archive. 0–100, default 10.",
	dsStart:    "When the daily sync starts: a 24-hour time such as 02:00 (7:00 is read as 07:00), in the time zone below.",
	dsZone:     "The district's IANA time zone, such as America/Chicago, in any letter case; tab completes the suggestion shown.",
	dsContinue: "Next: the permissions synced staff get, by role group.",
}

var dailySyncLabels = [dsContacts + 1]string{
	"Enable Daily sync",
	"Allow sync to manage Guardians",
	"Unarchive classrooms that reappear in the roster data",
	"Allow the sync to update contact details of active users",
}

// SMSNote explains where the two phone fields go.
const SMSNote = "Guardian and staff phones: the SMS field becomes the user's mobile phone, used for login, texts and calls; " +
	"the Phone field becomes the home phone, never used for communications or login."

// GuardiansOffNote is shown when the sync does not manage guardians.
const GuardiansOffNote = "Guardians are off: families must come from a guardians.csv upload or the automated SFTP guardians sync, " +
	"or they will not get the school's messages."

// SelfCheckWarning is the guide's warning against enabling the sync early.
const SelfCheckWarning = "The guide says: do not enable the daily sync until the self-check is done. " +
	"Step 6 (Self-check: preview the sync) is not marked done on the District Home Page, so tonight's run " +
	"would apply whatever the roster holds, unchecked."

// dailySyncFieldLabels are the text fields' labels; labelW lines them up.
var dailySyncFieldLabels = [...]string{"Deletion threshold %", "Daily start time", "Time zone"}

const dsLabelW = 22

// DailySync is step 6, the District-Level Daily Sync settings.
type DailySync struct {
	c       *Common
	edit    *Edit
	focus   int
	inputs  [3]textinput.Model // threshold, start, zone
	errs    [3]error
	guard   bool // the Enable Daily sync warning is showing
	blocked bool // Continue was refused because a field is invalid
	scroll  int
}

// NewDailySync edits the settings of e.Draft.
func NewDailySync(c *Common, e *Edit) *DailySync {
	st := c.Styles
	s := &DailySync{c: c, edit: e}
	s.inputs[0] = newInput(st, "", "10", 5)
	s.inputs[0].CharLimit = 5
	s.inputs[0].SetValue(strconv.Itoa(e.Draft.Settings.DeletionThresholdPercent))
	s.inputs[1] = newInput(st, "", "02:00", 7)
	s.inputs[1].CharLimit = 6
	s.inputs[1].SetValue(e.Draft.Settings.DailyStart)
	s.inputs[2] = newInput(st, "", "America/Chicago", 32)
	s.inputs[2].CharLimit = 64
	s.inputs[2].ShowSuggestions = true
	s.inputs[2].SetSuggestions(store.ZoneNames())
	s.inputs[2].SetValue(e.Draft.Settings.TimeZone)
	return s
}

func (s *DailySync) Init() tea.Cmd { return nil }
func (s *DailySync) ID() ID        { return DailySyncScreen }
func (s *DailySync) Crumb() string { return "District-Level Daily Sync" }
func (s *DailySync) Step() int     { return 6 }
func (s *DailySync) Typing() bool {
	return !s.guard && s.focus >= dsThreshold && s.focus <= dsZone
}

func (s *DailySync) ShortHelp() []key.Binding {
	k := s.c.Keys
	switch {
	case s.guard:
		return []key.Binding{with(k.Back, "keep it off"), with(k.Confirm, "enable anyway")}
	case s.Typing():
		return []key.Binding{with(k.Continue, "continue"), k.Next, k.Back}
	}
	return []key.Binding{with(k.Toggle, "toggle"), with(k.Continue, "continue"), k.Next, k.Back}
}

func (s *DailySync) FullHelp() [][]key.Binding {
	k := s.c.Keys
	if s.guard {
		return [][]key.Binding{s.ShortHelp()}
	}
	return [][]key.Binding{
		{k.Next, k.Prev},
		{with(k.Toggle, "toggle the checkbox (enter too)"), with(k.Select, "next field; on Continue, continue")},
		{with(k.Continue, "continue to permissions"), with(k.Back, "back (changes are kept)")},
	}
}

func (s *DailySync) setFocus(i int) tea.Cmd {
	s.focus = (i + dsFields) % dsFields
	var cmd tea.Cmd
	for j := range s.inputs {
		if dsThreshold+j == s.focus {
			cmd = s.inputs[j].Focus()
		} else if s.inputs[j].Focused() {
			s.inputs[j].Blur()
			s.tidy(j)
		}
	}
	return cmd
}

// tidy shows a valid field as it is stored ("7:00" as "07:00",
// "america/chicago" as "America/Chicago") once the person leaves it.
func (s *DailySync) tidy(i int) {
	if s.errs[i] != nil {
		return
	}
	set := s.edit.Draft.Settings
	switch i {
	case 1:
		s.inputs[1].SetValue(set.DailyStart)
	case 2:
		s.inputs[2].SetValue(set.TimeZone)
	}
}

// fitInputs sizes the fields to the screen before they scroll their text.
func (s *DailySync) fitInputs() {
	for i := range s.inputs {
		s.inputs[i].SetWidth(max(s.c.Width-2-dsLabelW, 8) - 1) // the cursor takes a column
	}
}

func (s *DailySync) Update(msg tea.Msg) (Screen, tea.Cmd) {
	s.fitInputs()
	if p, ok := msg.(tea.PasteMsg); ok && s.Typing() {
		i := s.focus - dsThreshold
		var cmd tea.Cmd
		s.inputs[i], cmd = s.inputs[i].Update(p)
		s.apply(i)
		return s, cmd
	}
	km, ok := msg.(tea.KeyPressMsg)
	if !ok {
		return s, nil
	}
	k := s.c.Keys
	if s.guard {
		// y only: the warning must not be confirmed by the enter that opened it.
		switch {
		case key.Matches(km, k.Confirm):
			s.guard = false
			s.edit.Draft.Settings.EnableDailySync = true
			s.edit.Note(NoteEnabledBeforeSelfCheck)
		case key.Matches(km, k.Deny), key.Matches(km, k.Back):
			s.guard = false
		}
		return s, nil
	}
	typing := s.Typing()
	switch {
	case key.Matches(km, k.Back):
		return s, s.c.Back()
	case km.String() == "tab" || km.String() == "down" || !typing && key.Matches(km, k.Down):
		if s.focus == dsZone && km.String() == "tab" && s.inputs[2].CurrentSuggestion() != "" && !strings.EqualFold(s.inputs[2].CurrentSuggestion(), s.inputs[2].Value()) {
			break // let the field complete the suggestion
		}
		return s, s.setFocus(s.focus + 1)
	case km.String() == "shift+tab" || km.String() == "up" || !typing && key.Matches(km, k.Up):
		return s, s.setFocus(s.focus - 1)
	case key.Matches(km, k.Continue):
		return s, s.continueToPermissions()
	}
	switch {
	case s.focus <= dsContacts && (key.Matches(km, k.Toggle) || km.String() == "enter"):
		s.toggle(s.focus)
		return s, nil
	case s.focus == dsContinue && (km.String() == "enter" || key.Matches(km, k.Toggle)):
		return s, s.continueToPermissions()
	case typing && km.String() == "enter":
		return s, s.setFocus(s.focus + 1)
	case typing:
		i := s.focus - dsThreshold
		var cmd tea.Cmd
		s.inputs[i], cmd = s.inputs[i].Update(msg)
		s.apply(i)
		return s, cmd
	}
	return s, nil
}

func (s *DailySync) toggle(field int) {
	set := &s.edit.Draft.Settings
	switch field {
	case dsEnable:
		if set.EnableDailySync {
			set.EnableDailySync = false
			s.edit.Unnote(NoteEnabledBeforeSelfCheck)
		} else if !s.edit.Saved.Checklist[store.StepSelfCheck].Done {
			s.guard = true
		} else {
			set.EnableDailySync = true
		}
	case dsGuardians:
		set.ManageGuardians = !set.ManageGuardians
	case dsUnarchive:
		set.UnarchiveReappearingClassrooms = !set.UnarchiveReappearingClassrooms
	case dsContacts:
		set.UpdateActiveUserContacts = !set.UpdateActiveUserContacts
	}
}

// apply copies a valid field value into the draft, as it is stored, or
// records its error.
func (s *DailySync) apply(i int) {
	v := s.inputs[i].Value()
	set := &s.edit.Draft.Settings
	var err error
	switch i {
	case 0:
		var n int
		if n, err = store.ParseThreshold(v); err == nil {
			set.DeletionThresholdPercent = n
		}
	case 1:
		var canon string
		if canon, err = store.CanonicalDailyStart(v); err == nil {
			set.DailyStart = canon
		}
	case 2:
		var canon string
		if canon, err = store.CanonicalTimeZone(v); err == nil {
			set.TimeZone = canon
		}
	}
	s.errs[i] = err
	s.blocked = s.blocked && s.invalid() >= 0
}

func (s *DailySync) invalid() int {
	for i, err := range s.errs {
		if err != nil {
			return i
		}
	}
	return -1
}

func (s *DailySync) continueToPermissions() tea.Cmd {
	if i := s.invalid(); i >= 0 {
		s.blocked = true
		return s.setFocus(dsThreshold + i)
	}
	return s.c.Open(PermissionsScreen)
}

func (s *DailySync) View() string {
	st, set, w := s.c.Styles, s.edit.Draft.Settings, s.c.Width
	head := st.Title.Render("District-Level Daily Sync")
	if s.guard {
		d := Dialog(st, w, "⚠ Enable Daily sync before the self-check?", SelfCheckWarning,
			Choice{"n/esc", "keep it off"}, Choice{"y", "enable it anyway (noted in the audit)"})
		// Focused on its end: if anything gives way, it is the text, never the choices.
		return page{Head: head, Body: d, Focus: lineCount(d) - 1}.render(st, w, s.c.Height)
	}
	var b strings.Builder
	focus, focusEnd := 0, 0
	mark := func(field int, from int) {
		if s.focus == field {
			focus, focusEnd = from, strings.Count(b.String(), "\n")-1
		}
	}
	checks := [...]bool{set.EnableDailySync, set.ManageGuardians, set.UnarchiveReappearingClassrooms, set.UpdateActiveUserContacts}
	for i, on := range checks {
		start := strings.Count(b.String(), "\n")
		text := checkbox(on) + " " + dailySyncLabels[i]
		if s.focus == i {
			b.WriteString(st.Focused.Render(cursorMark+" ") + indent(wrap(text, w-2), "  ")[2:] + "\n")
		} else {
			b.WriteString(line(st, false, truncate(text, w-2)) + "\n")
		}
		mark(i, start)
	}
	fieldW := max(w-2-dsLabelW, 8)
	s.fitInputs()
	for i, in := range s.inputs {
		start := strings.Count(b.String(), "\n")
		value := in.View()
		if !in.Focused() && lipgloss.Width(in.Value()) > fieldW {
			value = truncate(in.Value(), fieldW) // a long zone name, not being edited
		}
		label := lipgloss.NewStyle().Width(dsLabelW).Render(dailySyncFieldLabels[i] + ":")
		b.WriteString(line(st, s.focus == dsThreshold+i, label+value) + "\n")
		if s.errs[i] != nil {
			b.WriteString(st.Error.Render(indent(wrap("✗ "+ErrText(s.errs[i]), w-4), "    ")) + "\n")
		}
		mark(dsThreshold+i, start)
	}
	start := strings.Count(b.String(), "\n")
	b.WriteString(line(st, s.focus == dsContinue, "Continue to permissions ›") + "\n")
	if s.blocked {
		b.WriteString(st.Error.Render(wrap("Fix the field marked ✗ before continuing.", w)) + "\n")
	}
	mark(dsContinue, start)
	// What the focused field means comes right under the fields, so it is
	// in view with them.
	help := dailySyncHelp[s.focus]
	if s.focus == dsGuardians && !set.ManageGuardians {
		help += "\n\n" + GuardiansOffNote
	}
	b.WriteString(st.Box.Width(w).Render(wrap(help, max(w-4, 10))) + "\n")
	// The focus comes first; the help box stays in view with it when there
	// is room.
	focusEnd = strings.Count(b.String(), "\n") - 1
	b.WriteString(st.Note.Render(wrap(SMSNote, w)))
	return page{Head: head, Body: b.String(), Focus: focus, FocusEnd: focusEnd, Scroll: &s.scroll}.render(st, w, s.c.Height)
}

// DailySyncHelp is the help text of field i (0–3 the checkboxes, 4 the
// threshold), shared with the accessible prompts.
func DailySyncHelp(i int) string { return dailySyncHelp[i] }

// DailySyncLabel is the label of checkbox i (0–3).
func DailySyncLabel(i int) string { return dailySyncLabels[i] }

// dailySyncSummary is one line of the current settings, for the SIS Rostering page.
func dailySyncSummary(set store.Settings) string {
	daily := "Daily sync off"
	if set.EnableDailySync {
		daily = fmt.Sprintf("Daily sync on at %s %s", set.DailyStart, set.TimeZone)
	}
	guardians := "guardians from ClassLink"
	if !set.ManageGuardians {
		guardians = "guardians not managed"
	}
	return fmt.Sprintf("%s · %s · threshold %d%%", daily, guardians, set.DeletionThresholdPercent)
}
