package sync

import (
	"context"
	"fmt"
)

// DefaultGuardiansFiles is how many guardians files a process reads or
// processes at once: a big one costs hundreds of megabytes while it is
// parsed and planned, so a server with many sessions (and the schedule)
// takes them a few at a time.
const DefaultGuardiansFiles = 2

// FilesBusyError: every slot for guardians files is taken; a person is
// told to try again.
type FilesBusyError struct{ Slots int }

func (e *FilesBusyError) Error() string {
	return fmt.Sprintf("this server is already reading or processing %d guardians files, the most it does at once: try again in a minute", e.Slots)
}

// fileSlot takes one of the process's slots for a guardians file:
// fetching it from an SFTP folder, or checking and applying it. A person
// (wait false) is refused at once with a *FilesBusyError when none is
// free; the schedule waits for one until ctx ends. release gives it back.
func (e *Engine) fileSlot(ctx context.Context, wait bool) (release func(), err error) {
	e.mu.Lock()
	if e.files == nil {
		n := e.GuardiansFiles
		if n <= 0 {
			n = DefaultGuardiansFiles
		}
		e.files = make(chan struct{}, n)
	}
	slots := e.files
	e.mu.Unlock()
	release = func() { <-slots }
	select {
	case slots <- struct{}{}:
		return release, nil
	default:
	}
	if !wait {
		return nil, &FilesBusyError{Slots: cap(slots)}
	}
	select {
	case slots <- struct{}{}:
		return release, nil
	case <-ctx.Done():
		return nil, context.Cause(ctx)
	}
}
