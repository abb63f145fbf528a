package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/schoolstatus/rostersync/store"
	"github.com/schoolstatus/rostersync/untrusted"
)

// directoryPage is how many records are read per transaction while listing.
const directoryPage = 5000

// directoryCommand is `rostersync directory users|classrooms`: the Connect
// directory replica the sync maintains, and the hand edits people make.
func directoryCommand() *cobra.Command {
	dir := &cobra.Command{Use: "directory", Short: "List the Connect directory the sync maintains; archive classrooms or mark users joined by hand"}
	dir.AddCommand(directoryUsersCommand(), directoryClassroomsCommand())
	return dir
}

func directoryUsersCommand() *cobra.Command {
	var district, markJoined string
	var f store.UserFilter
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "users --district TENANT [--kind K] [--status S] [--search TEXT] [--json] | --mark-joined ID",
		Short: "List the district's students, staff and guardians, or mark one as joined",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			id, err := parseDistrict(district)
			if err != nil {
				return err
			}
			if err := prefixFlag(f.Validate()); err != nil {
				return err
			}
			if cmd.Flags().Changed("mark-joined") && strings.TrimSpace(markJoined) == "" {
				return errors.New("--mark-joined: needs the user's sourcedId")
			}
			open := openDistrictReadOnly // listing only reads
			if markJoined != "" {
				open = openDistrict
			}
			db, _, err := open(district)
			if err != nil {
				return err
			}
			defer db.Close()
			out := cmd.OutOrStdout()
			if markJoined != "" {
				u, err := db.MarkJoined(id, markJoined)
				if err != nil {
					return err
				}
				if asJSON {
					return printJSON(out, []store.DirectoryUser{u})
				}
				fmt.Fprintf(out, "Marked %s (%s) as joined.\n", untrusted.Text(u.SourcedID), untrusted.Text(u.GivenName+" "+u.FamilyName))
				return nil
			}
			page := func(after string) ([]store.DirectoryUser, string, error) {
				return db.DirectoryUsers(id, f, after, directoryPage)
			}
			if asJSON {
				return streamJSON(out, releasing(db, page))
			}
			all, err := allPages(page)
			if err != nil {
				return err
			}
			writeUsers(out, all)
			return nil
		},
	}
	districtFlag(cmd, &district)
	cmd.Flags().StringVar(&f.Kind, "kind", "", "only student, staff or guardian")
	cmd.Flags().StringVar(&f.Status, "status", "", "only active or archived")
	cmd.Flags().StringVar(&f.Search, "search", "", "only users whose name, email or sourcedId contains TEXT")
	cmd.Flags().StringVar(&markJoined, "mark-joined", "", "record that the user with this sourcedId activated their Connect account")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON (the directory contract)")
	cmd.MarkFlagsMutuallyExclusive("mark-joined", "kind")
	cmd.MarkFlagsMutuallyExclusive("mark-joined", "status")
	cmd.MarkFlagsMutuallyExclusive("mark-joined", "search")
	return cmd
}

func directoryClassroomsCommand() *cobra.Command {
	var district, archive, unarchive string
	var f store.ClassroomFilter
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "classrooms --district TENANT [--school ORG] [--status S] [--search TEXT] [--json] | --archive ID | --unarchive ID",
		Short: "List the district's classrooms, or archive or unarchive one by hand",
		Long: `Lists the district's classrooms. --archive archives a classroom by hand
(archived_by "hand"); whether a later sync makes it active again while it is
still in the roster follows the setting "Unarchive classrooms that reappear
in the roster data". --unarchive makes an archived classroom active.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			id, err := parseDistrict(district)
			if err != nil {
				return err
			}
			if err := prefixFlag(f.Validate()); err != nil {
				return err
			}
			for _, flag := range []string{"archive", "unarchive"} {
				if v, _ := cmd.Flags().GetString(flag); cmd.Flags().Changed(flag) && strings.TrimSpace(v) == "" {
					return fmt.Errorf("--%s: needs the classroom's sourcedId", flag)
				}
			}
			open := openDistrictReadOnly // listing only reads
			if archive != "" || unarchive != "" {
				open = openDistrict
			}
			db, _, err := open(district)
			if err != nil {
				return err
			}
			defer db.Close()
			out := cmd.OutOrStdout()
			if archive != "" || unarchive != "" {
				var c store.Classroom
				verb := "Archived"
				if archive != "" {
					c, err = db.ArchiveClassroom(id, archive)
				} else {
					verb = "Unarchived"
					c, err = db.UnarchiveClassroom(id, unarchive)
				}
				if err != nil {
					return err
				}
				if asJSON {
					return printJSON(out, []store.Classroom{c})
				}
				fmt.Fprintf(out, "%s classroom %s (%s).\n", verb, untrusted.Text(c.SourcedID), untrusted.Text(c.Name))
				return nil
			}
			page := func(after string) ([]store.Classroom, string, error) {
				return db.DirectoryClassrooms(id, f, after, directoryPage)
			}
			if asJSON {
				return streamJSON(out, releasing(db, page))
			}
			all, err := allPages(page)
			if err != nil {
				return err
			}
			writeClassrooms(out, all)
			return nil
		},
	}
	districtFlag(cmd, &district)
	cmd.Flags().StringVar(&f.School, "school", "", "only classrooms of the school with this org sourcedId")
	cmd.Flags().StringVar(&f.Status, "status", "", "only active or archived")
	cmd.Flags().StringVar(&f.Search, "search", "", "only classrooms whose name or sourcedId contains TEXT")
	cmd.Flags().StringVar(&archive, "archive", "", "archive the classroom with this sourcedId by hand")
	cmd.Flags().StringVar(&unarchive, "unarchive", "", "unarchive the classroom with this sourcedId by hand")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON (the directory contract)")
	cmd.MarkFlagsMutuallyExclusive("archive", "unarchive")
	for _, filter := range []string{"school", "status", "search"} {
		cmd.MarkFlagsMutuallyExclusive("archive", filter)
		cmd.MarkFlagsMutuallyExclusive("unarchive", filter)
	}
	return cmd
}

// allPages reads a paged directory listing to its end.
func allPages[T any](page func(after string) ([]T, string, error)) ([]T, error) {
	all := []T{}
	for after := ""; ; {
		items, next, err := page(after)
		if err != nil {
			return nil, err
		}
		all = append(all, items...)
		if next == "" {
			return all, nil
		}
		after = next
	}
}

// streamJSON prints a paged directory listing as one JSON array, page by
// page, so that an L-tier directory costs one page of memory, not the
// whole listing. The bytes are printJSON's for the whole slice: two-space
// indent, HTML escaped, a final newline, "[]" when empty.
func streamJSON[T any](w io.Writer, page func(after string) ([]T, string, error)) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	var item bytes.Buffer
	enc := json.NewEncoder(&item)
	enc.SetIndent("  ", "  ")
	n := 0
	for after := ""; ; {
		items, next, err := page(after)
		if err != nil {
			return err
		}
		for _, v := range items {
			item.Reset()
			if err := enc.Encode(v); err != nil {
				return err
			}
			sep := ",\n  "
			if n == 0 {
				sep = "[\n  "
			}
			bw.WriteString(sep)
			bw.Write(bytes.TrimSuffix(item.Bytes(), []byte("\n")))
			n++
		}
		if next == "" {
			break
		}
		after = next
	}
	if n == 0 {
		bw.WriteString("[]\n")
	} else {
		bw.WriteString("\n]\n")
	}
	return bw.Flush()
}

// releasing wraps a page reader so that the database file's pages are
// given back every few pages: a listing of an L-tier directory would keep
// the whole section resident otherwise.
func releasing[T any](db *store.DB, page func(after string) ([]T, string, error)) func(string) ([]T, string, error) {
	n := 0
	return func(after string) ([]T, string, error) {
		if n++; n%20 == 0 {
			if err := db.ReleaseFilePages(); err != nil {
				return nil, "", err
			}
		}
		return page(after)
	}
}

// prefixFlag turns a filter's *FieldError into one naming the flag.
func prefixFlag(err error) error {
	var fe *store.FieldError
	if errors.As(err, &fe) {
		return fmt.Errorf("--%s: %s", fe.Field, fe.Msg)
	}
	return err
}

func writeUsers(w io.Writer, users []store.DirectoryUser) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SOURCED ID\tKIND\tROLE GROUP\tNAME\tEMAIL\tMOBILE\tJOINED\tSTATUS")
	for _, u := range users {
		joined := "no"
		if u.Joined {
			joined = "yes"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", untrusted.Text(u.SourcedID), u.Kind, dash(u.RoleGroup), untrusted.Text(strings.TrimSpace(u.GivenName+" "+u.FamilyName)), untrusted.Text(dash(u.Email)), untrusted.Text(dash(u.Mobile)), joined, u.Status)
	}
	tw.Flush()
	fmt.Fprintf(w, "%d users\n", len(users))
}

func writeClassrooms(w io.Writer, classes []store.Classroom) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SOURCED ID\tNAME\tSCHOOL\tSTATUS\tARCHIVED BY")
	for _, c := range classes {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", untrusted.Text(c.SourcedID), untrusted.Text(c.Name), untrusted.Text(c.School), c.Status, dash(c.ArchivedBy))
	}
	tw.Flush()
	fmt.Fprintf(w, "%d classrooms\n", len(classes))
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
