package wizard

import (
	"context"
	"fmt"
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

// syncFinished records the outcome; a passed preview is the guide's
// self-check (step 6), a successful applied run its launch (step 7).
func (m *Model) syncFinished(msg syncDone) {
	s := msg.state
	delete(m.previews, s)
	s.Done, s.Run, s.Samples, s.Err = true, msg.run, msg.samples, msg.err
	if msg.err != nil {
		m.flash = screens.FlashMsg{Text: msg.err.Error(), Error: true}
		return
	}
	run := msg.run
	text := screens.RunLine(run)
	if run.Status == store.RunFailed {
		m.flash = screens.FlashMsg{Text: "The " + text + ": " + run.Message, Error: true}
		return
	}
	step := store.StepEnable
	if run.Mode == store.ModeDryRun {
		step = store.StepSelfCheck
	}
	d, err := m.opts.DB.SetChecklistStep(msg.tenantID, step, store.ChecklistItem{Done: true, Verified: true, By: m.opts.Actor.Name()})
	if err != nil {
		m.flash = screens.FlashMsg{Text: err.Error(), Error: true}
		return
	}
	if m.edit != nil && m.edit.Saved.TenantID == msg.tenantID {
		m.edit.Saved.Checklist, m.edit.Draft.Checklist = d.Checklist, d.Checklist
	}
	m.flash = screens.FlashMsg{Text: fmt.Sprintf("The %s: step %d is done.", text, int(step)+1)}
}

// listSchools asks ClassLink for d's schools.
func (m *Model) listSchools(d store.District) tea.Cmd {
	if err := m.checkConnection(d); err != nil {
		return func() tea.Msg { return screens.SchoolsMsg{TenantID: d.TenantID, Err: err} }
	}
	dial := m.opts.Engine.Dial
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		msg := screens.SchoolsMsg{TenantID: d.TenantID}
		schools, err := rsync.Schools(ctx, dial, d)
		if err != nil {
			msg.Err = err
			return msg
		}
		for _, s := range schools {
			msg.Schools = append(msg.Schools, screens.SchoolChoice{SourcedID: s.SourcedID, Name: s.Name, Identifier: s.Identifier, ToBeDeleted: s.Status == "tobedeleted"})
		}
		return msg
	}
}
