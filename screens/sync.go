package screens

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"charm.land/lipgloss/v2"

	"github.com/schoolstatus/rostersync/store"
	"github.com/schoolstatus/rostersync/untrusted"
)

// SyncSample is one planned change kept for the preview.
type SyncSample struct {
	Type, Action, SourcedID, Name string
	Fields                        []string
	Reason                        string
}

// SyncState is a sync run as the screens see it: started by the router
// (Common.StartSync), which keeps it up to date as the run goes.
type SyncState struct {
	DryRun  bool
	Started time.Time
	Phase   string         // checking, pulling, planning, applying
	Totals  map[string]int // X-Total-Count per collection, when known
	Pulled  map[string]int // records arrived per collection
	Applied int
	ToApply int
	Attempt int

	Done    bool
	Run     store.Run
	Samples []SyncSample
	Err     error // the run could not happen (busy, no school connected)
	Cancel  func()
}

// reasonTexts are the failure reasons in words for people; the codes stay
// in the JSON and the technical detail.
var reasonTexts = map[string]string{
	store.ReasonThreshold:       "over the deletion threshold",
	store.ReasonCredentials:     "ClassLink refused the connection",
	store.ReasonSchoolsNotFound: "a connected school is missing from ClassLink",
	store.ReasonUpstream:        "ClassLink could not be reached",
	store.ReasonCancelled:       "stopped after it had begun to change the directory",
	store.ReasonGuardiansFile:   "the guardians file was refused or could not be read",
	store.ReasonStorage:         "the database could not be read or written",
}

// ReasonText is a run's failure reason in words.
func ReasonText(reason string) string {
	if t, ok := reasonTexts[reason]; ok {
		return t
	}
	return reason
}

// RunLine is a run in one line, for Home and the history.
func RunLine(r store.Run) string {
	mode := "sync"
	if r.Mode == store.ModeDryRun {
		mode = "preview"
	}
	status := r.Status
	if r.Status == store.RunUnchanged {
		status = "found nothing changed"
	}
	text := mode + " " + status
	if r.Reason != "" {
		text += " (" + ReasonText(r.Reason) + ")"
	}
	if r.Trigger == store.TriggerSchedule {
		text += ", scheduled"
	}
	if p := r.Progress; p != nil {
		// Unfinished: its counts are not known, how far it got is.
		if p.Applied > 0 && p.ToApply > 0 {
			return text + fmt.Sprintf(", %d of %d writes applied", p.Applied, p.ToApply)
		}
		if p.Applied > 0 {
			return text + fmt.Sprintf(", %d writes applied", p.Applied)
		}
		return text + ", while " + p.Phase
	}
	return text + ", " + plural(r.Counts.Changes(), "change")
}

// planTable renders a run's counts: a row per record type, a column per
// action, and the cell under the cursor (row, col) marked; row < 0 marks
// nothing. Wide terminals get even columns; narrow ones columns as wide
// as their numbers, with "unarchive" over two lines.
func planTable(st *Styles, run store.Run, row, col, width int) string {
	const labelW = 13 // "› memberships"
	over := run.Reason == store.ReasonThreshold
	cells := make([][]string, len(store.RecordTypes))
	for r, typ := range store.RecordTypes {
		c := run.Counts.Of(typ)
		for _, a := range store.Actions {
			text := fmt.Sprint(*c.Of(a))
			if tried := *run.TriedToArchive.Of(typ); over && a == store.ActionArchive && tried > 0 {
				text = fmt.Sprintf("0 (%d)", tried)
			}
			cells[r] = append(cells[r], text)
		}
	}
	heads := [][]string{store.Actions}
	widths := make([]int, len(store.Actions))
	for i := range widths {
		widths[i] = 11
	}
	if (width-labelW)/len(store.Actions) < 10 {
		heads = [][]string{{"", "", "", "un-", ""}, {"create", "update", "archive", "archive", "skip"}}
		for i := range widths {
			widths[i] = 0
			for _, h := range heads {
				widths[i] = max(widths[i], lipgloss.Width(h[i]))
			}
			for r := range cells {
				widths[i] = max(widths[i], lipgloss.Width(cells[r][i])+1) // room for the cursor mark
			}
			widths[i]++ // a space between columns
		}
	}
	var b strings.Builder
	for _, h := range heads {
		b.WriteString(strings.Repeat(" ", labelW))
		for i, text := range h {
			b.WriteString(st.ColumnHead.Render(lipgloss.PlaceHorizontal(widths[i], lipgloss.Right, text)))
		}
		b.WriteString("\n")
	}
	for r, typ := range store.RecordTypes {
		b.WriteString(lipgloss.NewStyle().Width(labelW).Render(line(st, r == row, typ)))
		for ci, text := range cells[r] {
			if r == row && ci == col {
				text = st.CellFocus.Render("›" + text)
			}
			b.WriteString(lipgloss.PlaceHorizontal(widths[ci], lipgloss.Right, text))
		}
		b.WriteString("\n")
	}
	return strings.TrimRight(b.String(), "\n")
}

// runDetail is the explanation under the plan table; detail adds the
// technical message of a failure.
func runDetail(st *Styles, run store.Run, width int, detail bool) string {
	var lines []string
	switch {
	case run.Reason == store.ReasonThreshold:
		lines = append(lines, st.Error.Render(wrap("Over the deletion threshold: nothing was archived (numbers in brackets are what the run tried to archive). Creates and updates still count. Check the roster in ClassLink, or raise the threshold if the change is expected.", width)))
	case run.Reason == store.ReasonSchoolsNotFound:
		lines = append(lines, st.Error.Render(wrap(upperFirst(run.Message)+".", width)))
	case run.Reason == store.ReasonCredentials:
		lines = append(lines, st.Error.Render(wrap("ClassLink refused the connection: check ⋮ → ClassLink connection (t on the District Home Page tests it). Nothing was changed.", width)))
	case run.Reason == store.ReasonCancelled:
		lines = append(lines, st.Warning.Render(wrap("Stopped before it finished: the counts are the changes it made. The next sync completes the rest.", width)))
	case run.Status == store.RunFailed:
		if run.Reason == store.ReasonStorage {
			lines = append(lines, st.Error.Render(wrap(untrusted.Text(upperFirst(run.Message)), width)))
			break
		}
		lines = append(lines, st.Error.Render(wrap("ClassLink could not be reached, or its answer was incomplete; nothing was changed. Try again in a few minutes.", width)))
	case run.Status == store.RunInterrupted:
		lines = append(lines, st.Warning.Render(wrap(untrusted.Text(run.Message), width)))
	case run.Status == store.RunUnchanged:
		lines = append(lines, st.Success.Render(wrap("Nothing changed in ClassLink or in the settings since the last sync.", width)))
	}
	if run.Status == store.RunFailed && run.Reason != store.ReasonThreshold && run.Reason != store.ReasonSchoolsNotFound && run.Reason != store.ReasonStorage {
		if detail {
			lines = append(lines, st.Muted.Render(wrap("Detail ("+run.Reason+"): "+run.Message, width)))
		} else {
			lines = append(lines, st.Muted.Render("d shows the technical detail"))
		}
	}
	if w := run.Warnings; w.InvalidPhone > 0 || w.GuardianWithoutContact > 0 {
		lines = append(lines, st.Warning.Render(wrap(fmt.Sprintf("Warnings: %d invalid phone numbers (left empty), %d guardians without a unique email or valid SMS (skipped)", w.InvalidPhone, w.GuardianWithoutContact), width)))
	}
	return strings.Join(lines, "\n")
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// samplesOf picks the kept samples of one cell.
func samplesOf(all []SyncSample, typ, action string) []SyncSample {
	return slices.DeleteFunc(slices.Clone(all), func(s SyncSample) bool { return s.Type != typ || s.Action != action })
}
