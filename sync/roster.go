package sync

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/schoolstatus/rostersync/classlink"
	"github.com/schoolstatus/rostersync/store"
)

// roster is the in-scope part of one pull, compact and sorted by
// sourcedId, ready to be walked against the directory. Out-of-scope and
// tobedeleted records are dropped as they stream in, and memberships are
// pairs of indexes, so an L-tier roster costs a few hundred MB.
type roster struct {
	permRev string
	schools []rosterSchool // the selected schools, as ClassLink names them
	classes []rosterClass  // active classes of selected schools
	users   []rosterUser   // active students and staff in scope, linked guardians
	members []rosterMember // by (class, user), one per pair
	roles   []string       // membership roles, interned
	pulled  pulledCounts
}

type rosterSchool struct{ id, name string }

type rosterClass struct{ id, name, school string }

type rosterUser struct {
	id                string
	kind              userKind
	group             store.RoleGroup
	given, family     string
	email, sms, phone string
	agents            []string // sourcedIds of linked users, as sent; dropped once linked
	guardianOf        []string // guardians: the in-scope students linked either way, sorted
}

type rosterMember struct {
	class, user int32 // indexes into classes and users
	role        uint8 // index into roles
}

// pulledCounts are the records ClassLink sent per collection, in scope or not.
type pulledCounts struct{ orgs, classes, users, enrollments int }

// missingSchoolsError: selected schools ClassLink does not have (or no
// longer has as active).
type missingSchoolsError struct{ ids []string }

func (e *missingSchoolsError) Error() string {
	if len(e.ids) == 0 {
		return "no schools are connected to the SIS: choose them on the \"School connection to SIS\" screen"
	}
	return fmt.Sprintf("ClassLink has no active org for %d selected school(s): %s; fix the selection on the \"School connection to SIS\" screen",
		len(e.ids), strings.Join(e.ids, ", "))
}

// progressEvery is how many records pass between two pull progress reports.
const progressEvery = 10_000

// pullRoster pulls the whole roster consistently: every collection at the
// same x-perm-rev, restarted from nothing when ClassLink moves it or when
// a collection's pages repeat a record (classlink.ErrInconsistentPages:
// the order shifted between pages, so another record was never sent).
func pullRoster(ctx context.Context, c *classlink.Client, d store.District, report func(Progress)) (*roster, error) {
	var r *roster
	attempt := 0
	err := classlink.Consistent(ctx, func(ctx context.Context) error {
		attempt++
		r = &roster{}
		return r.pull(ctx, c, d, attempt, report)
	})
	if err != nil {
		return nil, err
	}
	return r, nil
}

func (r *roster) pull(ctx context.Context, c *classlink.Client, d store.District, attempt int, report func(Progress)) error {
	progress := func(coll classlink.Collection, n int) {
		report(Progress{Phase: PhasePull, Collection: coll, Records: n, Attempt: attempt})
	}
	selected := make(map[string]bool, len(d.Schools))
	for _, id := range d.Schools {
		selected[id] = true
	}
	if len(selected) == 0 {
		return &missingSchoolsError{}
	}
	var revs []string

	// Orgs: the selected schools and the district org(s).
	districtOrgs := map[string]bool{}
	found := map[string]string{}
	info, err := c.Orgs(ctx, classlink.ListOptions{}, func(o classlink.Org) error {
		r.pulled.orgs++
		if strings.EqualFold(o.Type, "district") {
			districtOrgs[o.SourcedID] = true
		}
		if selected[o.SourcedID] && o.Status != classlink.StatusToBeDeleted {
			found[o.SourcedID] = o.Name
		}
		return nil
	})
	if err != nil {
		return err
	}
	progress(classlink.Orgs, r.pulled.orgs)
	revs = append(revs, info.PermRev)
	if r.pulled.orgs == 0 {
		return &classlink.Error{Kind: classlink.ErrMalformed, Op: "orgs", Offset: -1, Detail: "ClassLink sent no orgs at all"}
	}
	var missing []string
	for _, id := range d.Schools {
		if name, ok := found[id]; ok {
			r.schools = append(r.schools, rosterSchool{id, name})
		} else {
			missing = append(missing, id)
		}
	}
	if len(missing) > 0 {
		return &missingSchoolsError{ids: missing}
	}
	slices.SortFunc(r.schools, func(a, b rosterSchool) int { return strings.Compare(a.id, b.id) })

	// Classes of the selected schools.
	info, err = c.Classes(ctx, classlink.ListOptions{}, func(k classlink.Class) error {
		r.pulled.classes++
		if r.pulled.classes%progressEvery == 0 {
			progress(classlink.Classes, r.pulled.classes)
		}
		if k.Status == classlink.StatusToBeDeleted || !selected[k.School] || !usableID(k.SourcedID) {
			return nil
		}
		r.classes = append(r.classes, rosterClass{id: k.SourcedID, name: strings.TrimSpace(k.Title), school: k.School})
		return nil
	})
	if err != nil {
		return err
	}
	progress(classlink.Classes, r.pulled.classes)
	revs = append(revs, info.PermRev)
	r.classes = sortDedupe(r.classes, func(k rosterClass) string { return k.id })

	// Users: students and staff of the selected schools (staff also of the
	// district org), every active guardian until links decide.
	info, err = c.Users(ctx, classlink.ListOptions{}, func(u classlink.User) error {
		r.pulled.users++
		if r.pulled.users%progressEvery == 0 {
			progress(classlink.Users, r.pulled.users)
		}
		if u.Status == classlink.StatusToBeDeleted || !usableID(u.SourcedID) {
			return nil
		}
		kind, group := classify(u, selected, districtOrgs)
		switch kind {
		case kindNone:
			return nil
		case kindStaff:
			u.Agents = nil
		}
		r.users = append(r.users, rosterUser{
			id: u.SourcedID, kind: kind, group: group,
			given: strings.TrimSpace(u.GivenName), family: strings.TrimSpace(u.FamilyName),
			email: strings.TrimSpace(u.Email), sms: u.SMS, phone: u.Phone, agents: u.Agents,
		})
		return nil
	})
	if err != nil {
		return err
	}
	progress(classlink.Users, r.pulled.users)
	revs = append(revs, info.PermRev)
	r.users = sortDedupe(r.users, func(u rosterUser) string { return u.id })
	r.linkGuardians()

	// Enrollments between in-scope classes and in-scope students and staff.
	classIdx := make(map[string]int32, len(r.classes))
	for i, k := range r.classes {
		classIdx[k.id] = int32(i)
	}
	userIdx := make(map[string]int32, len(r.users))
	for i, u := range r.users {
		if u.kind == kindStudent || u.kind == kindStaff {
			userIdx[u.id] = int32(i)
		}
	}
	roleIdx := map[string]uint8{}
	info, err = c.Enrollments(ctx, classlink.ListOptions{}, func(e classlink.Enrollment) error {
		r.pulled.enrollments++
		if r.pulled.enrollments%progressEvery == 0 {
			progress(classlink.Enrollments, r.pulled.enrollments)
		}
		if e.Status == classlink.StatusToBeDeleted {
			return nil
		}
		ci, ok := classIdx[e.Class]
		if !ok {
			return nil
		}
		ui, ok := userIdx[e.User]
		if !ok {
			return nil
		}
		role, ok := roleIdx[e.Role]
		if !ok {
			if len(r.roles) == 255 { // a server inventing roles: keep the first 255
				return nil
			}
			role = uint8(len(r.roles))
			roleIdx[e.Role] = role
			r.roles = append(r.roles, e.Role)
		}
		r.members = append(r.members, rosterMember{class: ci, user: ui, role: role})
		return nil
	})
	if err != nil {
		return err
	}
	progress(classlink.Enrollments, r.pulled.enrollments)
	revs = append(revs, info.PermRev)
	// Indexes follow sourcedId order, so this is (classroom, user) order.
	slices.SortStableFunc(r.members, func(a, b rosterMember) int {
		return cmp.Or(cmp.Compare(a.class, b.class), cmp.Compare(a.user, b.user))
	})
	r.members = slices.CompactFunc(r.members, func(a, b rosterMember) bool { return a.class == b.class && a.user == b.user })

	// Each collection checked its own pages; the collections must agree too.
	for _, rev := range revs[1:] {
		if rev != revs[0] {
			return &classlink.Error{Kind: classlink.ErrRevisionChanged, Op: "roster", Offset: -1,
				Detail: fmt.Sprintf("x-perm-rev went from %q to %q between collections", revs[0], rev)}
		}
	}
	r.permRev = revs[0]
	return nil
}

// usableID: sourcedIds are opaque, but an empty one cannot be a key and
// a NUL would break the membership key order.
func usableID(id string) bool { return id != "" && !strings.ContainsRune(id, 0) }

// sortDedupe sorts by sourcedId in byte order (a server's own sort may
// collate differently). A pull that repeats an id fails in classlink, so
// compacting is only a guard.
func sortDedupe[T any](s []T, id func(T) string) []T {
	slices.SortStableFunc(s, func(a, b T) int { return strings.Compare(id(a), id(b)) })
	return slices.CompactFunc(s, func(a, b T) bool { return id(a) == id(b) })
}

// linkGuardians resolves student–guardian links from both sides (agents may
// be one-sided or name users that do not exist), gives each guardian its
// in-scope students, drops guardians without any, and frees the agents.
func (r *roster) linkGuardians() {
	idx := make(map[string]int32, len(r.users))
	for i, u := range r.users {
		if u.kind == kindStudent || u.kind == kindGuardian {
			idx[u.id] = int32(i)
		}
	}
	type link struct{ guardian, student int32 }
	var links []link
	for i, u := range r.users {
		for _, a := range u.agents {
			j, ok := idx[a]
			if !ok {
				continue
			}
			switch {
			case u.kind == kindStudent && r.users[j].kind == kindGuardian:
				links = append(links, link{j, int32(i)})
			case u.kind == kindGuardian && r.users[j].kind == kindStudent:
				links = append(links, link{int32(i), j})
			}
		}
		r.users[i].agents = nil
	}
	slices.SortFunc(links, func(a, b link) int {
		return cmp.Or(cmp.Compare(a.guardian, b.guardian), cmp.Compare(a.student, b.student))
	})
	links = slices.Compact(links)
	for _, l := range links {
		g := &r.users[l.guardian]
		g.guardianOf = append(g.guardianOf, r.users[l.student].id)
	}
	r.users = slices.DeleteFunc(r.users, func(u rosterUser) bool { return u.kind == kindGuardian && len(u.guardianOf) == 0 })
}
