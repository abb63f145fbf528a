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
		Short: "List a district's saved revisions and sync runs (who, when, what changed); a removed district's too",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			id, err := parseDistrict(district)
			if err != nil {
				return err
			}
			db, err := openReadOnly()
			if err != nil {
				return err
			}
			defer db.Close()
			items, err := db.History(id)
			if err != nil {
				return err
			}
			if len(items) == 0 { // never stored (a removed district keeps its history)
				if _, err := db.District(id); err != nil {
					return err
				}
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
