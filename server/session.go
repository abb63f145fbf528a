package server

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	tea "charm.land/bubbletea/v2"
	"charm.land/log/v2"
	"charm.land/ssh"
	"charm.land/wish/v2"
	bm "charm.land/wish/v2/bubbletea"
	gossh "golang.org/x/crypto/ssh"

	"github.com/schoolstatus/rostersync/store"
	"github.com/schoolstatus/rostersync/wizard"
)

// endReason is why the server ended a session; endNone means the person
// quit or the connection dropped.
type endReason int

const (
	endNone endReason = iota
	endIdle
	endStop
	endRevoked
)

// session is one live SSH session: its program, the key it logged in with
// (as the access list has it now) and, once the server ends it, why.
type session struct {
	p         *tea.Program
	log       *log.Logger
	lastInput atomic.Int64 // unix nanoseconds of the last byte the person sent
	keyID     string       // the fingerprint it logged in with (never changes)
	in        *input       // what the person sends passes through it

	mu  sync.Mutex
	key store.AccessKey
	why endReason
}

// end asks the session to keep its draft and leave; the first reason given
// is the one the person is told.
func (ls *session) end(why endReason) {
	ls.mu.Lock()
	if ls.why == endNone {
		ls.why = why
	}
	ls.mu.Unlock()
	// Send blocks until the program reads it (or has ended): never do that
	// while holding a lock, nor make one slow session hold up the others.
	go ls.p.Send(wizard.EndMsg{})
}

func (ls *session) reason() endReason {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	return ls.why
}

// canOpen is the session's rule for districts: the key as the access list
// has it now, so messages about changes can arrive in any order.
func (ls *session) canOpen(tenantID int64) bool { return ls.accessKey().CanOpen(tenantID) }

func (ls *session) accessKey() store.AccessKey {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	return ls.key
}

// watchIdle ends the session once nobody has typed for timeout. Only bytes
// the person sends count: keepalives and other connection traffic do not.
func (ls *session) watchIdle(timeout time.Duration, done <-chan struct{}) {
	t := time.NewTimer(timeout)
	defer t.Stop()
	for {
		select {
		case <-done:
			return
		case <-t.C:
			quiet := time.Since(time.Unix(0, ls.lastInput.Load()))
			if quiet >= timeout {
				ls.end(endIdle)
				return
			}
			t.Reset(timeout - quiet)
		}
	}
}

// terminal is the session as its program sees it: reads note the time of
// the last keystroke, and the PTY's window is clamped.
type terminal struct {
	ssh.Session
	live *session
}

func (t terminal) Read(p []byte) (int, error) {
	return t.live.in.read(t.Session.Context(), func(b []byte) (int, error) {
		n, err := t.Session.Read(b)
		if n > 0 {
			t.live.lastInput.Store(time.Now().UnixNano())
		}
		return n, err
	}, p)
}

func (t terminal) Pty() (ssh.Pty, <-chan ssh.Window, bool) {
	pty, winch, ok := t.Session.Pty()
	pty.Window.Width, pty.Window.Height = clampWindow(pty.Window.Width, pty.Window.Height)
	return pty, winch, ok
}

// serveWizard is the innermost middleware: the wizard for one session.
func (s *Server) serveWizard(next ssh.Handler) ssh.Handler {
	return func(sess ssh.Session) {
		s.handle(sess)
		next(sess)
	}
}

// handle runs one SSH session. Every way it ends (quit, dropped link, idle,
// revoked key, panic, stop) keeps the draft unless the model panicked,
// releases the session's syncs, leaves the client's terminal as it found it
// and, when the server ended it, says why.
func (s *Server) handle(sess ssh.Session) {
	key, _ := sess.Context().Value(ctxAccess).(store.AccessKey)
	logger := s.log.With("user", sess.User(), "key", key.Name, "fingerprint", key.Fingerprint, "remote", sess.RemoteAddr().String())
	start := time.Now()
	logger.Info("connected", "role", key.Role)
	reason := "dropped"
	defer func() {
		if r := recover(); r != nil {
			failed(logger, sess, r, debug.Stack())
			reason = "panic"
		}
		logger.Info("disconnected", "reason", reason, "after", time.Since(start).Round(time.Second).String())
	}()

	pty, winch, ok := sess.Pty()
	if !ok {
		logger.Warn("refused: no terminal")
		wish.Fatalln(sess, "rostersync needs a terminal: connect with ssh -t")
		reason = "no terminal"
		return
	}
	if w, h := clampWindow(pty.Window.Width, pty.Window.Height); w != pty.Window.Width || h != pty.Window.Height {
		logger.Info("window clamped", "asked", fmt.Sprintf("%dx%d", pty.Window.Width, pty.Window.Height), "max", fmt.Sprintf("%dx%d", maxWidth, maxHeight))
	}
	ls := &session{log: logger, key: key, keyID: key.Fingerprint, in: newInput()}
	ls.lastInput.Store(time.Now().UnixNano())
	actor := store.Actor{User: sess.User(), Fingerprint: key.Fingerprint, Key: key.Name, Via: "ssh"}
	model := &guarded{inner: s.opts.newModel(wizard.Options{DB: s.opts.DB, Actor: actor, CanOpen: ls.canOpen, Role: key.Role, Engine: s.opts.Engine, Dialer: s.opts.Dialer,
		Runs: s.runs, RunsGoing: &s.runsGoing})}
	opts := append(bm.MakeOptions(terminal{Session: sess, live: ls}), tea.WithContext(sess.Context()), tea.WithFilter(sessionFilter))
	ls.p = tea.NewProgram(model, opts...)
	if why, refused := s.track(ls); refused != "" {
		logger.Warn("refused", "why", why)
		fmt.Fprint(sess, refused+"\r\n") // on the terminal, where the person looks
		_ = sess.Exit(1)
		reason = why
		return
	}
	defer s.untrack(ls)
	// The key may have been removed or narrowed since it logged in.
	if keys, err := s.opts.DB.Access(); err == nil {
		s.recheck(ls, keys)
	}
	done := make(chan struct{})
	go ls.watchIdle(s.opts.IdleTimeout, done)
	go func() {
		for {
			select {
			case <-done:
				return
			case w, ok := <-winch:
				if !ok {
					return
				}
				// Clamped here too: Bubble Tea drops a size over a million
				// cells before any filter sees it.
				width, height := clampWindow(w.Width, w.Height)
				ls.p.Send(tea.WindowSizeMsg{Width: width, Height: height})
			}
		}
	}()
	_, err := ls.p.Run()
	close(done)
	if m, ok := model.inner.(interface {
		KeepDraft()
		End()
	}); ok {
		if model.panic == nil {
			m.KeepDraft()
		}
		m.End() // its syncs stop reporting here, and its previews stop
	}
	switch {
	case model.panic != nil:
		failed(logger, sess, model.panic, model.stack)
		reason = "panic"
		return
	case errors.Is(err, tea.ErrProgramPanic):
		failed(logger, sess, err, nil) // Bubble Tea printed the stack
		reason = "panic"
		return
	case err != nil && !errors.Is(err, tea.ErrProgramKilled) && !errors.Is(err, context.Canceled):
		logger.Error("session ended with an error", "err", err)
	case err == nil:
		reason = "quit"
	}
	// The program has left the alternate screen and shown the cursor; what
	// follows lands in the person's own terminal.
	switch ls.reason() {
	case endIdle:
		reason = "idle"
		fmt.Fprintf(sess, "\r\nrostersync closed this session: nothing was typed for %s. Your unsaved changes are kept as a draft; connect again to continue.\r\n", plainDuration(s.opts.IdleTimeout))
	case endStop:
		reason = "stop"
		fmt.Fprint(sess, "\r\nrostersync is shutting down; your unsaved changes are kept as a draft. Connect again in a minute.\r\n")
	case endRevoked:
		reason = "revoked"
		fmt.Fprintf(sess, "\r\nThis session has ended: your key (%s) is no longer on rostersync's access list. Your unsaved changes are kept as a draft.\r\n", key.Fingerprint)
		sess.Exit(0)
		// The connection could open another session with the same key.
		if c, ok := sess.Context().Value(ssh.ContextKeyConn).(gossh.Conn); ok {
			c.Close()
		}
		return
	}
	sess.Exit(0)
}

// plainDuration says 30m as "30 minutes", the way people read it.
func plainDuration(d time.Duration) string {
	switch {
	case d >= time.Hour && d%time.Hour == 0:
		return plural(int(d/time.Hour), "hour")
	case d >= time.Minute && d%time.Minute == 0:
		return plural(int(d/time.Minute), "minute")
	}
	return d.String()
}

func plural(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return fmt.Sprintf("%d %ss", n, unit)
}

// guarded turns a panic in a session's Update or View into a clean quit:
// Bubble Tea then restores the terminal and stops its input reader in the
// usual order, and the session reports the failure and ends alone.
type guarded struct {
	inner tea.Model
	panic any
	stack []byte
}

func (g *guarded) Init() tea.Cmd { return g.inner.Init() }

func (g *guarded) Update(msg tea.Msg) (m tea.Model, cmd tea.Cmd) {
	defer func() {
		if r := recover(); r != nil {
			g.panic, g.stack = r, debug.Stack()
			m, cmd = g, tea.Quit
		}
	}()
	if g.panic != nil {
		return g, nil
	}
	next, cmd := g.inner.Update(msg)
	g.inner = next
	return g, cmd
}

func (g *guarded) View() (v tea.View) {
	defer func() {
		if r := recover(); r != nil {
			g.panic, g.stack = r, debug.Stack()
			v = tea.NewView("rostersync hit an internal error.")
		}
	}()
	if g.panic != nil {
		return tea.NewView("rostersync hit an internal error.")
	}
	return g.inner.View()
}

// failed reports a panic in one session and ends only that session.
func failed(logger *log.Logger, sess ssh.Session, cause any, stack []byte) {
	logger.Error("session panicked; other sessions are unaffected", "panic", cause, "stack", string(stack))
	fmt.Fprint(sess, "\r\nrostersync hit an internal error and closed this session; your draft is kept. Please reconnect.\r\n")
	sess.Exit(1)
}

// track counts ls among the live sessions, or says why it may not start
// (a reason for the log, and what the person is told).
func (s *Server) track(ls *session) (why, refused string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopping {
		return "stop", "rostersync is shutting down; try again in a minute"
	}
	open := 0
	for other := range s.live {
		if other.keyID == ls.keyID {
			open++
		}
	}
	if most := s.opts.MaxSessionsPerKey; open >= most {
		return "too many sessions for the key", fmt.Sprintf("this key already has %d rostersync sessions open, the most one key may have; close one and connect again", most)
	}
	s.live[ls] = struct{}{}
	s.sessions.Add(1)
	return "", ""
}

func (s *Server) untrack(ls *session) {
	s.mu.Lock()
	delete(s.live, ls)
	s.mu.Unlock()
	s.sessions.Done()
}

// sessionsNow lists the live sessions.
func (s *Server) sessionsNow() []*session {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]*session, 0, len(s.live))
	for ls := range s.live {
		out = append(out, ls)
	}
	return out
}

func (s *Server) openSessions() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.live)
}

// endAll refuses new sessions and ends the open ones.
func (s *Server) endAll(why endReason) {
	s.mu.Lock()
	s.stopping = true
	s.mu.Unlock()
	for _, ls := range s.sessionsNow() {
		ls.end(why)
	}
}
