package sync

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"runtime/debug"
	"slices"
	"time"

	"github.com/schoolstatus/rostersync/classlink"
	"github.com/schoolstatus/rostersync/store"
)

// DefaultFullPullEvery is how often a district's roster is pulled whole
// although pulling what changed would do: a record a server changed
// without moving its dateLastModified is set right within a week.
const DefaultFullPullEvery = 7 * 24 * time.Hour

// pull pulls the district's roster: what changed since the roster the
// district kept from its last run (lastPulled), else everything, why being
// the reason. Progress says which (Pass, FullPull).
func (e *Engine) pull(ctx context.Context, c *classlink.Client, d store.District, kept *keptRoster, why string, warn func(string), report func(Progress)) (*pulled, *orgsPull, error) {
	if kept != nil {
		p, o, err := pullChanges(ctx, c, d, kept, report)
		var need *fullPullNeeded
		if !errors.As(err, &need) {
			return p, o, err
		}
		why = need.reason
		if need.kept != nil {
			warn(need.reason + ", so this run pulled the whole roster")
			if keptDamaged(need.kept) {
				// Discarded, for a dry run too, which keeps nothing new.
				e.DB.DropPulledRoster(d.TenantID)
			}
		}
	}
	report(Progress{Phase: PhasePull, FullPull: why})
	p, o, err := pullAll(ctx, c, d, report)
	if err != nil {
		return nil, nil, err
	}
	p.meta.FullPullAt = e.now()
	return p, o, nil
}

// keptRoster is the roster kept from the last run: its meta at once, its
// records read in the background while the changes are pulled.
type keptRoster struct {
	meta pulledMeta
	done chan struct{}
	p    *pulled
	err  error
}

func (k *keptRoster) wait() (*pulled, error) {
	<-k.done
	return k.p, k.err
}

// lastPulled is the roster kept from the district's last run if a pull of
// changes may update it, being read; otherwise nil and why not. The kept
// roster is a cache beside the database: one that cannot be read costs a
// full pull and a warning (warn), never the run; the error is the
// database's.
func (e *Engine) lastPulled(d store.District, opt RunOptions, warn func(string)) (*keptRoster, string, error) {
	raw, ok, err := e.DB.PulledRosterMeta(d.TenantID)
	if err != nil {
		why := fmt.Sprintf("the roster kept from the last run cannot be read (%v)", err)
		warn(why + ", so this run pulled the whole roster")
		return nil, why, nil
	}
	if !ok {
		return nil, "no roster kept from an earlier run", nil
	}
	dbID, err := e.DB.DatabaseID()
	if err != nil {
		return nil, "", err
	}
	var meta pulledMeta
	every := e.FullPullEvery
	if every <= 0 {
		every = DefaultFullPullEvery
	}
	switch {
	case json.Unmarshal(raw, &meta) != nil || meta.Format != pulledFormat:
		return nil, "the roster kept from an earlier run is in an older format", nil
	case opt.FullPull:
		return nil, "a full pull was asked for", nil
	case meta.Database != dbID:
		return nil, "the roster kept was pulled for another database (the database was made again, or replaced)", nil
	case meta.ConfigRevision != d.Revision:
		return nil, fmt.Sprintf("the settings changed since the last pull (revision %d, now %d)", meta.ConfigRevision, d.Revision), nil
	case !slices.Equal(meta.Schools, connectedSchools(d)):
		return nil, "the roster kept was pulled for other connected schools", nil
	case e.now().Sub(meta.FullPullAt) >= every:
		return nil, fmt.Sprintf("the last full pull is older than %s", every), nil
	case meta.FullPullAt.After(e.now()):
		// The clock was ahead then (or is behind now): the week cannot be
		// counted, so it is over.
		return nil, "the last full pull is dated after now (the clock was changed)", nil
	}
	for _, c := range changingCollections {
		if meta.Since[c].IsZero() {
			return nil, "the last pull has no dateLastModified to start from", nil
		}
	}
	k := &keptRoster{meta: meta, done: make(chan struct{})}
	go func() {
		defer close(k.done)
		defer func() {
			// A bug reading the cache costs a full pull, not the process
			// (this goroutine is outside Run's recover).
			if v := recover(); v != nil {
				k.p, k.err = nil, fmt.Errorf("%w (%v)", errPulledCorrupt, v)
				e.logPanic(d.TenantID, v, debug.Stack())
			}
		}()
		k.err = e.DB.ReadPulledRoster(d.TenantID, func(r io.Reader) error {
			var err error
			k.p, err = decodePulled(r, meta)
			return err
		})
		if k.err != nil {
			k.p = nil
		}
		if k.err != nil && !keptDamaged(k.err) {
			k.err = fmt.Errorf("the roster kept from the last run cannot be read: %w", k.err)
		}
	}()
	return k, "", nil
}

// keptDamaged reports a kept roster whose checksum or contents are wrong
// (rather than a file that could not be read).
func keptDamaged(err error) bool {
	return errors.Is(err, errPulledCorrupt) || errors.Is(err, store.ErrPulledDamaged)
}

// keepPulled keeps p for the next run's pull of changes, or forgets the
// kept one when p's dates cannot be trusted. A kept roster that cannot be
// written (or forgotten) is a warning (warn), not a failure: the next run
// pulls in full, or what changed since an older kept roster. The error is
// the database's.
func (e *Engine) keepPulled(tenantID int64, p *pulled, warn func(string)) error {
	if !p.since.usable() {
		if err := e.DB.DropPulledRoster(tenantID); err != nil {
			warn(fmt.Sprintf("the roster kept from an earlier run could not be removed (%v); its dates cannot be trusted, delete %s", err, e.DB.PulledDir()))
		}
		return nil
	}
	dbID, err := e.DB.DatabaseID()
	if err != nil {
		return err
	}
	p.meta.Database = dbID
	p.meta.Since = map[classlink.Collection]time.Time{}
	for _, c := range changingCollections {
		p.meta.Since[c] = p.since.since(c)
	}
	meta, err := json.Marshal(p.meta)
	if err != nil {
		return err
	}
	if err := e.DB.SavePulledRoster(tenantID, meta, p.encode); err != nil {
		warn(fmt.Sprintf("the roster pulled could not be kept for the next run (%v), so the next run pulls the whole roster again or what changed since an older kept one", err))
	}
	return nil
}
