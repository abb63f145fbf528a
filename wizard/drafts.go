package wizard

import (
	"encoding/json"
	gosync "sync"

	tea "charm.land/bubbletea/v2"

	"github.com/schoolstatus/rostersync/store"
)

// draftWriter writes a session's drafts from commands, one at a time and
// newest last: a write that arrives after a newer one has been written is
// dropped, so the stored draft is always the latest.
type draftWriter struct {
	db      *store.DB
	mu      gosync.Mutex
	seq     uint64 // the last sequence number handed out
	written uint64 // the newest sequence number written
}

// draftWritten reports a draft write's outcome.
type draftWritten struct{ err error }

func (w *draftWriter) next() uint64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.seq++
	return w.seq
}

// write stores d (keep) or deletes the person's draft of d.TenantID, unless
// a newer write already happened.
func (w *draftWriter) write(seq uint64, d store.Draft, keep bool) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if seq < w.written {
		return nil
	}
	w.written = seq
	if keep {
		return w.db.PutDraft(d)
	}
	return w.db.DeleteDraft(d.User, d.TenantID)
}

// draft is the person's unsaved work as it would be stored, and whether
// there is any.
func (m *Model) draft() (store.Draft, bool) {
	e := m.edit
	d := store.Draft{User: m.opts.Actor.Owner(), TenantID: e.Saved.TenantID, Screen: m.top().ID().String(), Base: e.Saved, District: e.Draft, Notes: e.Notes}
	return d, e.Dirty()
}

// keepDraft writes the person's unsaved changes in a command (or removes
// a draft that no longer differs from the saved revision); nothing is
// written when nothing changed since the last write.
func (m *Model) keepDraft() tea.Cmd {
	if m.edit == nil {
		return nil
	}
	d, dirty := m.draft()
	raw := []byte("deleted")
	if dirty {
		raw, _ = json.Marshal(d)
	} else if m.draftSaved == nil {
		return nil // no draft was written in this session, none to delete
	}
	if string(raw) == string(m.draftSaved) {
		return nil
	}
	m.draftSaved = raw
	w, seq := m.drafts, m.drafts.next()
	return func() tea.Msg { return draftWritten{err: w.write(seq, d, dirty)} }
}

// deleteDraft removes the person's draft of a district in a command.
func (m *Model) deleteDraft(tenantID int64) tea.Cmd {
	w, seq := m.drafts, m.drafts.next()
	d := store.Draft{User: m.opts.Actor.Owner(), TenantID: tenantID}
	return func() tea.Msg { return draftWritten{err: w.write(seq, d, false)} }
}

// KeepDraft writes the person's unsaved changes now, for the end of a
// session (a quit, a dropped SSH connection), when nothing waits on it.
func (m *Model) KeepDraft() {
	if cmd := m.keepDraft(); cmd != nil {
		if msg, ok := cmd().(draftWritten); ok && msg.err != nil {
			m.flash.Text, m.flash.Error = "Could not keep a draft: "+msg.err.Error(), true
		}
	}
}
