package store

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Change is one field that differs between two revisions, named by its key
// in the JSON contract (e.g. "settings.manage_guardians",
// "permissions.teacher.family_access"). Secrets are compared but never shown.
type Change struct {
	Field string `json:"field"`
	From  string `json:"from"`
	To    string `json:"to"`
}

// Label is the change's field as a person reads it on the Review screen.
func (c Change) Label() string {
	if t, ok := settingTitles[c.Field]; ok {
		return t
	}
	if rest, ok := strings.CutPrefix(c.Field, "permissions."); ok {
		g, p, _ := strings.Cut(rest, ".")
		rg, err1 := ParseRoleGroup(g)
		pm, err2 := ParsePermission(p)
		if err1 == nil && err2 == nil {
			return pm.Title() + " · " + rg.Title()
		}
	}
	return c.Field
}

var settingTitles = map[string]string{
	"name":                       "District name",
	"application_id":             "District application_id",
	"settings.enable_daily_sync": "Enable Daily sync",
	"settings.manage_guardians":  "Allow sync to manage Guardians",
	"settings.unarchive_reappearing_classrooms": "Unarchive classrooms that reappear in the roster data",
	"settings.update_active_user_contacts":      "Allow the sync to update contact details of active users",
	"settings.deletion_threshold_percent":       "Deletion threshold (%)",
	"settings.daily_start":                      "Daily start time",
	"settings.time_zone":                        "Time zone",
	"connection.mode":                           "Connection mode",
	"connection.base_url":                       "Roster server URL",
	"connection.client_id":                      "Client ID",
	"connection.client_secret":                  "Client secret",
	"connection.signature_method":               "Signature method",
	"schools":                                   "Schools connected to SIS",
	"guardians.source":                          "Guardians source",
	"guardians.encoding":                        "Guardians file encoding",
	"guardians.abandon":                         "Abandon guardians the SFTP file no longer lists",
	"guardians.sftp.host":                       "SFTP host",
	"guardians.sftp.port":                       "SFTP port",
	"guardians.sftp.user":                       "SFTP user",
	"guardians.sftp.password":                   "SFTP password",
	"guardians.sftp.private_key":                "SFTP private key",
	"guardians.sftp.folder":                     "SFTP folder",
	"guardians.sftp.host_key":                   "SFTP host key",
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}

// Diff lists what a save of next over prev would change, in display order:
// name, settings, permissions (by role group, then permission), connection,
// guardians source, schools. The checklist and bookkeeping fields are not configuration.
func Diff(prev, next District) []Change {
	out := []Change{}
	add := func(field, from, to string) {
		if from != to {
			out = append(out, Change{Field: field, From: from, To: to})
		}
	}
	add("name", prev.Name, next.Name)
	add("application_id", strconv.FormatInt(prev.ApplicationID, 10), strconv.FormatInt(next.ApplicationID, 10))
	a, b := prev.Settings, next.Settings
	add("settings.enable_daily_sync", onOff(a.EnableDailySync), onOff(b.EnableDailySync))
	add("settings.manage_guardians", onOff(a.ManageGuardians), onOff(b.ManageGuardians))
	add("settings.unarchive_reappearing_classrooms", onOff(a.UnarchiveReappearingClassrooms), onOff(b.UnarchiveReappearingClassrooms))
	add("settings.update_active_user_contacts", onOff(a.UpdateActiveUserContacts), onOff(b.UpdateActiveUserContacts))
	add("settings.deletion_threshold_percent", strconv.Itoa(a.DeletionThresholdPercent), strconv.Itoa(b.DeletionThresholdPercent))
	add("settings.daily_start", a.DailyStart, b.DailyStart)
	add("settings.time_zone", a.TimeZone, b.TimeZone)
	for _, g := range RoleGroups {
		for _, p := range AllPermissions {
			add("permissions."+g.Key()+"."+p.Key(), onOff(prev.Permissions.Has(g, p)), onOff(next.Permissions.Has(g, p)))
		}
	}
	c, d := prev.Connection, next.Connection
	add("connection.mode", c.Mode, d.Mode)
	add("connection.base_url", c.BaseURL, d.BaseURL)
	add("connection.client_id", c.ClientID, d.ClientID)
	if c.ClientSecret != d.ClientSecret {
		out = append(out, Change{Field: "connection.client_secret", From: c.Masked().ClientSecret, To: d.Masked().ClientSecret + " (changed)"})
	}
	add("connection.signature_method", c.SignatureMethod, d.SignatureMethod)
	out = append(out, guardiansChanges(prev.Guardians, next.Guardians)...)
	if added, removed := setDiff(prev.Schools, next.Schools); len(added)+len(removed) > 0 {
		to := schoolsText(len(next.Schools))
		var parts []string
		if len(added) > 0 {
			parts = append(parts, "added "+idList(added))
		}
		if len(removed) > 0 {
			parts = append(parts, "removed "+idList(removed))
		}
		out = append(out, Change{Field: "schools", From: schoolsText(len(prev.Schools)), To: to + " (" + strings.Join(parts, "; ") + ")"})
	}
	return out
}

// setDiff lists what next has that prev lacks, and the reverse, sorted.
func setDiff(prev, next []string) (added, removed []string) {
	for _, s := range sortedCopy(next) {
		if !slices.Contains(prev, s) {
			added = append(added, s)
		}
	}
	for _, s := range sortedCopy(prev) {
		if !slices.Contains(next, s) {
			removed = append(removed, s)
		}
	}
	return added, removed
}

func idList(ids []string) string {
	if len(ids) > 3 {
		return strings.Join(ids[:3], ", ") + fmt.Sprintf(" and %d more", len(ids)-3)
	}
	return strings.Join(ids, ", ")
}

func schoolsText(n int) string {
	if n == 1 {
		return "1 school"
	}
	return strconv.Itoa(n) + " schools"
}

func sortedCopy(s []string) []string {
	c := slices.Clone(s)
	slices.Sort(c)
	return c
}

// Rebase applies the changes a person made (base → mine) on top of what
// someone else saved since (theirs): every field mine changed takes mine's
// value, every other field keeps theirs. It is how a conflicting save
// "re-applies my changes on top" without losing the other person's work.
func Rebase(base, mine, theirs District) District {
	out := theirs
	if mine.Name != base.Name {
		out.Name = mine.Name
	}
	s, m, b := &out.Settings, mine.Settings, base.Settings
	if m.EnableDailySync != b.EnableDailySync {
		s.EnableDailySync = m.EnableDailySync
	}
	if m.ManageGuardians != b.ManageGuardians {
		s.ManageGuardians = m.ManageGuardians
	}
	if m.UnarchiveReappearingClassrooms != b.UnarchiveReappearingClassrooms {
		s.UnarchiveReappearingClassrooms = m.UnarchiveReappearingClassrooms
	}
	if m.UpdateActiveUserContacts != b.UpdateActiveUserContacts {
		s.UpdateActiveUserContacts = m.UpdateActiveUserContacts
	}
	if m.DeletionThresholdPercent != b.DeletionThresholdPercent {
		s.DeletionThresholdPercent = m.DeletionThresholdPercent
	}
	if m.DailyStart != b.DailyStart {
		s.DailyStart = m.DailyStart
	}
	if m.TimeZone != b.TimeZone {
		s.TimeZone = m.TimeZone
	}
	for _, g := range RoleGroups {
		for _, p := range AllPermissions {
			if mine.Permissions.Has(g, p) != base.Permissions.Has(g, p) {
				out.Permissions.Set(g, p, mine.Permissions.Has(g, p))
			}
		}
	}
	oc, mc, bc := &out.Connection, mine.Connection, base.Connection
	for _, f := range []struct{ out, mine, base *string }{
		{&oc.Mode, &mc.Mode, &bc.Mode}, {&oc.BaseURL, &mc.BaseURL, &bc.BaseURL}, {&oc.ClientID, &mc.ClientID, &bc.ClientID},
		{&oc.ClientSecret, &mc.ClientSecret, &bc.ClientSecret}, {&oc.SignatureMethod, &mc.SignatureMethod, &bc.SignatureMethod},
	} {
		if *f.mine != *f.base {
			*f.out = *f.mine
		}
	}
	rebaseGuardians(&out.Guardians, mine.Guardians, base.Guardians)
	// Schools merge as sets: my additions and removals on top of theirs.
	added, removed := setDiff(base.Schools, mine.Schools)
	merged := slices.DeleteFunc(slices.Clone(theirs.Schools), func(s string) bool { return slices.Contains(removed, s) })
	for _, s := range added {
		if !slices.Contains(merged, s) {
			merged = append(merged, s)
		}
	}
	slices.Sort(merged)
	out.Schools = merged
	return out
}
