package classlinktest

import (
	"strconv"
)

// DayChanges is one day of scripted roster changes, chosen from the seed
// and the day number, so a test can replay the same week twice.
type DayChanges struct {
	NewStudents    int // students enrolled today, each with a new guardian and 3 classes
	Withdrawn      int // students marked tobedeleted
	Purged         int // students removed outright (a hard delete)
	ContactEdits   int // guardians whose email and sms change
	NewClasses     int // classes added
	DroppedClasses int // classes marked tobedeleted
}

// DayLog says what a day changed, by collection and sourcedId.
type DayLog struct {
	Day         int
	Revision    string
	Added       map[Collection][]string
	Modified    map[Collection][]string
	ToBeDeleted map[Collection][]string
	Removed     map[Collection][]string
}

// AdvanceDay moves the district's clock to the next day and applies ch.
// Changes are stamped at noon of the new day; x-perm-rev moves.
func (d *District) AdvanceDay(ch DayChanges) DayLog {
	d.mu.Lock()
	d.day++
	day := d.day
	d.mu.Unlock()
	g := d.gen
	log := DayLog{Day: day, Added: map[Collection][]string{}, Modified: map[Collection][]string{},
		ToBeDeleted: map[Collection][]string{}, Removed: map[Collection][]string{}}
	stamp := func() string {
		d.mu.RLock()
		defer d.mu.RUnlock()
		return Stamp(d.now())
	}()
	pick := func(salt uint64, k, n int) int { return int(g.h(salt^uint64(day)<<32, k) % uint64(n)) }
	suffix := func(k int) string { return "n" + strconv.Itoa(day) + "-" + strconv.Itoa(k) }

	for k := range ch.NewStudents {
		s := pick(0xA1, k, g.t.Students)
		base := g.student(s).(User)
		u := base
		u.SourcedID = base.SourcedID + suffix(k)
		u.Identifier = "S-new-" + strconv.Itoa(day) + "-" + strconv.Itoa(k)
		u.Email = "new" + strconv.Itoa(day) + "." + strconv.Itoa(k) + "@students." + g.domain
		u.Username, u.Status, u.DateLastModified, u.Agents = u.Email, "active", stamp, nil
		guardian := g.guardian(pick(0xA2, k, max(g.t.Guardians, 1))).(User)
		guardian.SourcedID = base.SourcedID + suffix(k) + "g"
		guardian.Email = "parent.new" + strconv.Itoa(day) + "." + strconv.Itoa(k) + "@mail.example.com"
		guardian.SMS = formatPhone(g.h(0xA3^uint64(day)<<32, k), false)
		guardian.Username, guardian.Status, guardian.DateLastModified = guardian.Email, "active", stamp
		guardian.Agents, guardian.Orgs = []string{u.SourcedID}, u.Orgs
		u.Agents = []string{guardian.SourcedID}
		d.Put(u)
		d.Put(guardian)
		log.Added[Users] = append(log.Added[Users], u.SourcedID, guardian.SourcedID)
		p := g.studentSchool(s)
		cs, ce := start(p, g.t.Classes, g.t.Schools), start(p+1, g.t.Classes, g.t.Schools)
		for slot := range 3 {
			e := Enrollment{SourcedID: g.id(Enrollments, g.t.Classes) + suffix(k) + "e" + strconv.Itoa(slot),
				Status: "active", DateLastModified: stamp, Class: g.id(Classes, cs+(s+slot)%(ce-cs)),
				User: u.SourcedID, School: g.schoolID(p), Role: "student"}
			d.Put(e)
			log.Added[Enrollments] = append(log.Added[Enrollments], e.SourcedID)
		}
	}
	for k := range ch.Withdrawn {
		id := g.studentID(pick(0xB1, k, g.t.Students))
		if d.MarkToBeDeleted(Users, id) == nil {
			log.ToBeDeleted[Users] = append(log.ToBeDeleted[Users], id)
		}
	}
	for k := range ch.Purged {
		id := g.studentID(pick(0xB2, k, g.t.Students))
		if d.Remove(Users, id) == nil {
			log.Removed[Users] = append(log.Removed[Users], id)
		}
	}
	for k := range ch.ContactEdits {
		if g.t.Guardians == 0 {
			break
		}
		j := pick(0xB3, k, g.t.Guardians)
		id := g.guardianID(j)
		err := Modify(d, id, func(u *User) {
			u.Email = "changed" + strconv.Itoa(day) + "." + strconv.Itoa(j) + "@mail.example.com"
			u.Username = u.Email
			u.SMS = formatPhone(g.h(0xB4^uint64(day)<<32, k), false)
		})
		if err == nil {
			log.Modified[Users] = append(log.Modified[Users], id)
		}
	}
	for k := range ch.NewClasses {
		base := g.class(pick(0xC1, k, g.t.Classes)).(Class)
		c := base
		c.SourcedID = base.SourcedID + suffix(k)
		c.Title, c.Status, c.DateLastModified = base.Title+" (new section)", "active", stamp
		d.Put(c)
		log.Added[Classes] = append(log.Added[Classes], c.SourcedID)
	}
	for k := range ch.DroppedClasses {
		id := g.id(Classes, pick(0xC2, k, g.t.Classes))
		if d.MarkToBeDeleted(Classes, id) == nil {
			log.ToBeDeleted[Classes] = append(log.ToBeDeleted[Classes], id)
		}
	}
	log.Revision = d.Revision()
	return log
}
