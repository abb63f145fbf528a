package sync

import (
	"context"
)

// apply commits the plan's batches, one transaction each: the creates,
// updates and unarchives first, then the archives the threshold allowed.
// A kill between two batches leaves a directory the next run finishes.
func (e *Engine) apply(ctx context.Context, p *plan, report func(Progress)) error {
	batches := append(p.writes.list[:len(p.writes.list):len(p.writes.list)], p.archives.list...)
	total := p.writes.total + p.archives.total
	p.writes, p.archives = batchList{}, batchList{} // batches alone holds them now
	applied := 0
	report(Progress{Phase: PhaseApply, ToApply: total})
	for i, b := range batches {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := e.DB.ApplyDirectory(p.tenantID, b); err != nil {
			return err
		}
		applied += b.Len()
		batches[i] = nil // committed: free its memory
		report(Progress{Phase: PhaseApply, Applied: applied, ToApply: total})
	}
	return nil
}
