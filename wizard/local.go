package wizard

import (
	"context"
	"io"
	"os"
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
// the plain line prompts instead.
func RunLocal(ctx context.Context, opts Options, accessible bool, in io.Reader, out io.Writer) error {
	opts.LocalFiles = true // the person is at this machine
	if accessible {
		return RunAccessible(opts, in, out)
	}
	// Bubble Tea writes frames on a ticker, the first one a whole tick after
	// start: at its 120 fps maximum that tick is 8 ms instead of 17.
	m := New(opts)
	_, err := tea.NewProgram(m, tea.WithContext(ctx), tea.WithInput(in), tea.WithOutput(out), tea.WithFPS(120)).Run()
	m.KeepDraft() // a signal ended the program without a quit
	m.End()
	return err
}
