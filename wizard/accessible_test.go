package wizard

import (
	"bytes"
	"context"
	"errors"
	"io"
	"path/filepath"
	"strings"
	gosync "sync"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"

	"github.com/schoolstatus/rostersync/classlink/classlinktest"
	"github.com/schoolstatus/rostersync/screens"
	"github.com/schoolstatus/rostersync/store"
	rsync "github.com/schoolstatus/rostersync/sync"
)

func accessibleDB(t *testing.T) *store.DB {
	t.Helper()
	db, err := store.Open(filepath.Join(t.TempDir(), "r.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// accessibleOpts is a local session that reaches the built-in demo.
func accessibleOpts(db *store.DB) Options {
	dialer := rsync.DialerFromEnv(classlinktest.SharedDemo)
	dialer.DemoSchools = classlinktest.DemoSchoolIDs()
	return Options{DB: db, Actor: store.Actor{User: "ana", Via: "local"}, Dialer: dialer}
}

// runAccessible answers the prompts with lines and returns what was said,
// without escape codes (it fails the test if there were any).
func runAccessible(t *testing.T, db *store.DB, lines ...string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	err := RunAccessible(t.Context(), accessibleOpts(db), strings.NewReader(strings.Join(lines, "\n")+"\n"), &out)
	if strings.Contains(out.String(), "\x1b[") {
		t.Error("accessible output contains escape codes")
	}
	return ansi.Strip(out.String()), err
}

func mustSay(t *testing.T, text string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(text, w) {
			t.Errorf("output lacks %q\n%s", w, text)
		}
	}
}

func TestAccessiblePromptsSaveThroughTheSameEdit(t *testing.T) {
	db := accessibleDB(t)
	text, err := runAccessible(t, db,
		"1",      // Demo district
		"1",      // Settings
		"y", "y", // Enable Daily sync, and again past the guide's warning
		"n",         // manage guardians off
		"",          // unarchive: keep the default (on)
		"y",         // update active contacts on
		"150", "20", // threshold: refused, then accepted
		"25:00", "4:15", // start: refused, then accepted as 04:15
		"Mars/Base", "america/new_york", // any letter case; stored as IANA spells it
		"",       // guardians are off: keep the guardians source
		"1", "0", // district admin: drop Permissions Admin
		"0",      // school admin unchanged
		"4", "0", // teacher: add Content Moderator
		"0", // support staff unchanged
		"y", // save
		"8", // Quit
	)
	if err != nil {
		t.Fatalf("%v\n%s", err, text)
	}
	mustSay(t, text, "Step 1 of 8", "Choose a district", "Step 2 of 8: District Home Page", "What next?",
		"Enable Daily sync?", "do not enable the daily sync until the self-check is done",
		screens.GuardiansOffNote, "must be a whole number from 0 to 100", "must be a 24-hour time", `unknown IANA time zone "Mars/Base"`,
		"Engagement Visibility. On: Sees all engagement logs of students in their scope. Off: Sees only conversations they take part in.",
		"District administrator permissions", "Support staff permissions", "Step 8 of 8", "Save these", "Saved revision 2.")
	got, err := db.District(store.DemoTenantID)
	if err != nil {
		t.Fatal(err)
	}
	want := store.Settings{EnableDailySync: true, ManageGuardians: false, UnarchiveReappearingClassrooms: true,
		UpdateActiveUserContacts: true, DeletionThresholdPercent: 20, DailyStart: "04:15", TimeZone: "America/New_York"}
	if got.Settings != want {
		t.Fatalf("settings = %+v, want %+v", got.Settings, want)
	}
	perms := store.DefaultPermissions()
	perms.Set(store.DistrictAdmin, store.PermissionsAdmin, false)
	perms.Set(store.Teacher, store.ContentModerator, true)
	if got.Permissions != perms {
		t.Fatalf("permissions = %v, want %v", got.Permissions, perms)
	}
	audit, _ := db.Audit(store.DemoTenantID)
	if n := audit[len(audit)-1].Notes; len(n) != 1 || n[0] != screens.NoteEnabledBeforeSelfCheck {
		t.Fatalf("audit notes = %q", n)
	}
	if !got.Checklist[store.StepSyncSettings].Done {
		t.Error("saving the settings did not tick step 5")
	}
}

func TestAccessibleInputEndingEarlyKeepsADraftAndSaysSo(t *testing.T) {
	db := accessibleDB(t)
	text, err := runAccessible(t, db, "1", "1", "n", "n") // guardians off, then the input ends
	if !errors.Is(err, ErrInputEnded) || !strings.Contains(err.Error(), "1 change kept as a draft") {
		t.Fatalf("err = %v, want ErrInputEnded and a kept draft", err)
	}
	mustSay(t, text, "kept as a draft: the next start offers to resume them")
	d, _ := db.District(store.DemoTenantID)
	if d.Revision != 1 || !d.Settings.ManageGuardians {
		t.Fatalf("input that ended early saved something: %+v", d)
	}
	draft, ok, _ := db.Draft("ana", store.DemoTenantID)
	if !ok || draft.District.Settings.ManageGuardians {
		t.Fatalf("draft = %+v, %v", draft, ok)
	}
	// The next start offers it, and resuming brings the change back.
	text, err = runAccessible(t, db, "1", "y", "9")
	if err != nil {
		t.Fatal(err)
	}
	mustSay(t, text, "You left 1 change unsaved on this district. Resume them?", "You have 1 change not saved yet.", "Review and save your 1 change")
}

func TestAccessibleCtrlCKeepsADraftAndSaysSo(t *testing.T) {
	db := accessibleDB(t)
	ctx, cancel := context.WithCancel(t.Context())
	in, feed := io.Pipe()
	defer feed.Close()
	var out lockedBuffer
	done := make(chan error, 1)
	go func() { done <- RunAccessible(ctx, accessibleOpts(db), in, &out) }()
	io.WriteString(feed, "1\n1\nn\nn\n") // guardians off; the next prompt waits
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(out.String(), "Unarchive classrooms") && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	cancel() // what ctrl+c does (RunLocal turns SIGINT into this)
	var err error
	select {
	case err = <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("ctrl+c did not end the prompts")
	}
	if !errors.Is(err, ErrInterrupted) {
		t.Fatalf("err = %v, want ErrInterrupted", err)
	}
	mustSay(t, ansi.Strip(out.String()), "Your 1 change to ClassLink Demo is kept as a draft")
	if draft, ok, _ := db.Draft("ana", store.DemoTenantID); !ok || draft.District.Settings.ManageGuardians {
		t.Fatalf("draft after ctrl+c = %+v, %v", draft, ok)
	}
}

func TestAccessibleAddDistrictValidatesIDs(t *testing.T) {
	db := accessibleDB(t)
	text, err := runAccessible(t, db, "2", "abc", "0", "12345678901234567890", "77", "x", "9", "Springfield", "9") // …, Quit
	if err != nil {
		t.Fatalf("%v\n%s", err, text)
	}
	mustSay(t, text, `District Tenant ID must be a positive whole number no larger than 9007199254740991, got "abc"`, `got "0"`,
		`got "12345678901234567890"`, `District application_id must be a positive whole number no larger than 9007199254740991, got "x"`, "Added Springfield as revision 1.")
	d, err := db.District(77)
	if err != nil || d.ApplicationID != 9 || d.Name != "Springfield" {
		t.Fatalf("district 77 = %+v, %v", d, err)
	}
}

func TestAccessibleWholePathOnTheDemo(t *testing.T) {
	db := accessibleDB(t)
	// Schools (keep them), the checklist (tick step 2), Preview sync, Run
	// sync now, the history, then quit.
	text, err := runAccessible(t, db,
		"1",      // Demo district
		"2", "0", // School connection to SIS: keep the connected school
		"4", "2", // checklist: step 2 done
		"5",      // Preview sync
		"6", "y", // Run sync now, yes
		"7", // Sync history
		"8", // Quit
	)
	if err != nil {
		t.Fatalf("%v\n%s", err, text)
	}
	mustSay(t, text, "Asking ClassLink for the district's schools", "Adams Academy, school number 0100", "1 school connected",
		"Step 2 is marked done.",
		"Preview sync: a dry run of revision 1", "Pulling…", "The preview succeeded", "Students: create ", "The self-check passed (step 6).",
		"enable and launch", "Apply it now?", "The sync succeeded",
		"Sync history, newest first", "sync succeeded", "preview succeeded", "Goodbye.")
	d, _ := db.District(store.DemoTenantID)
	if !d.Checklist[store.StepSSOApp].Done || !d.Checklist[store.StepSelfCheck].Verified {
		t.Fatalf("checklist = %+v", d.Checklist)
	}
	// Step 7 needs Enable Daily sync on: a manual run is not the launch.
	if d.Checklist[store.StepEnable].Done {
		t.Fatal("a manual run with the daily sync off ticked step 7")
	}
	if users, _, _ := db.DirectoryUsers(store.DemoTenantID, store.UserFilter{}, "", 5); len(users) == 0 {
		t.Fatal("Run sync now applied nothing")
	}
}

func TestAccessibleConnectionIsSavedAndItsSecretNeverSaid(t *testing.T) {
	db := accessibleDB(t)
	if _, _, err := db.SaveDistrict(store.NewDistrict(4021, 5, "Springfield USD"), 0, store.Actor{User: "ben"}, nil); err != nil {
		t.Fatal(err)
	}
	text, err := runAccessible(t, db,
		"1",      // Springfield USD (the demo is listed after it)
		"3", "1", // ClassLink connection: the Roster Server
		"http://example.org/ims/oneroster/v1p1/", "https://springfield-va-v2.oneroster.com/ims/oneroster/v1p1/",
		"key-123", "s3cret-value", "2", // HMAC-SHA1
		"9", "y", // Review and save, yes
		"9", // Quit
	)
	if err != nil {
		t.Fatalf("%v\n%s", err, text)
	}
	mustSay(t, text, "How does the sync reach the roster?", "https", "Connection set (not saved yet)", "Saved revision 2.")
	if strings.Contains(text, "s3cret-value") {
		t.Fatal("the secret was printed")
	}
	d, _ := db.District(4021)
	if c := d.Connection; c.Mode != store.ModeOAuth1 || c.ClientID != "key-123" || c.ClientSecret != "s3cret-value" || c.SignatureMethod != store.HMACSHA1 {
		t.Fatalf("connection = %+v", c.Masked())
	}
}

// lockedBuffer is an output written by one goroutine and read by another.
type lockedBuffer struct {
	mu gosync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// M8: the end of the input at a yes/no prompt, even after a refused
// answer, changes nothing: the setting keeps its value, nothing is saved
// or kept as a draft, and the run ends in an error that says so.
func TestAccessibleEndOfInputAtAPromptChangesNothing(t *testing.T) {
	db := accessibleDB(t)
	text, err := runAccessible(t, db, "1", "1", "n", "maybe") // Allow sync to manage Guardians? "maybe", then the input ends
	if !errors.Is(err, ErrInputEnded) || !strings.Contains(err.Error(), "nothing was changed") {
		t.Fatalf("err = %v\n%s", err, text)
	}
	mustSay(t, text, `"maybe" is not an answer: type y for yes or n for no (enter keeps yes).`, "The input ended before an answer: stopped, nothing was changed.")
	d, _ := db.District(store.DemoTenantID)
	if d.Revision != 1 || !d.Settings.ManageGuardians {
		t.Fatalf("the end of the input changed the district: %+v", d.Settings)
	}
	if draft, ok, _ := db.Draft("ana", store.DemoTenantID); ok {
		t.Fatalf("a draft was kept: %+v", draft.District.Settings)
	}
	// A refused time zone, then the end of the input: the draft keeps the
	// answers given before it, never the refused text.
	_, err = runAccessible(t, db, "1", "1", "n", "n", "", "", "", "", "Mars/Base")
	if !errors.Is(err, ErrInputEnded) {
		t.Fatalf("err = %v", err)
	}
	draft, ok, _ := db.Draft("ana", store.DemoTenantID)
	if !ok || draft.District.Settings.ManageGuardians || draft.District.Settings.TimeZone != "America/Chicago" {
		t.Fatalf("draft = %+v, %v", draft.District.Settings, ok)
	}
}

// H3: declining to resume a draft asks again, and only y discards it.
func TestAccessibleDiscardsADraftOnlyOnYes(t *testing.T) {
	db := accessibleDB(t)
	if _, err := runAccessible(t, db, "1", "1", "n", "n"); !errors.Is(err, ErrInputEnded) { // a change, then the input ends
		t.Fatalf("err = %v", err)
	}
	text, err := runAccessible(t, db, "1", "n", "", "n", "n", "n", "y", "8") // no, keep (enter), no, keep (n), no, discard, Quit
	if err != nil {
		t.Fatalf("%v\n%s", err, text)
	}
	if strings.Count(text, "The draft is kept.") != 2 || !strings.Contains(text, "The draft is discarded.") {
		t.Fatalf("output:\n%s", text)
	}
	if _, ok, _ := db.Draft("ana", store.DemoTenantID); ok {
		t.Fatal("y did not discard the draft")
	}
	// Input that ends at the question keeps the draft.
	runAccessible(t, db, "1", "1", "n", "n")
	runAccessible(t, db, "1", "n")
	if _, ok, _ := db.Draft("ana", store.DemoTenantID); !ok {
		t.Fatal("the end of the input discarded the draft")
	}
}
