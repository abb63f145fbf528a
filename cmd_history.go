package main

import (
	"github.com/spf13/cobra"

	"github.com/schoolstatus/rostersync/wizard"
)

func historyCommand() *cobra.Command {
	var district string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "history --district TENANT [--json]",
		Short: "List a district's saved revisions (who, when, what changed)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			db, d, err := openDistrictReadOnly(district)
			if err != nil {
				return err
			}
			defer db.Close()
			items, err := db.History(d.TenantID)
			if err != nil {
				return err
			}
			if asJSON {
				return printJSON(cmd.OutOrStdout(), items)
			}
			wizard.WriteHistoryText(cmd.OutOrStdout(), items)
			return nil
		},
	}
	districtFlag(cmd, &district)
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}
