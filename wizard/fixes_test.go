package wizard

import (
	"strings"
	"testing"
	"time"

	"github.com/schoolstatus/rostersync/classlink/classlinktest"
	"github.com/schoolstatus/rostersync/store"
)

// Unticking a step rostersync verified asks first, and only y unticks.
func TestUntickingAVerifiedStepAsksFirst(t *testing.T) {
	d := newDriver(t, 80, 24)
	d.keys("enter", "t")
	d.see("[x] 1. Rostering app shared and enabled in ClassLink ✓ verified")
	d.keys("space")
	d.see("Untick step 1, Rostering app shared and enabled in ClassLink?", "n/esc keep it ticked")
	d.keys("enter", "esc")
	d.see("[x] 1. Rostering app")
	d.keys("space", "y")
	d.see("[ ] 1. Rostering app")
	if got, _ := d.db.District(store.DemoTenantID); got.Checklist[store.StepRosteringApp].Done {
		t.Fatal("the step is still ticked in the database")
	}
	// A step a person ticked unticks without a question.
	d.keys("down", "space")
	d.see("[x] 2. SSO app shared in ClassLink")
	d.keys("space")
	d.see("[ ] 2. SSO app shared in ClassLink")
	d.notSee("Untick step 2")
}

// Resuming a draft over someone else's newer save of the same field shows
// the review a conflicting save shows; other fields are re-applied quietly.
func TestResumingOverAnotherSaveOfTheSameFieldShowsBothChanges(t *testing.T) {
	d := newDriver(t, 80, 24)
	d.keys("enter")
	d.toThreshold()
	d.clearAndType("30")
	d.keys("ctrl+c", "y") // quit, keeping the draft

	// Ben saves the same field meanwhile.
	cur, _ := d.db.District(store.DemoTenantID)
	cur.Settings.DeletionThresholdPercent = 20
	if _, _, err := d.db.SaveDistrict(cur, cur.Revision, store.Actor{User: "ben"}, nil); err != nil {
		t.Fatal(err)
	}
	next := newDriverOn(t, d.db, store.Actor{User: "ana"}, 80, 24)
	next.keys("enter") // resume
	next.see("Someone else saved revision 2 while you were editing", "Revision 2 by ben", "Deletion threshold (%): 10 → 20",
		"You both changed: Deletion threshold (%)")
	next.keys("a")
	next.see("Review changes against revision 2", "20 → 30")
	next.keys("y")
	next.see("Saved revision 3")
	if got, _ := d.db.District(store.DemoTenantID); got.Settings.DeletionThresholdPercent != 30 {
		t.Fatalf("threshold = %d", got.Settings.DeletionThresholdPercent)
	}

	// A draft whose fields nobody else touched is re-applied on top.
	d2 := newDriverOn(t, d.db, store.Actor{User: "ana"}, 80, 24)
	d2.keys("enter")
	d2.toDailySync()
	d2.keys("down", "space", "ctrl+c", "y") // guardians off
	cur, _ = d.db.District(store.DemoTenantID)
	cur.Settings.DeletionThresholdPercent = 40
	if _, _, err := d.db.SaveDistrict(cur, cur.Revision, store.Actor{User: "ben"}, nil); err != nil {
		t.Fatal(err)
	}
	again := newDriverOn(t, d.db, store.Actor{User: "ana"}, 80, 24)
	again.keys("enter")
	again.see("ben saved revision 4 since; your changes were re-applied on top.", "[ ] Allow sync to manage Guardians")
	again.notSee("You both changed")
}

// Long waits on ClassLink show a spinner and the time, and esc cancels
// them; a cancelled answer is not shown.
func TestEscCancelsAWaitOnClassLink(t *testing.T) {
	srv := rosterServer(t)
	srv.Inject(classlinktest.Fault{Kind: classlinktest.FaultDelay, Endpoint: "orgs", Delay: 3 * time.Second})
	d := newDriver(t, 80, 24)
	dist := store.NewDistrict(4021, 5, "Springfield USD")
	dist.Connection = store.Connection{Mode: store.ModeOAuth1, BaseURL: srv.BaseURL(), ClientID: "spring-key", ClientSecret: "spring-secret", SignatureMethod: store.HMACSHA256}
	if _, _, err := d.db.SaveDistrict(dist, 0, store.Actor{User: "ops"}, nil); err != nil {
		t.Fatal(err)
	}
	d = newDriverOn(t, d.db, store.Actor{User: "ana"}, 80, 24)
	d.keys("down", "enter", "m", "enter", "enter", "down")
	// Open the school list without running its command: the wait shows.
	_, wait := d.m.Update(keyPress("enter"))
	d.see("School connection to SIS", "Asking ClassLink for the district's schools…", "0s · esc cancels")
	d.keys("esc")
	d.see("You cancelled asking ClassLink; r asks again.")
	d.notSee("esc cancels")
	start := time.Now()
	d.run(wait, 0) // the cancelled request ends at once, and its answer is dropped
	if time.Since(start) > 2*time.Second {
		t.Fatal("the cancelled request went on")
	}
	d.notSee("Van Buren")
	d.keys("r") // asked again (the driver waits for the answer)
	d.see("[ ] Van Buren High School")
}

// In a text field every key types: ? does not open the help, q does not
// quit, and a bracketed paste goes into the field.
func TestTextFieldsTakeEveryKeyAndPastes(t *testing.T) {
	d := newDriver(t, 80, 24)
	d.keys("enter")
	d.toDailySync()
	d.keys("down", "down", "down", "down", "down", "down", "ctrl+u") // Time zone
	d.typeText("q?")
	d.notSee("Keys on this screen")
	if d.m.quitting {
		t.Fatal("q quit from a text field")
	}
	d.see("Time zone:", "q?", `unknown IANA time zone "q?"`)
	d.keys("ctrl+u")
	d.paste("america/denver")
	d.see("america/denver")
	if z := d.m.Edit().Draft.Settings.TimeZone; z != "America/Denver" {
		t.Fatalf("time zone = %q, want the canonical name", z)
	}
	d.keys("up") // leaving the field shows the name as stored
	d.see("America/Denver")
	d.notSee("america/denver")

	// Completion fills the typed prefix; the zone is stored canonically.
	d.keys("down", "ctrl+u")
	d.typeText("america/chic")
	d.keys("tab")
	d.see("america/chicago")
	if z := d.m.Edit().Draft.Settings.TimeZone; z != "America/Chicago" {
		t.Fatalf("completed zone = %q", z)
	}
	// A start time without its leading zero is stored with it.
	d.keys("up", "ctrl+u")
	d.typeText("7:00")
	d.notSee("must be a 24-hour time")
	d.keys("up")
	d.see("Daily start time:     07:00")
	if s := d.m.Edit().Draft.Settings.DailyStart; s != "07:00" {
		t.Fatalf("start = %q", s)
	}
}

// The footer shows exactly the keys that work: no "? help" or "q quit"
// while a field takes them, the dialog's own keys while one shows.
func TestFootersShowTheKeysThatWork(t *testing.T) {
	d := newDriver(t, 80, 24)
	footer := func() string {
		lines := strings.Split(strings.TrimRight(d.screen(), "\n "), "\n")
		return lines[len(lines)-1]
	}
	if f := footer(); !contains(f, "? help", "q quit", "/ filter") {
		t.Fatalf("dropdown footer %q", f)
	}
	d.keys("/")
	if f := footer(); contains(f, "? help") || contains(f, "q quit") || !contains(f, "ctrl+c quit") {
		t.Fatalf("footer while filtering %q", f)
	}
	d.keys("esc", "enter")
	d.toDailySync()
	d.keys("space")
	if f := footer(); !contains(f, "esc keep it off", "y enable anyway") || contains(f, "toggle") {
		t.Fatalf("footer of the warning %q", f)
	}
	d.keys("n", "down", "space", "ctrl+c")
	d.see("Quit with unsaved changes?")
	if f := footer(); contains(f, "? help") {
		t.Fatalf("footer of the quit dialog %q", f)
	}
}

func contains(s string, subs ...string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}
