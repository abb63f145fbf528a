package wizard

import (
	"bytes"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/teatest/v2"

	"github.com/schoolstatus/rostersync/store"
)

// TestProgramTypeAheadWalk runs the wizard as a real tea.Program and sends
// the whole walk at once, as a fast typist or a paste would: navigation must
// not lose or misroute keys that arrive before a screen has drawn.
func TestProgramTypeAheadWalk(t *testing.T) {
	db, err := store.Open(filepath.Join(t.TempDir(), "r.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	tm := teatest.NewTestModel(t, New(Options{DB: db, Actor: store.Actor{User: "ana", Via: "local"}}), teatest.WithInitialTermSize(80, 24))
	teatest.WaitFor(t, tm.Output(), func(b []byte) bool {
		return bytes.Contains([]byte(ansi.Strip(string(b))), []byte("Choose a district"))
	}, teatest.WithDuration(5*time.Second))

	for _, k := range []string{"enter", "m", "enter", "enter", "enter", "down", "space", "ctrl+n", "space", "ctrl+n", "y"} {
		tm.Send(keyPress(k))
	}
	teatest.WaitFor(t, tm.Output(), func(b []byte) bool {
		return strings.Contains(ansi.Strip(string(b)), "Saved revision 2")
	}, teatest.WithDuration(5*time.Second))
	tm.Send(keyPress("ctrl+c"))
	final := tm.FinalModel(t, teatest.WithFinalTimeout(5*time.Second)).(*Model)
	if final.Edit() == nil || final.Edit().Saved.Revision != 2 {
		t.Fatalf("final edit = %+v", final.Edit())
	}
	got, err := db.District(store.DemoTenantID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Settings.ManageGuardians || got.Permissions.Has(store.DistrictAdmin, store.PermissionsAdmin) {
		t.Fatalf("stored = %+v", got)
	}
	if _, err := io.ReadAll(tm.FinalOutput(t)); err != nil {
		t.Fatal(err)
	}
}

// The program asks for the background colour and restyles for a light one.
func TestLightBackgroundRestyles(t *testing.T) {
	d := newDriver(t, 80, 24)
	before := d.m.common.Styles.Title.GetForeground()
	d.send(tea.BackgroundColorMsg{Color: ansiWhite{}})
	if d.m.common.Styles.Title.GetForeground() == before {
		t.Fatal("styles did not change for a light background")
	}
	d.see("Choose a district")
}

type ansiWhite struct{}

func (ansiWhite) RGBA() (r, g, b, a uint32) { return 0xffff, 0xffff, 0xffff, 0xffff }
