package wizard

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/schoolstatus/rostersync/classlink/classlinktest"
	"github.com/schoolstatus/rostersync/store"
	rsync "github.com/schoolstatus/rostersync/sync"
)

// driver runs a Model synchronously, as huh's own tests do: every command a
// key returns is run and its message fed back, so a test sees the screen
// the person would see after each key.
type driver struct {
	t    *testing.T
	m    *Model
	db   *store.DB
	w, h int
}

var fixedNow = time.Date(2026, 11, 28, 15, 4, 0, 0, time.UTC)

// Views print local times; pin the zone so frames do not depend on the
// machine's.
func init() { time.Local = time.UTC }

func newDriver(t *testing.T, w, h int) *driver {
	t.Helper()
	db, err := store.Open(filepath.Join(t.TempDir(), "rostersync.db"), store.Options{Clock: func() time.Time { return fixedNow }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	// As the first start leaves it: the demo district, its school connected.
	if err := db.AddDemo(classlinktest.DemoSchoolIDs()); err != nil {
		t.Fatal(err)
	}
	return newDriverOn(t, db, store.Actor{User: "ana", Via: "local"}, w, h)
}

func newDriverOn(t *testing.T, db *store.DB, who store.Actor, w, h int) *driver {
	return newDriverWith(t, db, Options{Actor: who}, w, h)
}

// newDriverWith starts a session with opts (DB, clock and engine are the
// test's).
func newDriverWith(t *testing.T, db *store.DB, opts Options, w, h int) *driver {
	now := func() time.Time { return fixedNow }
	if opts.Dialer == nil {
		opts.Dialer = rsync.DialerFromEnv(classlinktest.SharedDemo)
		opts.Dialer.DemoSchools = classlinktest.DemoSchoolIDs()
	}
	opts.DB, opts.Now, opts.DraftDelay, opts.Engine = db, now, time.Millisecond, &rsync.Engine{DB: db, Now: now, Dial: opts.Dialer.Dial}
	opts.SpinEvery = -1 // commands run one by one here: a ticking spinner would never stop
	d := &driver{t: t, db: db, m: New(opts)}
	d.resize(w, h)
	d.run(d.m.Init(), 0)
	return d
}

func (d *driver) send(msg tea.Msg) {
	_, cmd := d.m.Update(msg)
	d.run(cmd, 0)
}

// run executes cmd and feeds back its message. Commands that take longer
// than a connection test on loopback are dropped.
func (d *driver) run(cmd tea.Cmd, depth int) {
	if cmd == nil || depth > 20 {
		return
	}
	done := make(chan tea.Msg, 1)
	go func() { done <- cmd() }()
	var msg tea.Msg
	select {
	case msg = <-done:
	case <-time.After(10 * time.Second):
		return
	}
	switch msg := msg.(type) {
	case nil:
	case tea.BatchMsg:
		for _, c := range msg {
			d.run(c, depth+1)
		}
	default:
		_, next := d.m.Update(msg)
		d.run(next, depth+1)
	}
}

// keys sends key presses by name: "enter", "esc", "space", "up", "ctrl+c",
// or a single character.
func (d *driver) keys(names ...string) {
	for _, n := range names {
		d.send(keyPress(n))
	}
}

// paste sends s as a bracketed paste, as modern terminals do.
func (d *driver) paste(s string) { d.send(tea.PasteMsg{Content: s}) }

// typeText sends each rune as a key press.
func (d *driver) typeText(s string) {
	for _, r := range s {
		d.send(tea.KeyPressMsg{Code: r, Text: string(r)})
	}
}

func keyPress(name string) tea.KeyPressMsg {
	switch name {
	case "enter":
		return tea.KeyPressMsg{Code: tea.KeyEnter}
	case "esc":
		return tea.KeyPressMsg{Code: tea.KeyEscape}
	case "space":
		return tea.KeyPressMsg{Code: tea.KeySpace, Text: " "}
	case "tab":
		return tea.KeyPressMsg{Code: tea.KeyTab}
	case "shift+tab":
		return tea.KeyPressMsg{Code: tea.KeyTab, Mod: tea.ModShift}
	case "up":
		return tea.KeyPressMsg{Code: tea.KeyUp}
	case "down":
		return tea.KeyPressMsg{Code: tea.KeyDown}
	case "left":
		return tea.KeyPressMsg{Code: tea.KeyLeft}
	case "right":
		return tea.KeyPressMsg{Code: tea.KeyRight}
	case "backspace":
		return tea.KeyPressMsg{Code: tea.KeyBackspace}
	case "ctrl+c":
		return tea.KeyPressMsg{Code: 'c', Mod: tea.ModCtrl}
	case "ctrl+n":
		return tea.KeyPressMsg{Code: 'n', Mod: tea.ModCtrl}
	case "ctrl+u":
		return tea.KeyPressMsg{Code: 'u', Mod: tea.ModCtrl}
	}
	r := []rune(name)
	return tea.KeyPressMsg{Code: r[0], Text: name}
}

// screen is the frame as plain text.
func (d *driver) screen() string { return ansi.Strip(d.m.Render()) }

func (d *driver) see(want ...string) {
	d.t.Helper()
	s := d.screen()
	for _, w := range want {
		if !strings.Contains(s, w) {
			d.t.Fatalf("screen lacks %q:\n%s", w, s)
		}
	}
}

func (d *driver) notSee(unwanted ...string) {
	d.t.Helper()
	s := d.screen()
	for _, w := range unwanted {
		if strings.Contains(s, w) {
			d.t.Fatalf("screen shows %q:\n%s", w, s)
		}
	}
}

func (d *driver) resize(w, h int) {
	d.w, d.h = w, h
	d.send(tea.WindowSizeMsg{Width: w, Height: h})
}
