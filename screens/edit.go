package screens

import (
	"slices"

	"github.com/schoolstatus/rostersync/store"
)

// Edit is the district being edited in this session: the revision it
// started from and the person's changes so far. Screens share one *Edit.
type Edit struct {
	Saved store.District // as stored at the revision the edit started from
	Draft store.District // the working copy the screens change
	// Notes are decisions confirmed on the way, recorded in the audit entry.
	Notes []string
	// LastTest is the last connection test's answer in this session.
	LastTest *ConnectionReport
	// Sync is the district's running or last sync in this session.
	Sync *SyncState
	// LastRun and LastPreview are the district's newest roster run and
	// newest preview (nil: none), and LastUpload a guardians file upload
	// newer than both; loaded when the district opens and refreshed when a
	// run ends, so that no view reads the database.
	LastRun, LastPreview, LastUpload *store.Run
}

// TookRuns takes what LatestRuns read.
func (e *Edit) TookRuns(m RunsMsg) {
	e.LastRun, e.LastPreview, e.LastUpload = m.LastRun, m.LastPreview, m.LastUpload
}

// PreviewPassed reports whether the newest preview, of the saved
// revision, succeeded without crossing the deletion threshold: what the
// self-check step and Run sync now need.
func (e *Edit) PreviewPassed() bool {
	r := e.LastPreview
	return r != nil && r.ConfigRevision == e.Saved.Revision && r.Status != store.RunFailed
}

// Ran records a finished run as the newest (and, for a dry run, the newest
// preview).
func (e *Edit) Ran(r store.Run) {
	if !r.Roster() {
		e.LastUpload = &r
		return
	}
	e.LastRun, e.LastUpload = &r, nil
	if r.Mode == store.ModeDryRun {
		e.LastPreview = &r
	}
}

// NewEdit starts editing d as saved.
func NewEdit(d store.District) *Edit { return &Edit{Saved: d, Draft: d} }

// Changes lists what a save would change.
func (e *Edit) Changes() []store.Change { return store.Diff(e.Saved, e.Draft) }

// Dirty reports unsaved changes.
func (e *Edit) Dirty() bool { return len(e.Changes()) > 0 }

// Note records a decision once.
func (e *Edit) Note(n string) {
	if !slices.Contains(e.Notes, n) {
		e.Notes = append(e.Notes, n)
	}
}

// Unnote forgets a decision that was undone.
func (e *Edit) Unnote(n string) {
	e.Notes = slices.DeleteFunc(e.Notes, func(s string) bool { return s == n })
}

// NoteEnabledBeforeSelfCheck is the audit note for the Enable Daily sync
// guard; store holds the rule (store.EnablesBeforeSelfCheck).
const NoteEnabledBeforeSelfCheck = store.NoteEnabledBeforeSelfCheck

// Save stores the draft as the next revision with the notes in its audit
// entry, and deletes the person's draft in the same transaction. Every way
// of saving (the Review screen, accessible prompts) goes through here.
func (e *Edit) Save(db *store.DB, who store.Actor) (store.District, store.AuditEntry, error) {
	if e.Draft.ApplicationID != e.Saved.ApplicationID {
		// Only District details changes it, checked against ClassLink.
		return store.District{}, store.AuditEntry{}, &store.FieldError{Field: "application_id", Msg: "is changed only in ⋮ → District details (specialists), where it is checked against ClassLink's list"}
	}
	return db.SaveEdit(who.Owner(), e.Draft, e.Saved.Revision, who, e.Notes)
}
