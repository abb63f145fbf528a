package sync

import (
	"fmt"
	"slices"
	"strings"

	"github.com/schoolstatus/rostersync/guardians"
	"github.com/schoolstatus/rostersync/store"
	"github.com/schoolstatus/rostersync/untrusted"
)

// eachUser walks the directory's users in sourcedId order: the stored
// ones, or (in a dry run that also plans the roster) the stored ones as
// the roster plan would leave them.
type eachUser func(fn func(store.DirectoryUser) error) error

// filePlan plans one guardians file against the directory: the row checks
// that need the directory, then the guardian accounts to create, update
// or (with Abandon) archive, and the staff accounts to link. Its writes
// and counts live in the embedded roster plan type, so the deletion
// threshold, samples and apply are the roster sync's own.
type filePlan struct {
	*plan
	file    *guardians.File
	abandon bool
	// listed are every guardian_id the file names, on any row: Abandon
	// archives only guardians the file does not name at all.
	listed map[string]bool
	// staff a row's contacts (or guardian_id) resolve to, and the
	// students each is linked to by the file.
	links map[string][]string
	// linkRows are the rows of each linked staff account; linked are the
	// guardian_ids whose rows link a staff account instead of a guardian.
	linkRows map[string][]int
	linked   map[string]bool
	counts   store.GuardiansFileRun
}

// Skip reasons and warnings of a guardians file.
const (
	reasonNotListed = "not in this guardians file"
	warnHeld        = "joined guardian: contact details kept (update contact details of active users is off)"
)

func newFilePlan(p *plan, f *guardians.File, abandon bool) *filePlan {
	fp := &filePlan{plan: p, file: f, abandon: abandon, listed: map[string]bool{}, links: map[string][]string{}, linkRows: map[string][]int{}, linked: map[string]bool{}}
	for i := range f.Rows {
		if id := f.Rows[i].GuardianID; id != "" {
			fp.listed[id] = true
		}
	}
	return fp
}

// dirFacts is what the row checks need from the directory, collected for
// the file's own ids, emails and mobiles only, so its size follows the
// file's and not the district's.
type dirFacts struct {
	users       map[string]store.DirectoryUser // students named by student_id, users named by guardian_id (no guardian_of kept)
	staffEmail  map[string]string              // lower-case email → active staff id, "" when several share it
	staffMobile map[string]string              // E.164 → active staff id, "" when several share it
	emailOwner  map[string][]string            // lower-case email → active non-staff users with it (at most 2 kept)
}

func (fp *filePlan) collect(users eachUser) (*dirFacts, error) {
	wantID, wantEmail, wantMobile := map[string]bool{}, map[string]bool{}, map[string]bool{}
	for i := range fp.file.Rows {
		r := &fp.file.Rows[i]
		if !r.OK() {
			continue
		}
		wantID[r.StudentID], wantID[r.GuardianID] = true, true
		if r.Email != "" {
			wantEmail[strings.ToLower(r.Email)] = true
		}
		if r.Mobile != "" {
			wantMobile[r.Mobile] = true
		}
	}
	f := &dirFacts{users: map[string]store.DirectoryUser{}, staffEmail: map[string]string{}, staffMobile: map[string]string{}, emailOwner: map[string][]string{}}
	claim := func(m map[string]string, key, id string) {
		if prev, seen := m[key]; seen && prev != id {
			m[key] = ""
		} else {
			m[key] = id
		}
	}
	err := users(func(u store.DirectoryUser) error {
		if wantID[u.SourcedID] {
			u.GuardianOf = nil
			f.users[u.SourcedID] = u
		}
		if !u.Active() {
			return nil
		}
		email := strings.ToLower(u.Email)
		switch {
		case u.Kind == store.KindStaff:
			if email != "" && wantEmail[email] {
				claim(f.staffEmail, email, u.SourcedID)
			}
			if u.Mobile != "" && wantMobile[u.Mobile] {
				claim(f.staffMobile, u.Mobile, u.SourcedID)
			}
		case email != "" && wantEmail[email] && len(f.emailOwner[email]) < 2:
			f.emailOwner[email] = append(f.emailOwner[email], u.SourcedID)
		}
		return nil
	})
	return f, err
}

// check adds the row errors that need the directory: unknown or archived
// students, guardian_ids that are students, contacts that belong to two
// staff members, and emails another user already has. It resolves the
// rows that link a staff account.
func (fp *filePlan) check(f *dirFacts) {
	for i := range fp.file.Rows {
		r := &fp.file.Rows[i]
		if !r.OK() {
			continue
		}
		st, ok := f.users[r.StudentID]
		switch {
		case !ok:
			r.Fail("student_id %s is not a student in the directory (a file links guardians to students the roster sync brought in)", untrusted.Quote(r.StudentID))
		case st.Kind != store.KindStudent:
			r.Fail("student_id %s is a %s in the directory, not a student", untrusted.Quote(r.StudentID), st.Kind)
		case !st.Active():
			r.Fail("student_id %s is archived in the directory", untrusted.Quote(r.StudentID))
		}
		if g, ok := f.users[r.GuardianID]; ok && g.Kind == store.KindStudent {
			r.Fail("guardian_id %s is a student's sourcedId in the directory", untrusted.Quote(r.GuardianID))
		}
	}
	for _, g := range fp.file.Guardians() {
		fail := func(format string, args ...any) {
			for _, i := range g.Rows {
				fp.file.Rows[i].Fail(format, args...)
			}
		}
		staff := ""
		if u, ok := f.users[g.ID]; ok && u.Kind == store.KindStaff && u.Active() {
			staff = g.ID // the district gave the staff member's own sourcedId
		}
		byEmail, emailHit := f.staffEmail[strings.ToLower(g.Email)]
		byMobile, mobileHit := f.staffMobile[g.Mobile]
		emailHit, mobileHit = emailHit && g.Email != "" && byEmail != "", mobileHit && g.Mobile != "" && byMobile != ""
		if u, ok := f.users[g.ID]; ok && u.Kind == store.KindStaff && staff == "" {
			fail("guardian_id %s is an archived staff member's sourcedId", untrusted.Quote(g.ID))
			continue
		}
		for _, hit := range []struct {
			ok       bool
			id, what string
		}{{emailHit, byEmail, "email " + g.Email}, {mobileHit, byMobile, "mobile " + g.Mobile}} {
			if !hit.ok {
				continue
			}
			if staff != "" && staff != hit.id {
				fail("%s belongs to staff member %s but the row links %s: a row links one staff account", hit.what, untrusted.Quote(hit.id), untrusted.Quote(staff))
				staff = "!"
				break
			}
			staff = hit.id
		}
		switch staff {
		case "!":
			continue
		case "":
		default:
			fp.links[staff] = append(fp.links[staff], g.Students...)
			fp.linkRows[staff] = append(fp.linkRows[staff], g.Rows...)
			fp.linked[g.ID] = true
			continue
		}
		if g.Email == "" {
			continue
		}
		var other string
		for _, id := range f.emailOwner[strings.ToLower(g.Email)] {
			if id != g.ID {
				other = id
				break
			}
		}
		switch {
		case other == "":
		case g.Mobile == "":
			fail("email %s is already user %s's in the directory and there is no valid mobile: a guardian needs a unique email or a valid mobile", untrusted.Quote(g.Email), untrusted.Quote(other))
		default:
			for _, i := range g.Rows {
				fp.file.Rows[i].Warn("email %s is already user %s's in the directory; this guardian logs in with the mobile", untrusted.Quote(g.Email), untrusted.Quote(other))
			}
		}
	}
	for id, students := range fp.links {
		slices.Sort(students)
		fp.links[id] = slices.Compact(students)
	}
}

// planWrites walks the directory's users against the file's guardians in
// sourcedId order and plans every write.
func (fp *filePlan) planWrites(users eachUser) error {
	targets := slices.DeleteFunc(fp.file.Guardians(), func(g guardians.Guardian) bool { return fp.linked[g.ID] })
	i := 0
	err := users(func(cur store.DirectoryUser) error {
		for i < len(targets) && targets[i].ID < cur.SourcedID {
			fp.guardian(&targets[i], nil)
			i++
		}
		if i < len(targets) && targets[i].ID == cur.SourcedID {
			if cur.Kind == store.KindGuardian && cur.FromFile() && cur.Active() {
				fp.activeManaged[TypeGuardians]++
			}
			fp.guardian(&targets[i], &cur)
			i++
			return nil
		}
		switch {
		case cur.Kind == store.KindStaff:
			fp.staff(cur)
		case cur.Kind == store.KindGuardian && cur.FromFile() && cur.Active():
			fp.activeManaged[TypeGuardians]++
			if fp.abandon && !fp.listed[cur.SourcedID] {
				cur.Status = store.StatusArchived
				fp.note(TypeGuardians, ActionArchive, cur.SourcedID, fullName(cur), nil, reasonNotListed)
				fp.archives.next().PutUser(cur)
			}
		}
		return nil
	})
	for ; i < len(targets); i++ {
		fp.guardian(&targets[i], nil)
	}
	return err
}

func fullName(u store.DirectoryUser) string {
	return strings.TrimSpace(u.GivenName + " " + u.FamilyName)
}

// guardian plans one guardian of the file; cur is its directory record.
func (fp *filePlan) guardian(g *guardians.Guardian, cur *store.DirectoryUser) {
	want := store.DirectoryUser{
		SourcedID: g.ID, Kind: store.KindGuardian, GivenName: g.FirstName, FamilyName: g.LastName,
		Email: g.Email, Mobile: g.Mobile, HomePhone: g.HomePhone, Language: g.Language,
		Status: store.StatusActive, Permissions: []string{}, GuardianOf: g.Students, Source: store.SourceGuardiansFile,
	}
	name := strings.TrimSpace(g.FirstName + " " + g.LastName)
	action := guardians.ActionUnchanged
	defer func() {
		for _, i := range g.Rows {
			fp.file.Rows[i].Action = action
		}
	}()
	if cur == nil {
		fp.note(TypeGuardians, ActionCreate, g.ID, name, nil, "")
		fp.writes.next().PutUser(want)
		fp.counts.Created++
		action = guardians.ActionCreated
		return
	}
	if !fp.abandon {
		// Without Abandon a file only adds links: a district may send one
		// file per school.
		want.GuardianOf = union(cur.GuardianOf, g.Students)
	}
	want.Joined = cur.Joined
	if cur.Joined && !fp.settings.UpdateActiveUserContacts {
		// Joined people own their contact details, as in the roster sync.
		if len(contactFields(*cur, want)) > 0 || cur.Language != want.Language {
			for _, i := range g.Rows {
				fp.file.Rows[i].Warn(warnHeld)
			}
		}
		want.GivenName, want.FamilyName, want.Email, want.Mobile, want.HomePhone, want.Language = cur.GivenName, cur.FamilyName, cur.Email, cur.Mobile, cur.HomePhone, cur.Language
	}
	fields := userFields(*cur, want)
	switch {
	case !cur.Active():
		fp.note(TypeGuardians, ActionUnarchive, g.ID, name, fields, "")
	case len(fields) > 0:
		fp.note(TypeGuardians, ActionUpdate, g.ID, name, fields, "")
	default:
		fp.counts.Unchanged++
		return
	}
	fp.writes.next().PutUser(want)
	fp.counts.Updated++
	action = guardians.ActionUpdated
}

// staff plans one staff account: the students rows link it to, or with
// Abandon no file links at all when the file no longer links it. (Staff
// links come only from files: the roster sync links guardians, not staff.)
func (fp *filePlan) staff(cur store.DirectoryUser) {
	students, linked := fp.links[cur.SourcedID]
	if !linked && (!fp.abandon || len(cur.GuardianOf) == 0) {
		return
	}
	want := cur
	switch {
	case !linked:
		want.GuardianOf = []string{}
	case fp.abandon:
		want.GuardianOf = students
	default:
		want.GuardianOf = union(cur.GuardianOf, students)
	}
	action := guardians.ActionUnchanged
	if !slices.Equal(want.GuardianOf, cur.GuardianOf) {
		fp.note(TypeStaff, ActionUpdate, cur.SourcedID, fullName(cur), []string{"guardian_of"}, "")
		fp.writes.next().PutUser(want)
		if linked {
			action = guardians.ActionLinked
			fp.counts.Linked++
		}
	} else if linked {
		fp.counts.Unchanged++
	}
	for _, i := range fp.linkRows[cur.SourcedID] {
		fp.file.Rows[i].Action = action
	}
}

// union is a ∪ b, sorted.
func union(a, b []string) []string {
	out := slices.Concat(a, b)
	slices.Sort(out)
	return slices.Compact(out)
}

// thresholdMessage explains a guardians file over the deletion threshold.
func (fp *filePlan) thresholdMessage() string {
	return fmt.Sprintf("Abandon would archive %d of %d active guardians from earlier files, over the deletion threshold of %d%%; the file's creates, updates and links were applied but nothing was archived (check the file, or raise the threshold)",
		fp.tried.Guardians, fp.activeManaged[TypeGuardians], fp.settings.DeletionThresholdPercent)
}
