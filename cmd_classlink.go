package main

import (
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"

	rsync "github.com/schoolstatus/rostersync/sync"
	"github.com/schoolstatus/rostersync/untrusted"
)

func classlinkCommand() *cobra.Command {
	cl := &cobra.Command{Use: "classlink", Short: "Ask ClassLink: the districts that shared the app, or a connection test"}

	var asJSON bool
	districts := &cobra.Command{
		Use:   "districts [--json]",
		Short: "List the districts that shared the rostering app (needs ROSTERSYNC_CLASSLINK_TOKEN)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ds, err := classLink().Districts(cmd.Context())
			if err != nil {
				return err
			}
			if asJSON {
				type row struct {
					TenantID      int64  `json:"tenant_id"`
					ApplicationID int64  `json:"application_id"`
					TenantName    string `json:"tenant_name"`
				}
				rows := make([]row, 0, len(ds))
				for _, d := range ds {
					rows = append(rows, row{d.TenantID, d.ApplicationID, d.TenantName})
				}
				return printJSON(cmd.OutOrStdout(), rows)
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "TENANT ID\tAPPLICATION ID\tNAME")
			for _, d := range ds {
				fmt.Fprintf(tw, "%d\t%d\t%s\n", d.TenantID, d.ApplicationID, untrusted.Text(d.TenantName))
			}
			return tw.Flush()
		},
	}
	districts.Flags().BoolVar(&asJSON, "json", false, "print JSON")

	var district string
	var testJSON bool
	test := &cobra.Command{
		Use:   "test --district TENANT [--json]",
		Short: "Test a district's saved connection: one school, counts per collection, latency, x-perm-rev",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			db, d, err := openDistrictReadOnly(district)
			if err != nil {
				return err
			}
			db.Close() // the test can take a while; do not hold the database
			id := d.TenantID
			r := rsync.TestConnection(cmd.Context(), classLink().Dial, d)
			if testJSON {
				if err := printJSON(cmd.OutOrStdout(), r); err != nil {
					return err
				}
			} else {
				fmt.Fprintln(cmd.OutOrStdout(), untrusted.Lines(r.Text())) // the detail on its own line
			}
			if !r.OK {
				return fmt.Errorf("connection test of district %d failed (%s)", id, r.Reason)
			}
			return nil
		},
	}
	districtFlag(test, &district)
	test.Flags().BoolVar(&testJSON, "json", false, "print JSON")
	cl.AddCommand(districts, test)
	return cl
}
