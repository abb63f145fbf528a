package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/schoolstatus/rostersync/server"
	"github.com/schoolstatus/rostersync/store"
)

func dbCommand() *cobra.Command {
	db := &cobra.Command{Use: "db", Short: "Check, back up and compact the database (see README: Operating it)"}

	var asJSON bool
	check := &cobra.Command{
		Use:   "check [--json]",
		Short: "Check the whole database without changing it; exit 1 when it has problems",
		Long: `Reads every page and record: bbolt's page check (every page reachable once,
free pages free, keys in order) and rostersync's own (every district decodes
and validates, revisions and runs are in order, directory records, drafts
and access keys decode). It opens the file read-only, so it works on a copy,
a backup or a read-only mount; while rostersync serve holds the database it
asks the server, which checks its open database (saves wait meanwhile).

Exit status: 0 when the database is sound, 1 when it has problems or
cannot be opened.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			r, err := checkDatabase()
			if err != nil {
				return err
			}
			if asJSON {
				if err := printJSON(cmd.OutOrStdout(), r); err != nil {
					return err
				}
			} else {
				writeCheckReport(cmd.OutOrStdout(), r)
			}
			if !r.OK() {
				return fmt.Errorf("the database %s has %d problems: restore the latest backup that checks clean (README: Restoring a backup)", r.Path, len(r.Problems)+r.More)
			}
			return nil
		},
	}
	check.Flags().BoolVar(&asJSON, "json", false, "print the report as JSON")

	var force bool
	backup := &cobra.Command{
		Use:   "backup FILE [--force]",
		Short: "Write a consistent copy of the database to FILE (0600), also while serve runs",
		Long: `Copies the database as it is at one instant (one read transaction), while
syncs and saves go on, to FILE with mode 0600. An existing FILE is kept
unless --force. While rostersync serve holds the database the server writes
the copy. The copy holds the secrets sealed: keep the secrets key file
(--secrets-key) safe apart from the backups.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			path, err := filepath.Abs(args[0])
			if err != nil {
				return err
			}
			info, err := backupDatabase(path, force)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Backed up %s to %s: %s in %s.\n%s\n", dbPath, info.Path, byteSize(info.Bytes), info.Took.Round(time.Millisecond), store.SecretsKeyReminder)
			return nil
		},
	}
	backup.Flags().BoolVar(&force, "force", false, "replace FILE if it exists")

	compact := &cobra.Command{
		Use:   "compact",
		Short: "Rewrite the database without its free pages (stop serve first)",
		Long: `bbolt files never shrink: pages freed by syncs and archives are reused but
stay in the file. compact copies the database into a new file next to it,
checks the copy (db check, and every record is there) and only then swaps it
in. It needs the database to itself: stop rostersync serve first. A database
with problems is not compacted: restore a backup instead.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := existingPath(); err != nil {
				return err
			}
			info, err := store.Compact(dbPath, dbOptions())
			var inUse *store.InUseError
			if errors.As(err, &inUse) {
				return fmt.Errorf("%w\ncompact needs the database to itself: stop rostersync serve, then run it again", err)
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Compacted %s: its pages took %s, now %s (the file is %s); checked clean before the swap, in %s.\n",
				dbPath, byteSize(info.Before), byteSize(info.After), byteSize(info.FileAfter), info.Took.Round(time.Millisecond))
			return nil
		},
	}
	db.AddCommand(check, backup, compact)
	return db
}

// checkDatabase checks the database read-only, or through the running
// server. A file that does not even open is a report with that problem.
func checkDatabase() (store.CheckReport, error) {
	db, err := openReadOnly()
	var inUse *store.InUseError
	if errors.As(err, &inUse) {
		resp, askErr := askServer(err, server.AdminRequest{Op: "check"})
		if askErr != nil {
			return store.CheckReport{}, askErr
		}
		return *resp.Check, nil
	}
	var damaged *store.DamagedError
	if errors.As(err, &damaged) {
		r := store.CheckReport{Path: dbPath, Problems: []string{"open: " + damaged.Cause.Error()}}
		if st, serr := os.Stat(dbPath); serr == nil {
			r.Bytes = st.Size()
		}
		return r, nil
	}
	if err != nil {
		return store.CheckReport{}, err
	}
	defer db.Close()
	return db.Check(), nil
}

// backupDatabase backs up read-only, or through the running server.
func backupDatabase(path string, force bool) (store.BackupInfo, error) {
	start := time.Now()
	db, err := openReadOnly()
	var inUse *store.InUseError
	if errors.As(err, &inUse) {
		resp, askErr := askServer(err, server.AdminRequest{Op: "backup", Path: path, Force: force})
		if askErr != nil {
			return store.BackupInfo{}, askErr
		}
		info := *resp.Backup
		info.Took = time.Since(start)
		return info, nil
	}
	if err != nil {
		return store.BackupInfo{}, err
	}
	defer db.Close()
	return db.Backup(path, force)
}

// askServer sends req to the server that holds the database (inUse says
// so), or returns inUse when no server answers next to it.
func askServer(inUse error, req server.AdminRequest) (server.AdminResponse, error) {
	if !socketExists() {
		return server.AdminResponse{}, inUse
	}
	return server.Ask(server.AdminSocketPath(dbPath), req)
}

// socketExists says a running server's admin socket is next to the
// database.
func socketExists() bool {
	_, err := os.Stat(server.AdminSocketPath(dbPath))
	return err == nil
}

func writeCheckReport(w io.Writer, r store.CheckReport) {
	fmt.Fprintf(w, "Checked %s: %s, %d pages of %d bytes.\n", r.Path, byteSize(r.Bytes), r.Pages, r.PageSize)
	fmt.Fprintf(w, "  %d districts, %d revisions, %d runs, %d directory records, %d drafts, %d access keys read and checked.\n",
		r.Districts, r.Revisions, r.Runs, r.DirectoryRecords, r.Drafts, r.AccessKeys)
	if r.OK() {
		fmt.Fprintln(w, "The database is sound.")
		return
	}
	fmt.Fprintf(w, "%d problems:\n", len(r.Problems)+r.More)
	for _, p := range r.Problems {
		fmt.Fprintln(w, "  - "+p)
	}
	if r.More > 0 {
		fmt.Fprintf(w, "  … and %d more\n", r.More)
	}
}

// byteSize is a size for people.
func byteSize(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d bytes", n)
}
