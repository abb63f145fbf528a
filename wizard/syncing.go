package wizard

import (
	"context"
	"errors"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/schoolstatus/rostersync/screens"
	"github.com/schoolstatus/rostersync/store"
	rsync "github.com/schoolstatus/rostersync/sync"
)

// previewSamples is how many sample records per type and action a preview
// keeps for the person to look at.
const previewSamples = 8

// startSync runs a sync of d's saved revision in the background. Its
// progress and result come back as messages that carry the run's state,
// so they land on the right district even if the person moved on.
func (m *Model) startSync(d store.District, dryRun bool) tea.Cmd {
	if m.edit == nil || m.edit.Saved.TenantID != d.TenantID || (m.edit.Sync != nil && !m.edit.Sync.Done) {
		return nil
	}
	ctx, cancel := context.WithCancel(m.opts.Runs)
	state := &screens.SyncState{DryRun: dryRun, Started: m.opts.Now(), Phase: rsync.PhaseCheck,
		Totals: map[string]int{}, Pulled: map[string]int{}, Cancel: cancel}
	m.edit.Sync = state
	if dryRun {
		m.previews[state] = cancel
	}
	m.common.Post(screens.WaitMsg{}) // the spinner turns while it runs
	ch := make(chan tea.Msg, 32)
	engine, ended, going, stopping := m.opts.Engine, m.ended, m.opts.RunsGoing, m.opts.Runs.Done()
	going.Add(1)
	go func() {
		defer going.Done()
		defer cancel()
		defer close(ch)
		// The totals only size the progress bars; a failed probe leaves
		// them unknown and the run reports the real failure.
		pctx, pcancel := context.WithTimeout(ctx, 10*time.Second) // not worth waiting out a rate limit for
		if probe := rsync.TestConnection(pctx, engine.Dial, d); probe.OK {
			ch <- syncProgress{state: state, totals: probe.Counts}
		}
		pcancel()
		res, err := engine.Run(ctx, d.TenantID, rsync.RunOptions{DryRun: dryRun, Samples: previewSamples,
			Progress: func(p rsync.Progress) {
				select {
				case ch <- syncProgress{state: state, p: p}:
				default: // a slow screen skips a frame, never the run
				}
			}})
		done := syncDone{state: state, tenantID: d.TenantID, run: res.Run, err: err}
		if err == nil {
			// The run may have ticked guide steps: the edit takes the checklist.
			if now, derr := engine.DB.District(d.TenantID); derr == nil {
				done.district = &now
			}
		}
		for _, s := range res.Samples {
			done.samples = append(done.samples, screens.SyncSample{Type: s.Type, Action: s.Action, SourcedID: s.SourcedID, Name: s.Name, Fields: s.Fields, Reason: s.Reason})
		}
		select {
		case ch <- done:
		case <-ended: // the session is gone; the run is in the history
		case <-stopping: // the server stops; the run is in the history
		}
	}()
	return listenSync(ch)
}

type syncProgress struct {
	state  *screens.SyncState
	p      rsync.Progress
	totals map[string]int
	next   tea.Cmd
}

type syncDone struct {
	state    *screens.SyncState
	tenantID int64
	run      store.Run
	district *store.District // as stored after the run
	samples  []screens.SyncSample
	err      error
}

func listenSync(ch <-chan tea.Msg) tea.Cmd {
	return func() tea.Msg {
		msg, ok := <-ch
		if !ok {
			return nil
		}
		if p, isProgress := msg.(syncProgress); isProgress {
			p.next = listenSync(ch)
			return p
		}
		return msg
	}
}

func (m *Model) syncProgressed(msg syncProgress) tea.Cmd {
	s := msg.state
	if msg.totals != nil {
		s.Totals = msg.totals
		return msg.next
	}
	p := msg.p
	s.Phase = p.Phase
	if p.Attempt > s.Attempt {
		s.Attempt = p.Attempt
		clear(s.Pulled) // ClassLink moved x-perm-rev: the pull starts over
	}
	if p.Collection != "" {
		s.Pulled[string(p.Collection)] = p.Records
	}
	s.Applied, s.ToApply = p.Applied, p.ToApply
	return msg.next
}

// syncFinished records the outcome in the edit. The guide's steps a run
// verifies (a passed preview is the self-check, step 6; a successful run
// with the daily sync on, step 7) were ticked by the store in the run's
// own transaction; the run's message carries the district as it is now.
func (m *Model) syncFinished(msg syncDone) {
	s := msg.state
	delete(m.previews, s)
	s.Done, s.Run, s.Samples, s.Err = true, msg.run, msg.samples, msg.err
	if msg.err != nil {
		m.flash = screens.FlashMsg{Text: screens.ErrText(msg.err), Error: true}
		return
	}
	e := m.edit
	if e != nil && e.Saved.TenantID == msg.tenantID {
		e.Ran(msg.run)
		if msg.district != nil {
			e.Saved.Checklist, e.Draft.Checklist = msg.district.Checklist, msg.district.Checklist
		}
	}
	run := msg.run
	text := screens.RunLine(run)
	switch {
	case run.Status == store.RunFailed:
		m.flash = screens.FlashMsg{Text: "The " + text + ".", Error: true}
	case run.Mode == store.ModeDryRun:
		m.flash = screens.FlashMsg{Text: "The " + text + ": the self-check (step 6) is done."}
	case msg.district != nil && msg.district.Checklist[store.StepEnable].Verified:
		m.flash = screens.FlashMsg{Text: "The " + text + ": step 7 (enable and launch) is verified."}
	default:
		m.flash = screens.FlashMsg{Text: "The " + text + ". Step 7 is verified once Enable Daily sync is on and a sync succeeds."}
	}
}

// listSchools asks ClassLink for d's schools until ctx is cancelled.
func (m *Model) listSchools(ctx context.Context, d store.District) tea.Cmd {
	if err := m.checkConnection(d); err != nil {
		return func() tea.Msg { return screens.SchoolsMsg{TenantID: d.TenantID, Err: err, Summary: rsync.Explain(err)} }
	}
	dial := m.opts.Engine.Dial
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
		defer cancel()
		msg := screens.SchoolsMsg{TenantID: d.TenantID}
		schools, err := rsync.Schools(ctx, dial, d)
		if err != nil {
			msg.Err, msg.Summary, msg.Cancelled = err, rsync.Explain(err), errors.Is(ctx.Err(), context.Canceled)
			return msg
		}
		for _, s := range schools {
			msg.Schools = append(msg.Schools, screens.SchoolChoice{SourcedID: s.SourcedID, Name: s.Name, Identifier: s.Identifier, ToBeDeleted: s.Status == "tobedeleted"})
		}
		return msg
	}
}
