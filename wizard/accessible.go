package wizard

import (
	"bufio"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"charm.land/huh/v2"
	"github.com/charmbracelet/colorprofile"

	"github.com/schoolstatus/rostersync/screens"
	"github.com/schoolstatus/rostersync/store"
	rsync "github.com/schoolstatus/rostersync/sync"
	"github.com/schoolstatus/rostersync/untrusted"
)

// ErrInputEnded is returned when the accessible prompts run out of input
// (stdin closed, ctrl+d) before an answer: the prompt's value is left as it
// was, and changes not saved are kept as a draft.
var ErrInputEnded = errors.New("the input ended before an answer")

// ErrInterrupted is returned when the person pressed ctrl+c in the
// accessible prompts; unsaved changes are kept as a draft.
var ErrInterrupted = errors.New("interrupted")

// RunAccessible walks the same click path as plain line prompts (huh's
// accessible mode) for screen readers: everything the guide asks, from
// picking or adding the district to the connection, the schools, the
// settings and permissions, the checklist, Preview sync, Run sync now and
// the history, saving through the same Edit.Save as the Review screen.
// Cancelling ctx (ctrl+c) keeps unsaved changes as a draft and says so.
// Output is stripped of every escape code: screen readers read them aloud.
func RunAccessible(ctx context.Context, opts Options, in io.Reader, out io.Writer) error {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Dialer == nil {
		opts.Dialer = &rsync.Dialer{}
	}
	if opts.Engine == nil {
		opts.Engine = &rsync.Engine{DB: opts.DB, Dial: opts.Dialer.Dial}
	}
	plain := colorprofile.NewWriter(out, nil)
	plain.Profile = colorprofile.NoTTY
	a := &accessible{opts: opts, ctx: ctx, in: newLineReader(ctx, in), out: plain, outbound: &outbound{now: opts.Now}}
	if f, ok := in.(*os.File); ok && isTerminal(f) {
		a.tty = &ttyReader{lineReader: a.in, fd: f.Fd()}
	}
	err := a.run()
	stopped := errors.Is(err, ErrInputEnded) || errors.Is(err, ErrInterrupted)
	if stopped && a.edit != nil && a.edit.Dirty() {
		a.keepDraft()
		a.say("Your %s to %s %s kept as a draft: the next start offers to resume them.", ChangesText(len(a.edit.Changes())), a.edit.Saved.Name, isAre(len(a.edit.Changes())))
		return fmt.Errorf("%w: %s kept as a draft", err, ChangesText(len(a.edit.Changes())))
	}
	if stopped {
		if errors.Is(err, ErrInterrupted) {
			a.say("Stopped. Nothing was left unsaved.")
			return err
		}
		a.say("The input ended before an answer: stopped, nothing was changed.")
		return fmt.Errorf("%w; nothing was changed", err)
	}
	return err
}

type accessible struct {
	opts Options
	ctx  context.Context
	in   *lineReader
	tty  *ttyReader // set when the input is a terminal
	out  io.Writer
	edit *screens.Edit // the district being edited
	// outbound limits the connection tests, as in the wizard.
	outbound *outbound
}

// say prints one message; values from outside in it are escaped.
func (a *accessible) say(format string, args ...any) {
	fmt.Fprintln(a.out, untrusted.Lines(fmt.Sprintf(format, args...)))
}

// ask runs one field as its own form, so the flow can branch between
// prompts. An answer cut short by the end of the input or by ctrl+c is
// not taken (huh fills in the default then).
func (a *accessible) ask(f huh.Field) error {
	var in io.Reader = a.in
	if a.tty != nil {
		in = *a.tty
	}
	err := huh.NewForm(huh.NewGroup(f)).WithAccessible(true).WithInput(in).WithOutput(a.out).Run()
	switch {
	case a.in.interrupted():
		return ErrInterrupted
	case a.in.eof, errors.Is(err, io.EOF): // io.EOF: a secret read from the terminal
		return ErrInputEnded
	}
	return err
}

// line reads one answer, trimmed. The end of the input is ErrInputEnded
// and ctrl+c ErrInterrupted: never an answer.
func (a *accessible) line() (string, error) {
	if !a.in.more() {
		a.say("")
		if a.in.interrupted() {
			return "", ErrInterrupted
		}
		return "", ErrInputEnded
	}
	line := strings.TrimSpace(a.in.pending)
	a.in.pending = ""
	return line, nil
}

// confirm asks yes or no; enter keeps *value. Only y/yes and n/no are
// answers: anything else asks again, and the end of the input leaves
// *value as it was (huh's accessible confirm takes what was typed last,
// even an answer it refused, as "no").
func (a *accessible) confirm(title, help string, value *bool) error {
	if help != "" {
		a.say("%s", help)
	}
	keep, hint := "no", "[y/N]"
	if *value {
		keep, hint = "yes", "[Y/n]"
	}
	for {
		fmt.Fprintf(a.out, "%s %s ", title, hint)
		answer, err := a.line()
		if err != nil {
			return err
		}
		switch strings.ToLower(answer) {
		case "":
			return nil
		case "y", "yes":
			*value = true
			return nil
		case "n", "no":
			*value = false
			return nil
		}
		a.say("%s is not an answer: type y for yes or n for no (enter keeps %s).", untrusted.Quote(answer), keep)
	}
}

// choose asks for one of options by number; enter keeps current. (huh's
// accessible select panics when the input ends after a wrong answer, so
// the one list prompt is ours.)
func (a *accessible) choose(title string, options []string, current int) (int, error) {
	a.say("%s", title)
	for i, o := range options {
		a.say("%d. %s", i+1, o)
	}
	for {
		fmt.Fprintf(a.out, "Enter a number between 1 and %d [%d]: ", len(options), current+1)
		line, err := a.line()
		if err != nil {
			return 0, err
		}
		if line == "" {
			return current, nil
		}
		if n, err := strconv.Atoi(line); err == nil && n >= 1 && n <= len(options) {
			return n - 1, nil
		}
		a.say("%s is not one of the numbers 1 to %d.", untrusted.Quote(line), len(options))
	}
}

// chooseValue is choose among values, shown by their labels; enter keeps
// current (the first value when current is none of them).
func (a *accessible) chooseValue(title string, values, labels []string, current string) (string, error) {
	i, err := a.choose(title, labels, max(slices.Index(values, current), 0))
	if err != nil {
		return "", err
	}
	return values[i], nil
}

// input asks for text; an empty answer keeps the current value, which the
// title shows. *value changes only on an accepted answer (huh's input
// hands back a refused answer when the input ends after it).
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
	v := current
	if err := a.ask(huh.NewInput().Title(title).Value(&v).Validate(check)); err != nil {
		return err
	}
	*value = v
	return nil
}

// secret asks for a secret without showing it: on a terminal it is read
// with echo off (huh's and x/term's password reads spin at ctrl+d);
// piped input is not shown anyway. validate sees every answer, the empty
// one too.
func (a *accessible) secret(title string, validate func(string) error) (string, error) {
	for {
		fmt.Fprintf(a.out, "%s ", title)
		read := a.line
		if a.tty != nil {
			read = func() (string, error) {
				v, err := readSecretLine(a.tty.fd, a.line)
				fmt.Fprintln(a.out) // the enter was not echoed either
				if errors.Is(err, io.EOF) {
					err = ErrInputEnded
				}
				return v, err
			}
		}
		v, err := read()
		if err != nil {
			return "", err
		}
		if validate != nil {
			if err := validate(v); err != nil {
				a.say("%s", screens.ErrText(err))
				continue
			}
		}
		return v, nil
	}
}

func (a *accessible) run() error {
	a.say("rostersync: District-Level Daily Sync setup, step by step. Answer each question and press enter; ctrl+c stops and keeps your changes as a draft.")
	a.say("Step 1 of %d: District.", screens.TotalSteps)
	d, err := a.chooseDistrict()
	if err != nil {
		return err
	}
	a.edit = screens.NewEdit(d)
	if draft, ok, _ := a.opts.DB.Draft(a.opts.Actor.Owner(), d.TenantID); ok {
		// Only y to "Discard them?" discards: a draft cannot be brought back.
		changes := ChangesText(len(store.Diff(draft.Base, draft.District)))
		for {
			resume := true
			if err := a.confirm(fmt.Sprintf("You left %s unsaved on this district. Resume them?", changes), "", &resume); err != nil {
				return err
			}
			if resume {
				a.resume(d, draft)
				break
			}
			discard := false
			if err := a.confirm(fmt.Sprintf("Discard your %s for good? They cannot be brought back.", changes), "", &discard); err != nil {
				return err
			}
			if discard {
				a.opts.DB.DeleteDraft(a.opts.Actor.Owner(), d.TenantID)
				a.say("The draft is discarded.")
				break
			}
			a.say("The draft is kept.")
		}
	}
	return a.home()
}

// resume puts a draft on top of the district as stored, telling the person
// when someone saved the same fields since (as the Review screen does).
func (a *accessible) resume(current store.District, d store.Draft) {
	e := a.edit
	e.Notes = d.Notes
	if d.Base.Revision == current.Revision {
		e.Draft = d.District
		e.Draft.Checklist = current.Checklist
		return
	}
	theirs := map[string]bool{}
	for _, c := range store.Diff(d.Base, current) {
		theirs[c.Field] = true
	}
	var both []string
	for _, c := range store.Diff(d.Base, d.District) {
		if theirs[c.Field] {
			both = append(both, c.Label())
		}
	}
	e.Draft = store.Rebase(d.Base, d.District, current)
	a.say("%s saved revision %d since your draft began; your changes are re-applied on top.", current.SavedBy.User, current.Revision)
	if len(both) > 0 {
		a.say("You both changed: %s. Your values are kept; review them before saving.", strings.Join(both, ", "))
	}
}

// homeChoice is an entry of the District Home Page menu.
type homeChoice int

const (
	choiceSettings homeChoice = iota
	choiceSchools
	choiceConnection
	choiceTest
	choiceChecklist
	choicePreview
	choiceRunNow
	choiceHistory
	choiceSave
	choiceQuit
)

// home is the District Home Page and its ⋮ menu, until the person quits.
func (a *accessible) home() error {
	for {
		a.homeSummary()
		labels := []string{"Settings: District-Level Daily Sync and permissions", "School connection to SIS"}
		choices := []homeChoice{choiceSettings, choiceSchools}
		add := func(label string, c homeChoice) { labels, choices = append(labels, label), append(choices, c) }
		if !a.edit.Saved.Demo {
			add("ClassLink connection", choiceConnection)
		}
		add("Test the ClassLink connection", choiceTest)
		add("Setup checklist: mark a step done or not done", choiceChecklist)
		add("Preview sync (dry run; the self-check)", choicePreview)
		add("Run sync now (enable and launch)", choiceRunNow)
		add("Sync history", choiceHistory)
		if a.edit.Dirty() {
			add(fmt.Sprintf("Review and save your %s", ChangesText(len(a.edit.Changes()))), choiceSave)
		}
		add("Quit", choiceQuit)
		i, err := a.choose("What next?", labels, 0)
		if err != nil {
			return err
		}
		choice := choices[i]
		switch choice {
		case choiceSettings:
			err = a.settingsPath()
		case choiceSchools:
			err = a.schools()
		case choiceConnection:
			err = a.connection()
		case choiceTest:
			a.testConnection()
		case choiceChecklist:
			err = a.checklist()
		case choicePreview:
			a.sync(true)
		case choiceRunNow:
			err = a.runNow()
		case choiceHistory:
			a.history()
		case choiceSave:
			err = a.review()
		case choiceQuit:
			if a.edit.Dirty() {
				a.keepDraft()
				a.say("Your %s %s kept as a draft: the next start offers to resume them.", ChangesText(len(a.edit.Changes())), isAre(len(a.edit.Changes())))
			}
			a.say("Goodbye.")
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// homeSummary is the District Home Page read aloud.
func (a *accessible) homeSummary() {
	d := a.edit.Saved
	a.say("")
	a.say("Step 2 of %d: District Home Page. %s, Tenant ID %d, application_id %d, revision %d, saved by %s.", screens.TotalSteps, d.Name, d.TenantID, d.ApplicationID, d.Revision, d.SavedBy.User)
	if d.Demo {
		a.say("This is the built-in demo district: its roster is sample data served on this machine.")
	}
	if last, ok, err := a.opts.DB.LastRun(d.TenantID); err == nil && ok {
		a.say("Last sync: %s.", screens.RunLine(last))
	} else {
		a.say("No sync has run yet.")
	}
	done := 0
	for _, step := range store.GuideSteps {
		if d.Checklist[step].Done {
			done++
		}
	}
	a.say("Setup checklist: %d of %d steps done.", done, len(store.GuideSteps))
	if a.edit.Dirty() {
		a.say("You have %s not saved yet.", ChangesText(len(a.edit.Changes())))
	}
}

func (a *accessible) chooseDistrict() (store.District, error) {
	districts, err := a.opts.DB.Districts()
	if err != nil {
		return store.District{}, err
	}
	const addChoice, demoChoice = int64(-1), int64(-2)
	var labels []string
	var ids []int64
	demoStored := false
	for _, d := range districts {
		if !allowed(a.opts, d.TenantID) {
			continue
		}
		demoStored = demoStored || d.Demo
		label := fmt.Sprintf("%s (Tenant %d, revision %d)", untrusted.Text(d.Name), d.TenantID, d.Revision)
		if d.Demo {
			label = "Demo district, built-in sample data: " + label
		}
		labels, ids = append(labels, label), append(ids, d.TenantID)
	}
	if !demoStored && allowed(a.opts, store.DemoTenantID) {
		labels, ids = append(labels, "Demo district, built-in sample data"), append(ids, demoChoice)
	}
	labels, ids = append(labels, "Add a district by Tenant ID and application_id"), append(ids, addChoice)
	i, err := a.choose("Choose a district", labels, 0)
	if err != nil {
		return store.District{}, err
	}
	choice := ids[i]
	switch choice {
	case demoChoice:
		d, _, err := a.opts.DB.SaveDistrict(store.NewDemoDistrict(a.opts.Dialer.DemoSchools...), 0, a.opts.Actor, []string{store.DemoNote})
		return d, err
	case addChoice:
		return a.addDistrict()
	}
	return a.opts.DB.District(choice)
}

// isAre is the verb for n things.
func isAre(n int) string {
	if n == 1 {
		return "is"
	}
	return "are"
}

// countOf is "1 school" or "3 schools".
func countOf(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return strconv.Itoa(n) + " " + word + "s"
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
	if err == nil {
		a.say("Added %s as revision %d.", untrusted.Text(d.Name), d.Revision)
	}
	return d, err
}

// settingsPath is steps 4 to 8: Settings, SIS Rostering, District-Level
// Daily Sync, Permissions, Review.
func (a *accessible) settingsPath() error {
	a.say("Steps 3 to 5: ⋮ menu, Settings, SIS Rostering.")
	if err := a.settings(a.edit); err != nil {
		return err
	}
	if err := a.guardians(a.edit); err != nil {
		return err
	}
	a.say("Step 7 of %d: Permissions for synced staff, one role group at a time.", screens.TotalSteps)
	if err := a.permissions(a.edit); err != nil {
		return err
	}
	return a.review()
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
	if !enable {
		e.Unnote(screens.NoteEnabledBeforeSelfCheck)
	}
	s.EnableDailySync = enable
	for i, f := range []*bool{&s.ManageGuardians, &s.UnarchiveReappearingClassrooms, &s.UpdateActiveUserContacts} {
		if err := a.confirm(screens.DailySyncLabel(i+1)+"?", screens.DailySyncHelp(i+1), f); err != nil {
			return err
		}
		if i == 0 && !s.ManageGuardians {
			a.say("%s", screens.GuardiansOffNote)
		}
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
	if err := a.inputCanonical("Daily start time, 24-hour, such as 02:00", &s.DailyStart, store.CanonicalDailyStart); err != nil {
		return err
	}
	return a.inputCanonical("Time zone, IANA name such as America/Chicago (any letter case)", &s.TimeZone, store.CanonicalTimeZone)
}

// inputCanonical is input refusing what canonical refuses, and keeping
// the canonical form of the answer.
func (a *accessible) inputCanonical(title string, value *string, canonical func(string) (string, error)) error {
	if err := a.input(title, value, func(v string) error {
		_, err := canonical(v)
		return err
	}); err != nil {
		return err
	}
	*value, _ = canonical(*value)
	return nil
}

func (a *accessible) permissions(e *screens.Edit) error {
	a.say("What each permission means, when granted (on) and when not (off):")
	for _, p := range store.AllPermissions {
		a.say("%s. On: %s Off: %s", p.Title(), p.WhenOn(), p.WhenOff())
	}
	for _, g := range store.RoleGroups {
		var opts []huh.Option[store.Permission]
		var chosen []store.Permission
		for _, p := range store.AllPermissions {
			on := e.Draft.Permissions.Has(g, p)
			opts = append(opts, huh.NewOption(p.Title(), p).Selected(on))
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
			e.Draft.Permissions.Set(g, p, slices.Contains(chosen, p))
		}
	}
	return nil
}

// schools is School connection to SIS: ClassLink's schools, connected or not.
func (a *accessible) schools() error {
	a.say("School connection to SIS: only connected schools are synced.")
	a.say("Asking ClassLink for the district's schools…")
	ctx, cancel := context.WithTimeout(a.ctx, 2*time.Minute)
	defer cancel()
	var list []rsync.School
	err := connectionRule(a.opts.Dialer, a.edit.Draft)
	if err == nil {
		list, err = rsync.Schools(ctx, a.opts.Engine.Dial, a.edit.Draft)
	}
	if err != nil {
		a.say("Could not list the schools: %s", rsync.Explain(err))
		a.say("Detail: %s", screens.ErrText(err))
		return nil
	}
	var opts []huh.Option[string]
	chosen := slices.Clone(a.edit.Draft.Schools)
	known := map[string]bool{}
	for _, s := range list {
		known[s.SourcedID] = true
		label := s.Name
		if s.Identifier != "" {
			label += ", school number " + s.Identifier
		}
		if s.Status == "tobedeleted" {
			label += " (being removed in ClassLink)"
		}
		opts = append(opts, huh.NewOption(label, s.SourcedID).Selected(slices.Contains(chosen, s.SourcedID)))
	}
	for _, id := range chosen {
		if !known[id] {
			opts = append(opts, huh.NewOption("Not found in ClassLink: "+id, id).Selected(true))
		}
	}
	if len(opts) == 0 {
		a.say("ClassLink lists no schools for this district.")
		return nil
	}
	a.say("ClassLink lists %s; %d connected. Enter a number to connect or disconnect a school, 0 when done.", countOf(len(list), "school"), len(chosen))
	if err := a.ask(huh.NewMultiSelect[string]().Title("Connected schools").Options(opts...).Value(&chosen).Height(len(opts) + 2)); err != nil {
		return err
	}
	slices.Sort(chosen)
	a.edit.Draft.Schools = chosen
	a.say("%s connected (not saved yet, unless nothing changed).", countOf(len(chosen), "school"))
	return nil
}

// connection is the ClassLink connection: the Roster Server with OAuth
// 1.0a, or the proxy.
func (a *accessible) connection() error {
	c := a.edit.Draft.Connection
	mode := c.Mode
	if mode == "" {
		mode = store.ModeOAuth1
	}
	mode, err := a.chooseValue("How does the sync reach the roster?", []string{store.ModeOAuth1, store.ModeProxy},
		[]string{"The district's Roster Server, with OAuth 1.0a key and secret", "ClassLink's proxy, with the partner token"}, mode)
	if err != nil {
		return err
	}
	next := store.Connection{Mode: mode, BaseURL: c.BaseURL}
	if mode == store.ModeProxy {
		a.say("%s", screens.TokenNote)
		if next.BaseURL == "" || c.Mode != store.ModeProxy {
			next.BaseURL = a.opts.Dialer.ProxyBaseURL(a.edit.Draft.ApplicationID)
		}
	}
	check := func(s string) error {
		d := a.edit.Draft
		d.Connection = next
		d.Connection.BaseURL = strings.TrimSpace(s)
		if err := store.ValidateBaseURL(d.Connection.BaseURL); err != nil {
			return err
		}
		return connectionRule(a.opts.Dialer, d)
	}
	if err := a.input("Base URL", &next.BaseURL, check); err != nil {
		return err
	}
	next.BaseURL = strings.TrimSpace(next.BaseURL)
	if mode == store.ModeOAuth1 {
		next.ClientID, next.SignatureMethod = c.ClientID, c.SignatureMethod
		if next.SignatureMethod == "" {
			next.SignatureMethod = store.HMACSHA256
		}
		if err := a.input("Client ID (consumer key)", &next.ClientID, func(s string) error { return screens.ClientIDProblem(strings.TrimSpace(s)) }); err != nil {
			return err
		}
		next.ClientID = strings.TrimSpace(next.ClientID)
		title := "Client secret (consumer secret; it is never shown)"
		if c.ClientSecret != "" {
			title = "Client secret (never shown; enter keeps the stored one)"
		}
		secret, err := a.secret(title, func(s string) error {
			if s == "" {
				s = c.ClientSecret // enter keeps the stored one
			}
			return screens.ClientSecretProblem(s)
		})
		if err != nil {
			return err
		}
		next.ClientSecret = secret
		if secret == "" {
			next.ClientSecret = c.ClientSecret
		}
		next.SignatureMethod, err = a.chooseValue("Signature method", []string{store.HMACSHA256, store.HMACSHA1}, []string{"HMAC-SHA256 (ClassLink's default)", "HMAC-SHA1"}, next.SignatureMethod)
		if err != nil {
			return err
		}
	}
	a.edit.Draft.Connection = next
	a.say("Connection set (not saved yet). Save it, then test it from the menu.")
	return nil
}

// testConnection runs the connection test of the district as saved.
func (a *accessible) testConnection() {
	d := a.edit.Saved
	if a.edit.Draft.Connection != d.Connection {
		a.say("This tests the saved connection; your unsaved connection changes are not in it.")
	}
	if err := connectionRule(a.opts.Dialer, d); err != nil {
		a.say("Connection test failed: %s", rsync.Explain(err))
		return
	}
	octx, done, err := a.outbound.begin(a.ctx, outTest, nil)
	if err != nil {
		a.say("No test: %s.", err)
		return
	}
	defer done()
	a.say("Testing the connection to ClassLink…")
	ctx, cancel := context.WithTimeout(octx, time.Minute)
	defer cancel()
	r := rsync.TestConnection(ctx, a.opts.Engine.Dial, d)
	if !r.OK {
		a.say("Connection test failed: %s", r.Summary)
		a.say("Detail (%s): %s", r.Reason, r.Error)
		return
	}
	a.say("%s.", screens.ReportText(report(d, r)))
	if now, err := a.opts.DB.SetChecklistStep(d.TenantID, store.StepRosteringApp, store.ChecklistItem{Done: true, Verified: true, By: a.opts.Actor.Name()}); err == nil {
		a.edit.Saved.Checklist, a.edit.Draft.Checklist = now.Checklist, now.Checklist
		a.say("Step 1 is verified.")
	}
}

// checklist reads the guide's nine steps and ticks or unticks one.
func (a *accessible) checklist() error {
	d := a.edit.Saved
	var labels []string
	for i, step := range store.GuideSteps {
		item := d.Checklist[step]
		state := "not done"
		if item.Done {
			state = "done"
		}
		if item.Verified {
			state += ", verified by rostersync"
		}
		labels = append(labels, fmt.Sprintf("Step %d, %s: %s", i+1, step.Title(), state))
	}
	labels = append(labels, "Back to the District Home Page")
	choice, err := a.choose("Setup checklist: choose a step to mark done or not done", labels, len(labels)-1)
	if err != nil || choice == len(labels)-1 {
		return err
	}
	step := store.GuideSteps[choice]
	item := d.Checklist[step]
	if step == store.StepSelfCheck && !item.Done && !a.previewPassed() {
		a.say("Step 6 is the self-check: a Preview sync of revision %d without a threshold failure marks it done.", d.Revision)
		return nil
	}
	if item.Done && item.Verified {
		sure := false
		if err := a.confirm(fmt.Sprintf("rostersync verified step %d. Untick it anyway?", choice+1), "", &sure); err != nil || !sure {
			return err
		}
	}
	now, err := a.opts.DB.SetChecklistStep(d.TenantID, step, store.ChecklistItem{Done: !item.Done, By: a.opts.Actor.Name()})
	if err != nil {
		return err
	}
	a.edit.Saved.Checklist, a.edit.Draft.Checklist = now.Checklist, now.Checklist
	if now.Checklist[step].Done {
		a.say("Step %d is marked done.", choice+1)
	} else {
		a.say("Step %d is marked not done.", choice+1)
	}
	return nil
}

func (a *accessible) previewPassed() bool {
	r, ok, err := a.opts.DB.LastPreview(a.edit.Saved.TenantID)
	e := screens.NewEdit(a.edit.Saved)
	if err == nil && ok {
		e.LastPreview = &r
	}
	return e.PreviewPassed()
}

// sync runs a preview (dry) or an applied run of the saved revision and
// reads the plan out as text.
func (a *accessible) sync(dry bool) {
	d := a.edit.Saved
	what := "sync"
	if dry {
		what = "preview"
		a.say("Preview sync: a dry run of revision %d; nothing is changed.", d.Revision)
	}
	if a.edit.Dirty() {
		a.say("It uses the saved revision %d; your unsaved changes are not in it.", d.Revision)
	}
	phase := ""
	res, err := a.opts.Engine.Run(a.ctx, d.TenantID, rsync.RunOptions{DryRun: dry, Samples: 2, Progress: func(p rsync.Progress) {
		if p.Phase != phase {
			phase = p.Phase
			if phase == rsync.PhaseGuardiansFile {
				a.say("Reading the guardians file…")
				return
			}
			a.say("%s…", strings.ToUpper(p.Phase[:1])+p.Phase[1:])
		}
	}})
	if err != nil {
		a.say("The %s could not run: %s", what, screens.ErrText(err))
		return
	}
	run := res.Run
	a.say("The %s.", screens.RunLine(run))
	if why := rsync.ExplainRun(run); why != "" {
		a.say("%s", why)
		if tech := screens.RunTechnical(run, why); tech != "" {
			a.say("Detail: %s", tech)
		}
	}
	if !screens.RunPlanned(run) {
		return
	}
	for _, typ := range store.RecordTypes {
		c := run.Counts.Of(typ)
		var parts []string
		for _, act := range store.Actions {
			parts = append(parts, fmt.Sprintf("%s %d", act, *c.Of(act)))
		}
		a.say("%s: %s.", strings.ToUpper(typ[:1])+typ[1:], strings.Join(parts, ", "))
		for _, s := range res.Samples {
			if s.Type == typ {
				a.say("  For example, %s %s.", s.Action, cmp.Or(s.Name, s.SourcedID))
			}
		}
	}
	if w := run.Warnings; w.InvalidPhone > 0 || w.GuardianWithoutContact > 0 {
		a.say("Warnings: %d invalid phone numbers (left empty), %d guardians without a unique email or valid SMS number (skipped).", w.InvalidPhone, w.GuardianWithoutContact)
	}
	if now, err := a.opts.DB.District(d.TenantID); err == nil {
		a.edit.Saved.Checklist, a.edit.Draft.Checklist = now.Checklist, now.Checklist
		switch {
		case dry && now.Checklist[store.StepSelfCheck].Done && run.Status != store.RunFailed:
			a.say("The self-check passed (step 6). Run sync now applies this plan.")
		case !dry && now.Checklist[store.StepEnable].Verified:
			a.say("Step 7, enable and launch, is verified.")
		}
	}
}

// runNow is Run sync now: after a passed preview, and with a yes.
func (a *accessible) runNow() error {
	if !a.previewPassed() {
		a.say("Preview the sync of revision %d first. A preview without a threshold failure is the guide's self-check; then Run sync now applies the same plan.", a.edit.Saved.Revision)
		return nil
	}
	a.say("This is the guide's \"enable and launch\" step: the sync pulls the roster from ClassLink and applies it to the Connect directory now.")
	sure := false
	if err := a.confirm("Apply it now?", "", &sure); err != nil || !sure {
		return err
	}
	a.sync(false)
	return nil
}

// history reads the newest runs and revisions.
func (a *accessible) history() {
	items, err := a.opts.DB.History(a.edit.Saved.TenantID)
	if err != nil {
		a.say("Could not read the history: %s", err)
		return
	}
	a.say("Sync history, newest first (%d entries; the 10 newest are read):", len(items))
	for i, it := range items {
		if i == 10 {
			break
		}
		if r := it.Run; r != nil {
			a.say("%s: %s.", r.StartedAt.Local().Format("Jan 2 15:04"), screens.RunLine(*r))
			continue
		}
		e := it.Revision
		a.say("%s: revision %d by %s, %s.", e.At.Local().Format("Jan 2 15:04"), e.Revision, e.Actor.Name(), ChangesText(len(e.Changes)))
	}
}

// review is step 8: every change in full, then save through Edit.Save.
func (a *accessible) review() error {
	e := a.edit
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
	if err := a.confirm(fmt.Sprintf("Save %s %s as revision %d?", map[bool]string{true: "this", false: "these"}[len(changes) == 1], ChangesText(len(changes)), e.Saved.Revision+1), "", &save); err != nil {
		return err
	}
	if !save {
		a.keepDraft()
		a.say("Not saved. Your changes are kept as a draft.")
		return nil
	}
	if err := connectionRule(a.opts.Dialer, e.Draft); err != nil {
		a.keepDraft()
		return err
	}
	saved, _, err := e.Save(a.opts.DB, a.opts.Actor)
	var conflict *store.ConflictError
	var field *store.FieldError
	if errors.As(err, &field) {
		a.keepDraft()
		a.say("Not saved: %s. Your changes are kept as a draft.", screens.ErrText(err))
		return nil
	}
	if errors.As(err, &conflict) {
		a.say("Not saved: %s saved revision %d while you were editing.", conflict.Current.SavedBy.User, conflict.Current.Revision)
		a.resume(conflict.Current, store.Draft{Base: e.Saved, District: e.Draft, Notes: e.Notes})
		e.Saved = conflict.Current
		a.say("Choose Review and save again to save your changes on top of theirs.")
		return nil
	}
	if err != nil {
		a.keepDraft()
		return err
	}
	a.edit = screens.NewEdit(saved)
	a.say("Saved revision %d.", saved.Revision)
	return nil
}

func (a *accessible) keepDraft() {
	e := a.edit
	a.opts.DB.PutDraft(store.Draft{User: a.opts.Actor.Owner(), TenantID: e.Saved.TenantID, Screen: screens.ReviewScreen.String(), Base: e.Saved, District: e.Draft, Notes: e.Notes})
}

// lineReader hands out at most one line per Read. huh builds a new scanner
// for every prompt, and a scanner that read ahead would swallow the answers
// to the prompts after it when input is piped. Lines are read one at a
// time in a goroutine, only when a prompt asks, so that cancelling ctx
// (ctrl+c) ends a prompt that waits.
type lineReader struct {
	ctx     context.Context
	ask     chan struct{}
	lines   chan lineRead
	asked   bool
	pending string
	eof     bool
}

type lineRead struct {
	s   string
	err error
}

func newLineReader(ctx context.Context, r io.Reader) *lineReader {
	l := &lineReader{ctx: ctx, ask: make(chan struct{}), lines: make(chan lineRead, 1)}
	go func() {
		br := bufio.NewReader(r)
		for range l.ask {
			s, err := br.ReadString('\n')
			l.lines <- lineRead{s, err}
		}
	}()
	return l
}

func (l *lineReader) interrupted() bool { return l.ctx.Err() != nil }

// more waits for the next line; false means the input ended or ctx was
// cancelled.
func (l *lineReader) more() bool {
	for l.pending == "" && !l.eof {
		if !l.asked {
			l.ask <- struct{}{}
			l.asked = true
		}
		select {
		case r := <-l.lines:
			l.asked = false
			l.pending = r.s
			if r.err != nil && r.s == "" {
				l.eof = true
			}
		case <-l.ctx.Done():
			return false
		}
	}
	return l.pending != ""
}

func (l *lineReader) Read(p []byte) (int, error) {
	if !l.more() {
		return 0, io.EOF
	}
	n := copy(p, l.pending)
	l.pending = l.pending[n:]
	return n, nil
}

// ttyReader is a lineReader on a terminal: huh reads a secret straight
// from the terminal with echo off (Fd), between two lines.
type ttyReader struct {
	*lineReader
	fd uintptr
}

func (t ttyReader) Fd() uintptr { return t.fd }

func isTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
