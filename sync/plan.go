package sync

import (
	"fmt"
	"strings"

	"github.com/schoolstatus/rostersync/store"
)

// plan is what one run will do: counts, warnings, samples and the encoded
// directory writes, split so the threshold check can drop the archives.
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
	writes   batchList // creates, updates, unarchives
	archives batchList

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
		writes:        batchList{size: batchSize},
		archives:      batchList{size: batchSize},
	}
}

// count is the counter of a record type.
func (p *plan) count(typ string) *store.Counts { return p.counts.Of(typ) }

// note counts one planned action and keeps a sample of it.
func (p *plan) note(typ, action, id, name string, fields []string, reason string) {
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
	p.archives = batchList{}
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

// batchList cuts writes into batches of size, each one transaction.
type batchList struct {
	size  int
	list  []*store.DirectoryBatch
	total int
}

// next is the batch to add one write to.
func (l *batchList) next() *store.DirectoryBatch {
	if n := len(l.list); n == 0 || l.list[n-1].Len() >= l.size {
		l.list = append(l.list, &store.DirectoryBatch{})
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
