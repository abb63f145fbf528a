package store

import (
	"encoding/json"
	"slices"
	"time"
)

// HistoryItem is one event of a district's history: a saved revision or a
// sync run. In JSON it is the event's own object with a "kind" key added.
type HistoryItem struct {
	Kind     string // "revision" or "run"
	At       time.Time
	Revision *AuditEntry
	Run      *Run
}

// MarshalJSON flattens the item into its event with "kind" first.
func (h HistoryItem) MarshalJSON() ([]byte, error) {
	var event any = h.Revision
	if h.Run != nil {
		event = h.Run
	}
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

// History lists a district's events, newest first. A run is placed at its
// start; events at the same instant list runs first, newer first.
func (db *DB) History(tenantID int64) ([]HistoryItem, error) {
	entries, err := db.Audit(tenantID)
	if err != nil {
		return nil, err
	}
	runs, err := db.Runs(tenantID)
	if err != nil {
		return nil, err
	}
	items := make([]HistoryItem, 0, len(entries)+len(runs))
	for i := range entries {
		items = append(items, HistoryItem{Kind: "revision", At: entries[i].At, Revision: &entries[i]})
	}
	for i := range runs {
		items = append(items, HistoryItem{Kind: "run", At: runs[i].StartedAt, Run: &runs[i]})
	}
	slices.Reverse(items)
	slices.SortStableFunc(items, func(a, b HistoryItem) int { return b.At.Compare(a.At) })
	return items, nil
}
