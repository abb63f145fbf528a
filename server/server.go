package server

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"sync"
	"time"

	tea "charm.land/bubbletea/v2"
	"charm.land/log/v2"
	"charm.land/ssh"
	"charm.land/wish/v2"
	"charm.land/wish/v2/ratelimiter"
	"charm.land/wish/v2/recover"
	gossh "golang.org/x/crypto/ssh"
	"golang.org/x/time/rate"

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
	// draft is kept); keepalives and other traffic do not count. Zero
	// means 30 minutes.
	IdleTimeout time.Duration
	// ShutdownGrace bounds how long a stop waits for sessions to finish
	// their save and leave. Zero means 10 seconds.
	ShutdownGrace time.Duration
	// HandshakeTimeout bounds the SSH handshake and login of a new
	// connection. Zero means 30 seconds.
	HandshakeTimeout time.Duration
	// MaxUnauthenticated caps the connections that have not logged in
	// yet; more are closed at once. Zero means 30.
	MaxUnauthenticated int
	// MaxSessionsPerKey caps the sessions one access key may have open at
	// once: the per-address rate limit alone lets one key open a session a
	// second from every address it has. Zero means 8.
	MaxSessionsPerKey int
	// RateLimit is how many new connections one remote address may open
	// per second on average, RateBurst at once; sessions are counted the
	// same way, apart. Zero means 1 a second with a burst of 20; a
	// negative RateLimit turns the limit off.
	RateLimit float64
	RateBurst int
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
	// NoSchedule turns off the daily runs (tests of other things), and
	// with them the daily backup.
	NoSchedule bool
	// BackupDir, when set, receives a backup after each day's scheduled
	// runs (see dailyBackup); BackupKeep of them are kept (zero means
	// DefaultBackupKeep).
	BackupDir  string
	BackupKeep int
	// Clock drives the daily schedule; nil is the real clock.
	Clock rsync.Clock
	// newModel builds a session's model; tests replace it.
	newModel func(wizard.Options) tea.Model
	// stopWait bounds the wait, after the grace period, for sessions whose
	// connections were closed and for cancelled syncs; zero means StopWait.
	stopWait time.Duration
}

// StopWait is how long a stop waits, after --shutdown-grace, for the
// sessions it cut off and the syncs it cancelled before exiting anyway.
const StopWait = 5 * time.Second

// ErrStopTimedOut is Serve's answer when sessions or syncs were still going
// StopWait after they were cut off: the process should exit without waiting
// on the database (what was committed stays committed).
var ErrStopTimedOut = errors.New("sessions or syncs did not finish within the stop's bounded wait")

type ctxKey string

const ctxAccess ctxKey = "rostersync-access"

// Server serves the wizard over SSH: one Bubble Tea program per session,
// public-key authentication against the access list in the database.
type Server struct {
	opts Options
	ssh  *ssh.Server
	log  *log.Logger

	mu       sync.Mutex
	live     map[*session]struct{}
	stopping bool
	sessions sync.WaitGroup // running session handlers
	// runs is the context of the syncs sessions start; cancelled at stop,
	// after which runsGoing tells when they have recorded themselves.
	runs      context.Context
	stopRuns  context.CancelFunc
	runsGoing sync.WaitGroup
}

// What a zero Options field means; serve's flags default to the same.
const (
	DefaultIdleTimeout        = 30 * time.Minute
	DefaultShutdownGrace      = 10 * time.Second
	DefaultHandshakeTimeout   = 30 * time.Second
	DefaultMaxUnauthenticated = 30
	DefaultMaxSessionsPerKey  = 8
	DefaultRateLimit          = 1.0
	DefaultRateBurst          = 20
)

// New prepares the SSH server; the host key is created if missing.
func New(opts Options) (*Server, error) {
	if opts.IdleTimeout <= 0 {
		opts.IdleTimeout = DefaultIdleTimeout
	}
	if opts.ShutdownGrace <= 0 {
		opts.ShutdownGrace = DefaultShutdownGrace
	}
	if opts.HandshakeTimeout <= 0 {
		opts.HandshakeTimeout = DefaultHandshakeTimeout
	}
	if opts.MaxUnauthenticated <= 0 {
		opts.MaxUnauthenticated = DefaultMaxUnauthenticated
	}
	if opts.MaxSessionsPerKey <= 0 {
		opts.MaxSessionsPerKey = DefaultMaxSessionsPerKey
	}
	if opts.RateLimit == 0 {
		opts.RateLimit = DefaultRateLimit
	}
	if opts.RateBurst <= 0 {
		opts.RateBurst = DefaultRateBurst
	}
	if opts.stopWait <= 0 {
		opts.stopWait = StopWait
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
	if opts.Engine.Log == nil {
		opts.Engine.Log = opts.Log
	}
	if opts.Engine.SFTPDial == nil {
		// Guardians SFTP folders are typed by SSH users too.
		opts.Engine.SFTPDial = opts.Dialer.Reach.DialSFTP
	}
	if opts.newModel == nil {
		opts.newModel = func(o wizard.Options) tea.Model { return wizard.New(o) }
	}
	if err := ensureHostKey(opts.HostKeyPath); err != nil {
		return nil, fmt.Errorf("host key %s: %w", opts.HostKeyPath, err)
	}
	s := &Server{opts: opts, log: opts.Log, live: map[*session]struct{}{}}
	s.runs, s.stopRuns = context.WithCancel(context.Background())
	g := &gate{max: opts.MaxUnauthenticated, log: opts.Log}
	// Rate limits per remote address (wish's limiter): one judges each new
	// connection before its handshake, where a flood costs the most; the
	// middleware judges each session, as one connection may carry many.
	middleware := []wish.Middleware{s.serveWizard}
	if opts.RateLimit > 0 {
		g.limiter = ratelimiter.NewRateLimiter(rate.Limit(opts.RateLimit), opts.RateBurst, 4096)
		middleware = append(middleware, ratelimiter.Middleware(ratelimiter.NewRateLimiter(rate.Limit(opts.RateLimit), opts.RateBurst, 4096)))
	}
	// Outermost: a panic anywhere in the chain ends only its session and is
	// logged here rather than by the SSH library's default logger.
	middleware = append(middleware, recover.MiddlewareWithLogger(opts.Log))
	srv, err := wish.NewServer(
		wish.WithAddress(opts.Listen),
		ssh.HostKeyFile(opts.HostKeyPath),
		// Only public keys: with no password or keyboard-interactive
		// handler those methods are refused.
		wish.WithPublicKeyAuth(s.authorize),
		wish.WithMiddleware(middleware...),
		// Idle means no keystrokes and is the session's own timer; this
		// one only closes connections that go completely silent without a
		// session, after the session's timer would have fired.
		wish.WithIdleTimeout(opts.IdleTimeout+time.Minute),
		func(srv *ssh.Server) error {
			srv.HandshakeTimeout = opts.HandshakeTimeout
			srv.ConnCallback = g.admit
			srv.ServerConfigCallback = g.serverConfig
			return nil
		},
		// An emulated PTY: the session channel is the terminal. A real PTY
		// is closed by the SSH library when a connection drops, while the
		// program may still be using it (a data race on every lost link).
		ssh.EmulatePty(),
	)
	if err != nil {
		return nil, fmt.Errorf("host key %s: %w", opts.HostKeyPath, err)
	}
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
// to keep its draft and leave, waits up to ShutdownGrace, cancels the syncs
// still going, waits at most StopWait more, and returns.
func (s *Server) Serve(ctx context.Context) error {
	l, err := net.Listen("tcp", s.opts.Listen)
	if err != nil {
		return err
	}
	if s.opts.AdminSocket != "" {
		stopAdmin, err := serveAdmin(ctx, s.opts.AdminSocket, s.opts.DB, s.opts.Engine, s.log, s.recheckAccess)
		if err != nil {
			l.Close()
			return err
		}
		defer stopAdmin()
	}
	s.log.Info("listening", "address", l.Addr().String(), "host_key", s.HostKeyFingerprint())
	if s.opts.Ready != nil {
		s.opts.Ready(l.Addr())
	}
	served := make(chan error, 1)
	go func() { served <- s.ssh.Serve(l) }()
	// Scheduled runs get the same grace as sessions: they are cancelled
	// with the sessions' syncs, not at the signal.
	scheduled := make(chan struct{})
	schedCtx, stopSchedule := context.WithCancel(context.Background())
	go func() {
		defer close(scheduled)
		if !s.opts.NoSchedule {
			s.schedule(schedCtx)
		}
	}()
	select {
	case err := <-served:
		stopSchedule()
		s.stopRuns()
		return err
	case <-ctx.Done():
	}
	return s.stop(l, stopSchedule, scheduled)
}

// stop ends the server in bounded time: sessions get ShutdownGrace to
// keep their drafts and leave, then connections are closed and syncs
// cancelled, and all of it gets StopWait to finish.
func (s *Server) stop(l net.Listener, stopSchedule context.CancelFunc, scheduled <-chan struct{}) error {
	began := time.Now()
	s.log.Info("stopping: no new sessions; open sessions keep their drafts and leave", "grace", s.opts.ShutdownGrace)
	l.Close() // stop accepting; Serve's error from the closed listener is expected
	s.endAll(endStop)
	left := make(chan struct{})
	go func() { s.sessions.Wait(); close(left) }()
	select {
	case <-left:
	case <-time.After(s.opts.ShutdownGrace):
		s.log.Warn("sessions still open after the grace period; closing their connections", "sessions", s.openSessions())
	}
	s.ssh.Close()
	// Syncs stop too (the engine is kill-safe: the next run picks up
	// where this one stopped) and record themselves as cancelled.
	for _, r := range s.opts.Engine.Running() {
		s.log.Warn("stopping: cancelled a sync in progress", "district", r.TenantID, "mode", r.Mode, "trigger", r.Trigger,
			"running_for", time.Since(r.Since).Round(time.Millisecond).String())
	}
	stopSchedule()
	s.stopRuns()
	finished := make(chan struct{})
	go func() {
		<-left
		<-scheduled
		s.runsGoing.Wait()
		close(finished)
	}()
	select {
	case <-finished:
	case <-time.After(s.opts.stopWait):
		s.log.Error("stopping: giving up on sessions or syncs that did not finish; exiting without them", "waited", s.opts.stopWait,
			"sessions", s.openSessions(), "syncs", len(s.opts.Engine.Running()))
		return ErrStopTimedOut
	}
	s.log.Info("stopped", "took", time.Since(began).Round(time.Millisecond).String())
	return nil
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
	if s.opts.BackupDir != "" {
		keep := s.opts.BackupKeep
		if keep <= 0 {
			keep = DefaultBackupKeep
		}
		now := time.Now
		if s.opts.Clock != nil {
			now = s.opts.Clock.Now
		}
		b := &dailyBackup{dir: s.opts.BackupDir, keep: keep, db: s.opts.DB, log: s.log, now: now}
		sched.AfterRound = b.afterRound
		s.log.Info("daily backups on", "dir", s.opts.BackupDir, "keep", keep)
	}
	s.log.Info("daily schedule on: districts with Enable Daily sync run at their start time")
	sched.Run(ctx)
}
