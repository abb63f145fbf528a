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
	store.ReasonInternal:        "an internal error stopped it",
}

// ReasonText is a failure reason in words.
func ReasonText(reason string) string {
	if t, ok := reasonTexts[reason]; ok {
		return t
	}
	return reason
}

// runReason is why r failed, in a few words: a guardians file's failure
// says which file and what became of it.
func runReason(r store.Run) string {
	if r.Reason != store.ReasonGuardiansFile {
		return ReasonText(r.Reason)
	}
	failed := r.GuardiansFile != nil && r.GuardiansFile.Status == store.FileFailed
	switch {
	case r.Cancelled():
		return "cancelled"
	case !r.Roster() && failed:
		return "the file could not be read"
	case !r.Roster():
		return "the file was refused"
	case failed:
		return "guardians.csv could not be read"
	}
	return "guardians.csv was refused"
}

// RunWhat names a run: a sync, a preview, or a guardians file upload (a
// dry run or applied), never an upload called a sync.
func RunWhat(r store.Run) string {
	switch {
	case !r.Roster() && r.Mode == store.ModeDryRun:
		return "guardians file upload (dry run)"
	case !r.Roster():
		return "guardians file upload"
	case r.Mode == store.ModeDryRun:
		return "preview"
	}
	return "sync"
}

// RunPlanned reports a finished run whose counts are a plan (or what was
// applied): every run but one that failed before planning. A run over the
// threshold planned; so did a roster run whose guardians file failed
// after the roster part.
func RunPlanned(r store.Run) bool {
	switch {
	case r.Status != store.RunFailed, r.Reason == store.ReasonThreshold:
		return true
	}
	return r.Reason == store.ReasonGuardiansFile && r.Roster() && !r.Cancelled()
}

// RunLine is a run in one line, for Home and the history.
func RunLine(r store.Run) string {
	status := r.Status
	if r.Status == store.RunUnchanged {
		status = "found nothing changed"
	}
	text := RunWhat(r) + " " + status
	if r.Reason != "" {
		text += " (" + runReason(r) + ")"
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
			return text + fmt.Sprintf(", %s applied", plural(p.Applied, "write"))
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

// runDetail is the explanation under the plan table (what happened, why,
// what to do: Common.ExplainRun); detail adds the technical message of a
// failure, when it says more.
func runDetail(c *Common, run store.Run, width int, detail bool) string {
	st := c.Styles
	var lines []string
	if text := c.explainRun(run); text != "" {
		style := st.Error
		if run.Status == store.RunInterrupted || run.Reason == store.ReasonCancelled {
			style = st.Warning
		}
		lines = append(lines, style.Render(wrap(untrusted.Text(text), width)))
	}
	if run.Status == store.RunUnchanged {
		lines = append(lines, st.Success.Render(wrap("Nothing changed in ClassLink or in the settings since the last sync.", width)))
	}
	if tech := c.runTechnical(run); tech != "" {
		if detail {
			lines = append(lines, st.Muted.Render(wrap(untrusted.Text("Detail ("+run.Reason+"): "+tech), width)))
		} else {
			lines = append(lines, st.Muted.Render("d shows the technical detail"))
		}
	}
	if w := run.Warnings; w.InvalidPhone > 0 || w.GuardianWithoutContact > 0 {
		lines = append(lines, st.Warning.Render(wrap(fmt.Sprintf("Warnings: %s (left empty), %s without a unique email or valid SMS (skipped)",
			plural(w.InvalidPhone, "invalid phone number"), plural(w.GuardianWithoutContact, "guardian")), width)))
	}
	return strings.Join(lines, "\n")
}

// explainRun is Common.ExplainRun, or the run's own message without it.
func (c *Common) explainRun(r store.Run) string {
	if c.ExplainRun != nil {
		return c.ExplainRun(r)
	}
	if r.Status == store.RunFailed || r.Status == store.RunInterrupted {
		return upperFirst(r.Message)
	}
	return ""
}

// runTechnical is a failed run's technical message, when the explanation
// does not already say it in full ("" then: d has nothing more to show).
// Threshold, missing schools, storage and guardians file failures are
// explained with their message.
func (c *Common) runTechnical(r store.Run) string { return RunTechnical(r, c.explainRun(r)) }

// RunTechnical is runTechnical for an explanation already made (the CLI's).
func RunTechnical(r store.Run, explained string) string {
	switch {
	case r.Status != store.RunFailed, r.Message == "", r.Cancelled():
		return ""
	case r.Reason == store.ReasonThreshold, r.Reason == store.ReasonSchoolsNotFound, r.Reason == store.ReasonStorage, r.Reason == store.ReasonGuardiansFile:
		return ""
	case strings.Contains(strings.ToLower(explained), strings.ToLower(strings.TrimSuffix(r.Message, "."))):
		return ""
	}
	return r.Message
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
