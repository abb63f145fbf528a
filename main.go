// Command rostersync is the setup wizard and roster sync engine that
// connects a school district's ClassLink roster to SchoolStatus Connect.
// main only wires flags to the packages that do the work.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/schoolstatus/rostersync/classlink/classlinktest"
	"github.com/schoolstatus/rostersync/store"
	rsync "github.com/schoolstatus/rostersync/sync"
	"github.com/schoolstatus/rostersync/untrusted"
	"github.com/schoolstatus/rostersync/wizard"
)

func main() {
	rsync.LimitMemory()
	// SIGINT (ctrl+c outside the wizard's raw terminal) stops a command as
	// SIGTERM does: a sync records itself as cancelled before exiting.
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	if err := rootCommand().ExecuteContext(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "rostersync:", untrusted.Lines(err.Error()))
		os.Exit(1)
	}
}

// dbPath is --db, defaulting to $ROSTERSYNC_DB, then ./rostersync.db;
// secretsKey is --secrets-key, the key file sealing stored secrets.
var dbPath, secretsKey string

// dbOptions opens the database with the secrets key the person named.
func dbOptions() store.Options { return store.Options{SecretsKey: secretsKey} }

// classLink is the process's one way to ClassLink: the partner token and
// proxy root from the environment, and the built-in demo district, whose
// roster this process serves on a loopback port from its first use.
func classLink() *rsync.Dialer {
	d := rsync.DialerFromEnv(classlinktest.SharedDemo)
	d.DemoSchools = classlinktest.DemoSchoolIDs()
	return d
}

// addDemo stores the built-in demo district, its schools connected, when
// the wizard or the server first opens a database, or a command creates
// one: `go run .` → Demo → Preview sync, and `rostersync sync --district
// 2`, work from the start. Commands on an existing database write nothing
// they were not asked to.
func addDemo(db *store.DB) error { return db.AddDemo(classlinktest.DemoSchoolIDs()) }

// newEngine is the process's sync engine over db, reaching ClassLink
// through dialer.
func newEngine(db *store.DB, dialer *rsync.Dialer) *rsync.Engine {
	return &rsync.Engine{DB: db, Dial: dialer.Dial, FullPullEvery: time.Duration(fullPullDays) * 24 * time.Hour}
}

// fullPullDays is --full-pull-days of sync and serve: how many days a
// district's roster may be kept up to date by pulls of what changed before
// a run pulls it whole again.
var fullPullDays = int(rsync.DefaultFullPullEvery / (24 * time.Hour))

// fullPullFlag adds --full-pull-days to cmd, checked by checkFullPullDays.
func fullPullFlag(cmd *cobra.Command) {
	cmd.Flags().IntVar(&fullPullDays, "full-pull-days", fullPullDays,
		"days between two runs that pull the whole roster; the runs in between pull what changed since the last one")
}

func checkFullPullDays() error {
	if fullPullDays < 1 {
		return fmt.Errorf("--full-pull-days: must be a positive whole number of days, got %d", fullPullDays)
	}
	return nil
}

func rootCommand() *cobra.Command {
	var accessible bool
	root := &cobra.Command{
		Use:   "rostersync",
		Short: "Set up and run the ClassLink → SchoolStatus Connect roster sync",
		Long: `rostersync walks Connect's click path (District → Home → ⋮ → Settings →
SIS Rostering → District-Level Daily Sync → Permissions → Review) and saves
the district's sync settings to an embedded database.

Run without a command to open the wizard.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		Args:          cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			db, err := openWithDemo()
			if err != nil {
				return err
			}
			defer db.Close()
			accessible = accessible || os.Getenv("ACCESSIBLE") != ""
			dialer := classLink()
			opts := wizard.Options{DB: db, Actor: wizard.LocalActor(), Dialer: dialer, Engine: newEngine(db, dialer)}
			return wizard.RunLocal(cmd.Context(), opts, accessible, os.Stdin, os.Stdout)
		},
	}
	def := os.Getenv("ROSTERSYNC_DB")
	if def == "" {
		def = "rostersync.db"
	}
	root.PersistentFlags().StringVar(&dbPath, "db", def, "database file (env ROSTERSYNC_DB)")
	root.PersistentFlags().StringVar(&secretsKey, "secrets-key", "", "key file that seals stored secrets, created 0600 on first use (env "+store.SecretsKeyEnv+"; default rostersync/secrets.key in the user's configuration folder)")
	root.Flags().BoolVar(&accessible, "accessible", false, "plain line prompts for screen readers (env ACCESSIBLE=1)")
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return fmt.Errorf("%w\nRun '%s --help' for usage", err, c.CommandPath())
	})
	root.AddCommand(configCommand(), historyCommand(), serveCommand(), accessCommand(), districtCommand())
	root.AddCommand(syncCommand(), directoryCommand(), classlinkCommand(), guardiansCommand())
	root.AddCommand(dbCommand())
	return root
}

// districtFlag adds the required --district TENANT flag.
func districtFlag(cmd *cobra.Command, into *string) {
	cmd.Flags().StringVar(into, "district", "", "the District Tenant ID (required)")
	cmd.MarkFlagRequired("district")
}

func parseDistrict(s string) (int64, error) {
	id, err := store.ParseTenantID(s)
	return id, flagError("district", err)
}

// flagError names --flag where a *store.FieldError names its field: the
// person typed the flag.
func flagError(flag string, err error) error {
	var fe *store.FieldError
	if errors.As(err, &fe) {
		return fmt.Errorf("--%s: %s", flag, fe.Msg)
	}
	return err
}

// openDistrict parses --district, opens the existing database and reads the
// district; the caller closes the database.
func openDistrict(flag string) (*store.DB, store.District, error) {
	return openDistrictWith(flag, openExisting)
}

// openDistrictReadOnly is openDistrict for commands that only read: the
// file is opened read-only (no write transaction, no fsync), so they work
// on a copy, a backup or a read-only mount.
func openDistrictReadOnly(flag string) (*store.DB, store.District, error) {
	return openDistrictWith(flag, openReadOnly)
}

func openDistrictWith(flag string, open func() (*store.DB, error)) (*store.DB, store.District, error) {
	id, err := parseDistrict(flag)
	if err != nil {
		return nil, store.District{}, err
	}
	db, err := open()
	if err != nil {
		return nil, store.District{}, err
	}
	d, err := db.District(id)
	if err != nil {
		db.Close()
		return nil, store.District{}, err
	}
	return db, d, nil
}

// openWithDemo opens the database for the wizard or the server, creating
// it if needed, and adds the demo district the first time (addDemo).
func openWithDemo() (*store.DB, error) {
	db, err := store.Open(dbPath, dbOptions())
	if err != nil {
		return nil, err
	}
	if err := addDemo(db); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// openOrCreate opens the database, creating it if needed; created says
// whether this call made the file.
func openOrCreate() (db *store.DB, created bool, err error) {
	_, statErr := os.Stat(dbPath)
	db, err = store.Open(dbPath, dbOptions())
	created = err == nil && errors.Is(statErr, os.ErrNotExist)
	if created {
		if err = addDemo(db); err != nil {
			db.Close()
		}
	}
	return db, created, err
}

// closeOrDiscard closes db, and removes the file when this command created
// it and then failed: a refused command leaves nothing behind.
func closeOrDiscard(db *store.DB, created bool, failure error) {
	db.Close()
	if created && failure != nil {
		os.Remove(dbPath)
	}
}

// openExisting opens a database that must already exist, without creating
// one as a side effect of a read.
func openExisting() (*store.DB, error) {
	if err := existingPath(); err != nil {
		return nil, err
	}
	return store.Open(dbPath, dbOptions())
}

// openReadOnly opens the existing database read-only.
func openReadOnly() (*store.DB, error) {
	if err := existingPath(); err != nil {
		return nil, err
	}
	opt := dbOptions()
	opt.ReadOnly = true
	return store.Open(dbPath, opt)
}

// existingPath refuses --db naming no file.
func existingPath() error {
	if _, err := os.Stat(dbPath); errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("no database at %s (run rostersync to create one, or pass --db)", dbPath)
	}
	return nil
}

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
