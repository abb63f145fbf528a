package wizard

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/schoolstatus/rostersync/screens"
	"github.com/schoolstatus/rostersync/store"
	rsync "github.com/schoolstatus/rostersync/sync"
	"github.com/schoolstatus/rostersync/untrusted"
)

// WriteConfigText prints a district's configuration for people
// (`config show` without --json); secrets are masked.
func WriteConfigText(w io.Writer, d store.District) {
	s := d.Settings
	fmt.Fprintf(w, "%s — Tenant ID %d, application_id %d, revision %d", untrusted.Text(d.Name), d.TenantID, d.ApplicationID, d.Revision)
	if d.Revision > 0 {
		fmt.Fprintf(w, " (saved by %s, %s)", untrusted.Text(d.SavedBy.String()), d.SavedAt.Local().Format(time.DateTime))
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "\nDistrict-Level Daily Sync")
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for i, on := range []bool{s.EnableDailySync, s.ManageGuardians, s.UnarchiveReappearingClassrooms, s.UpdateActiveUserContacts} {
		fmt.Fprintf(tw, "  %s\t%s\n", screens.DailySyncLabel(i), onOff(on))
	}
	fmt.Fprintf(tw, "  Deletion threshold\t%d%%\n", s.DeletionThresholdPercent)
	fmt.Fprintf(tw, "  Daily start\t%s %s\n", s.DailyStart, s.TimeZone)
	tw.Flush()
	fmt.Fprintln(w, "\nPermissions")
	for _, g := range store.RoleGroups {
		var names []string
		for _, p := range d.Permissions.Granted(g) {
			names = append(names, p.Title())
		}
		if len(names) == 0 {
			names = []string{"(none)"}
		}
		fmt.Fprintf(w, "  %s: %s\n", g.Title(), strings.Join(names, ", "))
	}
	c := d.Connection.Masked()
	fmt.Fprintln(w, "\nConnection")
	if c.Mode == "" {
		fmt.Fprintln(w, "  not set up")
	} else {
		secret := c.ClientSecret
		if d.SecretProblem() != nil {
			secret = "cannot be decrypted (enter it again)"
		}
		fmt.Fprintf(w, "  mode %s, %s, client id %s, secret %s, %s\n", untrusted.Text(c.Mode), untrusted.Text(c.BaseURL), untrusted.Quote(c.ClientID), secret, untrusted.Text(c.SignatureMethod))
	}
	fmt.Fprintf(w, "\nSchools connected: %d\n", len(d.Schools))
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}

// WriteHistoryText prints the history for people.
func WriteHistoryText(w io.Writer, items []store.HistoryItem) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "WHEN\tWHAT\tWHO\tDETAILS")
	for _, item := range items {
		if r := item.Run; r != nil {
			what := "run " + r.ID
			detail := screens.RunLine(*r)
			if why := rsync.ExplainRun(*r); why != "" {
				detail += ": " + why
			} else if r.Message != "" {
				detail += ": " + r.Message
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", r.StartedAt.Local().Format(time.DateTime), what, r.Trigger, untrusted.Text(detail))
			continue
		}
		it := item.Revision
		var ch []string
		for _, c := range it.Changes {
			ch = append(ch, fmt.Sprintf("%s %s→%s", c.Label(), c.From, c.To))
		}
		what := fmt.Sprintf("revision %d", it.Revision)
		if it.Created {
			what += " (created)"
		}
		if it.Removed {
			what += " (removed)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", it.At.Local().Format(time.DateTime), what, untrusted.Text(it.Actor.String()), untrusted.Text(strings.Join(ch, "; ")))
	}
	tw.Flush()
}
