package main

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/schoolstatus/rostersync/store"
	"github.com/schoolstatus/rostersync/untrusted"
	"github.com/schoolstatus/rostersync/wizard"
)

func configCommand() *cobra.Command {
	cfg := &cobra.Command{Use: "config", Short: "Show, export or import a district's configuration (JSON contract)"}

	var district string
	var asJSON, secrets bool
	show := &cobra.Command{
		Use:   "show --district TENANT [--json]",
		Short: "Show a district's saved configuration (secrets masked)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			db, d, err := openDistrictReadOnly(district)
			if err != nil {
				return err
			}
			defer db.Close()
			if asJSON {
				_, err = cmd.OutOrStdout().Write(store.ExportConfig(d, false).MarshalIndent())
				return err
			}
			wizard.WriteConfigText(cmd.OutOrStdout(), d)
			return nil
		},
	}
	districtFlag(show, &district)
	show.Flags().BoolVar(&asJSON, "json", false, "print the JSON contract")

	var exDistrict string
	export := &cobra.Command{
		Use:   "export --district TENANT [--include-secrets]",
		Short: "Print a district's configuration as JSON, for config import",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			db, d, err := openDistrictReadOnly(exDistrict)
			if err != nil {
				return err
			}
			defer db.Close()
			if err := d.SecretProblem(); err != nil && secrets {
				return err
			}
			_, err = cmd.OutOrStdout().Write(store.ExportConfig(d, secrets).MarshalIndent())
			return err
		},
	}
	districtFlag(export, &exDistrict)
	export.Flags().BoolVar(&secrets, "include-secrets", false, "print the client secret instead of ********")

	var imDistrict string
	var force, early bool
	imp := &cobra.Command{
		Use:   "import --district TENANT FILE|-",
		Short: "Validate a JSON configuration and save it as the district's next revision",
		Long: `Reads FILE (or standard input for -), validates every key, and saves it as
the district's next revision. Any error writes nothing, and a file that
changes nothing writes nothing. A secret of ******** keeps the stored
secret; where none is stored it is refused, and an SFTP password or
private_key of ******** is kept only while the SFTP host, port and user
are the stored ones. A file may have at most 4 MiB, a key appears once per
object, and names, IDs and lists have the limits the README states. Like
the wizard, it follows the guide: a file that turns on Enable Daily sync
before the self-check (step 6) is done is refused unless
--enable-before-self-check is given, and then the audit entry notes it.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := parseDistrict(imDistrict)
			if err != nil {
				return err
			}
			data, err := readImport(cmd.InOrStdin(), args[0])
			if err != nil {
				return err
			}
			// Check the file before the database exists: a refused import
			// must not leave a new, empty database behind.
			if _, err := store.ParseConfig(data); err != nil {
				return err
			}
			db, created, err := openOrCreate()
			if err != nil {
				return err
			}
			actor := wizard.LocalActor()
			actor.Via = "import"
			dialer := classLink()
			listing := dialer.Listing(cmd.Context(), id)
			d, entry, err := db.ImportConfig(id, data, actor, store.ImportOptions{Force: force, Check: dialer.CheckProxyURL, Listing: &listing, Specialist: true, EnableBeforeSelfCheck: early})
			closeOrDiscard(db, created, err)
			var guide *store.EnableBeforeSelfCheckError
			if errors.As(err, &guide) {
				return fmt.Errorf("%w (pass --enable-before-self-check to import it anyway; the audit entry will note it)", err)
			}
			if err != nil {
				return err
			}
			if entry.Revision == 0 {
				fmt.Fprintf(cmd.OutOrStdout(), "Nothing changed: %s stays at revision %d.\n", untrusted.Text(d.Name), d.Revision)
				return nil
			}
			what := wizard.ChangesText(len(entry.Changes))
			if entry.Created {
				what = "a new district" // its first revision changes nothing that was
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Saved %s as revision %d (%s).\n", untrusted.Text(d.Name), d.Revision, what)
			return nil
		},
	}
	districtFlag(imp, &imDistrict)
	imp.Flags().BoolVar(&force, "force", false, "import a file exported at an older revision over the saves made since")
	imp.Flags().BoolVar(&early, "enable-before-self-check", false, "allow the file to turn on Enable Daily sync before the guide's self-check (step 6) is done; the audit entry notes it")

	cfg.AddCommand(show, export, imp)
	return cfg
}

// readImport reads an import file (or stdin for "-"), at most one byte
// past the limit, so a huge file costs no memory before it is refused.
func readImport(stdin io.Reader, name string) ([]byte, error) {
	src := stdin
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		src = f
	}
	return io.ReadAll(io.LimitReader(src, store.MaxImportBytes+1))
}
