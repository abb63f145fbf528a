package wizard

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"charm.land/lipgloss/v2"

	"github.com/schoolstatus/rostersync/store"
)

// updating reports -update, the flag that teatest's golden package defines
// (go test ./wizard -run TestGolden -update rewrites testdata/).
func updating() bool {
	f := flag.Lookup("update")
	return f != nil && f.Value.String() == "true"
}

// goldenSizes are the sizes every screen is pinned at: the minimum, a
// small terminal and the classic one.
var goldenSizes = []struct {
	name string
	w, h int
}{{"50x16", 50, 16}, {"60x20", 60, 20}, {"80x24", 80, 24}}

// sweep is every size the screens are checked at on the way (without a
// golden): from the minimum up, odd widths and heights included.
var sweep = func() (out [][2]int) {
	for _, w := range []int{50, 51, 55, 60, 67, 72, 80, 100} {
		for _, h := range []int{16, 17, 19, 20, 24, 30} {
			out = append(out, [2]int{w, h})
		}
	}
	return out
}()

// frame is the stripped frame, trailing padding trimmed.
func (d *driver) frame() string {
	var lines []string
	for _, l := range strings.Split(d.screen(), "\n") {
		lines = append(lines, strings.TrimRight(l, " "))
	}
	return strings.Join(lines, "\n") + "\n"
}

// checkFrame checks the frame at the current size: it fits the terminal, no
// screen drew past its area (that would be cut by the router, marked but
// not laid out), and the focused row (or a dialog's safe choice) shows.
func (d *driver) checkFrame(what, focus string) {
	d.t.Helper()
	before := d.m.overflowed
	got := d.frame()
	lines := strings.Split(strings.TrimSuffix(got, "\n"), "\n")
	if len(lines) > d.h {
		d.t.Errorf("%s at %dx%d: %d lines", what, d.w, d.h, len(lines))
	}
	for _, l := range lines {
		if w := lipgloss.Width(l); w > d.w {
			d.t.Errorf("%s at %dx%d: a line of %d columns: %q", what, d.w, d.h, w, l)
		}
	}
	if d.m.overflowed != before {
		d.t.Errorf("%s at %dx%d: the screen drew more than its area:\n%s", what, d.w, d.h, got)
	}
	if focus != "" && !strings.Contains(got, focus) {
		d.t.Errorf("%s at %dx%d: the focus %q is not on screen:\n%s", what, d.w, d.h, focus, got)
	}
}

// golden compares the frame with testdata/NAME.golden.
func (d *driver) golden(name string) {
	d.t.Helper()
	got := d.frame()
	path := filepath.Join("testdata", name+".golden")
	if updating() {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			d.t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			d.t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		d.t.Fatalf("%v (run go test ./wizard -run TestGolden -update)", err)
	}
	if got != string(want) {
		d.t.Errorf("%s differs from %s:\n--- got\n%s--- want\n%s", name, path, got, want)
	}
}

// shot is one screen of a walk: the keys that reach it from the previous
// one, and the text its focused row (or its safe choice) shows.
type shot struct {
	name  string
	keys  []string
	focus string
	typed string // typed after the keys
}

// walk takes the shots in order at w×h. At each screen it checks every
// size of the sweep (on the walk at the minimum size), pins the golden at
// the size it runs at, and comes back to that size.
func walk(t *testing.T, d *driver, size string, shots []shot) {
	t.Helper()
	w, h := d.w, d.h
	for _, s := range shots {
		d.keys(s.keys...)
		d.typeText(s.typed)
		if size == goldenSizes[0].name { // once per shot is enough
			for _, sz := range sweep {
				d.resize(sz[0], sz[1])
				d.checkFrame(s.name, s.focus)
			}
		}
		d.resize(w, h)
		d.checkFrame(s.name, s.focus)
		d.golden(s.name + "-" + size)
	}
}

// goldenDB is a database as a first start leaves it (the demo district,
// its school connected), plus a district someone added.
func goldenDB(t *testing.T) *driver {
	d := newDriver(t, 80, 24)
	if _, _, err := d.db.SaveDistrict(store.NewDistrict(4021, 5, "Springfield Unified School District"), 0, store.Actor{User: "ben"}, nil); err != nil {
		t.Fatal(err)
	}
	return d
}

// TestGoldenScreens pins each screen of the click path at 50x16, 60x20
// and 80x24, with the focus on the row that is hardest to keep in view,
// and checks every size from the minimum up on the way.
func TestGoldenScreens(t *testing.T) {
	for _, size := range goldenSizes {
		t.Run(size.name, func(t *testing.T) {
			d := newDriverOn(t, goldenDB(t).db, store.Actor{User: "ana"}, size.w, size.h)
			walk(t, d, size.name, []shot{
				{name: "dropdown", focus: "› Demo district"},
				{name: "dropdown-help", keys: []string{"?"}, focus: "Keys on this screen"},
				{name: "dropdown-filter", keys: []string{"?", "/"}, typed: "spring", focus: "› Springfield"},
				{name: "add-district", keys: []string{"esc", "down", "down", "enter"}, typed: "12345678901234567890", focus: "9007199254740991, got"},
				{name: "home", keys: []string{"esc", "up", "up", "enter"}, focus: "› [ ] 1. Rostering app"},
				{name: "home-last-step", keys: []string{"down", "down", "down", "down", "down", "down", "down", "down"}, focus: "› [ ] 9. Clean up"},
				{name: "menu", keys: []string{"m"}, focus: "› Settings"},
				{name: "menu-last", keys: []string{"down", "down", "down", "down", "down", "down"}, focus: "› Export"},
				{name: "connection-demo", keys: []string{"up", "up", "up", "up", "up", "enter"}, focus: "built in and"},
				{name: "export", keys: []string{"esc", "down", "down", "down", "down", "down", "enter", "down", "down"}, focus: "lines 3–"},
				{name: "settings", keys: []string{"esc", "up", "up", "up", "up", "up", "up", "enter"}, focus: "› SIS Rostering"},
				{name: "sis-rostering", keys: []string{"enter"}, focus: "› District-Level Daily Sync"},
				{name: "daily-sync", keys: []string{"enter"}, focus: "› [ ] Enable Daily sync"},
				{name: "daily-sync-guard", keys: []string{"space"}, focus: "n/esc keep it off"},
				{name: "daily-sync-guardians-off", keys: []string{"n", "down", "space"}, focus: "› [ ] Allow sync to manage Guardians"},
				{name: "daily-sync-zone", keys: []string{"down", "down", "down", "down", "down", "ctrl+u"}, typed: "america/chicago", focus: "America/Chicago"},
				{name: "daily-sync-continue", keys: []string{"down"}, focus: "› Continue to permissions"},
				{name: "permissions", keys: []string{"ctrl+n"}, focus: "› Permissions Admin"},
				{name: "permissions-last", keys: []string{"down", "down", "down", "down", "down", "down", "right", "right", "right", "space"}, focus: "› Engagement Visibility"},
				{name: "review", keys: []string{"ctrl+n"}, focus: "Save as revision 2?"},
				{name: "quit", keys: []string{"ctrl+c"}, focus: "n/esc"},
				{name: "quit-discard", keys: []string{"d"}, focus: "n/esc"},
			})
			d.keys("esc", "y") // back to the first question; quit keeping the draft
			next := newDriverOn(t, d.db, store.Actor{User: "ana"}, size.w, size.h)
			walk(t, next, size.name, []shot{{name: "resume", focus: "› Resume where I left off"}})
		})
	}
	d := newDriver(t, 40, 12)
	d.golden("too-small-40x12")
}

// TestGoldenConnectionScreens pins the connection screen of a real
// district in both modes, and a failed connection test on the Home page.
func TestGoldenConnectionScreens(t *testing.T) {
	for _, size := range goldenSizes {
		t.Run(size.name, func(t *testing.T) {
			d := newDriverOn(t, goldenDB(t).db, store.Actor{User: "ana"}, size.w, size.h)
			walk(t, d, size.name, []shot{
				{name: "connection-oauth1", keys: []string{"down", "enter", "m", "down", "enter"}, focus: "› Mode:"},
				{name: "connection-oauth1-invalid", keys: []string{"ctrl+n"}, focus: "› Base URL:"},
				{name: "connection-url", typed: "https://127.0.0.1:9/ims/oneroster/v1p1/", focus: "v1p1/"},
				{name: "connection-proxy", keys: []string{"up", "space"}, focus: "(•) ClassLink proxy"},
				{name: "connection-review", keys: []string{"space", "down", "down"}, typed: "key-1", focus: "› Client ID:"},
				{name: "connection-saved-review", keys: []string{"down"}, typed: "secret-1", focus: "› Client secret:"},
				{name: "connection-full-review", keys: []string{"ctrl+n"}, focus: "Save as revision 2?"},
				{name: "home-test-failed", keys: []string{"y", "t"}, focus: "Connection test failed"},
				{name: "home-test-detail", keys: []string{"d"}, focus: "Detail ("},
				{name: "district-details", keys: []string{"esc", "m", "down", "down", "down", "down", "down", "down", "down", "enter"}, focus: "› District name:"},
				{name: "district-remove", keys: []string{"down", "down", "down", "enter"}, focus: "› Tenant ID:"},
			})
		})
	}
}

// TestGoldenSyncScreens pins the sync screens of the demo district.
func TestGoldenSyncScreens(t *testing.T) {
	for _, size := range goldenSizes {
		t.Run(size.name, func(t *testing.T) {
			d := newDriver(t, size.w, size.h)
			walk(t, d, size.name, []shot{
				{name: "schools", keys: []string{"enter", "m", "enter", "enter", "down", "enter"}, focus: "› [x] Adams Academy"},
				{name: "run-now-unchecked", keys: []string{"esc", "esc", "esc", "down", "down", "down", "enter"}, focus: "Preview the sync of revision 1 first"},
				{name: "preview", keys: []string{"esc", "up", "enter"}, focus: "› students"},
				{name: "preview-last-cell", keys: []string{"down", "down", "down", "down", "right", "right", "right", "right"}, focus: "› memberships"},
				{name: "run-now-confirm", keys: []string{"esc", "down", "enter"}, focus: "Apply it now?"},
				{name: "history", keys: []string{"y", "esc", "down", "enter"}, focus: "› "},
				{name: "history-run", keys: []string{"enter"}, focus: "run "},
				{name: "directory", keys: []string{"esc", "esc", "down", "enter"}, focus: "› "},
				{name: "home-after-sync", keys: []string{"esc", "esc"}, focus: "› [ ] 1. Rostering app"},
			})
		})
	}
}

// Keys are ignored while the terminal is too small: only ctrl+c acts.
func TestKeysAreIgnoredWhileTheTerminalIsTooSmall(t *testing.T) {
	d := newDriver(t, 40, 12)
	// What once saved a revision and ran a preview behind the message.
	d.keys("enter", "m", "enter", "enter", "enter", "down", "down", "space", "ctrl+n", "ctrl+n", "y")
	d.keys("esc", "m", "down", "down", "enter")
	d.paste("pasted")
	d.see("Terminal too small: 40×12.")
	if d.m.Edit() != nil || d.m.Screen().String() != "dropdown" {
		t.Fatalf("keys acted behind the message: edit %v, screen %s", d.m.Edit() != nil, d.m.Screen())
	}
	if runs, _ := d.db.Runs(store.DemoTenantID); len(runs) != 0 {
		t.Fatalf("a sync ran behind the message: %+v", runs)
	}
	if audit, _ := d.db.Audit(store.DemoTenantID); len(audit) != 1 {
		t.Fatalf("%d revisions saved behind the message", len(audit)-1)
	}
	d.resize(80, 24)
	d.see("Choose a district")
	// ctrl+c still quits.
	d.resize(40, 12)
	d.keys("ctrl+c")
	if !d.m.quitting {
		t.Fatal("ctrl+c did not quit while too small")
	}
}
