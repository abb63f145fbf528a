package screens

import (
	tea "charm.land/bubbletea/v2"

	"github.com/schoolstatus/rostersync/store"
)

// OpenMsg asks the router to open a screen on top of the current one.
type OpenMsg struct{ ID ID }

// Open is a command that opens screen id.
func Open(id ID) tea.Cmd { return func() tea.Msg { return OpenMsg{ID: id} } }

// BackMsg asks the router to go back one screen.
type BackMsg struct{}

// Back is the command for esc.
func Back() tea.Msg { return BackMsg{} }

// DistrictChosenMsg is sent when the person picks or adds a district.
type DistrictChosenMsg struct{ District store.District }

// SavedMsg is sent after a revision is saved.
type SavedMsg struct {
	District store.District
	Entry    store.AuditEntry
}

// FlashMsg shows a short status line in the footer.
type FlashMsg struct {
	Text  string
	Error bool
}

// Flash is a command showing text in the footer.
func Flash(text string) tea.Cmd { return func() tea.Msg { return FlashMsg{Text: text} } }

// FlashError shows an error in the footer.
func FlashError(err error) tea.Cmd {
	return func() tea.Msg { return FlashMsg{Text: err.Error(), Error: true} }
}
