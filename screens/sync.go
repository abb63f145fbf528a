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
	Err     error // the run could not happen (busy, no district)
	Cancel  func()
}

// planTable renders a run's counts: a row per record type, a column per
// action, and the cell under the cursor (row, col) marked; row < 0 marks
// nothing.
func planTable(st *Styles, run store.Run, row, col, width int) string {
	cellW := min(max((width-14)/5, 7), 11)
	var b strings.Builder
	b.WriteString(lipgloss.NewStyle().Width(14).Render(""))
	for _, a := range store.Actions {
		b.WriteString(st.ColumnHead.Render(lipgloss.PlaceHorizontal(cellW, lipgloss.Right, a)))
	}
	b.WriteString("\n")
	over := run.Reason == store.ReasonThreshold
	for r, typ := range store.RecordTypes {
		b.WriteString(lipgloss.NewStyle().Width(14).Render(line(st, r == row, typ)))
		c := run.Counts.Of(typ)
		for ci, a := range store.Actions {
			text := fmt.Sprint(*c.Of(a))
			if tried := *run.TriedToArchive.Of(typ); over && a == store.ActionArchive && tried > 0 {
				text = fmt.Sprintf("0 (%d)", tried)
			}
			if r == row && ci == col {
				text = st.CellFocus.Render("›" + text)
			}
			b.WriteString(lipgloss.PlaceHorizontal(cellW, lipgloss.Right, text))
		}
		b.WriteString("\n")
	}
	return strings.TrimRight(b.String(), "\n")
}

// RunLine is a run in one line, for Home and the history.
func RunLine(r store.Run) string {
	mode := "sync"
	if r.Mode == store.ModeDryRun {
		mode = "preview"
	}
	text := fmt.Sprintf("%s %s", mode, r.Status)
	if r.Reason != "" {
		text += " (" + r.Reason + ")"
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
	return text + fmt.Sprintf(", %s", plural(r.Counts.Changes(), "change"))
}

// runDetail is the explanation under the plan table.
func runDetail(st *Styles, run store.Run, width int) string {
	var lines []string
	switch {
	case run.Reason == store.ReasonThreshold:
		lines = append(lines, st.Error.Render(wrap("Over the deletion threshold: nothing was archived (numbers in brackets are what the run tried to archive). Creates and updates still count. Check the roster in ClassLink, or raise the threshold if the change is expected.", width)))
	case run.Status == store.RunFailed:
		lines = append(lines, st.Error.Render(wrap(fmt.Sprintf("Failed (%s): %s", run.Reason, untrusted.Text(run.Message)), width)))
	case run.Status == store.RunInterrupted:
		lines = append(lines, st.Warning.Render(wrap(untrusted.Text(run.Message), width)))
	case run.Status == store.RunUnchanged:
		lines = append(lines, st.Success.Render(wrap("Nothing changed in ClassLink or in the settings since the last sync.", width)))
	}
	if w := run.Warnings; w.InvalidPhone > 0 || w.GuardianWithoutContact > 0 {
		lines = append(lines, st.Warning.Render(wrap(fmt.Sprintf("Warnings: %d invalid phone numbers (left empty), %d guardians without a unique email or valid SMS (skipped)", w.InvalidPhone, w.GuardianWithoutContact), width)))
	}
	return strings.Join(lines, "\n")
}

// samplesOf picks the kept samples of one cell.
func samplesOf(all []SyncSample, typ, action string) []SyncSample {
	return slices.DeleteFunc(slices.Clone(all), func(s SyncSample) bool { return s.Type != typ || s.Action != action })
}

// PreviewPassed reports whether d's latest preview, at its saved revision,
// succeeded without crossing the deletion threshold: what the self-check
// step and "Run sync now" need.
func PreviewPassed(db *store.DB, d store.District) bool {
	r, ok, err := db.LastPreview(d.TenantID)
	return err == nil && ok && r.ConfigRevision == d.Revision && r.Status != store.RunFailed
}
