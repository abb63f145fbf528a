package wizard

import (
	"context"
	"fmt"
	gosync "sync"
	"time"
)

// Limits on what one session may make this server connect to (README:
// "Limits on what a client may cost the server").
const (
	// TestsPerMinute is how many connection tests (SFTP and ClassLink) a
	// session may start in a minute: enough to fix a typo and try again,
	// too few to probe a network.
	TestsPerMinute = 5
)

// outbound is a session's one connection to an SFTP folder or ClassLink at
// a time (a connection test, or reading guardians.csv): it is cancelled
// when the screen that started it is left or the session ends, and tests
// start at most TestsPerMinute a minute.
type outbound struct {
	mu     gosync.Mutex
	now    func() time.Time
	busy   bool
	cancel context.CancelFunc
	owner  any // the screen that started it; nil: none (accessible mode)
	tests  []time.Time
	ended  bool
}

// what an outbound connection is, for its limits and messages.
const (
	outTest = iota // a connection test: counted against TestsPerMinute
	outRead        // reading guardians.csv from the SFTP folder
)

// begin starts one: ctx (from parent) ends when it is cancelled, and done
// must be called when it is over. A refusal says why and when to try again.
func (o *outbound) begin(parent context.Context, kind int, owner any) (context.Context, func(), error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	now := o.now()
	switch {
	case o.ended:
		return nil, nil, context.Canceled
	case o.busy:
		return nil, nil, fmt.Errorf("this session is already connecting (a connection test or reading guardians.csv): wait for it, or leave the screen that started it to cancel it")
	}
	if kind == outTest {
		recent := o.tests[:0]
		for _, t := range o.tests {
			if now.Sub(t) < time.Minute {
				recent = append(recent, t)
			}
		}
		o.tests = recent
		if len(o.tests) >= TestsPerMinute {
			wait := max(o.tests[0].Add(time.Minute).Sub(now).Round(time.Second), time.Second)
			return nil, nil, fmt.Errorf("this session has started %d connection tests in the last minute, the most it may: try again in %s", TestsPerMinute, wait)
		}
		o.tests = append(o.tests, now)
	}
	ctx, cancel := context.WithCancel(parent)
	o.busy, o.cancel, o.owner = true, cancel, owner
	return ctx, func() {
		cancel()
		o.mu.Lock()
		o.busy, o.cancel, o.owner = false, nil, nil
		o.mu.Unlock()
	}, nil
}

// left cancels the connection in flight when its screen is no longer the
// one shown.
func (o *outbound) left(shown any) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.busy && o.owner != nil && o.owner != shown {
		o.cancel()
		o.owner = nil
	}
}

// end cancels the connection in flight and refuses new ones: the session
// is over.
func (o *outbound) end() {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.ended = true
	if o.cancel != nil {
		o.cancel()
	}
}
