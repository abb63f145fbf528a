package sync

import (
	"errors"
	"fmt"
	"path/filepath"
	"runtime/debug"
	"strings"

	"github.com/schoolstatus/rostersync/store"
)

// A bug in a run (a panic) must not take down `serve`, which runs every
// district's daily sync and takes guardians files in one process:
// Engine.Run and RunGuardiansFile recover it at the run's boundary,
// record the run failed with reason internal and log the stack, and the
// scheduler goes on with the other districts. A run's own goroutines
// hand theirs to the run's (catch, then panic again).

// panicked is a panic caught in one of a run's goroutines, with its stack.
type panicked struct {
	value any
	stack []byte
}

// catch, deferred in a run's goroutine, keeps its panic in *p and calls
// stop (if any) so that the rest of the run does not wait for it.
func catch(p **panicked, stop func()) {
	if v := recover(); v != nil {
		*p = &panicked{value: v, stack: debug.Stack()}
		if stop != nil {
			stop()
		}
	}
}

// recovered finishes a run a panic stopped: recorded failed when it had
// been started (started.ID set), else the error.
func (e *Engine) recovered(v any, tenantID int64, started store.Run) (Result, error) {
	stack := debug.Stack()
	if p, ok := v.(*panicked); ok {
		v, stack = p.value, p.stack
	}
	e.logPanic(tenantID, v, stack)
	msg := fmt.Sprintf("the run stopped on an internal error (%v%s); the directory keeps what it committed before (its counts are not known) "+
		"and the next run completes the rest; please report it with the stack in the log", v, where(stack))
	if started.ID == "" {
		return Result{}, errors.New(msg)
	}
	started.Status, started.Reason, started.Message = store.RunFailed, store.ReasonInternal, msg
	res, err := e.record(started, nil)
	if err != nil {
		return Result{}, fmt.Errorf("%s; recording it failed too: %w", msg, err)
	}
	return res, nil
}

// logPanic logs a panic with its stack.
func (e *Engine) logPanic(tenantID int64, v any, stack []byte) {
	if e.Log != nil {
		e.Log.Error("sync: a run stopped on an internal error", "district", tenantID, "panic", fmt.Sprint(v), "stack", string(stack))
	}
}

// where is ", at package/file.go:line" for the innermost frame of ours
// below the panic in a debug.Stack text, or "".
func where(stack []byte) string {
	lines := strings.Split(string(stack), "\n")
	for i := 0; i < len(lines); i++ {
		if !strings.HasPrefix(lines[i], "panic(") {
			continue
		}
		for j := i + 2; j+1 < len(lines); j += 2 {
			fn, at := lines[j], strings.TrimSpace(lines[j+1])
			if !strings.Contains(fn, "schoolstatus/rostersync/") || strings.Contains(fn, "rostersync/sync.catch") {
				continue
			}
			if k := strings.LastIndex(at, " +0x"); k > 0 {
				at = at[:k]
			}
			return ", at " + filepath.Join(filepath.Base(filepath.Dir(at)), filepath.Base(at))
		}
	}
	return ""
}
