package screens

import (
	"context"
	"fmt"
	"time"

	tea "charm.land/bubbletea/v2"
)

// spinnerFrames turn four times a second (the router's tick): enough to
// show life, little traffic over SSH.
var spinnerFrames = []string{"⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"}

// WaitMsg tells the router a wait began, so it turns the spinner.
type WaitMsg struct{}

// waiter is a long wait on ClassLink (a connection test, the school list):
// a spinner, the time elapsed, and a context that esc cancels.
type waiter struct {
	since  time.Time
	what   string
	cancel context.CancelFunc
	c      *Common
}

// start begins waiting for what; run is the work, given a context the
// person can cancel. Its result arrives as run's message.
func (w *waiter) start(c *Common, what string, run func(context.Context) tea.Cmd) tea.Cmd {
	w.stop()
	ctx, cancel := context.WithCancel(context.Background())
	w.since, w.what, w.cancel, w.c = c.Now(), what, cancel, c
	c.waits++
	c.Post(WaitMsg{})
	return run(ctx)
}

// active reports a wait in progress.
func (w *waiter) active() bool { return w.cancel != nil }

// stop ends the wait: the answer came, or the person cancelled it.
func (w *waiter) stop() {
	if w.cancel != nil {
		w.cancel()
		w.cancel = nil
		w.c.waits--
	}
}

// view is "⠋ Asking ClassLink for the schools… 4s · esc cancels".
func (w *waiter) view() string {
	if !w.active() {
		return ""
	}
	c := w.c
	elapsed := c.Now().Sub(w.since).Round(time.Second)
	return c.Styles.Focused.Render(spinnerFrames[c.SpinFrame%len(spinnerFrames)]) + " " + w.what + "… " +
		c.Styles.Muted.Render(fmt.Sprintf("%s · esc cancels", elapsed))
}
