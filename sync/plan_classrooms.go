package sync

import (
	"github.com/schoolstatus/rostersync/store"
)

// planClassrooms walks the roster's classes against the directory's.
func (p *plan) planClassrooms(db *store.DB, r *roster) error {
	targets := r.classes
	i := 0
	err := db.WalkClassrooms(p.tenantID, func(cur store.Classroom) error {
		if cur.Managed && cur.Active() {
			p.activeManaged[TypeClassrooms]++
		}
		for i < len(targets) && targets[i].id < cur.SourcedID {
			p.classroom(&targets[i], nil)
			i++
		}
		if i < len(targets) && targets[i].id == cur.SourcedID {
			p.classroom(&targets[i], &cur)
			i++
			return p.err
		}
		if cur.Managed && cur.Active() {
			p.note(TypeClassrooms, ActionArchive, cur.SourcedID, cur.Name, nil, "")
			p.archive(TypeClassrooms).ArchiveClassroom(cur.SourcedID)
		}
		return p.err
	})
	for ; i < len(targets) && err == nil; i++ {
		p.classroom(&targets[i], nil)
		err = p.err
	}
	return err
}

// classroom plans one roster class; cur is its classroom, nil if none.
func (p *plan) classroom(t *rosterClass, cur *store.Classroom) {
	want := store.Classroom{SourcedID: t.id, Name: t.name, School: t.school, Status: store.StatusActive, Managed: true}
	switch {
	case cur == nil:
		p.note(TypeClassrooms, ActionCreate, t.id, t.name, nil, "")
	case !cur.Active() && !p.settings.UnarchiveReappearingClassrooms:
		p.held[t.id] = true
		p.note(TypeClassrooms, ActionSkip, t.id, t.name, nil, "archived by "+cur.ArchivedBy+"; unarchive reappearing classrooms is off")
		return
	case !cur.Active():
		p.note(TypeClassrooms, ActionUnarchive, t.id, t.name, classroomFields(*cur, want), "")
	default:
		fields := classroomFields(*cur, want)
		if len(fields) == 0 {
			return
		}
		p.note(TypeClassrooms, ActionUpdate, t.id, t.name, fields, "")
	}
	p.write().PutClassroom(want)
}

func classroomFields(a, b store.Classroom) []string {
	var f []string
	if a.Name != b.Name {
		f = append(f, "name")
	}
	if a.School != b.School {
		f = append(f, "school")
	}
	if a.Status != b.Status {
		f = append(f, "status", "archived_by")
	}
	if a.Managed != b.Managed {
		f = append(f, "sis_managed")
	}
	return f
}
