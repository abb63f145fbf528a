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

// golden compares the stripped frame with testdata/NAME.golden. Trailing
// spaces are trimmed: they are padding, not content.
func (d *driver) golden(name string) {
	d.t.Helper()
	var lines []string
	for _, l := range strings.Split(d.screen(), "\n") {
		lines = append(lines, strings.TrimRight(l, " "))
	}
	got := strings.Join(lines, "\n") + "\n"
	// Every frame fits its terminal: no line wraps, nothing scrolls.
	if len(lines) > d.h {
		d.t.Errorf("%s: %d lines on a %d-line terminal", name, len(lines), d.h)
	}
	for _, l := range lines {
		if w := lipgloss.Width(l); w > d.w {
			d.t.Errorf("%s: a line of %d columns on a %d-column terminal: %q", name, w, d.w, l)
		}
	}
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

// TestGoldenScreens pins each screen's plain-text frame at 80x24 and at a
// narrow 56x20.
func TestGoldenScreens(t *testing.T) {
	for _, size := range []struct {
		name string
		w, h int
	}{{"80x24", 80, 24}, {"56x20", 56, 20}} {
		t.Run(size.name, func(t *testing.T) {
			g := func(d *driver, screen string) { d.golden(screen + "-" + size.name) }
			d := newDriver(t, size.w, size.h)
			if _, _, err := d.db.SaveDistrict(store.NewDistrict(4021, 5, "Springfield USD"), 0, store.Actor{User: "ben"}, nil); err != nil {
				t.Fatal(err)
			}
			d = newDriverOn(t, d.db, store.Actor{User: "ana"}, size.w, size.h)
			g(d, "dropdown")
			d.keys("?")
			g(d, "dropdown-help")
			d.keys("?", "down", "down", "enter")
			d.typeText("x")
			g(d, "add-district")
			d.keys("esc", "up", "enter")
			g(d, "home")
			d.keys("m")
			g(d, "menu")
			d.keys("down", "enter")
			g(d, "connection-demo")
			d.keys("esc", "down", "down", "down", "down", "down", "enter")
			g(d, "export")
			d.keys("esc", "up", "up", "up", "up", "up", "up", "enter")
			g(d, "settings")
			d.keys("enter")
			g(d, "sis-rostering")
			d.keys("enter")
			g(d, "daily-sync")
			d.keys("space")
			g(d, "daily-sync-guard")
			d.keys("n", "down", "space")
			g(d, "daily-sync-guardians-off")
			d.keys("ctrl+n")
			g(d, "permissions")
			d.keys("down", "down", "right", "space")
			d.keys("enter")
			g(d, "review")
			d.keys("ctrl+c")
			g(d, "quit")
			d.keys("y")
			next := newDriverOn(t, d.db, store.Actor{User: "ana"}, size.w, size.h)
			g(next, "resume")
		})
	}
	d := newDriver(t, 40, 12)
	d.golden("too-small-40x12")

	// The connection screen of a real district, in both modes.
	c := newDriver(t, 80, 24)
	if _, _, err := c.db.SaveDistrict(store.NewDistrict(4021, 5, "Springfield USD"), 0, store.Actor{User: "ben"}, nil); err != nil {
		t.Fatal(err)
	}
	c = newDriverOn(t, c.db, store.Actor{User: "ana"}, 80, 24)
	c.keys("enter", "m", "down", "enter")
	c.golden("connection-oauth1-80x24")
	c.keys("ctrl+n")
	c.golden("connection-oauth1-invalid-80x24")
	c.keys("up", "space")
	c.golden("connection-proxy-80x24")
}

// TestGoldenSyncScreens pins the sync screens of the demo district.
func TestGoldenSyncScreens(t *testing.T) {
	for _, size := range []struct {
		name string
		w, h int
	}{{"80x24", 80, 24}, {"56x20", 56, 20}} {
		t.Run(size.name, func(t *testing.T) {
			g := func(d *driver, screen string) { d.golden(screen + "-" + size.name) }
			d := newDriver(t, size.w, size.h)
			d.keys("enter", "m", "enter", "enter", "down", "enter")
			g(d, "schools")
			d.keys("a", "ctrl+n", "y")
			d.keys("m", "down", "down", "enter")
			g(d, "preview")
			d.keys("esc", "down", "enter")
			g(d, "run-now-confirm")
			d.keys("y", "esc", "down", "enter")
			g(d, "history")
			d.keys("enter")
			g(d, "history-run")
			d.keys("esc", "esc", "down", "enter")
			g(d, "directory")
			d.keys("esc", "esc")
			g(d, "home-after-sync")
		})
	}
}
