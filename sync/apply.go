package sync

import (
	"context"

	"github.com/schoolstatus/rostersync/store"
)

// apply commits the batches the plan held back, one transaction each: its
// held creates, updates and unarchives (a guardians file's; the roster
// plan committed its own as it walked), then the archives the threshold
// allowed. A kill between two batches leaves a directory the next run
// finishes.
func (e *Engine) apply(ctx context.Context, run store.Run, p *plan, report func(Progress)) error {
	held := len(p.writes.list)
	batches := append(p.writes.list[:held:held], p.archives.list...)
	applied := p.written
	total := applied + p.writes.total + p.archives.total
	p.writes, p.archives = batchList{}, batchList{} // batches alone holds them now
	report(Progress{Phase: PhaseApply, Applied: applied, ToApply: total})
	for i, b := range batches {
		if err := ctx.Err(); err != nil {
			return err
		}
		// The batch's commit notes how far the run got, for history to
		// show should the process stop before the next one.
		if run.ID != "" {
			b.ForRun(run, store.RunProgress{Phase: PhaseApply, Applied: applied + b.Len(), ToApply: total, At: e.now()})
		}
		if err := e.DB.ApplyDirectory(p.tenantID, b); err != nil {
			return err
		}
		// A batch reads pages from all over the file (an archive reads
		// its record where it lies): give them back after each one.
		if err := e.DB.ReleaseFilePages(); err != nil {
			return err
		}
		applied += b.Len()
		p.written += b.Len()
		batches[i] = nil // committed: free its memory
		if k := i - held; k >= 0 && k < len(p.archived) {
			for _, typ := range Types {
				p.committed.Of(typ).Archive += p.archived[k].Of(typ).Archive
			}
		}
		report(Progress{Phase: PhaseApply, Applied: applied, ToApply: total})
	}
	return nil
}
