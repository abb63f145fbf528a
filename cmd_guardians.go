package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/schoolstatus/rostersync/guardians"
	"github.com/schoolstatus/rostersync/server"
	"github.com/schoolstatus/rostersync/store"
	rsync "github.com/schoolstatus/rostersync/sync"
	"github.com/schoolstatus/rostersync/untrusted"
	"github.com/schoolstatus/rostersync/wizard"
)

// guardiansCommand is `rostersync guardians`: guardians.csv for districts
// whose guardians do not come from ClassLink.
func guardiansCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "guardians",
		Short: "Guardians from a guardians.csv: sample, upload, SFTP folder test",
		Long: `When "Allow sync to manage Guardians" is off, a district's guardians come
from a guardians.csv, uploaded here (or on the wizard's Upload Guardians
screen) or read from its SFTP folder by the daily sync. Columns:
` + strings.Join(guardians.Columns[:], ",") + ` (see the README).`,
	}
	cmd.AddCommand(guardiansSampleCommand(), guardiansUploadCommand(), guardiansSFTPCommand())
	return cmd
}

func guardiansSampleCommand() *cobra.Command {
	var district string
	cmd := &cobra.Command{
		Use:   "sample [--district TENANT]",
		Short: "Print a sample guardians.csv",
		Long: `Prints a small guardians.csv with every column. With --district it uses
three of the district's own students, so the file can be uploaded as it
is (try it with --dry-run).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if district == "" {
				return guardians.WriteSample(cmd.OutOrStdout(), nil)
			}
			db, d, err := openDistrictReadOnly(district)
			if err != nil {
				return err
			}
			defer db.Close()
			return rsync.WriteSample(cmd.OutOrStdout(), db, d.TenantID)
		},
	}
	cmd.Flags().StringVar(&district, "district", "", "take the students from this district (Tenant ID)")
	return cmd
}

func guardiansUploadCommand() *cobra.Command {
	var district, resultPath, encoding string
	var dryRun, abandon, asJSON bool
	var batch int
	cmd := &cobra.Command{
		Use:   "upload --district TENANT FILE|- [--dry-run] [--abandon] [--result result.csv] [--json] [--batch-size N]",
		Short: "Process a guardians.csv (Upload Guardians)",
		Long: `Reads FILE (or standard input for -), checks every row against the
district's directory and applies it: guardians are created or updated and
linked to their students; a row whose email or mobile belongs to a synced
staff member links that staff account instead. The run is recorded in the
history like a sync.

--dry-run checks and plans the file and records the run, changing nothing
else. --abandon also archives guardians created from earlier files that
this file does not name (never deletes them; at most the deletion
threshold of the guardians) and drops staff links it no longer makes.
--result writes the file back with a result and an action column per row
(CREATED, UPDATED, LINKED, UNCHANGED, ERROR).

Exit status: 0 when the file was processed, even with row errors; 1 when
it was refused as a whole (bad header, wrong encoding, more than half the
rows errors: nothing changed) or the run failed (over the deletion
threshold: nothing was archived).`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := parseDistrict(district)
			if err != nil {
				return err
			}
			if encoding != "" {
				if _, err := guardians.ParseEncoding(encoding); err != nil {
					return fmt.Errorf("--%w", err)
				}
			}
			if batch < 1 {
				return fmt.Errorf("--batch-size: must be a positive whole number of directory writes per transaction, got %d", batch)
			}
			var in io.Reader = cmd.InOrStdin()
			if args[0] != "-" {
				f, err := os.Open(args[0])
				if err != nil {
					return err
				}
				defer f.Close()
				in = f
			}
			out := cmd.OutOrStdout()
			up := server.GuardiansUpload{TenantID: id, Name: args[0], DryRun: dryRun, Abandon: abandon, Encoding: encoding, WantResult: resultPath != ""}
			var res server.GuardiansUploadResult
			db, err := openExisting()
			var inUse *store.InUseError
			switch {
			case errors.As(err, &inUse) && socketExists():
				// `serve` holds the database: its engine processes the file.
				if up.Data, err = io.ReadAll(io.LimitReader(in, guardians.MaxFileBytes+1)); err != nil {
					return err
				}
				if res, err = server.UploadGuardians(server.AdminSocketPath(dbPath), up); err != nil {
					return err
				}
			case err != nil:
				return err
			default:
				defer db.Close()
				show := newProgressLine(out, out == io.Writer(os.Stdout) && isTerminal(os.Stdout))
				if asJSON {
					show = newProgressLine(io.Discard, false)
				}
				engine := newEngine(db, classLink())
				engine.BatchSize = batch
				res, err = server.ProcessGuardians(cmd.Context(), engine, up, in, show.update)
				show.done()
				if err != nil {
					return err
				}
			}
			if resultPath != "" && res.Result != nil {
				if err := writeResultFile(resultPath, res.Result); err != nil {
					return err
				}
			}
			if asJSON {
				if err := printJSON(out, res.Run); err != nil {
					return err
				}
			} else {
				writeFileSummary(out, *res.Run, res.Rows, res.RowsTotal)
				if resultPath != "" && res.Result != nil {
					fmt.Fprintf(out, "Result file: %s\n", resultPath)
				}
			}
			if res.Run.Status == store.RunFailed {
				return fmt.Errorf("guardians file for district %d: %s: %s", id, res.Run.Reason, res.Run.Message)
			}
			return nil
		},
	}
	districtFlag(cmd, &district)
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "check and plan the file; write nothing but the run record")
	cmd.Flags().BoolVar(&abandon, "abandon", false, "archive guardians from earlier files that this file does not name")
	cmd.Flags().StringVar(&resultPath, "result", "", "write the result file (the rows with result and action columns) to this path")
	cmd.Flags().StringVar(&encoding, "encoding", "", "utf-8 or iso-8859-1 (default: the district's guardians encoding, utf-8)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the run as JSON (the history contract)")
	cmd.Flags().IntVar(&batch, "batch-size", rsync.DefaultBatchSize, "directory writes committed per transaction")
	return cmd
}

// writeResultFile writes the result file with mode 0600: it holds
// people's contact details.
func writeResultFile(path string, data []byte) error {
	out, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("--result: %w", err)
	}
	if _, err := out.Write(data); err != nil {
		out.Close()
		return fmt.Errorf("--result: %w", err)
	}
	return out.Close()
}

// writeFileSummary prints what a run did with its guardians file: counts
// per action, then the notable rows (errors first).
func writeFileSummary(w io.Writer, r store.Run, rows []server.GuardiansRow, total int) {
	gf := r.GuardiansFile
	if gf == nil {
		return
	}
	what := "Guardians file"
	if r.Trigger != store.TriggerGuardiansFile {
		what = "Guardians file from SFTP"
	}
	name := gf.Name
	if name == "" {
		name = guardians.FileName
	}
	fmt.Fprintf(w, "%s %s: %s", what, name, gf.Status)
	if r.Mode == store.ModeDryRun && gf.Status == store.FileProcessed {
		fmt.Fprint(w, " (dry run: nothing was changed)")
	}
	if r.Trigger == store.TriggerGuardiansFile {
		status := r.Status
		if r.Reason != "" {
			status += " (" + r.Reason + ")"
		}
		fmt.Fprintf(w, " · run %s %s in %s", r.ID, status, r.FinishedAt.Sub(r.StartedAt).Round(time.Millisecond))
	}
	fmt.Fprintln(w)
	if gf.FileSHA256 != "" {
		fmt.Fprintf(w, "%d bytes · sha256 %s\n", gf.Size, gf.FileSHA256)
	}
	if gf.Status == store.FileProcessed || gf.Status == store.FileRefused && gf.Rows > 0 {
		fmt.Fprintf(w, "%d rows: %d created, %d updated, %d linked, %d unchanged, %d archived; %d errors, %d warnings\n",
			gf.Rows, gf.Created, gf.Updated, gf.Linked, gf.Unchanged, gf.Archived, gf.Errors, gf.Warnings)
	}
	switch {
	case r.Trigger == store.TriggerGuardiansFile && r.Message != "":
		fmt.Fprintln(w, untrusted.Text(r.Message))
	case gf.Message != "" && !strings.Contains(r.Message, gf.Message):
		fmt.Fprintln(w, untrusted.Text(gf.Message)) // a sync's own message was printed before
	}
	if len(rows) == 0 {
		return
	}
	fmt.Fprintln(w, "\nRows (errors first):")
	for _, row := range rows {
		line := fmt.Sprintf("  line %-5d %-9s %s → %s", row.Line, row.Action, untrusted.Text(row.GuardianID), untrusted.Text(row.StudentID))
		if row.Result != "success" {
			line += ": " + untrusted.Text(row.Result)
		}
		fmt.Fprintln(w, line)
	}
	if more := total - len(rows); more > 0 {
		fmt.Fprintf(w, "  … and %d more rows (--result writes them all)\n", more)
	}
}

func guardiansSFTPCommand() *cobra.Command {
	sftp := &cobra.Command{Use: "sftp", Short: "The district's SFTP guardians folder"}
	var district, trust string
	var asJSON bool
	test := &cobra.Command{
		Use:   "test --district TENANT [--trust-host-key SHA256:…] [--json]",
		Short: "Connect to the SFTP folder, pin its host key, and look for guardians.csv",
		Long: `Connects to the district's SFTP folder with its saved settings and looks for
guardians.csv without reading it.

The server's host key must be pinned before the daily sync reads anything.
When none is pinned (or the server presents another one), the test shows the
key's SHA256 fingerprint and stops: compare it with the one the server's
administrator gives you (ssh-keygen -lf on the server's key), then confirm it
with --trust-host-key SHA256:… or by answering y when asked on a terminal.
The confirmed key is saved as the district's next revision.

Exit status: 0 when the connection works with a pinned key; 1 otherwise.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if trust != "" {
				if err := store.ValidateHostKey(trust); err != nil {
					return flagError("trust-host-key", err)
				}
			}
			db, d, err := openDistrict(district)
			if err != nil {
				return err
			}
			defer db.Close()
			out := cmd.OutOrStdout()
			r := rsync.TestSFTP(cmd.Context(), nil, d, trust)
			if (r.Unpinned || r.Mismatch) && trust == "" && !asJSON && isTerminal(os.Stdin) && isTerminal(os.Stdout) {
				fmt.Fprintln(out, hostKeyQuestion(r))
				fmt.Fprint(out, "Trust this host key and pin it for the district? Type y to confirm: ")
				answer, _ := bufio.NewReader(cmd.InOrStdin()).ReadString('\n')
				if strings.TrimSpace(answer) == "y" {
					r = rsync.TestSFTP(cmd.Context(), nil, d, r.HostKey)
				} else {
					fmt.Fprintln(out, "Not pinned.")
				}
			}
			if r.OK && !r.Pinned {
				actor := wizard.LocalActor()
				actor.Via = "guardians sftp test"
				saved, err := pinHostKey(db, d, r.HostKey, actor)
				if err != nil {
					return err
				}
				r.Pinned = true
				if !asJSON {
					fmt.Fprintf(out, "Pinned host key %s for district %d (revision %d).\n", r.HostKey, saved.TenantID, saved.Revision)
				}
			}
			if asJSON {
				if err := printJSON(out, r); err != nil {
					return err
				}
			} else {
				fmt.Fprintln(out, sftpReportText(r))
			}
			if !r.OK {
				return errors.New("the SFTP folder test failed")
			}
			return nil
		},
	}
	districtFlag(test, &district)
	test.Flags().StringVar(&trust, "trust-host-key", "", "the server's host key fingerprint (SHA256:…) you checked with its administrator")
	test.Flags().BoolVar(&asJSON, "json", false, "print the result as JSON")
	sftp.AddCommand(test)
	return sftp
}

// pinHostKey saves the confirmed host key as the district's next revision.
func pinHostKey(db *store.DB, d store.District, fingerprint string, who store.Actor) (store.District, error) {
	d.Guardians.SFTP.HostKey = fingerprint
	saved, _, err := db.SaveDistrict(d, d.Revision, who, []string{"SFTP host key pinned after a connection test, confirmed by the person"})
	return saved, err
}

// hostKeyQuestion explains an unpinned or changed host key before asking.
func hostKeyQuestion(r rsync.SFTPReport) string {
	if r.Mismatch {
		return fmt.Sprintf("WARNING: the SFTP server %s now presents host key %s (%s), not the pinned one.\nSomeone may be intercepting the connection. Only continue if the server's administrator confirms the key changed.", r.Addr, r.HostKey, r.KeyType)
	}
	return fmt.Sprintf("The SFTP server %s presents host key %s (%s).\nCompare it with the fingerprint the server's administrator gives you.", r.Addr, r.HostKey, r.KeyType)
}

// sftpReportText is the test's outcome for people.
func sftpReportText(r rsync.SFTPReport) string {
	if !r.OK {
		return "SFTP folder test failed: " + r.Error // an unpinned key's error names the command that pins it
	}
	file := "not there yet"
	if r.Found {
		file = fmt.Sprintf("found, %d bytes", r.Size)
	}
	return fmt.Sprintf("Connected to %s · host key %s (pinned) · %s: %s", r.Addr, r.HostKey, r.Path, file)
}
