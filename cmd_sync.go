package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"charm.land/log/v2"
	"github.com/spf13/cobra"

	"github.com/schoolstatus/rostersync/screens"
	"github.com/schoolstatus/rostersync/store"
	rsync "github.com/schoolstatus/rostersync/sync"
	"github.com/schoolstatus/rostersync/untrusted"
)

// syncCommand is `rostersync sync`: one manual run of a district's sync.
func syncCommand() *cobra.Command {
	var district string
	var dryRun, asJSON, full bool
	var batch int
	var budget time.Duration
	cmd := &cobra.Command{
		Use:   "sync --district TENANT [--dry-run] [--json] [--full] [--full-pull-days N] [--batch-size N] [--time-budget 30m]",
		Short: "Pull the district's roster from ClassLink and apply it to the Connect directory",
		Long: `Pulls the whole roster from ClassLink, plans what the district's saved
settings make of it, checks the deletion threshold, applies it to the
Connect directory and records the run (see history). --dry-run records the
run and shows what would change without changing anything. A run that has
not begun to change the directory after --time-budget (waits ClassLink asks
for included) fails with reason upstream and changes nothing; reading
guardians.csv from an SFTP folder has what is left of it (at least 5m, or
the whole budget when shorter).

With no database at --db yet, it makes one holding the built-in demo
district (Tenant 2), so "rostersync sync --district 2" works at once; a run
that cannot happen leaves no new database behind.

Exit status: 0 when the run succeeded or found nothing changed; 1 when it
failed, with the reason (threshold, credentials, schools_not_found,
upstream, storage, guardians_file: the SFTP folder's guardians.csv could
not be read or was refused, after the roster was applied). ctrl+c (SIGINT) or SIGTERM stops the run, which is
recorded as cancelled.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			id, err := parseDistrict(district)
			if err != nil {
				return err
			}
			if batch < 1 {
				return fmt.Errorf("--batch-size: must be a positive whole number of directory writes per transaction, got %d", batch)
			}
			if err := rsync.CheckRunBudget(budget); err != nil {
				return fmt.Errorf("--time-budget: %w", err)
			}
			if err := checkFullPullDays(); err != nil {
				return err
			}
			// A first `rostersync sync --district 2` works on a machine
			// with no database yet: it is made, with the demo district.
			db, created, err := openOrCreate()
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			show := newProgressLine(out, out == io.Writer(os.Stdout) && isTerminal(os.Stdout))
			if asJSON {
				show = newProgressLine(io.Discard, false)
			}
			samples := 0
			if dryRun && !asJSON {
				samples = 3
			}
			engine := newEngine(db, classLink())
			engine.BatchSize, engine.RunBudget = batch, budget
			// The stack of a run stopped by a bug; warnings are in the
			// run's message already.
			engine.Log = log.NewWithOptions(os.Stderr, log.Options{Level: log.ErrorLevel, Prefix: "rostersync"})
			res, err := engine.Run(cmd.Context(), id, rsync.RunOptions{DryRun: dryRun, Trigger: store.TriggerManual, Progress: show.update, Samples: samples, FullPull: full})
			show.done()
			// A run that could not happen (no such district, …) leaves no
			// database it made; a recorded run keeps it.
			closeOrDiscard(db, created, err)
			if err != nil {
				return err
			}
			if asJSON {
				if err := printJSON(out, res.Run); err != nil {
					return err
				}
			} else {
				writeRunSummary(out, res)
			}
			if res.Run.Reason == store.ReasonStorage {
				return errors.New(res.Run.Message) // names the file and says what to run
			}
			if res.Run.Status == store.RunFailed {
				return fmt.Errorf("sync of district %d failed: %s", id, res.Run.Reason)
			}
			return nil
		},
	}
	districtFlag(cmd, &district)
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "show what would change; write nothing but the run record")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the run as JSON (the history contract)")
	cmd.Flags().IntVar(&batch, "batch-size", rsync.DefaultBatchSize, "directory writes committed per transaction")
	timeBudgetFlag(cmd, &budget)
	cmd.Flags().BoolVar(&full, "full", false, "pull the whole roster, not only what changed since the last run")
	fullPullFlag(cmd)
	return cmd
}

func isTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// progressLine shows a run's progress: one rewritten line on a terminal,
// plain lines otherwise (every 10,000 records pulled, every batch applied).
type progressLine struct {
	w     io.Writer
	tty   bool
	last  rsync.Progress
	shown time.Time
	dirty bool
}

func newProgressLine(w io.Writer, tty bool) *progressLine { return &progressLine{w: w, tty: tty} }

func (p *progressLine) update(pr rsync.Progress) {
	text := progressText(pr)
	if p.tty {
		// Redraw at most ten times a second, always on a phase change.
		if pr.Phase == p.last.Phase && time.Since(p.shown) < 100*time.Millisecond {
			p.last = pr
			return
		}
		fmt.Fprintf(p.w, "\r\033[K%s", text)
		p.dirty = true
	} else if pr != p.last {
		fmt.Fprintln(p.w, text)
	}
	p.last, p.shown = pr, time.Now()
}

func (p *progressLine) done() {
	if p.tty && p.dirty {
		fmt.Fprint(p.w, "\r\033[K")
	}
}

func progressText(pr rsync.Progress) string {
	switch pr.Phase {
	case rsync.PhasePull:
		if pr.FullPull != "" {
			return "pulling the whole roster: " + pr.FullPull
		}
		s := fmt.Sprintf("pulling %s: %d records", pr.Collection, pr.Records)
		switch pr.Pass {
		case rsync.PassChanges:
			s = fmt.Sprintf("pulling %s changed since the last run: %d records", pr.Collection, pr.Records)
		case rsync.PassIDs:
			s = fmt.Sprintf("checking which %s are still there: %d", pr.Collection, pr.Records)
		}
		if pr.Attempt > 1 {
			s += fmt.Sprintf(" (attempt %d: the roster changed during the pull)", pr.Attempt)
		}
		return s
	case rsync.PhasePlan:
		if pr.Applied > 0 {
			return fmt.Sprintf("planning: %d directory writes committed so far", pr.Applied)
		}
	case rsync.PhaseApply:
		return fmt.Sprintf("applying: %d of %d directory writes", pr.Applied, pr.ToApply)
	case rsync.PhaseCheck:
		return "checking ClassLink's roster revision"
	case rsync.PhaseGuardiansFile:
		return "reading the guardians file"
	}
	return pr.Phase
}

// writeRunSummary prints a run as a table of counts, then its samples.
func writeRunSummary(w io.Writer, res rsync.Result) {
	r := res.Run
	what := "Sync"
	if r.Mode == store.ModeDryRun {
		what = "Dry run (nothing was changed)"
	}
	status := r.Status
	if r.Reason != "" {
		status += " (" + r.Reason + ")"
	}
	fmt.Fprintf(w, "%s of district %d: %s in %s\n", what, r.TenantID, status, r.FinishedAt.Sub(r.StartedAt).Round(time.Millisecond))
	fmt.Fprintf(w, "run %s · config revision %d · roster revision %q\n", r.ID, r.ConfigRevision, r.PermRev)
	writeRunMessage(w, r)
	writeFileSummary(w, r, nil, 0)
	if r.Status == store.RunUnchanged {
		fmt.Fprintln(w, "Nothing changed in ClassLink or in the settings since the last sync.")
		return
	}
	if !screens.RunPlanned(r) {
		return // it ended before planning: there are no counts to show
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "TYPE\tCREATE\tUPDATE\tARCHIVE\tUNARCHIVE\tSKIP\t")
	for _, typ := range store.RecordTypes {
		c := r.Counts.Of(typ)
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t\n", typ, c.Create, c.Update, c.Archive, c.Unarchive, c.Skip)
	}
	tw.Flush()
	t := r.TriedToArchive
	if t != (store.TriedToArchive{}) {
		fmt.Fprintf(w, "\nTried to archive: %d students, %d staff, %d guardians, %d classrooms (none archived).\n", t.Students, t.Staff, t.Guardians, t.Classrooms)
	}
	fmt.Fprintf(w, "\nWarnings: %d invalid phone numbers, %d guardians without a unique email or valid SMS number.\n", r.Warnings.InvalidPhone, r.Warnings.GuardianWithoutContact)
	if len(res.Samples) > 0 {
		fmt.Fprintln(w, "\nExamples:")
		for _, s := range res.Samples {
			line := fmt.Sprintf("  %-11s %-9s %s", s.Type, s.Action, s.SourcedID)
			if s.Name != "" {
				line += " (" + s.Name + ")"
			}
			if len(s.Fields) > 0 {
				line += ": " + strings.Join(s.Fields, ", ")
			}
			if s.Reason != "" {
				line += ": " + s.Reason
			}
			fmt.Fprintln(w, untrusted.Text(line))
		}
	}
}

// writeRunMessage says what became of a failed run, why and what to do
// (sync.ExplainRun), then the technical detail when it says more; a run
// that did not fail prints its message (a warning) as it is.
func writeRunMessage(w io.Writer, r store.Run) {
	explained := rsync.ExplainRun(r)
	if explained == "" {
		if r.Message != "" {
			fmt.Fprintln(w, untrusted.Text(r.Message))
		}
		return
	}
	fmt.Fprintln(w, untrusted.Text(explained))
	if tech := screens.RunTechnical(r, explained); tech != "" {
		fmt.Fprintln(w, "Detail: "+untrusted.Text(tech))
	}
}

// timeBudgetFlag is --time-budget: how long a run may take before it
// changes anything (rsync.Engine.RunBudget).
func timeBudgetFlag(cmd *cobra.Command, budget *time.Duration) {
	cmd.Flags().DurationVar(budget, "time-budget", rsync.DefaultRunBudget,
		fmt.Sprintf("fail a run that has not begun to change the directory after this long, ClassLink's Retry-After waits included (%s to %s)", rsync.MinRunBudget, rsync.MaxRunBudget))
}
