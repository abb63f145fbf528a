package sync

import (
	"cmp"
	"strings"

	"github.com/schoolstatus/rostersync/store"
)

// planMemberships walks the roster's enrollments against the directory's
// memberships in (classroom, user) order.
func (p *plan) planMemberships(db *store.DB, r *roster) error {
	targets := r.members
	i := 0
	compare := func(t rosterMember, cur store.Membership) int {
		return cmp.Or(strings.Compare(r.classes[t.class].id, cur.ClassroomID), strings.Compare(r.users[t.user].id, cur.UserID))
	}
	err := db.WalkMemberships(p.tenantID, func(cur store.Membership) error {
		if cur.Status == store.StatusActive {
			p.activeManaged[TypeMemberships]++
		}
		for i < len(targets) && compare(targets[i], cur) < 0 {
			p.membership(r, targets[i], nil)
			i++
		}
		if i < len(targets) && compare(targets[i], cur) == 0 {
			p.membership(r, targets[i], &cur)
			i++
			return p.err
		}
		if cur.Status == store.StatusActive && !p.held[cur.ClassroomID] {
			p.note(TypeMemberships, ActionArchive, cur.ClassroomID+"/"+cur.UserID, "", nil, "")
			p.archive(TypeMemberships).ArchiveMembership(cur.ClassroomID, cur.UserID)
		}
		return p.err
	})
	for ; i < len(targets) && err == nil; i++ {
		p.membership(r, targets[i], nil)
		err = p.err
	}
	return err
}

func (p *plan) membership(r *roster, t rosterMember, cur *store.Membership) {
	class, user := r.classes[t.class].id, r.users[t.user].id
	if p.held[class] {
		return
	}
	want := store.Membership{ClassroomID: class, UserID: user, Role: r.roles[t.role], Status: store.StatusActive}
	var action string
	var fields []string
	switch {
	case cur == nil:
		action = ActionCreate
	case cur.Status != store.StatusActive:
		action = ActionUnarchive
	case cur.Role != want.Role:
		action, fields = ActionUpdate, []string{"role"}
	default:
		return // most memberships, on most runs: no id to build
	}
	name := ""
	if p.samples.wants(TypeMemberships, action) { // a name only for the few kept as examples
		u, c := r.users[t.user], r.classes[t.class]
		name = strings.TrimSpace(u.given+" "+u.family) + " in " + c.name
	}
	p.note(TypeMemberships, action, class+"/"+user, name, fields, "")
	p.write().PutMembership(want)
}

// planSchools keeps the directory's schools in line with the selection;
// schools are not counted (the contract counts records people see).
func (p *plan) planSchools(db *store.DB, r *roster) error {
	want := map[string]string{}
	for _, s := range r.schools {
		want[s.id] = s.name
	}
	seen := map[string]bool{}
	err := db.WalkDirectorySchools(p.tenantID, func(cur store.School) error {
		seen[cur.SourcedID] = true
		name, selected := want[cur.SourcedID]
		switch {
		case selected && (cur.Name != name || cur.Status != store.StatusActive):
			p.write().PutSchool(store.School{SourcedID: cur.SourcedID, Name: name, Status: store.StatusActive})
		case !selected && cur.Status == store.StatusActive:
			p.archive("").ArchiveSchool(cur.SourcedID)
		}
		return p.err
	})
	for _, s := range r.schools {
		if !seen[s.id] && err == nil {
			p.write().PutSchool(store.School{SourcedID: s.id, Name: s.name, Status: store.StatusActive})
			err = p.err
		}
	}
	return err
}
