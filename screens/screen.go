package screens

import (
	"strconv"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
)

// ID names a screen; the router builds screens from IDs and drafts store the
// ID of the screen a person left from.
type ID int

const (
	DropdownScreen ID = iota
	HomeScreen
	MenuScreen
	SettingsScreen
	SISRosteringScreen
	DailySyncScreen
	PermissionsScreen
	ReviewScreen
	ExportScreen
	ResumeScreen
	ConnectionScreen
	PreviewScreen
	RunNowScreen
	HistoryScreen
	DirectoryScreen
	SchoolsScreen
	GuardiansSourceScreen
	UploadGuardiansScreen
	DetailsScreen
)

var idNames = [...]string{"dropdown", "home", "menu", "settings", "sis_rostering", "daily_sync", "permissions", "review", "export", "resume", "connection", "preview", "run_now", "history", "directory", "schools", "guardians_source", "upload_guardians", "details"}

func (id ID) String() string {
	if int(id) < len(idNames) {
		return idNames[id]
	}
	return "screen" + strconv.Itoa(int(id))
}

// ParseID reads a screen name stored in a draft.
func ParseID(s string) (ID, bool) {
	for i, n := range idNames {
		if n == s {
			return ID(i), true
		}
	}
	return 0, false
}

// Path is the chain of screens that leads to id along the click path, so a
// resumed draft can rebuild the back stack.
func Path(id ID) []ID {
	chain := []ID{DropdownScreen, HomeScreen, MenuScreen, SettingsScreen, SISRosteringScreen, DailySyncScreen, PermissionsScreen, ReviewScreen}
	for i, c := range chain {
		if c == id {
			return chain[:i+1]
		}
	}
	switch id {
	case ExportScreen, ConnectionScreen:
		return []ID{DropdownScreen, HomeScreen, MenuScreen, id}
	case PreviewScreen, RunNowScreen, HistoryScreen, DirectoryScreen:
		// Resuming never starts a sync by itself: back to the ⋮ menu.
		return chain[:3]
	case SchoolsScreen, GuardiansSourceScreen:
		return []ID{DropdownScreen, HomeScreen, MenuScreen, SettingsScreen, SISRosteringScreen, id}
	case UploadGuardiansScreen:
		// Resuming never processes a file by itself: back to SIS Rostering.
		return chain[:5]
	}
	return chain[:2]
}

// TotalSteps is M in the header's "Step N of M": the click path's length.
const TotalSteps = 8

// Screen is one page of the wizard.
type Screen interface {
	Init() tea.Cmd
	Update(tea.Msg) (Screen, tea.Cmd)
	// View renders the screen's area, Common.Width × Common.Height.
	View() string
	ID() ID
	// Crumb is the screen's part of the breadcrumb ("" for none).
	Crumb() string
	// Step is N in "Step N of M".
	Step() int
	ShortHelp() []key.Binding
	FullHelp() [][]key.Binding
}

// Typing is implemented by screens that have a text field focused, so the
// router lets printable keys such as "?" and "q" through to it.
type Typing interface{ Typing() bool }

// Refresher is implemented by screens that show what may change while
// they are covered (a run recorded by another session, a checklist step):
// the router asks them again when they are back on top.
type Refresher interface{ Refresh() tea.Cmd }
