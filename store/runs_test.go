package store

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestRunsAndHistory(t *testing.T) {
	db := openTemp(t)
	d, _, err := db.SaveDistrict(NewDistrict(4, 5, "Runs USD"), 0, ana, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := db.LastRun(4); ok {
		t.Fatal("a run before any")
	}
	start := d.SavedAt.Add(time.Minute)
	mk := func(mode, trigger, status, reason string, at time.Time) Run {
		r, err := db.RecordRun(Run{TenantID: 4, Mode: mode, Trigger: trigger, Status: status, Reason: reason, ConfigRevision: 1,
			PermRev: "rev-1", StartedAt: at, FinishedAt: at.Add(time.Second), Counts: RunCounts{Students: Counts{Create: 3}}})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	applied := mk(ModeApply, TriggerSchedule, RunSucceeded, "", start)
	mk(ModeDryRun, TriggerManual, RunSucceeded, "", start.Add(time.Hour))
	failed := mk(ModeApply, TriggerManual, RunFailed, ReasonThreshold, start.Add(2*time.Hour))
	if applied.ID != "4-000001" || failed.ID != "4-000003" {
		t.Fatalf("ids %s %s", applied.ID, failed.ID)
	}
	if last, _, _ := db.LastRun(4); last.ID != failed.ID {
		t.Fatalf("last run %s", last.ID)
	}
	if last, _, _ := db.LastAppliedRun(4); last.ID != applied.ID || last.Counts.Students.Create != 3 {
		t.Fatalf("last applied %+v", last)
	}
	if last, _, _ := db.LastScheduledRun(4); last.ID != applied.ID {
		t.Fatalf("last scheduled %s", last.ID)
	}
	items, err := db.History(4)
	if err != nil || len(items) != 4 || items[0].Run == nil || items[0].Run.ID != failed.ID || items[3].Kind != "revision" {
		t.Fatalf("history: %+v %v", items, err)
	}
	raw, _ := json.Marshal(items[0])
	var m map[string]any
	json.Unmarshal(raw, &m)
	for _, k := range []string{"kind", "id", "mode", "trigger", "status", "reason", "config_revision", "perm_rev", "started_at", "finished_at", "counts", "tried_to_archive", "warnings"} {
		if _, ok := m[k]; !ok {
			t.Errorf("run JSON lacks %q: %s", k, raw)
		}
	}
	if m["kind"] != "run" || !strings.Contains(string(raw), `"students":{"create":3,"update":0,"archive":0,"unarchive":0,"skip":0}`) ||
		!strings.Contains(string(raw), `"warnings":{"invalid_phone":0,"guardian_without_contact":0}`) {
		t.Errorf("run JSON: %s", raw)
	}
	if _, err := db.RecordRun(Run{}); err == nil {
		t.Error("recorded a run without a tenant")
	}
}
