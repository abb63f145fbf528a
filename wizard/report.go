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
// (`config show` without --json): everything config import accepts, and
// whether it is the demo; secrets are masked.
func WriteConfigText(w io.Writer, d store.District) {
	s := d.Settings
	fmt.Fprintf(w, "%s — Tenant ID %d, application_id %d, revision %d", untrusted.Text(d.Name), d.TenantID, d.ApplicationID, d.Revision)
	if d.Revision > 0 {
		fmt.Fprintf(w, " (saved by %s, %s)", untrusted.Text(d.SavedBy.String()), d.SavedAt.Local().Format(time.DateTime))
	}
	fmt.Fprintln(w)
	if d.Demo {
		fmt.Fprintln(w, "The built-in demo district: its roster is sample data served on this machine.")
	}
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
	switch {
	case c.Mode == "" && d.Demo:
		fmt.Fprintln(w, "  the built-in demo roster (no ClassLink credentials needed)")
	case c.Mode == "":
		fmt.Fprintln(w, "  not set up")
	default:
		secret := c.ClientSecret
		if d.SecretProblem() != nil {
			secret = "cannot be decrypted (enter it again)"
		}
		fmt.Fprintf(w, "  mode %s, %s, client id %s, secret %s, %s\n", untrusted.Text(c.Mode), untrusted.Text(c.BaseURL), untrusted.Quote(c.ClientID), secret, untrusted.Text(c.SignatureMethod))
	}
	writeGuardiansText(w, d)
	fmt.Fprintf(w, "\nSchools connected: %d\n", len(d.Schools))
	for _, id := range d.Schools {
		fmt.Fprintf(w, "  %s\n", untrusted.Text(id))
	}
}

// writeGuardiansText is the guardians source of config show.
func writeGuardiansText(w io.Writer, d store.District) {
	g := d.Guardians.Masked()
	fmt.Fprintln(w, "\nGuardians source")
	if d.Settings.ManageGuardians {
		fmt.Fprintln(w, "  (not used while Allow sync to manage Guardians is on)")
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "  Source\t%s\n", g.SourceOrNone())
	encoding := "UTF-8"
	if g.Encoding == store.EncodingISO88591 {
		encoding = "ISO-8859-1"
	}
	fmt.Fprintf(tw, "  Encoding\t%s\n", encoding)
	fmt.Fprintf(tw, "  Abandon\t%s\n", onOff(g.Abandon))
	if f := g.SFTP; f != (store.SFTPFolder{}) {
		port := f.Port
		if port == 0 {
			port = 22
		}
		folder := f.Folder
		if folder == "" {
			folder = "(the home folder)"
		}
		secret := func(v, field string) string {
			switch {
			case v == "":
				return "none"
			case d.SecretProblemOf(field) != nil:
				return "cannot be decrypted (enter it again)"
			}
			return v
		}
		hostKey := f.HostKey
		if hostKey == "" {
			hostKey = "not pinned"
		}
		fmt.Fprintf(tw, "  SFTP server\t%s port %d, user %s\n", untrusted.Text(f.Host), port, untrusted.Quote(f.User))
		fmt.Fprintf(tw, "  Folder\t%s\n", untrusted.Text(folder))
		fmt.Fprintf(tw, "  Password\t%s\n", secret(g.SFTP.Password, "guardians.sftp.password"))
		fmt.Fprintf(tw, "  Private key\t%s\n", secret(g.SFTP.PrivateKey, "guardians.sftp.private_key"))
		fmt.Fprintf(tw, "  Host key\t%s\n", untrusted.Text(hostKey))
	}
	tw.Flush()
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
