package sync

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/schoolstatus/rostersync/store"
)

// A process reads or processes at most GuardiansFiles guardians files at
// once: a person asking for one more is refused at once, saying to try
// again; the schedule waits for a slot; a freed slot serves the next.
func TestGuardiansFilesAreBoundedPerProcess(t *testing.T) {
	f, srv := sftpDistrict(t)
	s := f.roster.StudentID
	srv.Put("/district/guardians.csv", []byte(fileHead+s(0)+",G-1,Ana,Ruiz,ana@example.org,,,\n"))
	f.engine.GuardiansFiles = 1
	d, _ := f.db.District(testTenant)

	// One slow fetch holds the only slot.
	srv.Trickle(50 * time.Millisecond)
	ctx, cancel := context.WithCancel(context.Background())
	fetched := make(chan error, 1)
	go func() { _, _, err := f.engine.FetchGuardiansSFTP(ctx, d); fetched <- err }()
	for srv.Reads.Load() == 0 {
		time.Sleep(5 * time.Millisecond)
	}
	var busy *FilesBusyError
	if _, _, err := f.engine.FetchGuardiansSFTP(context.Background(), d); !errors.As(err, &busy) ||
		err.Error() != "this server is already reading or processing 1 guardians files, the most it does at once: try again in a minute" {
		t.Fatalf("a second fetch: %v", err)
	}
	if _, err := f.engine.RunGuardiansFile(context.Background(), testTenant, nil, FileOptions{DryRun: true, Data: []byte(fileHead)}); !errors.As(err, &busy) {
		t.Fatalf("an upload while the slot is taken: %v", err)
	}
	if runs, _ := f.db.Runs(testTenant); len(runs) != 0 {
		t.Fatalf("a refused upload recorded %d runs", len(runs))
	}
	// The schedule waits for the slot rather than failing.
	scheduled := make(chan store.Run, 1)
	go func() {
		res, err := f.engine.Run(context.Background(), testTenant, RunOptions{Trigger: store.TriggerSchedule})
		if err != nil {
			res.Run.Message = err.Error()
		}
		scheduled <- res.Run
	}()
	time.Sleep(200 * time.Millisecond)
	select {
	case r := <-scheduled:
		t.Fatalf("the scheduled run did not wait for the slot: %s %s", r.Status, r.Message)
	default:
	}
	srv.Trickle(0)
	cancel() // the slow fetch ends and frees the slot
	if err := <-fetched; err == nil {
		t.Fatal("the cancelled fetch succeeded")
	}
	if r := <-scheduled; r.Status != store.RunSucceeded || r.GuardiansFile == nil || r.GuardiansFile.Status != store.FileProcessed {
		t.Fatalf("the scheduled run after the slot came free: %s %q %+v", r.Status, r.Message, r.GuardiansFile)
	}
	if _, _, err := f.engine.FetchGuardiansSFTP(context.Background(), d); err != nil {
		t.Fatalf("a fetch once the slots are free: %v", err)
	}
}
