package wizard

import (
	"fmt"

	tea "charm.land/bubbletea/v2"

	"github.com/schoolstatus/rostersync/screens"
)

// AccessChangedMsg tells a session its key's role or districts changed on
// the access list: CanOpen is the new rule for districts, Role the key's
// role now (as Options.Role).
type AccessChangedMsg struct {
	CanOpen func(tenantID int64) bool
	Role    string
}

// accessChanged applies the new rule at once. A district the person may no
// longer open is closed: its unsaved changes stay as a draft (they come
// back if access is given back) and the session drops to the Dropdown,
// which lists only what is still allowed.
func (m *Model) accessChanged(msg AccessChangedMsg) tea.Cmd {
	m.common.CanOpen = msg.CanOpen
	m.opts.Role = msg.Role
	m.common.Specialist = specialist(m.opts)
	var keep tea.Cmd
	switch {
	case m.edit != nil && !m.common.Allowed(m.edit.Saved.TenantID):
		lost := m.edit.Saved.TenantID
		keep = m.keepDraft() // written in a command, as every draft
		if cancel, ok := m.previews[m.edit.Sync]; ok {
			cancel()
		}
		m.ask = askNothing
		m.flash = screens.FlashMsg{Text: fmt.Sprintf("Your access changed: you can no longer open district %d. Unsaved changes to it are kept as a draft.", lost), Error: true}
	case m.edit == nil && m.top().ID() == screens.DropdownScreen:
		// The list shows only what is allowed: build it again.
	default:
		return nil // still allowed where they are
	}
	load := m.toDropdown()
	m.layout()
	return tea.Batch(keep, load)
}
