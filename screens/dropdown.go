package screens

import (
	"errors"
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"github.com/schoolstatus/rostersync/store"
	"github.com/schoolstatus/rostersync/untrusted"
)

// SupportEmail is who to ask for a district's ClassLink IDs.
const SupportEmail = "connectsupport@schoolstatus.com"

// dropdownItem is one entry of the district dropdown.
type dropdownItem struct {
	label, detail string
	district      *store.District    // a stored district
	demo          bool               // the built-in demo district, not stored yet
	add           bool               // "Add a district…"
	classlink     *ClassLinkDistrict // shared with the partner, not stored yet
}

// Dropdown is step 1: pick a district, or add one by its ClassLink IDs.
type Dropdown struct {
	c      *Common
	all    []dropdownItem
	shown  []dropdownItem
	filter textinput.Model
	cursor int
	err    error

	adding bool
	form   addDistrictForm

	fromClassLink []ClassLinkDistrict
	classLinkErr  error
}

// NewDropdown lists the stored districts this person may open.
func NewDropdown(c *Common) *Dropdown {
	d := &Dropdown{c: c}
	d.filter = newInput(c.Styles, "Filter: ", "type to filter districts", 40)
	d.filter.Focus()
	d.load()
	return d
}

func (d *Dropdown) load() {
	d.all = nil
	districts, err := d.c.DB.Districts()
	d.err = err
	demoStored := false
	for i := range districts {
		dist := districts[i]
		if !d.c.Allowed(dist.TenantID) {
			continue
		}
		label := untrusted.Text(dist.Name)
		if dist.Demo {
			demoStored = true
			label = "Demo district · " + label + " (built-in sample data)"
		}
		d.all = append(d.all, dropdownItem{
			label:    label,
			detail:   fmt.Sprintf("Tenant %d · app %d · rev %d", dist.TenantID, dist.ApplicationID, dist.Revision),
			district: &dist,
		})
	}
	if !demoStored && d.c.Allowed(store.DemoTenantID) {
		d.all = append(d.all, dropdownItem{
			label:  "Demo district · " + store.DemoName + " (built-in sample data)",
			detail: fmt.Sprintf("Tenant %d · app %d", store.DemoTenantID, store.DemoApplicationID),
			demo:   true,
		})
	}
	stored := map[int64]bool{}
	for _, it := range d.all {
		if it.district != nil {
			stored[it.district.TenantID] = true
		}
	}
	for i := range d.fromClassLink {
		cl := d.fromClassLink[i]
		if stored[cl.TenantID] || !d.c.Allowed(cl.TenantID) {
			continue
		}
		d.all = append(d.all, dropdownItem{
			label:     "ClassLink · " + untrusted.Text(cl.Name),
			detail:    fmt.Sprintf("Tenant %d · app %d · not added yet", cl.TenantID, cl.ApplicationID),
			classlink: &cl,
		})
	}
	d.all = append(d.all, dropdownItem{label: "+ Add a district by Tenant ID and application_id…", add: true})
	d.applyFilter()
}

func (d *Dropdown) applyFilter() {
	q := strings.ToLower(strings.TrimSpace(d.filter.Value()))
	d.shown = d.shown[:0]
	for _, it := range d.all {
		if q == "" || it.add || strings.Contains(strings.ToLower(it.label+" "+it.detail), q) {
			d.shown = append(d.shown, it)
		}
	}
	d.cursor = min(d.cursor, len(d.shown)-1)
}

// Init asks ClassLink for the districts that shared the app, when a
// partner token is set.
func (d *Dropdown) Init() tea.Cmd {
	if d.c.ClassLinkDistricts == nil {
		return nil
	}
	return d.c.ClassLinkDistricts()
}
func (d *Dropdown) ID() ID        { return DropdownScreen }
func (d *Dropdown) Crumb() string { return "District" }
func (d *Dropdown) Step() int     { return 1 }
func (d *Dropdown) Typing() bool  { return d.adding }

func (d *Dropdown) ShortHelp() []key.Binding {
	k := d.c.Keys
	if d.adding {
		return []key.Binding{with(k.Next, "next field"), with(k.Select, "add"), k.Back}
	}
	return []key.Binding{listUp, listDown, with(k.Select, "open")}
}

// The dropdown's filter takes letters, so only the arrows move.
var (
	listUp   = key.NewBinding(key.WithKeys("up", "ctrl+p"), key.WithHelp("↑", "up"))
	listDown = key.NewBinding(key.WithKeys("down", "ctrl+n"), key.WithHelp("↓", "down"))
)

func (d *Dropdown) FullHelp() [][]key.Binding {
	k := d.c.Keys
	return [][]key.Binding{
		{listUp, listDown, with(k.Select, "open district")},
		{key.NewBinding(key.WithKeys("a"), key.WithHelp("letters", "filter the list")), with(k.Back, "clear filter / leave form")},
	}
}

func (d *Dropdown) Update(msg tea.Msg) (Screen, tea.Cmd) {
	if m, ok := msg.(ClassLinkDistrictsMsg); ok {
		d.c.keepClassLink(m)
		d.fromClassLink, d.classLinkErr = m.Districts, m.Err
		d.load()
		return d, nil
	}
	if d.adding {
		return d.updateForm(msg)
	}
	km, ok := msg.(tea.KeyPressMsg)
	if !ok {
		return d, nil
	}
	k := d.c.Keys
	switch {
	case key.Matches(km, listUp):
		d.cursor = max(d.cursor-1, 0)
		return d, nil
	case key.Matches(km, listDown):
		d.cursor = min(d.cursor+1, len(d.shown)-1)
		return d, nil
	case key.Matches(km, k.Select):
		return d, d.choose()
	case key.Matches(km, k.Back):
		if d.filter.Value() != "" {
			d.filter.SetValue("")
			d.applyFilter()
		}
		return d, nil // step 1 has nowhere to go back to
	}
	var cmd tea.Cmd
	d.filter, cmd = d.filter.Update(msg)
	d.applyFilter()
	return d, cmd
}

func (d *Dropdown) choose() tea.Cmd {
	if len(d.shown) == 0 {
		return nil
	}
	it := d.shown[d.cursor]
	switch {
	case it.add:
		d.adding = true
		d.form = newAddDistrictForm(d.c)
		return d.form.focus(0)
	case it.demo:
		saved, _, err := d.c.DB.SaveDistrict(store.NewDemoDistrict(), 0, d.c.Actor, []string{"added the built-in demo district"})
		var conflict *store.ConflictError
		if errors.As(err, &conflict) {
			saved, err = conflict.Current, nil // someone else added it a moment ago
		}
		if err != nil {
			return d.c.FlashError(err)
		}
		return d.c.Post(DistrictChosenMsg{District: saved})
	case it.classlink != nil:
		return d.addFromClassLink(*it.classlink)
	default:
		// Read it again: someone may have saved since the list was drawn.
		dist, err := d.c.DB.District(it.district.TenantID)
		if err != nil {
			return d.c.FlashError(err)
		}
		return d.c.Post(DistrictChosenMsg{District: dist})
	}
}

// addFromClassLink stores a district listed by ClassLink, connected
// through the proxy.
func (d *Dropdown) addFromClassLink(cl ClassLinkDistrict) tea.Cmd {
	dist := store.NewDistrict(cl.TenantID, cl.ApplicationID, cl.Name)
	if d.c.ProxyBaseURL != nil {
		dist.Connection = store.Connection{Mode: store.ModeProxy, BaseURL: d.c.ProxyBaseURL(cl.ApplicationID)}
	}
	listed := store.Listing{Checked: true, ApplicationID: cl.ApplicationID}
	saved, _, err := d.c.DB.AddDistrict(dist, listed, d.c.Actor, d.c.Specialist, "district added from ClassLink's list of districts that shared the app")
	if err != nil {
		return d.c.FlashError(err)
	}
	return d.c.Post(DistrictChosenMsg{District: saved})
}

func (d *Dropdown) updateForm(msg tea.Msg) (Screen, tea.Cmd) {
	km, ok := msg.(tea.KeyPressMsg)
	if ok && key.Matches(km, d.c.Keys.Back) {
		d.adding = false
		return d, nil
	}
	if ok && km.String() == "enter" && d.form.focused == len(d.form.inputs)-1 {
		dist, err := d.form.submit()
		if err != nil {
			return d, nil
		}
		d.adding = false
		d.load()
		return d, d.c.Post(DistrictChosenMsg{District: dist})
	}
	return d, d.form.update(msg)
}

func (d *Dropdown) View() string {
	st := d.c.Styles
	var b strings.Builder
	if d.adding {
		return fit(d.form.view(), d.c.Height)
	}
	b.WriteString(st.Title.Render("Choose a district") + "\n")
	b.WriteString(d.filter.View() + "\n\n")
	// Keep the cursor in view when there are more districts than lines.
	room := max(d.c.Height-7, 3)
	start := max(0, min(d.cursor-room/2, len(d.shown)-room))
	for i := start; i < len(d.shown) && i < start+room; i++ {
		it := d.shown[i]
		text := truncate(it.label, d.c.Width-2)
		if it.detail != "" && lipgloss.Width(text+it.detail)+4 <= d.c.Width {
			text += "  " + st.Muted.Render(it.detail)
		}
		b.WriteString(line(st, i == d.cursor, text) + "\n")
	}
	if len(d.shown) == 1 && d.filter.Value() != "" {
		b.WriteString(st.Muted.Render("  No district matches "+fmt.Sprintf("%q", d.filter.Value())) + "\n")
	}
	if d.err != nil {
		b.WriteString(st.Error.Render(ErrText(d.err)) + "\n")
	}
	if d.classLinkErr != nil {
		b.WriteString(st.Warning.Render(wrap("ClassLink's list of districts is unavailable: "+ErrText(d.classLinkErr), d.c.Width)) + "\n")
	}
	b.WriteString("\n" + st.Note.Render(wrap("Don't have the District Tenant ID and District application_id? Ask "+SupportEmail+".", d.c.Width)))
	return fit(b.String(), d.c.Height)
}

// addDistrictForm asks for the two ClassLink IDs and an optional name.
type addDistrictForm struct {
	c       *Common
	inputs  []textinput.Model
	errs    []error
	touched []bool
	focused int
}

const (
	fieldTenant = iota
	fieldApplication
	fieldName
)

func newAddDistrictForm(c *Common) addDistrictForm {
	f := addDistrictForm{c: c}
	f.inputs = []textinput.Model{
		newInput(c.Styles, "District Tenant ID:      ", "e.g. 2", 20),
		newInput(c.Styles, "District application_id: ", "e.g. 57", 20),
		newInput(c.Styles, "District name:           ", "optional, e.g. Springfield USD", 40),
	}
	f.inputs[fieldTenant].CharLimit = 18
	f.inputs[fieldApplication].CharLimit = 18
	f.inputs[fieldName].CharLimit = store.MaxNameLength
	f.errs = make([]error, len(f.inputs))
	f.touched = make([]bool, len(f.inputs))
	return f
}

func (f *addDistrictForm) focus(i int) tea.Cmd {
	f.inputs[f.focused].Blur()
	f.focused = i
	return f.inputs[i].Focus()
}

func (f *addDistrictForm) validate() {
	_, f.errs[fieldTenant] = store.ParseTenantID(f.inputs[fieldTenant].Value())
	_, f.errs[fieldApplication] = store.ParseApplicationID(f.inputs[fieldApplication].Value())
	if f.errs[fieldTenant] == nil {
		id, _ := store.ParseTenantID(f.inputs[fieldTenant].Value())
		if !f.c.Allowed(id) {
			f.errs[fieldTenant] = fmt.Errorf("you do not have access to district %d; ask a specialist to add it to your access list", id)
		} else if existing, err := f.c.DB.District(id); err == nil {
			f.errs[fieldTenant] = fmt.Errorf("district %d is already stored as %s: pick it from the list", id, untrusted.Quote(existing.Name))
		}
	}
	if f.errs[fieldTenant] == nil && f.errs[fieldApplication] == nil {
		tenant, _ := store.ParseTenantID(f.inputs[fieldTenant].Value())
		app, _ := store.ParseApplicationID(f.inputs[fieldApplication].Value())
		_, f.errs[fieldApplication] = store.CheckApplicationID(tenant, app, f.c.Listing(tenant), f.c.Specialist)
	}
	f.errs[fieldName] = nil
	if name := strings.TrimSpace(f.inputs[fieldName].Value()); name != "" {
		f.errs[fieldName] = store.CheckName(name)
	}
}

func (f *addDistrictForm) update(msg tea.Msg) tea.Cmd {
	if km, ok := msg.(tea.KeyPressMsg); ok {
		switch km.String() {
		case "tab", "down", "enter":
			f.touched[f.focused] = true
			f.validate()
			return f.focus((f.focused + 1) % len(f.inputs))
		case "shift+tab", "up":
			return f.focus((f.focused + len(f.inputs) - 1) % len(f.inputs))
		}
	}
	var cmd tea.Cmd
	f.inputs[f.focused], cmd = f.inputs[f.focused].Update(msg)
	if f.inputs[f.focused].Value() != "" {
		f.touched[f.focused] = true
	}
	f.validate()
	return cmd
}

// submit stores the new district as revision 1, or shows what is wrong.
func (f *addDistrictForm) submit() (store.District, error) {
	for i := range f.touched {
		f.touched[i] = true
	}
	f.validate()
	if err := errors.Join(f.errs...); err != nil {
		for i, e := range f.errs {
			if e != nil {
				f.focus(i)
				break
			}
		}
		return store.District{}, err
	}
	tenant, _ := store.ParseTenantID(f.inputs[fieldTenant].Value())
	app, _ := store.ParseApplicationID(f.inputs[fieldApplication].Value())
	d := store.NewDistrict(tenant, app, strings.TrimSpace(f.inputs[fieldName].Value()))
	saved, _, err := f.c.DB.AddDistrict(d, f.c.Listing(tenant), f.c.Actor, f.c.Specialist, "district added in the wizard")
	var fe *store.FieldError
	if errors.As(err, &fe) && fe.Field == "application_id" {
		f.errs[fieldApplication] = err
		f.focus(fieldApplication)
		return store.District{}, err
	}
	if err != nil {
		f.errs[fieldTenant] = err
		return store.District{}, err
	}
	return saved, nil
}

func (f *addDistrictForm) view() string {
	st := f.c.Styles
	var b strings.Builder
	b.WriteString(st.Title.Render("Add a district") + "\n")
	b.WriteString(st.Muted.Render(wrap("Both IDs are positive whole numbers from ClassLink.", f.c.Width)) + "\n\n")
	for i, in := range f.inputs {
		b.WriteString(line(st, i == f.focused, in.View()) + "\n")
		if f.touched[i] && f.errs[i] != nil {
			b.WriteString("    " + st.Error.Render(wrap("✗ "+ErrText(f.errs[i]), f.c.Width-4)) + "\n")
		}
	}
	b.WriteString("\n" + st.Note.Render(wrap("Don't have the District Tenant ID and District application_id? Ask "+SupportEmail+".", f.c.Width)) + "\n")
	b.WriteString(st.Muted.Render("enter on the last field adds the district · esc goes back to the list"))
	return b.String()
}
