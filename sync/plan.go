package sync

import (
	"context"
	"fmt"
	"strings"

	"github.com/schoolstatus/rostersync/store"
)

// plan is what one run does, decided record by record as it walks the
// directory against the roster: counts, warnings and samples, the creates,
// updates and unarchives, and the archives, held back (as keys, for the
// roster) until the deletion threshold has been checked. The roster sync
// commits its creates, updates and unarchives as the walk goes
// (commitAsItGoes); a guardians file plan holds them in writes until its
// threshold is checked too.
type plan struct {
	tenantID int64
	settings store.Settings
	perms    store.Permissions

	counts   store.RunCounts
	warnings store.RunWarnings
	// activeManaged counts, per type, the directory's active SIS-managed
	// records before the run: the base of the deletion threshold.
	activeManaged map[string]int
	// over names the types whose archives exceed the threshold.
	over  []string
	tried store.TriedToArchive

	// held are classrooms that stay archived although the roster has them
	// (unarchive reappearing classrooms off): their memberships are left
	// as they are.
	held map[string]bool

	samples  sampler
	size     int
	writes   batchList // creates, updates, unarchives held for apply
	archives batchList

	// Committing as the walk goes: batch holds the writes not committed
	// yet, written counts those committed (in a dry run, those planned),
	// err is the first failure, which ends the walk.
	batch   *store.DirectoryBatch
	ctx     context.Context
	db      *store.DB
	dryRun  bool
	report  func(Progress)
	written int
	err     error
	// committed counts the changes committed so far, for a run stopped
	// before it finished: the walk's creates, updates and unarchives, then
	// the archives of each batch apply commits (archived, per batch).
	committed store.RunCounts
	archived  []store.RunCounts
	// noteRun, when set, makes each batch's commit note the run's
	// progress (applied: the writes committed with it).
	noteRun func(b *store.DirectoryBatch, applied int)

	// keepUsers keeps the users the plan writes (overlay) and archives
	// (overlayArchives), in sourcedId order: a dry run that also checks
	// the SFTP guardians file checks it against the directory as this
	// plan would leave it.
	keepUsers       bool
	overlay         []store.DirectoryUser
	overlayArchives []store.DirectoryUser
}

func newPlan(d store.District, batchSize, samples int) *plan {
	return &plan{
		tenantID:      d.TenantID,
		settings:      d.Settings,
		perms:         d.Permissions,
		activeManaged: map[string]int{},
		held:          map[string]bool{},
		samples:       sampler{limit: samples, seen: map[string]int{}},
		size:          batchSize,
		writes:        batchList{size: batchSize},
		archives:      batchList{size: batchSize},
	}
}

// commitAsItGoes makes the plan commit its creates, updates and
// unarchives batch by batch as it walks (a dry run only counts them).
func (p *plan) commitAsItGoes(ctx context.Context, db *store.DB, dryRun bool, report func(Progress)) {
	p.batch = store.NewDirectoryBatch(p.size)
	p.ctx, p.db, p.dryRun, p.report = ctx, db, dryRun, report
}

// write is the batch to add one create, update or unarchive to: the
// current batch, committed first when full, when committing as the walk
// goes, else the held writes.
func (p *plan) write() *store.DirectoryBatch {
	if p.batch == nil {
		return p.writes.next()
	}
	if p.batch.Len() >= p.size {
		p.commit()
	}
	return p.batch
}

// commit writes the batch in one transaction (a dry run only counts it)
// and reports progress. A cancelled run stops here, between transactions.
func (p *plan) commit() {
	if p.batch == nil || p.err != nil || p.batch.Len() == 0 {
		return
	}
	if p.err = p.ctx.Err(); p.err != nil {
		return
	}
	if !p.dryRun {
		if p.noteRun != nil {
			p.noteRun(p.batch, p.written+p.batch.Len())
		}
		if p.err = p.db.ApplyDirectory(p.tenantID, p.batch); p.err != nil {
			return
		}
		// A batch of scattered updates reads pages from all over the
		// file: give them back after each one.
		if p.err = p.db.ReleaseFilePages(); p.err != nil {
			return
		}
	}
	if !p.dryRun {
		p.committed = writesOf(p.counts)
	}
	p.written += p.batch.Len()
	p.batch.Reset()
	if !p.dryRun {
		p.report(Progress{Phase: PhasePlan, Applied: p.written})
	}
}

// writesOf is c without archives and skips: the changes the walk
// commits as it goes.
func writesOf(c store.RunCounts) store.RunCounts {
	for _, typ := range Types {
		n := c.Of(typ)
		n.Archive, n.Skip = 0, 0
	}
	return c
}

// archive is the batch to add one archive of a record of type typ to
// ("" for a school, which is not counted); each batch tallies its own.
func (p *plan) archive(typ string) *store.DirectoryBatch {
	b := p.archives.next()
	if len(p.archived) < len(p.archives.list) {
		p.archived = append(p.archived, store.RunCounts{})
	}
	if typ != "" {
		p.archived[len(p.archived)-1].Of(typ).Archive++
	}
	return b
}

// count is the counter of a record type.
func (p *plan) count(typ string) *store.Counts { return p.counts.Of(typ) }

// note counts one planned action and keeps a sample of it. A create,
// update or unarchive is followed by its write: a full batch is committed
// first, so that what was committed is what was counted (committed).
func (p *plan) note(typ, action, id, name string, fields []string, reason string) {
	if p.batch != nil && p.batch.Len() >= p.size && action != ActionArchive && action != ActionSkip {
		p.commit()
	}
	*p.count(typ).Of(action)++
	p.samples.add(Sample{Type: typ, Action: action, SourcedID: id, Name: name, Fields: fields, Reason: reason})
}

// checkThreshold applies the deletion threshold: a type may archive at
// most DeletionThresholdPercent of its active SIS-managed records. If any
// type is over, the run archives nothing at all (memberships included),
// and tried_to_archive keeps what each type wanted to archive.
func (p *plan) checkThreshold() {
	var planned store.TriedToArchive
	for _, typ := range Types[:4] { // memberships have no threshold
		archives := p.count(typ).Archive
		*planned.Of(typ) = archives
		if archives*100 > p.settings.DeletionThresholdPercent*p.activeManaged[typ] {
			p.over = append(p.over, typ)
		}
	}
	if len(p.over) == 0 {
		return
	}
	p.tried = planned
	for _, typ := range Types {
		p.count(typ).Archive = 0
	}
	p.archives, p.archived = batchList{}, nil
	p.overlayArchives = nil
}

// thresholdMessage explains a threshold failure for people.
func (p *plan) thresholdMessage() string {
	var parts []string
	for _, typ := range p.over {
		parts = append(parts, fmt.Sprintf("%d of %d active %s", *p.tried.Of(typ), p.activeManaged[typ], typ))
	}
	return fmt.Sprintf("the run would archive %s, over the deletion threshold of %d%%; it created and updated records but archived nothing (raise the threshold or check the roster in ClassLink)",
		strings.Join(parts, " and "), p.settings.DeletionThresholdPercent)
}

// batchList cuts held writes into batches of size, each one transaction.
type batchList struct {
	size  int
	list  []*store.DirectoryBatch
	total int
}

// next is the batch to add one write to.
func (l *batchList) next() *store.DirectoryBatch {
	if n := len(l.list); n == 0 || l.list[n-1].Len() >= l.size {
		l.list = append(l.list, store.NewDirectoryBatch(min(l.size, 1024)))
	}
	l.total++
	return l.list[len(l.list)-1]
}

// sampler keeps the first limit samples of each type and action.
type sampler struct {
	limit int
	seen  map[string]int
	list  []Sample
}

// wants reports whether a sample of typ and action would be kept.
func (s *sampler) wants(typ, action string) bool {
	return s.limit > 0 && s.seen[typ+"/"+action] < s.limit
}

func (s *sampler) add(x Sample) {
	if s.limit <= 0 {
		return
	}
	key := x.Type + "/" + x.Action
	if s.seen[key] >= s.limit {
		return
	}
	s.seen[key]++
	s.list = append(s.list, x)
}
