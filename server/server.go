package server

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"runtime/debug"
	"sync"
	"time"

	tea "charm.land/bubbletea/v2"
	"charm.land/log/v2"
	"charm.land/ssh"
	"charm.land/wish/v2"
	bm "charm.land/wish/v2/bubbletea"
	gossh "golang.org/x/crypto/ssh"

	"github.com/schoolstatus/rostersync/store"
	rsync "github.com/schoolstatus/rostersync/sync"
	"github.com/schoolstatus/rostersync/wizard"
)

// Options configure `rostersync serve`.
type Options struct {
	Listen      string // host:port, e.g. 127.0.0.1:2222
	HostKeyPath string // ed25519 host key, generated 0600 on first start
	DB          *store.DB
	// IdleTimeout closes a session nobody typed in for this long (the
	// draft is kept). Zero means 30 minutes.
	IdleTimeout time.Duration
	// ShutdownGrace bounds how long a stop waits for sessions to finish
	// their save and leave. Zero means 10 seconds.
	ShutdownGrace time.Duration
	// AdminSocket, when set, is a unix socket (0600) through which
	// `rostersync access` changes the access list while the server holds
	// the database.
	AdminSocket string
	Log         *log.Logger
	// Ready is told the listening address (tests listen on port 0).
	Ready func(addr net.Addr)
	// Engine runs every sync of this server, manual or scheduled, and
	// reaches ClassLink through Dialer.
	Engine *rsync.Engine
	// Dialer is the server's way to ClassLink: what sessions test and
	// list (the proxy, the partner token, the demo district).
	Dialer *rsync.Dialer
	// NoSchedule turns off the daily runs (tests of other things).
	NoSchedule bool
	// Clock drives the daily schedule; nil is the real clock.
	Clock rsync.Clock
	// newModel builds a session's model; tests replace it.
	newModel func(wizard.Options) tea.Model
}

type ctxKey string

const ctxAccess ctxKey = "rostersync-access"

// Server serves the wizard over SSH: one Bubble Tea program per session,
// public-key authentication against the access list in the database.
type Server struct {
	opts Options
	ssh  *ssh.Server
	log  *log.Logger

	mu       sync.Mutex
	programs map[*tea.Program]struct{}
	stopping bool
	sessions sync.WaitGroup // running session handlers
	// runs is the context of the syncs sessions start; cancelled at stop,
	// after which runsGoing tells when they have recorded themselves.
	runs      context.Context
	stopRuns  context.CancelFunc
	runsGoing sync.WaitGroup
}

// New prepares the SSH server; the host key is created if missing.
func New(opts Options) (*Server, error) {
	if opts.IdleTimeout <= 0 {
		opts.IdleTimeout = 30 * time.Minute
	}
	if opts.ShutdownGrace <= 0 {
		opts.ShutdownGrace = 10 * time.Second
	}
	if opts.Log == nil {
		opts.Log = log.NewWithOptions(os.Stderr, log.Options{ReportTimestamp: true, Prefix: "rostersync"})
	}
	if opts.Dialer == nil {
		opts.Dialer = &rsync.Dialer{}
	}
	if opts.Dialer.Reach == nil {
		// SSH users choose the URLs: never let them point the server at
		// its own network.
		opts.Dialer.Reach = &rsync.Reach{Hosts: rsync.RosterHosts(nil, opts.Dialer.Root())}
	}
	if opts.Engine == nil {
		opts.Engine = &rsync.Engine{DB: opts.DB, Dial: opts.Dialer.Dial}
	}
	if opts.Engine.SFTPDial == nil {
		// Guardians SFTP folders are typed by SSH users too.
		opts.Engine.SFTPDial = opts.Dialer.Reach.DialAddress
	}
	if opts.newModel == nil {
		opts.newModel = func(o wizard.Options) tea.Model { return wizard.New(o) }
	}
	s := &Server{opts: opts, log: opts.Log, programs: map[*tea.Program]struct{}{}}
	s.runs, s.stopRuns = context.WithCancel(context.Background())
	srv, err := wish.NewServer(
		wish.WithAddress(opts.Listen),
		wish.WithHostKeyPath(opts.HostKeyPath),
		// Only public keys: with no password or keyboard-interactive
		// handler those methods are refused.
		wish.WithPublicKeyAuth(s.authorize),
		wish.WithIdleTimeout(opts.IdleTimeout),
		// An emulated PTY: the session channel is the terminal. A real PTY
		// is closed by the SSH library when a connection drops, while the
		// program may still be using it (a data race on every lost link).
		ssh.EmulatePty(),
	)
	if err != nil {
		return nil, fmt.Errorf("host key %s: %w", opts.HostKeyPath, err)
	}
	if err := os.Chmod(opts.HostKeyPath, 0o600); err != nil {
		return nil, err
	}
	srv.Handler = s.handle
	s.ssh = srv
	return s, nil
}

// HostKeyFingerprint is what clients see on first connect.
func (s *Server) HostKeyFingerprint() string {
	if len(s.ssh.HostSigners) == 0 {
		return ""
	}
	return gossh.FingerprintSHA256(s.ssh.HostSigners[0].PublicKey())
}

// authorize accepts a key only if it is on the access list now, so access
// changes apply to the next login without a restart.
func (s *Server) authorize(ctx ssh.Context, key ssh.PublicKey) bool {
	fp := gossh.FingerprintSHA256(key)
	k, ok, err := s.opts.DB.AccessByFingerprint(fp)
	if err != nil {
		s.log.Error("access list unreadable", "err", err)
		return false
	}
	if !ok {
		s.log.Warn("refused unknown key", "user", ctx.User(), "remote", ctx.RemoteAddr().String(), "fingerprint", fp)
		return false
	}
	ctx.SetValue(ctxAccess, k)
	return true
}

// Serve listens until ctx ends, then stops accepting, asks every session
// to keep its draft and leave, waits up to ShutdownGrace, and returns.
func (s *Server) Serve(ctx context.Context) error {
	l, err := net.Listen("tcp", s.opts.Listen)
	if err != nil {
		return err
	}
	s.log.Info("listening", "address", l.Addr().String(), "host_key", s.HostKeyFingerprint())
	if s.opts.Ready != nil {
		s.opts.Ready(l.Addr())
	}
	if s.opts.AdminSocket != "" {
		stopAdmin, err := serveAdmin(ctx, s.opts.AdminSocket, s.opts.DB, s.opts.Engine, s.log)
		if err != nil {
			l.Close()
			return err
		}
		defer stopAdmin()
	}
	served := make(chan error, 1)
	go func() { served <- s.ssh.Serve(l) }()
	scheduled := make(chan struct{})
	schedCtx, stopSchedule := context.WithCancel(ctx)
	defer func() { stopSchedule(); <-scheduled }()
	go func() {
		defer close(scheduled)
		if !s.opts.NoSchedule {
			s.schedule(schedCtx)
		}
	}()
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	s.log.Info("stopping: no new sessions; open sessions keep their drafts and leave", "grace", s.opts.ShutdownGrace)
	l.Close() // stop accepting; Serve's error from the closed listener is expected
	s.mu.Lock()
	s.stopping = true
	for p := range s.programs {
		p.Send(wizard.ShutdownMsg{})
	}
	s.mu.Unlock()
	left := make(chan struct{})
	go func() { s.sessions.Wait(); close(left) }()
	select {
	case <-left:
	case <-time.After(s.opts.ShutdownGrace):
		s.log.Warn("sessions still open after the grace period; closing them")
	}
	s.ssh.Close()
	// Syncs started from sessions stop too (the engine is kill-safe) and
	// record themselves before the database closes.
	s.stopRuns()
	s.runsGoing.Wait()
	s.log.Info("stopped")
	return nil
}

// handle runs one SSH session. A panic here is recovered and logged so
// that it ends only this session.
func (s *Server) handle(sess ssh.Session) {
	key, _ := sess.Context().Value(ctxAccess).(store.AccessKey)
	logger := s.log.With("user", sess.User(), "key", key.Name, "fingerprint", key.Fingerprint, "remote", sess.RemoteAddr().String())
	start := time.Now()
	logger.Info("connected", "role", key.Role)
	defer func() {
		if r := recover(); r != nil {
			failed(logger, sess, r, debug.Stack())
		}
		logger.Info("disconnected", "after", time.Since(start).Round(time.Second).String())
	}()

	_, winch, ok := sess.Pty()
	if !ok {
		logger.Warn("refused: no terminal")
		wish.Fatalln(sess, "rostersync needs a terminal: connect with ssh -t")
		return
	}
	actor := store.Actor{User: sess.User(), Fingerprint: key.Fingerprint, Key: key.Name, Via: "ssh"}
	model := &guarded{inner: s.opts.newModel(wizard.Options{DB: s.opts.DB, Actor: actor, CanOpen: key.CanOpen, Role: key.Role, Engine: s.opts.Engine, Dialer: s.opts.Dialer,
		Runs: s.runs, RunsGoing: &s.runsGoing})}
	p := tea.NewProgram(model, append(bm.MakeOptions(sess), tea.WithContext(sess.Context()))...)
	if !s.track(p) {
		wish.Fatalln(sess, "rostersync is shutting down; try again in a minute")
		return
	}
	defer s.untrack(p)
	go func() {
		for {
			select {
			case <-sess.Context().Done():
				return
			case w, ok := <-winch:
				if !ok {
					return
				}
				p.Send(tea.WindowSizeMsg{Width: w.Width, Height: w.Height})
			}
		}
	}()
	_, err := p.Run()
	if m, ok := model.inner.(*wizard.Model); ok && model.panic == nil {
		m.KeepDraft() // a dropped connection or idle timeout keeps the work
	}
	switch {
	case model.panic != nil:
		failed(logger, sess, model.panic, model.stack)
		return
	case errors.Is(err, tea.ErrProgramPanic):
		failed(logger, sess, err, nil) // Bubble Tea printed the stack
		return
	case err != nil && !errors.Is(err, tea.ErrProgramKilled) && !errors.Is(err, context.Canceled):
		logger.Error("session ended with an error", "err", err)
	}
	if s.isStopping() {
		fmt.Fprint(sess, "\r\nrostersync is shutting down; your unsaved changes are kept as a draft.\r\n")
	}
	sess.Exit(0)
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

func (s *Server) track(p *tea.Program) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopping {
		return false
	}
	s.programs[p] = struct{}{}
	s.sessions.Add(1)
	return true
}

func (s *Server) untrack(p *tea.Program) {
	s.mu.Lock()
	delete(s.programs, p)
	s.mu.Unlock()
	s.sessions.Done()
}

func (s *Server) isStopping() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stopping
}

// schedule runs each district with Enable Daily sync on at its start time,
// until ctx ends; a run in progress at shutdown is cancelled, which leaves
// the directory for the next run to converge (the engine is kill-safe).
func (s *Server) schedule(ctx context.Context) {
	sched := &rsync.Scheduler{Engine: s.opts.Engine, Clock: s.opts.Clock, OnRun: func(tenant int64, res rsync.Result, err error) {
		switch {
		case err != nil && tenant == 0:
			s.log.Error("daily schedule: cannot read the districts", "err", err)
		case err != nil:
			s.log.Warn("daily sync did not start", "district", tenant, "err", err)
		case res.Run.Reason == store.ReasonStorage:
			s.log.Error("daily sync failed on the database; the schedule leaves this district alone until an operator acts (README: A damaged database)",
				"district", tenant, "run", res.Run.ID, "message", res.Run.Message)
		case res.Run.Status == store.RunFailed:
			s.log.Error("daily sync failed", "district", tenant, "run", res.Run.ID, "reason", res.Run.Reason, "message", res.Run.Message)
		default:
			s.log.Info("daily sync", "district", tenant, "run", res.Run.ID, "status", res.Run.Status, "changes", res.Run.Counts.Changes())
		}
	}}
	s.log.Info("daily schedule on: districts with Enable Daily sync run at their start time")
	sched.Run(ctx)
}
