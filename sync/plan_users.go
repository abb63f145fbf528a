package sync

import (
	"slices"
	"strings"

	"github.com/schoolstatus/rostersync/phone"
	"github.com/schoolstatus/rostersync/store"
)

// Skip reasons for users.
const (
	reasonGuardiansOff = "manage guardians is off"
	reasonNoContact    = "guardian has neither a unique email nor a valid SMS number"
	reasonContactsHeld = "joined user; update contact details of active users is off"
)

// planUsers walks the roster's users against the directory's in sourcedId
// order.
func (p *plan) planUsers(db *store.DB, r *roster) error {
	unique := uniqueGuardianEmails(r.users)
	targets := r.users
	i := 0
	err := db.WalkDirectoryUsers(p.tenantID, func(cur store.DirectoryUser) error {
		if p.sisManaged(cur) && cur.Active() {
			p.activeManaged[kindOf(cur.Kind).countsName()]++
		}
		for i < len(targets) && targets[i].id < cur.SourcedID {
			p.user(&targets[i], nil, unique)
			i++
		}
		if i < len(targets) && targets[i].id == cur.SourcedID {
			p.user(&targets[i], &cur, unique)
			i++
			return p.err
		}
		p.absentUser(cur)
		return p.err
	})
	for ; i < len(targets) && err == nil; i++ {
		p.user(&targets[i], nil, unique)
		err = p.err
	}
	return err
}

func kindOf(k string) userKind {
	switch k {
	case store.KindStudent:
		return kindStudent
	case store.KindStaff:
		return kindStaff
	}
	return kindGuardian
}

// uniqueGuardianEmails holds the emails (lower case) exactly one in-scope
// guardian has: a shared address cannot be a guardian's login.
func uniqueGuardianEmails(users []rosterUser) map[string]bool {
	n := map[string]int{}
	for _, u := range users {
		if u.kind == kindGuardian && strings.Contains(u.email, "@") {
			n[strings.ToLower(u.email)]++
		}
	}
	unique := make(map[string]bool, len(n))
	for e, c := range n {
		if c == 1 {
			unique[e] = true
		}
	}
	return unique
}

// user plans one roster user; cur is its directory record, nil if none.
func (p *plan) user(t *rosterUser, cur *store.DirectoryUser, unique map[string]bool) {
	typ := t.kind.countsName()
	name := strings.TrimSpace(t.given + " " + t.family)
	if t.kind == kindGuardian && !p.settings.ManageGuardians {
		p.note(typ, ActionSkip, t.id, name, nil, reasonGuardiansOff)
		return
	}
	mobile, mobileOK := p.phone(t.sms)
	home, _ := p.phone(t.phone)
	if t.kind == kindGuardian && !mobileOK && !unique[strings.ToLower(t.email)] {
		p.warnings.GuardianWithoutContact++
		p.note(typ, ActionSkip, t.id, name, nil, reasonNoContact)
		return
	}
	want := store.DirectoryUser{
		SourcedID: t.id, Kind: t.kind.store(),
		GivenName: t.given, FamilyName: t.family, Email: t.email, Mobile: mobile, HomePhone: home,
		Status: store.StatusActive, Managed: true, Permissions: []string{}, GuardianOf: t.guardianOf,
		Source: store.SourceClassLink,
	}
	if want.GuardianOf == nil {
		want.GuardianOf = []string{}
	}
	if t.kind == kindStaff {
		want.RoleGroup = t.group.Key()
		for _, perm := range p.perms.Granted(t.group) {
			want.Permissions = append(want.Permissions, perm.Key())
		}
	}
	if cur == nil {
		p.note(typ, ActionCreate, t.id, name, nil, "")
		p.put(want)
		return
	}
	want.Joined = cur.Joined
	// ClassLink has no preferred language: a guardians file's stays.
	want.Language = cur.Language
	if t.kind == kindStaff && cur.Kind == store.KindStaff && !p.settings.ManageGuardians {
		// Staff are linked to students only by guardians file rows (the
		// roster links guardians, never staff); while the files own
		// guardians their links stay. With Manage Guardians on ClassLink
		// owns every guardian relation and they go.
		want.GuardianOf = cur.GuardianOf
	}
	held := false
	if cur.Joined && !p.settings.UpdateActiveUserContacts {
		// Joined people own their contact details now; keep what they have.
		held = len(contactFields(*cur, want)) > 0
		want.GivenName, want.FamilyName, want.Email, want.Mobile, want.HomePhone = cur.GivenName, cur.FamilyName, cur.Email, cur.Mobile, cur.HomePhone
	}
	fields := userFields(*cur, want)
	switch {
	case !cur.Active():
		p.note(typ, ActionUnarchive, t.id, name, fields, "")
	case len(fields) > 0:
		p.note(typ, ActionUpdate, t.id, name, fields, "")
	case held:
		p.note(typ, ActionSkip, t.id, name, nil, reasonContactsHeld)
		return
	default:
		return
	}
	p.put(want)
}

// put plans a user's create, update or unarchive.
func (p *plan) put(u store.DirectoryUser) {
	p.write().PutUser(u)
	if p.keepUsers {
		p.overlay = append(p.overlay, u)
	}
}

// sisManaged reports whether the roster sync owns the record and may
// archive it: SIS-managed records, and guardians from a guardians file
// once Manage Guardians is on again (ClassLink owns guardians then; until
// then the roster sync leaves them alone).
func (p *plan) sisManaged(u store.DirectoryUser) bool {
	return u.Managed || u.Kind == store.KindGuardian && u.FromFile() && p.settings.ManageGuardians
}

// absentUser plans a directory user the roster no longer has in scope.
func (p *plan) absentUser(cur store.DirectoryUser) {
	if !p.sisManaged(cur) || !cur.Active() || cur.Kind == store.KindGuardian && !p.settings.ManageGuardians {
		return
	}
	typ := kindOf(cur.Kind).countsName()
	p.note(typ, ActionArchive, cur.SourcedID, strings.TrimSpace(cur.GivenName+" "+cur.FamilyName), nil, "")
	p.archive(typ).ArchiveUser(cur.SourcedID)
	if p.keepUsers {
		cur.Status = store.StatusArchived
		p.overlayArchives = append(p.overlayArchives, cur)
	}
}

// phone normalises one phone field, counting an invalid one.
func (p *plan) phone(raw string) (string, bool) {
	e164, ok := phone.Normalize(raw)
	if !ok && strings.TrimSpace(raw) != "" {
		p.warnings.InvalidPhone++
	}
	return e164, ok
}

// contactFields names the contact details that differ.
func contactFields(a, b store.DirectoryUser) []string {
	var f []string
	for _, c := range []struct {
		name string
		x, y string
	}{
		{"given_name", a.GivenName, b.GivenName}, {"family_name", a.FamilyName, b.FamilyName},
		{"email", a.Email, b.Email}, {"mobile", a.Mobile, b.Mobile}, {"home_phone", a.HomePhone, b.HomePhone},
	} {
		if c.x != c.y {
			f = append(f, c.name)
		}
	}
	return f
}

// userFields names every field that differs, in the contract's key names.
func userFields(a, b store.DirectoryUser) []string {
	var f []string
	if a.Kind != b.Kind {
		f = append(f, "kind")
	}
	if a.RoleGroup != b.RoleGroup {
		f = append(f, "role_group")
	}
	f = append(f, contactFields(a, b)...)
	if a.Status != b.Status {
		f = append(f, "status")
	}
	if !slices.Equal(a.Permissions, b.Permissions) {
		f = append(f, "permissions")
	}
	if !slices.Equal(a.GuardianOf, b.GuardianOf) {
		f = append(f, "guardian_of")
	}
	if a.Language != b.Language {
		f = append(f, "language")
	}
	if a.Source != b.Source {
		f = append(f, "source")
	}
	if a.Managed != b.Managed {
		f = append(f, "sis_managed")
	}
	return f
}
