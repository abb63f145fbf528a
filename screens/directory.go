package screens

import (
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"github.com/schoolstatus/rostersync/store"
	"github.com/schoolstatus/rostersync/untrusted"
)

// Directory browses what the sync produced in the Connect directory (the
// guide's step 8, review sync results): users or classrooms, a page at a
// time, filtered by kind and by a search. Pages are read in commands.
type Directory struct {
	c          *Common
	edit       *Edit
	classrooms bool
	kind       int // index in directoryKinds
	search     searchField
	pages      []string // the "after" key of each page shown so far
	next       string
	users      []store.DirectoryUser
	rooms      []store.Classroom
	cursor     int
	scroll     int
	open       bool
	err        error
	loading    bool
	asked      int // the newest page asked for; older answers are dropped
}

var directoryKinds = []string{"", store.KindStudent, store.KindStaff, store.KindGuardian}

// NewDirectory browses e's district.
func NewDirectory(c *Common, e *Edit) *Directory {
	d := &Directory{c: c, edit: e, pages: []string{""}}
	d.search = newSearchField(c, "Search: ", "names, emails, ids")
	return d
}

func (d *Directory) pageSize() int { return max(d.c.Height-4, 5) }

// directoryPage is one page read for the Directory.
type directoryPage struct {
	asked int
	users []store.DirectoryUser
	rooms []store.Classroom
	next  string
	err   error
}

// load asks for the current page in a command.
func (d *Directory) load() tea.Cmd {
	d.asked++
	d.loading = true
	asked, db := d.asked, d.c.DB
	after := d.pages[len(d.pages)-1]
	q := strings.TrimSpace(d.search.value())
	tenant, size, rooms, kind := d.edit.Saved.TenantID, d.pageSize(), d.classrooms, directoryKinds[d.kind]
	return func() tea.Msg {
		p := directoryPage{asked: asked}
		if rooms {
			p.rooms, p.next, p.err = db.DirectoryClassrooms(tenant, store.ClassroomFilter{Search: q}, after, size)
		} else {
			p.users, p.next, p.err = db.DirectoryUsers(tenant, store.UserFilter{Kind: kind, Search: q}, after, size)
		}
		return p
	}
}

func (d *Directory) rows() int {
	if d.classrooms {
		return len(d.rooms)
	}
	return len(d.users)
}

func (d *Directory) Init() tea.Cmd { return d.load() }
func (d *Directory) ID() ID        { return DirectoryScreen }
func (d *Directory) Crumb() string { return "Directory" }
func (d *Directory) Step() int     { return 3 }
func (d *Directory) Typing() bool  { return d.search.active }

var (
	tabKey      = key.NewBinding(key.WithKeys("tab"), key.WithHelp("tab", "users / classrooms"))
	kindKey     = key.NewBinding(key.WithKeys("f"), key.WithHelp("f", "kind"))
	nextPageKey = key.NewBinding(key.WithKeys("pgdown", "]"), key.WithHelp("]/pgdn", "next page"))
	prevPageKey = key.NewBinding(key.WithKeys("pgup", "["), key.WithHelp("[/pgup", "previous page"))
)

func (d *Directory) ShortHelp() []key.Binding {
	k := d.c.Keys
	switch {
	case d.open:
		return []key.Binding{with(k.Back, "close"), k.Up, k.Down}
	case d.search.active:
		return d.search.help(k)
	}
	keys := []key.Binding{tabKey}
	if !d.classrooms {
		keys = append(keys, kindKey)
	}
	keys = append(keys, with(k.Filter, "search"))
	if d.next != "" {
		keys = append(keys, nextPageKey)
	}
	if len(d.pages) > 1 {
		keys = append(keys, prevPageKey)
	}
	if d.rows() > 0 {
		keys = append(keys, with(k.Select, "details"))
	}
	return append(keys, k.Back)
}

func (d *Directory) FullHelp() [][]key.Binding {
	k := d.c.Keys
	if d.open || d.search.active {
		return [][]key.Binding{d.ShortHelp()}
	}
	kinds := []key.Binding{tabKey, with(k.Filter, "search")}
	if !d.classrooms {
		kinds = append(kinds, with(kindKey, "kind: all, students, staff, guardians"))
	}
	return [][]key.Binding{{k.Up, k.Down, with(k.Select, "details")}, kinds, {nextPageKey, prevPageKey, k.Back}}
}

func (d *Directory) Update(msg tea.Msg) (Screen, tea.Cmd) {
	if p, ok := msg.(directoryPage); ok {
		if p.asked == d.asked {
			d.loading = false
			d.users, d.rooms, d.next, d.err = p.users, p.rooms, p.next, p.err
			d.cursor = max(0, min(d.cursor, d.rows()-1))
		}
		return d, nil
	}
	k := d.c.Keys
	if d.search.active {
		if cmd, changed, ok := d.search.handle(msg, k.Back); ok {
			if changed {
				d.pages = []string{""}
				return d, tea.Batch(cmd, d.load())
			}
			return d, cmd
		}
	}
	km, ok := msg.(tea.KeyPressMsg)
	if !ok {
		return d, nil
	}
	switch {
	case key.Matches(km, k.Back) && d.open:
		d.open = false
	case key.Matches(km, k.Back):
		return d, d.c.Back()
	case d.open && key.Matches(km, k.Up):
		d.scroll = max(d.scroll-1, 0)
	case d.open && key.Matches(km, k.Down):
		d.scroll++
	case d.open:
	case key.Matches(km, k.Up):
		d.cursor = max(d.cursor-1, 0)
	case key.Matches(km, k.Down):
		d.cursor = min(d.cursor+1, d.rows()-1)
	case key.Matches(km, tabKey):
		d.classrooms = !d.classrooms
		d.pages, d.cursor = []string{""}, 0
		return d, d.load()
	case key.Matches(km, kindKey) && !d.classrooms:
		d.kind = (d.kind + 1) % len(directoryKinds)
		d.pages, d.cursor = []string{""}, 0
		return d, d.load()
	case key.Matches(km, k.Filter):
		return d, d.search.open()
	case key.Matches(km, nextPageKey) && d.next != "":
		d.pages = append(d.pages, d.next)
		d.cursor = 0
		return d, d.load()
	case key.Matches(km, prevPageKey) && len(d.pages) > 1:
		d.pages = d.pages[:len(d.pages)-1]
		d.cursor = 0
		return d, d.load()
	case key.Matches(km, k.Select) && d.rows() > 0:
		d.open, d.scroll = true, 0
	}
	return d, nil
}

func (d *Directory) View() string {
	st := d.c.Styles
	w := d.c.Width
	tabs := st.Focused.Render("[Users]") + " Classrooms"
	if d.classrooms {
		tabs = "Users " + st.Focused.Render("[Classrooms]")
	}
	kind := ""
	if !d.classrooms {
		kind = " · " + []string{"all kinds", "students", "staff", "guardians"}[d.kind]
	}
	head := truncate(st.Title.Render("Directory")+" "+tabs+st.Muted.Render(fmt.Sprintf("%s · page %d", kind, len(d.pages))), w)
	if d.search.active || d.search.value() != "" {
		head += "\n" + truncate(d.search.view(), w)
	}
	if d.err != nil {
		head += "\n" + st.Error.Render(wrap(untrusted.Text(ErrText(d.err)), w))
	}
	if d.open {
		return page{Head: head, Body: d.detail(), Focus: -1, Scroll: &d.scroll}.render(st, w, d.c.Height)
	}
	var b strings.Builder
	switch {
	case d.loading && d.rows() == 0:
		b.WriteString(st.Muted.Render("Reading the directory…"))
	case d.rows() == 0 && d.search.value() != "":
		b.WriteString(wrap(fmt.Sprintf("Nothing matches %q.", d.search.value()), w))
	case d.rows() == 0:
		b.WriteString(wrap("Nothing here yet: the directory fills when a sync is applied (⋮ → Run sync now).", w))
	}
	for i := range d.rows() {
		b.WriteString(line(st, i == d.cursor, truncate(d.rowText(i), w-2)) + "\n")
	}
	if d.next != "" {
		b.WriteString(st.Muted.Render("  more on the next page: ] or pgdn") + "\n")
	}
	return page{Head: head, Body: b.String(), Focus: d.cursor, Scroll: &d.scroll}.render(st, w, d.c.Height)
}

func (d *Directory) rowText(i int) string {
	st := d.c.Styles
	if d.classrooms {
		c := d.rooms[i]
		status := c.Status
		if c.ArchivedBy != "" {
			status += " by " + c.ArchivedBy
		}
		return fmt.Sprintf("%-36s %s", truncate(untrusted.Text(c.Name), 36), st.Muted.Render(status+" · "+untrusted.Text(c.SourcedID)))
	}
	u := d.users[i]
	what := u.Kind
	if u.RoleGroup != "" {
		what = u.RoleGroup
	}
	flags := u.Status
	if u.Joined {
		flags += ", joined"
	}
	name := lipgloss.NewStyle().Width(26).Render(truncate(untrusted.Text(u.GivenName+" "+u.FamilyName), 25))
	return name + fmt.Sprintf("%-15s", what) + st.Muted.Render(flags+" · "+untrusted.Text(orDash(u.Email)))
}

func (d *Directory) detail() string {
	if d.classrooms {
		c := d.rooms[d.cursor]
		return fmt.Sprintf("%s\n  id %s\n  school %s\n  status %s %s\n", untrusted.Text(c.Name), untrusted.Text(c.SourcedID), untrusted.Text(c.School), c.Status, c.ArchivedBy)
	}
	u := d.users[d.cursor]
	var b strings.Builder
	fmt.Fprintf(&b, "%s  (%s", untrusted.Text(u.GivenName+" "+u.FamilyName), u.Kind)
	if u.RoleGroup != "" {
		fmt.Fprintf(&b, ", %s", u.RoleGroup)
	}
	fmt.Fprintf(&b, ")\n  id %s\n  email %s\n  mobile (SMS) %s\n  home phone %s\n  status %s · joined %v\n", untrusted.Text(u.SourcedID), untrusted.Text(orDash(u.Email)), untrusted.Text(orDash(u.Mobile)), untrusted.Text(orDash(u.HomePhone)), u.Status, u.Joined)
	if len(u.Permissions) > 0 {
		b.WriteString(indent(wrap("permissions "+strings.Join(u.Permissions, ", "), d.c.Width-2), "  ") + "\n")
	}
	if len(u.GuardianOf) > 0 {
		b.WriteString(indent(wrap("guardian of "+untrusted.Text(strings.Join(u.GuardianOf, ", ")), d.c.Width-2), "  ") + "\n")
	}
	return b.String()
}
