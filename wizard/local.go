package wizard

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"os/user"

	tea "charm.land/bubbletea/v2"

	"github.com/schoolstatus/rostersync/store"
)

// LocalActor is the OS user at this terminal.
func LocalActor() store.Actor {
	name := os.Getenv("USER")
	if u, err := user.Current(); err == nil && u.Username != "" {
		name = u.Username
	}
	if name == "" {
		name = "unknown"
	}
	return store.Actor{User: name, Via: "local"}
}

// RunLocal runs the wizard on this terminal; with accessible set it runs
// the plain line prompts instead. When the person leaves with unsaved
// changes, the terminal says they are kept as a draft.
func RunLocal(ctx context.Context, opts Options, accessible bool, in io.Reader, out io.Writer) error {
	opts.LocalFiles = true // the person is at this machine
	if accessible {
		// ctrl+c ends the prompts, keeping a draft, instead of the process.
		ctx, stop := signal.NotifyContext(ctx, os.Interrupt)
		defer stop()
		return RunAccessible(ctx, opts, in, out)
	}
	// Bubble Tea writes frames on a ticker, the first one a whole tick after
	// start: at its 120 fps maximum that tick is 8 ms instead of 17.
	m := New(opts)
	_, err := tea.NewProgram(m, tea.WithContext(ctx), tea.WithInput(in), tea.WithOutput(out), tea.WithFPS(120)).Run()
	if !m.quitting {
		m.KeepDraft() // a signal ended the program without a quit
		m.keptDraft = m.edit != nil && m.edit.Dirty()
	}
	m.End()
	if m.KeptDraft() {
		fmt.Fprintln(out, "rostersync: your unsaved changes are kept as a draft; the next start offers to resume them.")
	}
	return err
}
