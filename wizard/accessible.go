package wizard

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"charm.land/huh/v2"
	"github.com/charmbracelet/colorprofile"

	"github.com/schoolstatus/rostersync/screens"
	"github.com/schoolstatus/rostersync/store"
	"github.com/schoolstatus/rostersync/untrusted"
)

// ErrInputEnded is returned when the accessible prompts run out of input
// before the person confirmed a save; nothing is written then.
var ErrInputEnded = errors.New("input ended before the settings were saved")

// RunAccessible walks the same click path as plain line prompts (huh's
// accessible mode) for screen readers: pick a district, one prompt per
// setting and per role group of the matrix, then review and save through
// the same Edit.Save as the Review screen.
// Output is stripped of every escape code: screen readers read them aloud.
func RunAccessible(opts Options, in io.Reader, out io.Writer) error {
	plain := colorprofile.NewWriter(out, nil)
	plain.Profile = colorprofile.NoTTY
	a := &accessible{opts: opts, in: &lineReader{r: in}, out: plain}
	err := a.run()
	if errors.Is(err, ErrInputEnded) {
		if a.added != 0 {
			return fmt.Errorf("%w: district %d was added, but none of its settings were saved", err, a.added)
		}
		return fmt.Errorf("%w: nothing was written", err)
	}
	return err
}

type accessible struct {
	opts  Options
	in    *lineReader
	out   io.Writer
	added int64 // the district added at step 1, if any
}

// say prints one message; values from outside in it are escaped.
func (a *accessible) say(format string, args ...any) {
	fmt.Fprintln(a.out, untrusted.Lines(fmt.Sprintf(format, args...)))
}

// ask runs one field as its own form, so the flow can branch between prompts.
func (a *accessible) ask(f huh.Field) error {
	err := huh.NewForm(huh.NewGroup(f)).WithAccessible(true).WithInput(a.in).WithOutput(a.out).Run()
	if err != nil {
		return err
	}
	if a.in.eof {
		return ErrInputEnded
	}
	return nil
}

func (a *accessible) confirm(title, help string, value *bool) error {
	if help != "" {
		a.say("%s", help)
	}
	return a.ask(huh.NewConfirm().Title(title).Value(value))
}

// input asks for text; an empty answer keeps the current value, which the
// title shows.
func (a *accessible) input(title string, value *string, validate func(string) error) error {
	current := *value
	if current != "" {
		title += " [now " + current + "; enter keeps it]"
	}
	check := func(s string) error {
		if strings.TrimSpace(s) == "" && current != "" || validate == nil {
			return nil
		}
		if err := validate(s); err != nil {
			return errors.New(screens.ErrText(err))
		}
		return nil
	}
	return a.ask(huh.NewInput().Title(title).Value(value).Validate(check))
}

func (a *accessible) run() error {
	a.say("rostersync: District-Level Daily Sync setup, step by step.")
	a.say("Step 1 of %d: District.", screens.TotalSteps)
	d, err := a.chooseDistrict()
	if err != nil {
		return err
	}
	e := screens.NewEdit(d)
	if draft, ok, _ := a.opts.DB.Draft(a.opts.Actor.Owner(), d.TenantID); ok {
		resume := true
		if err := a.confirm(fmt.Sprintf("You left %s unsaved on this district. Resume them?", changesText(len(store.Diff(draft.Base, draft.District)))), "", &resume); err != nil {
			return err
		}
		if resume {
			e = editFromDraft(d, draft)
		}
	}
	a.say("Step 2 of %d: District Home Page. %s, Tenant ID %d, application_id %d, revision %d.", screens.TotalSteps, d.Name, d.TenantID, d.ApplicationID, d.Revision)
	a.say("Steps 3 to 6: ⋮ menu, Settings, SIS Rostering, District-Level Daily Sync.")
	if err := a.settings(e); err != nil {
		return err
	}
	if err := a.guardians(e); err != nil {
		return err
	}
	a.say("Step 7 of %d: Permissions for synced staff, one role group at a time.", screens.TotalSteps)
	if err := a.permissions(e); err != nil {
		return err
	}
	return a.review(e)
}

func (a *accessible) chooseDistrict() (store.District, error) {
	districts, err := a.opts.DB.Districts()
	if err != nil {
		return store.District{}, err
	}
	const addChoice, demoChoice = int64(-1), int64(-2)
	var options []huh.Option[int64]
	demoStored := false
	for _, d := range districts {
		if !allowed(a.opts, d.TenantID) {
			continue
		}
		demoStored = demoStored || d.Demo
		options = append(options, huh.NewOption(fmt.Sprintf("%s (Tenant %d, revision %d)", untrusted.Text(d.Name), d.TenantID, d.Revision), d.TenantID))
	}
	if !demoStored && allowed(a.opts, store.DemoTenantID) {
		options = append(options, huh.NewOption("Demo district, built-in sample data", demoChoice))
	}
	options = append(options, huh.NewOption("Add a district by Tenant ID and application_id", addChoice))
	choice := options[0].Value
	if err := a.ask(huh.NewSelect[int64]().Title("Choose a district").Options(options...).Value(&choice)); err != nil {
		return store.District{}, err
	}
	switch choice {
	case demoChoice:
		d, _, err := a.opts.DB.SaveDistrict(store.NewDemoDistrict(), 0, a.opts.Actor, []string{"added the built-in demo district"})
		a.added = d.TenantID
		return d, err
	case addChoice:
		return a.addDistrict()
	}
	return a.opts.DB.District(choice)
}

func allowed(o Options, tenantID int64) bool { return o.CanOpen == nil || o.CanOpen(tenantID) }

func (a *accessible) addDistrict() (store.District, error) {
	a.say("Don't have the District Tenant ID and District application_id? Ask %s.", screens.SupportEmail)
	var tenant, app, name string
	err := a.input("District Tenant ID (a positive whole number)", &tenant, func(s string) error {
		id, err := store.ParseTenantID(s)
		if err != nil {
			return err
		}
		if !allowed(a.opts, id) {
			return fmt.Errorf("you do not have access to district %d", id)
		}
		if d, err := a.opts.DB.District(id); err == nil {
			return fmt.Errorf("district %d is already stored as %s: choose it from the list", id, untrusted.Quote(d.Name))
		}
		return nil
	})
	if err != nil {
		return store.District{}, err
	}
	t, _ := store.ParseTenantID(tenant)
	listing := a.opts.Dialer.Listing(context.Background(), t)
	if err := a.input("District application_id (a positive whole number)", &app, func(s string) error {
		ap, err := store.ParseApplicationID(s)
		if err == nil {
			_, err = store.CheckApplicationID(t, ap, listing, specialist(a.opts))
		}
		return err
	}); err != nil {
		return store.District{}, err
	}
	if err := a.input("District name (optional)", &name, func(s string) error {
		if strings.TrimSpace(s) == "" {
			return nil
		}
		return store.CheckName(strings.TrimSpace(s))
	}); err != nil {
		return store.District{}, err
	}
	ap, _ := store.ParseApplicationID(app)
	d, _, err := a.opts.DB.AddDistrict(store.NewDistrict(t, ap, strings.TrimSpace(name)), listing, a.opts.Actor, specialist(a.opts), "district added in the wizard")
	a.added = d.TenantID
	return d, err
}

func (a *accessible) settings(e *screens.Edit) error {
	s := &e.Draft.Settings
	a.say("Step 6 of %d: District-Level Daily Sync.", screens.TotalSteps)
	a.say("%s", screens.SMSNote)
	enable := s.EnableDailySync
	if err := a.confirm("Enable Daily sync?", screens.DailySyncHelp(0), &enable); err != nil {
		return err
	}
	if enable && !s.EnableDailySync && !e.Saved.Checklist[store.StepSelfCheck].Done {
		a.say("Warning. %s", screens.SelfCheckWarning)
		sure := false
		if err := a.confirm("Enable Daily sync anyway?", "", &sure); err != nil {
			return err
		}
		enable = sure
		if sure {
			e.Note(screens.NoteEnabledBeforeSelfCheck)
		}
	}
	s.EnableDailySync = enable
	for i, f := range []*bool{&s.ManageGuardians, &s.UnarchiveReappearingClassrooms, &s.UpdateActiveUserContacts} {
		if err := a.confirm(screens.DailySyncLabel(i+1)+"?", screens.DailySyncHelp(i+1), f); err != nil {
			return err
		}
	}
	if !s.ManageGuardians {
		a.say("%s", screens.GuardiansOffNote)
	}
	threshold := strconv.Itoa(s.DeletionThresholdPercent)
	a.say("%s", screens.DailySyncHelp(4))
	if err := a.input("Deletion threshold, percent (0 to 100)", &threshold, func(v string) error {
		_, err := store.ParseThreshold(v)
		return err
	}); err != nil {
		return err
	}
	s.DeletionThresholdPercent, _ = store.ParseThreshold(threshold)
	if err := a.input("Daily start time, HH:MM 24-hour", &s.DailyStart, func(v string) error {
		_, _, err := store.ParseDailyStart(v)
		return err
	}); err != nil {
		return err
	}
	s.DailyStart = strings.TrimSpace(s.DailyStart)
	if err := a.input("Time zone, IANA name such as America/Chicago", &s.TimeZone, func(v string) error {
		_, err := store.LoadTimeZone(v)
		return err
	}); err != nil {
		return err
	}
	s.TimeZone = strings.TrimSpace(s.TimeZone)
	return nil
}

func (a *accessible) permissions(e *screens.Edit) error {
	for _, g := range store.RoleGroups {
		var opts []huh.Option[store.Permission]
		var chosen []store.Permission
		for _, p := range store.AllPermissions {
			on := e.Draft.Permissions.Has(g, p)
			opts = append(opts, huh.NewOption(p.Title()+": "+p.WhenOn(), p).Selected(on))
			if on {
				chosen = append(chosen, p)
			}
		}
		a.say("%s: enter a number to toggle a permission, 0 when done.", g.Title())
		ms := huh.NewMultiSelect[store.Permission]().Title(g.Title() + " permissions").Options(opts...).Value(&chosen).Height(len(opts) + 2)
		if err := a.ask(ms); err != nil {
			return err
		}
		for _, p := range store.AllPermissions {
			e.Draft.Permissions.Set(g, p, false)
		}
		for _, p := range chosen {
			e.Draft.Permissions.Set(g, p, true)
		}
	}
	return nil
}

func (a *accessible) review(e *screens.Edit) error {
	a.say("Step 8 of %d: Review.", screens.TotalSteps)
	changes := e.Changes()
	if len(changes) == 0 {
		a.say("Nothing changed since revision %d. Nothing was saved.", e.Saved.Revision)
		a.opts.DB.DeleteDraft(a.opts.Actor.Owner(), e.Saved.TenantID)
		return nil
	}
	for _, c := range changes {
		a.say("%s: %s to %s.", c.Label(), c.From, c.To)
	}
	for _, n := range e.Notes {
		a.say("Note: %s.", n)
	}
	save := false
	if err := a.confirm(fmt.Sprintf("Save these %s as revision %d?", changesText(len(changes)), e.Saved.Revision+1), "", &save); err != nil {
		a.keepDraft(e)
		return err
	}
	if !save {
		a.keepDraft(e)
		a.say("Not saved. Your changes are kept as a draft.")
		return nil
	}
	if err := connectionRule(a.opts.Dialer, e.Draft); err != nil {
		a.keepDraft(e)
		return err
	}
	saved, _, err := e.Save(a.opts.DB, a.opts.Actor)
	if err != nil {
		a.keepDraft(e)
		return err
	}
	a.opts.DB.DeleteDraft(a.opts.Actor.Owner(), saved.TenantID)
	a.say("Saved revision %d.", saved.Revision)
	return nil
}

func (a *accessible) keepDraft(e *screens.Edit) {
	a.opts.DB.PutDraft(store.Draft{User: a.opts.Actor.Owner(), TenantID: e.Saved.TenantID, Screen: screens.ReviewScreen.String(), Base: e.Saved, District: e.Draft, Notes: e.Notes})
}

// lineReader hands out at most one line per Read. huh builds a new scanner
// for every prompt, and a scanner that read ahead would swallow the answers
// to the prompts after it when input is piped.
type lineReader struct {
	r   io.Reader
	eof bool
}

func (l *lineReader) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		k, err := l.r.Read(p[n : n+1])
		n += k
		if err != nil {
			if errors.Is(err, io.EOF) {
				l.eof = true
			}
			return n, err
		}
		if k == 1 && p[n-1] == '\n' {
			break
		}
	}
	return n, nil
}
