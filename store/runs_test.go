package store

import (
	"encoding/json"
	"path/filepath"
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

// A started run is "running" while this handle owns it; a handle that
// closes without finishing it leaves a record the next open shows as
// interrupted, with how far it got.
func TestStartedRunNeverFinishedReadsAsInterrupted(t *testing.T) {
	path := filepath.Join(t.TempDir(), "r.db")
	db, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := db.SaveDistrict(NewDistrict(4, 5, "Runs USD"), 0, ana, nil); err != nil {
		t.Fatal(err)
	}
	start := time.Now().UTC().Add(time.Hour).Truncate(time.Second)
	r, err := db.StartRun(Run{TenantID: 4, Mode: ModeApply, Trigger: TriggerSchedule, ConfigRevision: 1, StartedAt: start})
	if err != nil || r.ID != "4-000001" || r.Status != RunRunning {
		t.Fatalf("started %+v, %v", r, err)
	}
	if last, _, _ := db.LastRun(4); last.Status != RunRunning || last.Progress == nil || last.Progress.Phase != PhasePulling {
		t.Fatalf("while running: %+v", last)
	}
	var b DirectoryBatch
	for _, u := range sampleUsers() {
		b.PutUser(u)
	}
	noted := start.Add(time.Minute)
	b.ForRun(r, RunProgress{Phase: PhaseApplying, Applied: 3, ToApply: 7, At: noted})
	if err := db.ApplyDirectory(4, &b); err != nil {
		t.Fatal(err)
	}
	db.Close() // the process goes away without FinishRun

	db, err = Open(path, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	items, err := db.History(4)
	if err != nil || items[0].Run == nil {
		t.Fatalf("history %+v %v", items, err)
	}
	got := *items[0].Run
	if got.Status != RunInterrupted || !got.FinishedAt.Equal(noted) || got.Progress == nil || got.Progress.Applied != 3 ||
		!strings.Contains(got.Message, "after 3 of 7 directory writes") || got.Applied() {
		t.Fatalf("interrupted run: %+v", got)
	}
	raw, _ := json.Marshal(items[0])
	if !strings.Contains(string(raw), `"status":"interrupted"`) || !strings.Contains(string(raw), `"progress":{"phase":"applying","applied":3,"to_apply":7`) {
		t.Errorf("JSON: %s", raw)
	}
}

func TestFinishRunReplacesTheStartedRecord(t *testing.T) {
	db := openTemp(t)
	r, err := db.StartRun(Run{TenantID: 4, Mode: ModeDryRun, Trigger: TriggerManual, StartedAt: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.NoteRunProgress(r, RunProgress{Phase: PhasePlanning}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.FinishRun(Run{TenantID: 4, ID: "4-000009", Status: RunSucceeded}); err == nil {
		t.Error("finished a run never started")
	}
	if _, err := db.FinishRun(Run{TenantID: 4, ID: r.ID, Status: RunRunning}); err == nil {
		t.Error("finished a run as running")
	}
	r.Status, r.Counts.Students.Create = RunSucceeded, 2
	if _, err := db.FinishRun(r); err != nil {
		t.Fatal(err)
	}
	runs, _ := db.Runs(4)
	if len(runs) != 1 || runs[0].Status != RunSucceeded || runs[0].Progress != nil || runs[0].Counts.Students.Create != 2 {
		t.Fatalf("runs %+v", runs)
	}
	if err := db.NoteRunProgress(r, RunProgress{Phase: PhaseApplying}); err == nil {
		t.Error("noted progress on a finished run")
	}
}

// A run's messages carry a server's words or a file's name: they are stored
// escaped, so history, the wizard and scripts all show them safely.
func TestARunsMessagesAreStoredEscaped(t *testing.T) {
	db := openTemp(t)
	if _, _, err := db.SaveDistrict(NewDistrict(4, 5, "Runs USD"), 0, ana, nil); err != nil {
		t.Fatal(err)
	}
	evil := "HTTP 401: \x1b]0;owned\x07\x1b[2J fake prompt\r"
	at := time.Date(2026, 12, 1, 2, 0, 0, 0, time.UTC)
	recorded, err := db.RecordRun(Run{TenantID: 4, Mode: ModeApply, Trigger: TriggerManual, Status: RunFailed, Reason: ReasonCredentials,
		StartedAt: at, FinishedAt: at, Message: evil, GuardiansFile: &GuardiansFileRun{Message: evil}})
	if err != nil {
		t.Fatal(err)
	}
	started, err := db.StartRun(Run{TenantID: 4, Mode: ModeApply, Trigger: TriggerManual, StartedAt: at})
	if err != nil {
		t.Fatal(err)
	}
	started.Status, started.Reason, started.Message, started.FinishedAt = RunFailed, ReasonUpstream, "line one\n"+evil, at
	if _, err := db.FinishRun(started); err != nil {
		t.Fatal(err)
	}
	runs, err := db.Runs(4)
	if err != nil || len(runs) != 2 {
		t.Fatalf("%d runs, %v", len(runs), err)
	}
	if recorded.Message != runs[0].Message {
		t.Errorf("RecordRun returned %q but stored %q", recorded.Message, runs[0].Message)
	}
	for _, msg := range []string{runs[0].Message, runs[0].GuardiansFile.Message, runs[1].Message} {
		if strings.ContainsAny(msg, "\x1b\x07\r") || !strings.Contains(msg, `\x1b[2J fake prompt`) {
			t.Errorf("stored message %q: not escaped", msg)
		}
	}
	if !strings.HasPrefix(runs[1].Message, "line one\n") {
		t.Errorf("a message of our own lost its line break: %q", runs[1].Message)
	}
}
