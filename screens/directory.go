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
// time, filtered by kind and by a search.
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
	open       bool
	err        error
}

var directoryKinds = []string{"", store.KindStudent, store.KindStaff, store.KindGuardian}

// NewDirectory browses e's district.
func NewDirectory(c *Common, e *Edit) *Directory {
	d := &Directory{c: c, edit: e, pages: []string{""}}
	d.search = newSearchField(c.Styles, "Search: ", "press / to search names, emails, ids")
	d.load()
	return d
}

func (d *Directory) pageSize() int { return max(d.c.Height-7, 5) }

func (d *Directory) load() {
	after := d.pages[len(d.pages)-1]
	q := strings.TrimSpace(d.search.value())
	tenant := d.edit.Saved.TenantID
	if d.classrooms {
		d.rooms, d.next, d.err = d.c.DB.DirectoryClassrooms(tenant, store.ClassroomFilter{Search: q}, after, d.pageSize())
	} else {
		d.users, d.next, d.err = d.c.DB.DirectoryUsers(tenant, store.UserFilter{Kind: directoryKinds[d.kind], Search: q}, after, d.pageSize())
	}
	d.cursor = max(0, min(d.cursor, d.rows()-1))
}

func (d *Directory) rows() int {
	if d.classrooms {
		return len(d.rooms)
	}
	return len(d.users)
}

func (d *Directory) Init() tea.Cmd { return nil }
func (d *Directory) ID() ID        { return DirectoryScreen }
func (d *Directory) Crumb() string { return "Directory" }
func (d *Directory) Step() int     { return 3 }
func (d *Directory) Typing() bool  { return d.search.active }

var (
	tabKey      = key.NewBinding(key.WithKeys("tab"), key.WithHelp("tab", "users / classrooms"))
	kindKey     = key.NewBinding(key.WithKeys("k"), key.WithHelp("k", "kind"))
	nextPageKey = key.NewBinding(key.WithKeys("pgdown", "]"), key.WithHelp("]/pgdn", "next page"))
	prevPageKey = key.NewBinding(key.WithKeys("pgup", "["), key.WithHelp("[/pgup", "previous page"))
	rowUp       = key.NewBinding(key.WithKeys("up"), key.WithHelp("↑", "up"))
	rowDown     = key.NewBinding(key.WithKeys("down", "j"), key.WithHelp("↓", "down"))
)

func (d *Directory) ShortHelp() []key.Binding {
	k := d.c.Keys
	if d.open {
		return []key.Binding{with(k.Back, "close")}
	}
	if d.search.active {
		return d.search.help(k)
	}
	return []key.Binding{tabKey, kindKey, searchKey, nextPageKey, with(k.Select, "details"), k.Back}
}

func (d *Directory) FullHelp() [][]key.Binding {
	k := d.c.Keys
	return [][]key.Binding{{rowUp, rowDown, with(k.Select, "details")}, {tabKey, kindKey, with(searchKey, "search")}, {nextPageKey, prevPageKey, k.Back}}
}

func (d *Directory) Update(msg tea.Msg) (Screen, tea.Cmd) {
	km, ok := msg.(tea.KeyPressMsg)
	if !ok {
		return d, nil
	}
	k := d.c.Keys
	if d.search.active {
		cmd, changed := d.search.update(km, k.Back)
		if changed {
			d.pages = []string{""}
			d.load()
		}
		return d, cmd
	}
	switch {
	case key.Matches(km, k.Back) && d.open:
		d.open = false
	case key.Matches(km, k.Back):
		return d, d.c.Back()
	case d.open:
	case key.Matches(km, rowUp):
		d.cursor = max(d.cursor-1, 0)
	case key.Matches(km, rowDown):
		d.cursor = min(d.cursor+1, d.rows()-1)
	case key.Matches(km, tabKey):
		d.classrooms = !d.classrooms
		d.pages, d.cursor = []string{""}, 0
		d.load()
	case key.Matches(km, kindKey) && !d.classrooms:
		d.kind = (d.kind + 1) % len(directoryKinds)
		d.pages, d.cursor = []string{""}, 0
		d.load()
	case key.Matches(km, searchKey):
		return d, d.search.open()
	case key.Matches(km, nextPageKey) && d.next != "":
		d.pages = append(d.pages, d.next)
		d.cursor = 0
		d.load()
	case key.Matches(km, prevPageKey) && len(d.pages) > 1:
		d.pages = d.pages[:len(d.pages)-1]
		d.cursor = 0
		d.load()
	case key.Matches(km, k.Select) && d.rows() > 0:
		d.open = true
	}
	return d, nil
}

func (d *Directory) View() string {
	st := d.c.Styles
	w := d.c.Width
	var b strings.Builder
	tabs := st.Focused.Render("[Users]") + "  Classrooms"
	if d.classrooms {
		tabs = "Users  " + st.Focused.Render("[Classrooms]")
	}
	kind := "all kinds"
	if !d.classrooms {
		kind = []string{"all kinds", "students", "staff", "guardians"}[d.kind]
	}
	b.WriteString(st.Title.Render("Directory") + "  " + tabs + st.Muted.Render(fmt.Sprintf("  · %s · page %d", kind, len(d.pages))) + "\n")
	b.WriteString(d.search.view() + "\n")
	if d.err != nil {
		b.WriteString(st.Error.Render(untrusted.Text(d.err.Error())) + "\n")
	}
	if d.open {
		b.WriteString("\n" + d.detail())
		return fit(b.String(), d.c.Height)
	}
	if d.rows() == 0 {
		b.WriteString("\n" + wrap("Nothing here yet: the directory fills when a sync is applied (⋮ → Run sync now).", w))
		return fit(b.String(), d.c.Height)
	}
	for i := range d.rows() {
		b.WriteString(line(st, i == d.cursor, truncate(d.rowText(i), w-2)) + "\n")
	}
	if d.next != "" {
		b.WriteString(st.Muted.Render("  more: ] or pgdn") + "\n")
	}
	return fit(b.String(), d.c.Height)
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
