package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/schoolstatus/rostersync/store"
	"github.com/schoolstatus/rostersync/untrusted"
	"github.com/schoolstatus/rostersync/wizard"
)

// districtCommand corrects a district's identity or removes one added by
// mistake: what the wizard's ⋮ → District details does, for the operator at
// the machine (who has a specialist's rights).
func districtCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "district", Short: "Correct a district's name or application_id, or remove a district added by mistake"}

	var district, name, app string
	set := &cobra.Command{
		Use:   "set --district TENANT [--name NAME] [--application-id ID]",
		Short: "Correct a district's name or application_id (saved as the next revision, audited)",
		Long: `Saves the corrected name and/or application_id as the district's next
revision. With the partner token set (ROSTERSYNC_CLASSLINK_TOKEN) the
application_id must be the one ClassLink's list of districts that shared the
app gives the Tenant ID; without it the change is recorded as made without
that check. A district connected through the ClassLink proxy moves to the
proxy URL built for the new application_id.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !cmd.Flags().Changed("name") && !cmd.Flags().Changed("application-id") {
				return fmt.Errorf("give --name, --application-id or both")
			}
			db, d, err := openDistrict(district)
			if err != nil {
				return err
			}
			defer db.Close()
			id := store.Identity{Name: d.Name, ApplicationID: d.ApplicationID}
			if cmd.Flags().Changed("name") {
				id.Name = strings.TrimSpace(name)
				if err := store.CheckName(id.Name); err != nil {
					return err
				}
			}
			if cmd.Flags().Changed("application-id") {
				if id.ApplicationID, err = store.ParseApplicationID(app); err != nil {
					return fmt.Errorf("--application-id: %w", err)
				}
			}
			dialer := classLink()
			id.Listing = dialer.Listing(cmd.Context(), d.TenantID)
			id.ProxyBaseURL = dialer.ProxyBaseURL(id.ApplicationID)
			saved, entry, err := db.CorrectIdentity(d.TenantID, d.Revision, id, wizard.LocalActor(), true)
			if err != nil {
				return err
			}
			if entry.Revision == 0 {
				fmt.Fprintln(cmd.OutOrStdout(), "Nothing changed.")
				return nil
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Saved %s (Tenant ID %d, application_id %d) as revision %d.\n", untrusted.Text(saved.Name), saved.TenantID, saved.ApplicationID, saved.Revision)
			return nil
		},
	}
	districtFlag(set, &district)
	set.Flags().StringVar(&name, "name", "", "the district's name")
	set.Flags().StringVar(&app, "application-id", "", "the District application_id from ClassLink")

	var rmDistrict, confirm string
	remove := &cobra.Command{
		Use:   "remove --district TENANT --confirm TENANT",
		Short: "Remove a district added by mistake; its history stays",
		Long: `Removes the district's configuration and everyone's drafts of it. Its
history (revisions and sync runs) stays, with who removed it, and the
Connect directory is not touched. --confirm must repeat the Tenant ID.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			db, d, err := openDistrict(rmDistrict)
			if err != nil {
				return err
			}
			defer db.Close()
			if _, err := db.RemoveDistrict(d.TenantID, d.Revision, confirm, wizard.LocalActor(), true); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Removed %s (Tenant ID %d); its history is kept (rostersync history --district %d).\n", untrusted.Text(d.Name), d.TenantID, d.TenantID)
			return nil
		},
	}
	districtFlag(remove, &rmDistrict)
	remove.Flags().StringVar(&confirm, "confirm", "", "the District Tenant ID again, to be sure (required)")
	remove.MarkFlagRequired("confirm")

	cmd.AddCommand(set, remove)
	return cmd
}
