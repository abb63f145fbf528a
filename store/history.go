package store

import (
	"encoding/json"
	"slices"
	"time"
)

// HistoryItem is one event of a district's history: a saved revision (and,
// once the sync engine records them, a sync run). In JSON it is the event's
// own object with a "kind" key added.
type HistoryItem struct {
	Kind     string // "revision"
	At       time.Time
	Revision *AuditEntry
}

// MarshalJSON flattens the item into its event with "kind" first.
func (h HistoryItem) MarshalJSON() ([]byte, error) {
	var event any = h.Revision
	raw, err := json.Marshal(event)
	if err != nil {
		return nil, err
	}
	kind, _ := json.Marshal(h.Kind)
	out := append([]byte(`{"kind":`), kind...)
	if len(raw) > 2 {
		out = append(out, ',')
		out = append(out, raw[1:]...)
	} else {
		out = append(out, '}')
	}
	return out, nil
}

// History lists a district's events, newest first.
func (db *DB) History(tenantID int64) ([]HistoryItem, error) {
	entries, err := db.Audit(tenantID)
	if err != nil {
		return nil, err
	}
	items := make([]HistoryItem, 0, len(entries))
	for i := range entries {
		items = append(items, HistoryItem{Kind: "revision", At: entries[i].At, Revision: &entries[i]})
	}
	slices.Reverse(items) // newest first among events of the same second
	slices.SortStableFunc(items, func(a, b HistoryItem) int { return b.At.Compare(a.At) })
	return items, nil
}
