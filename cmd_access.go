package main

import (
	"errors"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/schoolstatus/rostersync/server"
	"github.com/schoolstatus/rostersync/store"
	"github.com/schoolstatus/rostersync/untrusted"
	"github.com/schoolstatus/rostersync/wizard"
)

// changeAccess applies req to the database, or through the running
// server's admin socket when the server holds the database.
// Only "add" may create the database; a refused change leaves no new file.
func changeAccess(req server.AdminRequest) ([]store.AccessKey, error) {
	var db *store.DB
	var created bool
	var err error
	if req.Op == "add" {
		db, created, err = openOrCreate()
	} else {
		db, err = openExisting()
	}
	var inUse *store.InUseError
	if errors.As(err, &inUse) && socketExists() {
		return server.AskServer(server.AdminSocketPath(dbPath), req)
	}
	if err != nil {
		return nil, err
	}
	keys, err := server.AccessChange(db, req, wizard.LocalActor().User)
	closeOrDiscard(db, created, err)
	return keys, err
}

func accessCommand() *cobra.Command {
	access := &cobra.Command{Use: "access", Short: "Manage the SSH keys allowed into rostersync serve"}

	var name, key, role string
	var districts []int64
	add := &cobra.Command{
		Use:   `add --name NAME --key "ssh-ed25519 AAAA…" --role specialist|district [--district TENANT ...]`,
		Short: "Allow an SSH public key (takes effect at the next login, no restart)",
		Long: `A specialist sees every district. A district user sees and changes only
the districts given with --district (repeat it, or give a comma list).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			k, err := server.ParseAccessKey(name, key, role, districts)
			if err != nil {
				return err
			}
			keys, err := changeAccess(server.AdminRequest{Op: "add", Key: k})
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Added %s.\n", keys[0])
			return nil
		},
	}
	add.Flags().StringVar(&name, "name", "", "who the key belongs to, e.g. ana.lopez (required)")
	add.Flags().StringVar(&key, "key", "", `the OpenSSH public key line, e.g. "ssh-ed25519 AAAA… ana@laptop" (required)`)
	add.Flags().StringVar(&role, "role", "", "specialist or district (required)")
	add.Flags().Int64SliceVar(&districts, "district", nil, "District Tenant ID a district user may open (repeatable)")
	add.MarkFlagRequired("name")
	add.MarkFlagRequired("key")
	add.MarkFlagRequired("role")

	var asJSON bool
	list := &cobra.Command{
		Use:   "list [--json]",
		Short: "List the allowed keys",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			keys, err := changeAccess(server.AdminRequest{Op: "list"})
			if err != nil {
				return err
			}
			if asJSON {
				if keys == nil {
					keys = []store.AccessKey{}
				}
				return printJSON(cmd.OutOrStdout(), keys)
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tROLE\tDISTRICTS\tFINGERPRINT\tADDED")
			for _, k := range keys {
				ds := "all"
				if k.Role == store.RoleDistrict {
					ds = strings.Trim(strings.ReplaceAll(fmt.Sprint(k.Districts), " ", ","), "[]")
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s by %s\n", k.Name, k.Role, ds, k.Fingerprint, k.AddedAt.Format("2006-01-02"), untrusted.Text(k.AddedBy))
			}
			return tw.Flush()
		},
	}
	list.Flags().BoolVar(&asJSON, "json", false, "print JSON")

	var newRole string
	var newDistricts []int64
	update := &cobra.Command{
		Use:   "update NAME [--role specialist|district] [--district TENANT ...]",
		Short: "Change a key's role or districts (open sessions follow within seconds)",
		Long: `Changes the role or the districts of a key already on the list; --district
replaces the whole list. A running server applies the change to the key's
open sessions at once: a district no longer allowed is closed (its unsaved
changes are kept as a draft) and the session goes back to the district list.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if !cmd.Flags().Changed("role") && !cmd.Flags().Changed("district") {
				return errors.New("nothing to change: give --role, --district or both")
			}
			req := server.AdminRequest{Op: "update", Name: args[0], Key: store.AccessKey{Role: newRole}}
			if cmd.Flags().Changed("district") {
				req.Key.Districts = append([]int64{}, newDistricts...)
			}
			keys, err := changeAccess(req)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Updated %s.\n", keys[0])
			return nil
		},
	}
	update.Flags().StringVar(&newRole, "role", "", "specialist or district")
	update.Flags().Int64SliceVar(&newDistricts, "district", nil, "District Tenant ID the key may open (repeatable; replaces the list)")

	remove := &cobra.Command{
		Use:   "remove NAME",
		Short: "Remove a key (its open sessions end within seconds, keeping their drafts)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if _, err := changeAccess(server.AdminRequest{Op: "remove", Name: args[0]}); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Removed %s.\n", args[0])
			return nil
		},
	}
	access.AddCommand(add, update, list, remove)
	return access
}
