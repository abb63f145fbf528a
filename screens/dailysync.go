package screens

import (
	"fmt"
	"strconv"
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"

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
	dsUnarchive: "On: a classroom that was archived and shows up again in the roster data is made active. " +
		"Off: it stays archived.",
	dsContacts: "On: the sync overwrites the name, email and phones of users who have joined (activated their account). " +
		"Off: joined users keep their contact details. Users who have not joined are always updated.",
	dsThreshold: "The most SIS-managed records of one type (students, staff, guardians, classrooms) one run may archive, " +
		"as a percent of the active ones. Over it the run fails with reason \"threshold\": it still creates and updates, " +
		"archives nothing, and reports how many it tried to archive. 0–100, default 10.",
	dsStart:    "When the daily sync starts: a 24-hour time HH:MM, read in the time zone below.",
	dsZone:     "The district's IANA time zone, e.g. America/Chicago (tab completes a suggestion).",
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

// DailySync is step 6, the District-Level Daily Sync settings.
type DailySync struct {
	c       *Common
	edit    *Edit
	focus   int
	inputs  [3]textinput.Model // threshold, start, zone
	errs    [3]error
	guard   bool // the Enable Daily sync warning is showing
	blocked bool // Continue was refused because a field is invalid
}

// NewDailySync edits the settings of e.Draft.
func NewDailySync(c *Common, e *Edit) *DailySync {
	st := c.Styles
	s := &DailySync{c: c, edit: e}
	s.inputs[0] = newInput(st, "", "10", 4)
	s.inputs[0].CharLimit = 4
	s.inputs[0].SetValue(strconv.Itoa(e.Draft.Settings.DeletionThresholdPercent))
	s.inputs[1] = newInput(st, "", "02:00", 6)
	s.inputs[1].CharLimit = 5
	s.inputs[1].SetValue(e.Draft.Settings.DailyStart)
	s.inputs[2] = newInput(st, "", "America/Chicago", 32)
	s.inputs[2].CharLimit = 64
	s.inputs[2].ShowSuggestions = true
	s.inputs[2].SetSuggestions(commonZones)
	s.inputs[2].SetValue(e.Draft.Settings.TimeZone)
	return s
}

var commonZones = []string{
	"America/New_York", "America/Chicago", "America/Denver", "America/Phoenix", "America/Los_Angeles",
	"America/Anchorage", "Pacific/Honolulu", "America/Detroit", "America/Indiana/Indianapolis",
	"America/Kentucky/Louisville", "America/Boise", "America/Puerto_Rico", "Pacific/Guam", "UTC",
}

func (s *DailySync) Init() tea.Cmd { return nil }
func (s *DailySync) ID() ID        { return DailySyncScreen }
func (s *DailySync) Crumb() string { return "District-Level Daily Sync" }
func (s *DailySync) Step() int     { return 6 }
func (s *DailySync) Typing() bool  { return s.focus >= dsThreshold && s.focus <= dsZone }

func (s *DailySync) ShortHelp() []key.Binding {
	k := s.c.Keys
	if s.guard {
		return []key.Binding{with(k.Confirm, "enable anyway"), with(k.Deny, "keep it off")}
	}
	return []key.Binding{k.Next, with(k.Toggle, "toggle"), k.Continue, k.Back}
}

func (s *DailySync) FullHelp() [][]key.Binding {
	k := s.c.Keys
	return [][]key.Binding{
		{k.Next, k.Prev},
		{with(k.Toggle, "toggle a checkbox"), with(k.Select, "toggle / next field / continue")},
		{with(k.Continue, "continue to permissions"), with(k.Back, "back (changes are kept)")},
	}
}

func (s *DailySync) setFocus(i int) tea.Cmd {
	s.focus = (i + dsFields) % dsFields
	var cmd tea.Cmd
	for j := range s.inputs {
		if dsThreshold+j == s.focus {
			cmd = s.inputs[j].Focus()
		} else {
			s.inputs[j].Blur()
		}
	}
	return cmd
}

func (s *DailySync) Update(msg tea.Msg) (Screen, tea.Cmd) {
	km, ok := msg.(tea.KeyPressMsg)
	if !ok {
		return s, nil
	}
	k := s.c.Keys
	if s.guard {
		switch {
		case key.Matches(km, k.Confirm):
			s.guard = false
			s.edit.Draft.Settings.EnableDailySync = true
			s.edit.Note(NoteEnabledBeforeSelfCheck)
		case km.String() == "n", key.Matches(km, k.Back):
			s.guard = false
		}
		return s, nil
	}
	switch {
	case key.Matches(km, k.Back):
		return s, s.c.Back()
	case km.String() == "tab" || km.String() == "down":
		if s.focus == dsZone && km.String() == "tab" && s.inputs[2].CurrentSuggestion() != "" && s.inputs[2].CurrentSuggestion() != s.inputs[2].Value() {
			break // let the field complete the suggestion
		}
		return s, s.setFocus(s.focus + 1)
	case km.String() == "shift+tab" || km.String() == "up":
		return s, s.setFocus(s.focus - 1)
	case key.Matches(km, k.Continue):
		return s, s.continueToPermissions()
	}
	switch {
	case s.focus <= dsContacts && (key.Matches(km, k.Toggle) || km.String() == "enter"):
		s.toggle(s.focus)
		return s, nil
	case s.focus == dsContinue && (km.String() == "enter" || km.String() == "space"):
		return s, s.continueToPermissions()
	case s.Typing() && km.String() == "enter":
		return s, s.setFocus(s.focus + 1)
	case s.Typing():
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

// apply copies a valid field value into the draft, or records its error.
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
		if _, _, err = store.ParseDailyStart(v); err == nil {
			set.DailyStart = strings.TrimSpace(v)
		}
	case 2:
		if _, err = store.LoadTimeZone(v); err == nil {
			set.TimeZone = strings.TrimSpace(v)
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
	st, set := s.c.Styles, s.edit.Draft.Settings
	var b strings.Builder
	b.WriteString(st.Title.Render("District-Level Daily Sync") + "\n")
	checks := [...]bool{set.EnableDailySync, set.ManageGuardians, set.UnarchiveReappearingClassrooms, set.UpdateActiveUserContacts}
	for i, on := range checks {
		b.WriteString(line(st, s.focus == i, checkbox(on)+" "+truncate(dailySyncLabels[i], s.c.Width-6)) + "\n")
	}
	labels := [...]string{"Deletion threshold (%): ", "Daily start time:       ", "Time zone:              "}
	for i, in := range s.inputs {
		field := labels[i] + in.View()
		b.WriteString(line(st, s.focus == dsThreshold+i, field) + "\n")
		if s.errs[i] != nil {
			b.WriteString(st.Error.Render(indent(wrap("✗ "+ErrText(s.errs[i]), s.c.Width-4), "    ")) + "\n")
		}
	}
	b.WriteString(line(st, s.focus == dsContinue, "Continue to permissions ›") + "\n")
	if s.blocked {
		b.WriteString(st.Error.Render("Fix the field marked ✗ before continuing.") + "\n")
	}
	b.WriteString("\n")
	w := s.c.Width - 4
	if s.guard {
		b.WriteString(st.Dialog.Render(st.Warning.Render("⚠ Enable Daily sync before the self-check?")+"\n"+
			wrap(SelfCheckWarning, w)+"\n\n"+"y: enable it anyway · n/esc: keep it off") + "\n")
	} else {
		b.WriteString(st.Box.Render(wrap(dailySyncHelp[s.focus], w)) + "\n")
	}
	b.WriteString(st.Note.Render(wrap(SMSNote, s.c.Width)) + "\n")
	if !set.ManageGuardians {
		b.WriteString(st.Warning.Render(wrap(GuardiansOffNote, s.c.Width)) + "\n")
	}
	return fit(b.String(), s.c.Height)
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
