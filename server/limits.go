package server

import (
	"net"
	"sync"

	tea "charm.land/bubbletea/v2"
	"charm.land/log/v2"
	"charm.land/ssh"
	"charm.land/wish/v2/ratelimiter"
	gossh "golang.org/x/crypto/ssh"
)

// The largest terminal a session is drawn for. The SSH library takes the
// client's window as given and the renderer keeps a cell buffer of that
// size (about 220 bytes a cell), so a client claiming 4000×2000 would cost
// the server gigabytes; a bigger window shows the wizard in its top-left
// 400×200 cells.
const (
	maxWidth  = 400
	maxHeight = 200
)

// clampWindow is the one rule for every way a size reaches a session: the
// PTY request, window-change requests and in-band size reports typed into
// the input.
func clampWindow(w, h int) (int, int) {
	return max(min(w, maxWidth), 0), max(min(h, maxHeight), 0)
}

// sessionFilter clamps the window sizes a session's program receives,
// including those typed into its input as terminal reports.
// It also replaces wish's MakeOptions filter (a program option holds one
// filter), which turns a suspend into a resume: there is no job control
// over SSH.
func sessionFilter(_ tea.Model, msg tea.Msg) tea.Msg {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		msg.Width, msg.Height = clampWindow(msg.Width, msg.Height)
		return msg
	case tea.SuspendMsg:
		return tea.ResumeMsg{}
	}
	return msg
}

// gate admits new connections before their handshake: a per-address rate
// limit (wish's limiter), and a cap on connections that have not logged in
// yet, each of which the SSH library gives HandshakeTimeout to do so.
type gate struct {
	max     int
	limiter ratelimiter.RateLimiter // nil: no rate limit
	log     *log.Logger

	mu      sync.Mutex
	pending int
}

const ctxPending ctxKey = "rostersync-pending"

// admit is the SSH server's ConnCallback; nil closes the connection.
func (g *gate) admit(ctx ssh.Context, c net.Conn) net.Conn {
	if g.limiter != nil {
		if err := g.limiter.Allow(addressOnly{addr: c.RemoteAddr()}); err != nil {
			g.log.Warn("refused a connection: too many from this address", "remote", c.RemoteAddr().String())
			return nil
		}
	}
	g.mu.Lock()
	if g.pending >= g.max {
		g.mu.Unlock()
		g.log.Warn("refused a connection: too many connections have not logged in yet", "remote", c.RemoteAddr().String(), "max", g.max)
		return nil
	}
	g.pending++
	g.mu.Unlock()
	p := &pendingConn{Conn: c, gate: g}
	ctx.SetValue(ctxPending, p)
	return p
}

// serverConfig is the SSH server's ServerConfigCallback: a successful login
// frees the connection's place among those not logged in yet.
func (g *gate) serverConfig(ctx ssh.Context) *gossh.ServerConfig {
	return &gossh.ServerConfig{
		AuthLogCallback: func(_ gossh.ConnMetadata, _ string, err error) {
			if p, ok := ctx.Value(ctxPending).(*pendingConn); ok && err == nil {
				p.loggedIn()
			}
		},
	}
}

// pendingConn holds a place among the connections not logged in yet until
// it logs in or closes.
type pendingConn struct {
	net.Conn
	gate *gate
	once sync.Once
}

func (p *pendingConn) loggedIn() {
	p.once.Do(func() {
		p.gate.mu.Lock()
		p.gate.pending--
		p.gate.mu.Unlock()
	})
}

func (p *pendingConn) Close() error {
	p.loggedIn()
	return p.Conn.Close()
}

// addressOnly lets wish's per-address limiter, written for sessions, judge
// a connection before it has one: the limiter reads only RemoteAddr.
type addressOnly struct {
	ssh.Session
	addr net.Addr
}

func (a addressOnly) RemoteAddr() net.Addr { return a.addr }
