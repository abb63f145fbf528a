package wizard

import (
	"strings"
	"testing"

	"charm.land/bubbles/v2/key"
)

// footerLine is the screen's last line: the keys.
func (d *driver) footerLine() string {
	lines := strings.Split(strings.TrimRight(d.screen(), "\n "), "\n")
	return lines[len(lines)-1]
}

// M1: at the minimum size the whole help can be read: long descriptions
// wrap instead of ending in "…", and a help longer than the window says
// how much there is and offers ↑/↓ in a footer that keeps it.
func TestHelpIsWholeAtTheMinimumSize(t *testing.T) {
	d := newDriver(t, 50, 16)
	d.keys("enter", "?")
	d.see("⋮ menu: Settings, connection, Preview", "sync, Export")
	d.notSee("…")
	if f := d.footerLine(); strings.Contains(f, "scroll") {
		t.Fatalf("a help that fits offers scrolling: %q", f)
	}
	d.keys("?", "m", "down", "down", "down", "down", "down", "enter")
	d.see("Directory")
	d.keys("?")
	d.see("Keys on this screen", "lines 1–")
	if f := d.footerLine(); !strings.Contains(f, "↑/↓ scroll") || !strings.Contains(f, "?/esc close help") {
		t.Fatalf("footer of a help that does not fit: %q\n%s", f, d.screen())
	}
	d.notSee("quit (asks first if unsaved)")
	for range 5 {
		d.keys("down")
	}
	d.see("quit (asks first if unsaved)")
	d.fits()
}

// M2: Review offers ↓ scroll only when its page does not fit.
func TestReviewOffersScrollingOnlyWhenItScrolls(t *testing.T) {
	d := newDriver(t, 80, 24)
	d.keys("enter")
	d.toDailySync()
	d.keys("down", "space", "ctrl+n", "ctrl+n")
	d.see("Review")
	if f := d.footerLine(); strings.Contains(f, "scroll") || !strings.Contains(f, "y save") {
		t.Fatalf("Review with one change: %q\n%s", f, d.screen())
	}
	many := newDriver(t, 50, 16)
	many.keys("enter")
	many.toDailySync()
	many.keys("down", "space", "ctrl+n", "r", "c", "ctrl+n") // a row and a column of permissions: more than 16 lines
	many.see("Review")
	many.see("(↑/↓ scroll)") // the page says it; the footer at 50 columns has no room
	if len(many.m.top().(interface{ ShortHelp() []key.Binding }).ShortHelp()) < 3 {
		t.Fatal("Review that does not fit offers no scrolling")
	}
}

// M5: an empty field's example is in brackets, so that without colour
// (NO_COLOR strips the muted style) it never reads as a typed value.
func TestPlaceholdersAreMarkedWithoutColour(t *testing.T) {
	d := newDriver(t, 80, 24)
	d.keys("enter")
	d.toDailySync()
	d.keys("down", "down", "down", "down", "down") // Daily start
	for range 5 {
		d.keys("backspace")
	}
	for _, l := range strings.Split(d.screen(), "\n") {
		if strings.Contains(l, "Daily start time:") && !strings.Contains(l, "Daily start time:     (02:00)") {
			t.Fatalf("an empty start time reads as a value: %q\n%s", l, d.screen())
		}
	}
	d.see("Daily start time:     (02:00)")
}

// M11: at the minimum size the examples of the cell the person moves to
// are in view (memberships named by person and classroom), and the
// Permissions screen keeps the focused permission's meaning in view.
func TestExamplesAndMeaningsShowAtTheMinimumSize(t *testing.T) {
	d := newDriver(t, 50, 16)
	d.keys("enter", "m", "down", "down", "enter")
	d.see("Preview succeeded")
	d.keys("down", "down", "down", "down") // memberships · create
	d.see("memberships · create  3052 in all, 8 examples", " in Algebra")
	d.fits()
	p := newDriver(t, 50, 16)
	p.keys("enter")
	p.toDailySync()
	p.keys("ctrl+n")
	p.see("Permissions for synced staff", "On: Can grant and revoke", "Off: Cannot change")
	p.keys("down", "down", "down", "down", "down", "down")
	p.see("› Engagement Visibility", "On: Sees all engagement logs")
	p.fits()
}
