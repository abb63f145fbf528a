package screens

import (
	"errors"
	"fmt"
	"slices"
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

// supportNote says where the IDs come from.
const supportNote = "Don't have the District Tenant ID and District application_id? Ask " + SupportEmail + "."

// dropdownItem is one entry of the district dropdown.
type dropdownItem struct {
	label, detail string
	district      *store.District    // a stored district
	demo          bool               // the built-in demo district, not stored (any more)
	add           bool               // "Add a district…"
	classlink     *ClassLinkDistrict // shared with the partner, not stored yet
}

// districtsLoaded carries the stored districts, read in a command.
type districtsLoaded struct {
	districts []store.District
	err       error
}

// districtAdded carries the result of storing a new district.
type districtAdded struct {
	district store.District
	err      error
}

// Dropdown is step 1: pick a district, or add one by its ClassLink IDs.
type Dropdown struct {
	c       *Common
	stored  []store.District
	loaded  bool
	all     []dropdownItem
	shown   []dropdownItem
	filter  searchField
	cursor  int
	scroll  int
	err     error
	pending bool // a district is being added

	adding bool
	form   addDistrictForm

	fromClassLink []ClassLinkDistrict
	classLinkErr  error
}

// NewDropdown lists the districts this person may open.
func NewDropdown(c *Common) *Dropdown {
	d := &Dropdown{c: c}
	d.filter = newSearchField(c, "Filter: ", "type part of a name or ID")
	d.build()
	return d
}

// build makes the entries from what is loaded.
func (d *Dropdown) build() {
	d.all = nil
	demoStored := false
	for i := range d.stored {
		dist := d.stored[i]
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
			detail:   fmt.Sprintf("Tenant %d · application_id %d · revision %d", dist.TenantID, dist.ApplicationID, dist.Revision),
			district: &dist,
		})
	}
	if d.loaded && !demoStored && d.c.Allowed(store.DemoTenantID) {
		d.all = append(d.all, dropdownItem{
			label:  "Demo district · " + store.DemoName + " (built-in sample data)",
			detail: fmt.Sprintf("Tenant %d · application_id %d · not added yet", store.DemoTenantID, store.DemoApplicationID),
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
			detail:    fmt.Sprintf("Tenant %d · application_id %d · not added yet", cl.TenantID, cl.ApplicationID),
			classlink: &cl,
		})
	}
	d.all = append(d.all, dropdownItem{label: "+ Add a district by Tenant ID and application_id…", add: true})
	d.applyFilter()
}

func (d *Dropdown) applyFilter() {
	q := strings.ToLower(strings.TrimSpace(d.filter.value()))
	d.shown = d.shown[:0]
	for _, it := range d.all {
		if q == "" || it.add || strings.Contains(strings.ToLower(it.label+" "+it.detail), q) {
			d.shown = append(d.shown, it)
		}
	}
	d.cursor = max(0, min(d.cursor, len(d.shown)-1))
}

// Init reads the stored districts (keys typed meanwhile wait for the
// list, so an early enter opens the district it would open) and asks
// ClassLink for the districts that shared the app, when a partner token
// is set.
func (d *Dropdown) Init() tea.Cmd {
	db := d.c.DB
	load := d.c.Do(func() tea.Msg {
		list, err := db.Districts()
		return districtsLoaded{districts: list, err: err}
	})
	if d.c.ClassLinkDistricts == nil {
		return load
	}
	return tea.Batch(load, d.c.ClassLinkDistricts())
}

func (d *Dropdown) ID() ID        { return DropdownScreen }
func (d *Dropdown) Crumb() string { return "District" }
func (d *Dropdown) Step() int     { return 1 }
func (d *Dropdown) Typing() bool  { return d.adding || d.filter.active }

func (d *Dropdown) ShortHelp() []key.Binding {
	k := d.c.Keys
	switch {
	case d.adding:
		return d.form.help()
	case d.filter.active:
		return d.filter.help(k)
	}
	keys := []key.Binding{k.Up, k.Down, with(k.Select, "open"), k.Filter}
	if d.filter.value() != "" {
		keys = append(keys, with(k.Back, "clear filter"))
	}
	return keys
}

func (d *Dropdown) FullHelp() [][]key.Binding {
	k := d.c.Keys
	if d.adding || d.filter.active {
		return [][]key.Binding{d.ShortHelp()}
	}
	return [][]key.Binding{
		{k.Up, k.Down, with(k.Select, "open the district, or add one")},
		{with(k.Filter, "filter the list by name or ID"), with(k.Back, "clear the filter")},
	}
}

func (d *Dropdown) Update(msg tea.Msg) (Screen, tea.Cmd) {
	switch msg := msg.(type) {
	case districtsLoaded:
		d.stored, d.err, d.loaded = msg.districts, msg.err, true
		slices.SortFunc(d.stored, func(a, b store.District) int {
			return strings.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name))
		})
		d.build()
		return d, nil
	case ClassLinkDistrictsMsg:
		d.c.keepClassLink(msg)
		d.fromClassLink, d.classLinkErr = msg.Districts, msg.Err
		d.build()
		return d, nil
	case districtAdded:
		d.pending = false
		if msg.err != nil {
			if d.adding {
				d.form.failed(msg.err)
				return d, nil
			}
			return d, d.c.FlashError(msg.err)
		}
		d.adding = false
		return d, d.c.Post(DistrictChosenMsg{District: msg.district})
	}
	if d.adding {
		return d.updateForm(msg)
	}
	if d.filter.active {
		if cmd, changed, ok := d.filter.handle(msg, d.c.Keys.Back); ok {
			if changed {
				d.applyFilter()
			}
			return d, cmd
		}
	}
	km, ok := msg.(tea.KeyPressMsg)
	if !ok || d.pending {
		return d, nil
	}
	k := d.c.Keys
	switch {
	case key.Matches(km, k.Up):
		d.cursor = max(d.cursor-1, 0)
	case key.Matches(km, k.Down):
		d.cursor = min(d.cursor+1, len(d.shown)-1)
	case key.Matches(km, k.Select):
		return d, d.choose()
	case key.Matches(km, k.Filter):
		return d, d.filter.open()
	case key.Matches(km, k.Back) && d.filter.value() != "":
		d.filter.clear()
		d.applyFilter()
	}
	return d, nil // step 1 has nowhere to go back to
}

func (d *Dropdown) choose() tea.Cmd {
	if len(d.shown) == 0 {
		return nil
	}
	it := d.shown[d.cursor]
	switch {
	case it.add:
		d.adding = true
		d.form = newAddDistrictForm(d.c, d.stored)
		return d.form.focus(0)
	case it.demo:
		demo, who := store.NewDemoDistrict(d.c.DemoSchools...), d.c.Actor
		return d.store(demo, func(db *store.DB) (store.District, error) {
			saved, _, err := db.SaveDistrict(demo, 0, who, []string{store.DemoNote})
			return saved, err
		})
	case it.classlink != nil:
		cl := *it.classlink
		dist := store.NewDistrict(cl.TenantID, cl.ApplicationID, cl.Name)
		if d.c.ProxyBaseURL != nil {
			dist.Connection = store.Connection{Mode: store.ModeProxy, BaseURL: d.c.ProxyBaseURL(cl.ApplicationID)}
		}
		return d.add(dist, store.Listing{Checked: true, ApplicationID: cl.ApplicationID}, "district added from ClassLink's list of districts that shared the app")
	default:
		return d.c.Post(DistrictChosenMsg{District: *it.district})
	}
}

// add stores a new district under the tenant isolation rule.
func (d *Dropdown) add(dist store.District, l store.Listing, note string) tea.Cmd {
	who, specialist := d.c.Actor, d.c.Specialist
	return d.store(dist, func(db *store.DB) (store.District, error) {
		saved, _, err := db.AddDistrict(dist, l, who, specialist, note)
		return saved, err
	})
}

// store saves a new district in a command (add: the tenant isolation rule
// of store.AddDistrict, or a plain save for the demo); districtAdded
// brings the answer.
func (d *Dropdown) store(dist store.District, add func(db *store.DB) (store.District, error)) tea.Cmd {
	db := d.c.DB
	d.pending = true
	return d.c.Do(func() tea.Msg {
		saved, err := add(db)
		var conflict *store.ConflictError
		if errors.As(err, &conflict) && dist.Demo {
			saved, err = conflict.Current, nil // someone else added it a moment ago
		} else if errors.As(err, &conflict) {
			err = &store.FieldError{Field: "tenant_id", Msg: fmt.Sprintf("district %d is already stored as %s: pick it from the list", dist.TenantID, untrusted.Quote(conflict.Current.Name))}
		}
		return districtAdded{district: saved, err: err}
	})
}

func (d *Dropdown) updateForm(msg tea.Msg) (Screen, tea.Cmd) {
	km, ok := msg.(tea.KeyPressMsg)
	if d.pending {
		return d, nil
	}
	if ok && key.Matches(km, d.c.Keys.Back) {
		d.adding = false
		return d, nil
	}
	submit := ok && (key.Matches(km, d.c.Keys.Continue) || km.String() == "enter" && d.form.focused == len(d.form.inputs)-1)
	if submit {
		dist, err := d.form.submit()
		if err != nil {
			return d, nil
		}
		return d, d.add(dist, d.c.Listing(dist.TenantID), "district added in the wizard")
	}
	return d, d.form.update(msg)
}

func (d *Dropdown) View() string {
	st, w := d.c.Styles, d.c.Width
	if d.adding {
		return d.form.view()
	}
	head := st.Title.Render("Choose a district")
	if d.filter.active || d.filter.value() != "" {
		head += "\n" + truncate(d.filter.view(), w)
	}
	var b strings.Builder
	if d.err != nil {
		b.WriteString(st.Error.Render(wrap(untrusted.Text(ErrText(d.err)), w)) + "\n")
	}
	if !d.loaded {
		b.WriteString(st.Muted.Render("Reading the districts…") + "\n")
	}
	focus, focusEnd := -1, -1
	for i, it := range d.shown {
		if i == d.cursor {
			// The focused entry reads in full: its name and its IDs.
			focus = strings.Count(b.String(), "\n")
			text := st.Focused.Render(cursorMark+" ") + indent(wrap(it.label, w-2), "  ")[2:]
			if it.detail != "" {
				text += "\n" + st.Muted.Render(indent(wrap(it.detail, w-4), "    "))
			}
			focusEnd = focus + lineCount(text) - 1
			b.WriteString(text + "\n")
			continue
		}
		text := truncate(it.label, w-2)
		if it.detail != "" && lipgloss.Width(text+it.detail)+4 <= w {
			text += "  " + st.Muted.Render(it.detail)
		}
		b.WriteString(line(st, false, text) + "\n")
	}
	if len(d.shown) == 1 && d.filter.value() != "" {
		b.WriteString(st.Muted.Render(wrap(fmt.Sprintf("No district matches %q (esc clears the filter).", d.filter.value()), w-2)) + "\n")
	}
	if d.classLinkErr != nil {
		b.WriteString(st.Warning.Render(wrap("ClassLink's list of districts is unavailable: "+untrusted.Text(ErrText(d.classLinkErr)), w)) + "\n")
	}
	foot := st.Note.Render(wrap(supportNote, w))
	return page{Head: head, Body: b.String(), Foot: foot, Focus: focus, FocusEnd: focusEnd, Scroll: &d.scroll}.render(st, w, d.c.Height)
}

// addDistrictForm asks for the two ClassLink IDs and an optional name.
type addDistrictForm struct {
	c       *Common
	stored  []store.District
	inputs  []textinput.Model
	errs    []error
	touched []bool
	focused int
	scroll  int
}

const (
	fieldTenant = iota
	fieldApplication
	fieldName
)

var addFormLabels = []string{"District Tenant ID", "District application_id", "District name (optional)"}

func newAddDistrictForm(c *Common, stored []store.District) addDistrictForm {
	f := addDistrictForm{c: c, stored: stored}
	f.inputs = []textinput.Model{
		newInput(c.Styles, "", "e.g. 2", 24),
		newInput(c.Styles, "", "e.g. 57", 24),
		newInput(c.Styles, "", "e.g. Springfield USD", 40),
	}
	// Longer than any valid ID, so that a wrong one is refused with the
	// field's message instead of being cut silently.
	f.inputs[fieldTenant].CharLimit = 24
	f.inputs[fieldApplication].CharLimit = 24
	f.inputs[fieldName].CharLimit = store.MaxNameLength
	f.errs = make([]error, len(f.inputs))
	f.touched = make([]bool, len(f.inputs))
	return f
}

func (f *addDistrictForm) help() []key.Binding {
	k := f.c.Keys
	return []key.Binding{with(k.Continue, "add"), k.Next, with(k.Back, "list")}
}

func (f *addDistrictForm) focus(i int) tea.Cmd {
	f.inputs[f.focused].Blur()
	f.focused = i
	return f.inputs[i].Focus()
}

func (f *addDistrictForm) validate() {
	var id int64
	id, f.errs[fieldTenant] = store.ParseTenantID(f.inputs[fieldTenant].Value())
	_, f.errs[fieldApplication] = store.ParseApplicationID(f.inputs[fieldApplication].Value())
	if f.errs[fieldTenant] == nil {
		if !f.c.Allowed(id) {
			// Said before anything about whether it exists: that is not
			// this person's to know.
			f.errs[fieldTenant] = fmt.Errorf("you do not have access to district %d; ask a specialist to add it to your access list", id)
			return
		}
		for _, d := range f.stored {
			if d.TenantID == id {
				f.errs[fieldTenant] = fmt.Errorf("district %d is already stored as %s: pick it from the list", id, untrusted.Quote(d.Name))
			}
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

// fitInputs sizes the fields to the screen before they scroll their text.
func (f *addDistrictForm) fitInputs() {
	for i := range f.inputs {
		f.inputs[i].SetWidth(max(f.c.Width-6, 8))
	}
}

func (f *addDistrictForm) update(msg tea.Msg) tea.Cmd {
	f.fitInputs()
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

// submit checks every field and returns the district to store, or focuses
// the first field in error.
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
	return store.NewDistrict(tenant, app, strings.TrimSpace(f.inputs[fieldName].Value())), nil
}

// failed shows a save's error on its field.
func (f *addDistrictForm) failed(err error) {
	i := fieldTenant
	var fe *store.FieldError
	if errors.As(err, &fe) && fe.Field == "application_id" {
		i = fieldApplication
	}
	f.errs[i], f.touched[i] = err, true
	f.focus(i)
}

func (f *addDistrictForm) view() string {
	st, w := f.c.Styles, f.c.Width
	head := st.Title.Render("Add a district")
	var b strings.Builder
	b.WriteString(st.Muted.Render(wrap("Both IDs are positive whole numbers from ClassLink.", w)) + "\n")
	focus, focusEnd := 0, 0
	f.fitInputs()
	for i, in := range f.inputs {
		start := strings.Count(b.String(), "\n")
		b.WriteString(line(st, i == f.focused, addFormLabels[i]+":") + "\n")
		b.WriteString("    " + in.View() + "\n")
		if f.touched[i] && f.errs[i] != nil {
			b.WriteString(st.Error.Render(indent(wrap("✗ "+ErrText(f.errs[i]), w-4), "    ")) + "\n")
		}
		if i == f.focused {
			focus, focusEnd = start, strings.Count(b.String(), "\n")-1
		}
	}
	b.WriteString(st.Note.Render(wrap(supportNote, w)))
	return page{Head: head, Body: b.String(), Focus: focus, FocusEnd: focusEnd, Scroll: &f.scroll}.render(st, w, f.c.Height)
}
