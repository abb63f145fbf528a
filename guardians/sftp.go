package guardians

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"path"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"
)

// FileName is the file the daily sync reads from a district's SFTP folder.
const FileName = "guardians.csv"

// SFTP is where a district's automated guardians file is read from. The
// settings are checked where they are stored (store.SFTPFolder); Password
// is a secret: never print or log it.
type SFTP struct {
	Host string
	Port int // 0 means 22
	User string
	// Password, Signer (the district's private key) or both.
	Password string
	Signer   ssh.Signer
	// Folder holds guardians.csv; "" is the account's home folder.
	Folder string
	// HostKey is the server's pinned host key fingerprint ("SHA256:…").
	HostKey string
	// District is the district's Tenant ID, for messages: the command
	// that pins a host key names it (0 leaves it out).
	District int64
}

// Addr is host:port.
func (s SFTP) Addr() string {
	port := s.Port
	if port == 0 {
		port = 22
	}
	return net.JoinHostPort(s.Host, strconv.Itoa(port))
}

// Path is the guardians file's path on the server.
func (s SFTP) Path() string {
	if s.Folder == "" {
		return FileName
	}
	return path.Join(s.Folder, FileName)
}

// UnknownHostKeyError: no host key is pinned yet. A person must compare
// Fingerprint with the server's and confirm it before it is trusted.
type UnknownHostKeyError struct {
	Addr, Fingerprint, KeyType string
	District                   int64
}

func (e *UnknownHostKeyError) Error() string {
	return fmt.Sprintf("the SFTP host key is not pinned yet: the server %s presents host key %s (%s). "+
		"Check it with the server's administrator, then pin it: %s",
		e.Addr, e.Fingerprint, e.KeyType, pinHint(e.District, e.Fingerprint))
}

// HostKeyMismatchError: the server's host key is not the pinned one (or
// not the one a person confirmed). It may be an attacker between us and
// the server, or a key the server's administrator changed; either way
// nothing is sent or read.
type HostKeyMismatchError struct {
	Addr, Pinned, Fingerprint, KeyType string
	// Confirmed: Pinned is the key a person just confirmed, not the
	// district's pinned one.
	Confirmed bool
	District  int64
}

func (e *HostKeyMismatchError) Error() string {
	if e.Confirmed {
		return fmt.Sprintf("the SFTP server %s presents host key %s (%s), not %s, the one you confirmed: refusing to connect; nothing was sent. Check the fingerprint again with the server's administrator",
			e.Addr, e.Fingerprint, e.KeyType, e.Pinned)
	}
	return fmt.Sprintf("the SFTP server %s presents host key %s (%s), but %s is pinned: refusing to connect (someone may be intercepting the connection); nothing was sent. "+
		"Only if the server's administrator confirms the key changed, pin the new one: %s",
		e.Addr, e.Fingerprint, e.KeyType, e.Pinned, pinHint(e.District, e.Fingerprint))
}

// pinHint says where a confirmed host key is pinned: the wizard, or the
// command (with the district when known).
func pinHint(district int64, fingerprint string) string {
	cmd := "rostersync guardians sftp test --district TENANT --trust-host-key " + fingerprint
	if district > 0 {
		cmd = fmt.Sprintf("rostersync guardians sftp test --district %d --trust-host-key %s", district, fingerprint)
	}
	return "Guardians source → Host key in the wizard (enter tests, y pins), or " + cmd
}

// UnreachableError is every failure before the server's SSH version line
// arrives: nothing listening, a filtered port, a timeout, or something
// that is not an SSH server. They read the same, so that a connection
// test tells nobody which ports of a host are open (README: "Who the
// server may reach"). It wraps the technical cause.
type UnreachableError struct {
	Addr string
	err  error
}

func (e *UnreachableError) Unwrap() error { return e.err }

func (e *UnreachableError) Error() string {
	return fmt.Sprintf("no SFTP server answered at %s: check the host and port of the district's SFTP folder, and that this machine may reach it", e.Addr)
}

// dialError says why the TCP connection to addr failed: a name that does
// not exist, a rule of this machine's (which says itself), or else
// unreachable.
func dialError(addr string, err error) error {
	var dns *net.DNSError
	var op *net.OpError
	switch {
	case errors.As(err, &dns) && dns.IsNotFound:
		return fmt.Errorf("the SFTP server's name %q does not exist: check the host of the district's SFTP folder for a typo", dns.Name)
	case errors.As(err, &op), errors.Is(err, context.DeadlineExceeded), errors.Is(err, syscall.ECONNREFUSED), isTimeout(err),
		strings.HasPrefix(err.Error(), "cannot connect to"):
		return &UnreachableError{Addr: addr, err: err}
	}
	return fmt.Errorf("could not connect to the SFTP server %s: %v", addr, err)
}

// versionConn notes when the server's SSH version line ("SSH-2.0-…") has
// arrived: until then every failure is an *UnreachableError.
type versionConn struct {
	net.Conn
	line []byte
	seen atomic.Bool
}

func (c *versionConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if !c.seen.Load() {
		for _, b := range p[:n] {
			if b != '\n' {
				if len(c.line) < 16 {
					c.line = append(c.line, b)
				}
				continue
			}
			if bytes.HasPrefix(c.line, []byte("SSH-2.0-")) || bytes.HasPrefix(c.line, []byte("SSH-1.99-")) {
				c.seen.Store(true)
				break
			}
			c.line = c.line[:0]
		}
	}
	return n, err
}

func isTimeout(err error) bool {
	var t interface{ Timeout() bool }
	return errors.As(err, &t) && t.Timeout()
}

// SFTPOptions tune DialSFTP.
type SFTPOptions struct {
	// TrustHostKey is a fingerprint a person confirmed: a server presenting
	// it is accepted even when another one (or none) is pinned, and the
	// caller then pins it.
	TrustHostKey string
	// Dial opens the TCP connection; nil uses a net.Dialer. Callers that
	// must restrict where a connection may go pass their own.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
	// Timeout bounds connecting and the SSH handshake; 0 means 20s.
	Timeout time.Duration
}

// SFTPConn is an open SFTP session.
type SFTPConn struct {
	cfg SFTP
	// HostKey is the fingerprint the server presented (and that was
	// accepted).
	HostKey string
	ssh     *ssh.Client
	sftp    *sftp.Client
	stop    func() bool
	ctx     context.Context
}

// done refuses work once the connection's context is done: the close
// context.AfterFunc starts then runs in a goroutine of its own and may
// not have happened yet.
func (c *SFTPConn) done() error {
	if c.ctx.Err() == nil {
		return nil
	}
	return fmt.Errorf("the connection to the SFTP server %s: %w", c.cfg.Addr(), context.Cause(c.ctx))
}

// DialSFTP connects and authenticates, checking the host key against the
// pinned one. Closing ctx closes the connection.
func DialSFTP(ctx context.Context, cfg SFTP, opt SFTPOptions) (*SFTPConn, error) {
	var auth []ssh.AuthMethod
	if cfg.Signer != nil {
		auth = append(auth, ssh.PublicKeys(cfg.Signer))
	}
	if cfg.Password != "" {
		auth = append(auth, ssh.Password(cfg.Password))
	}
	c := &SFTPConn{cfg: cfg, ctx: ctx}
	addr := cfg.Addr()
	check := func(_ string, _ net.Addr, key ssh.PublicKey) error {
		got := ssh.FingerprintSHA256(key)
		switch {
		case opt.TrustHostKey != "" && got == opt.TrustHostKey, opt.TrustHostKey == "" && got == cfg.HostKey:
			c.HostKey = got
			return nil
		case opt.TrustHostKey != "":
			return &HostKeyMismatchError{Addr: addr, Pinned: opt.TrustHostKey, Fingerprint: got, KeyType: key.Type(), Confirmed: true, District: cfg.District}
		case cfg.HostKey == "":
			return &UnknownHostKeyError{Addr: addr, Fingerprint: got, KeyType: key.Type(), District: cfg.District}
		}
		return &HostKeyMismatchError{Addr: addr, Pinned: cfg.HostKey, Fingerprint: got, KeyType: key.Type(), District: cfg.District}
	}
	timeout := opt.Timeout
	if timeout <= 0 {
		timeout = 20 * time.Second
	}
	dctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	dial := opt.Dial
	if dial == nil {
		dial = (&net.Dialer{}).DialContext
	}
	raw, err := dial(dctx, "tcp", addr)
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("connecting to the SFTP server %s: %w", addr, context.Cause(ctx))
		}
		return nil, dialError(addr, err)
	}
	conn := &versionConn{Conn: raw}
	deadline, _ := dctx.Deadline()
	conn.SetDeadline(deadline)
	sc, chans, reqs, err := ssh.NewClientConn(conn, addr, &ssh.ClientConfig{
		User: cfg.User, Auth: auth, HostKeyCallback: check, Timeout: timeout,
	})
	if err != nil {
		conn.Close()
		var unknown *UnknownHostKeyError
		var mismatch *HostKeyMismatchError
		switch {
		case ctx.Err() != nil:
			return nil, fmt.Errorf("connecting to the SFTP server %s: %w", addr, context.Cause(ctx))
		case !conn.seen.Load():
			return nil, &UnreachableError{Addr: addr, err: err}
		case errors.As(err, &unknown):
			return nil, unknown
		case errors.As(err, &mismatch):
			return nil, mismatch
		case strings.Contains(err.Error(), "unable to authenticate"):
			return nil, fmt.Errorf("the SFTP server %s refused the login of user %q with the %s given: check the user, password and private key of the district's SFTP folder", addr, cfg.User, authNames(cfg))
		case dctx.Err() != nil && ctx.Err() == nil:
			return nil, fmt.Errorf("the SFTP server %s did not complete the SSH handshake within %s: check the port is the SFTP server's", addr, timeout)
		}
		return nil, fmt.Errorf("the SFTP server %s did not complete the SSH handshake (is it an SSH server on that port?): %w", addr, err)
	}
	conn.SetDeadline(time.Time{})
	c.ssh = ssh.NewClient(sc, chans, reqs)
	c.stop = context.AfterFunc(ctx, func() { c.ssh.Close() })
	c.sftp, err = sftp.NewClient(c.ssh)
	if err != nil {
		c.Close()
		return nil, fmt.Errorf("the server %s does not offer SFTP to user %q: %w", addr, cfg.User, err)
	}
	return c, nil
}

func authNames(cfg SFTP) string {
	switch {
	case cfg.Password != "" && cfg.Signer != nil:
		return "private key and password"
	case cfg.Signer != nil:
		return "private key"
	}
	return "password"
}

// Close ends the session.
func (c *SFTPConn) Close() error {
	if c.stop != nil {
		c.stop()
	}
	if c.sftp != nil {
		c.sftp.Close()
	}
	return c.ssh.Close()
}

// MissingFileError: the folder has no guardians.csv. For the daily sync
// this is a warning, not a failure.
type MissingFileError struct{ Addr, Path string }

func (e *MissingFileError) Error() string {
	return fmt.Sprintf("there is no %s on the SFTP server %s", e.Path, e.Addr)
}

// Fetch reads and checks the folder's guardians.csv (see Read) as it
// arrives, into one buffer of the file's size. A missing file is a
// *MissingFileError.
func (c *SFTPConn) Fetch(opt Options) (*File, error) {
	var f *File
	err := c.open(func(fh io.Reader, size int64) (err error) {
		f, err = readSized(fh, size, opt)
		return err
	})
	return f, err
}

// wholeFile reads an SFTP file to its true end. For a read bigger than a
// packet the client asks for the pieces at once and takes a server's
// short reply to any of them for the end of the file (pkg/sftp's
// concurrent ReadAt), which would cut a file short without an error. So
// an io.EOF after some bytes only means "read on"; the end is a read that
// gets nothing.
type wholeFile struct{ f *sftp.File }

func (w wholeFile) Read(p []byte) (int, error) {
	n, err := w.f.Read(p)
	if err == io.EOF && n > 0 {
		err = nil
	}
	return n, err
}

// open opens the folder's guardians.csv and calls read with it and the
// size the server says it has.
func (c *SFTPConn) open(read func(fh io.Reader, size int64) error) error {
	if err := c.done(); err != nil {
		return err
	}
	p := c.cfg.Path()
	fh, err := c.sftp.Open(p)
	if errors.Is(err, fs.ErrNotExist) {
		return &MissingFileError{Addr: c.cfg.Addr(), Path: p}
	}
	if err != nil {
		return fmt.Errorf("open %s on the SFTP server %s: %w", p, c.cfg.Addr(), err)
	}
	defer fh.Close()
	size := int64(-1)
	if st, err := fh.Stat(); err == nil {
		size = st.Size()
	}
	if err := read(wholeFile{fh}, size); err != nil {
		var refused *RefusedError
		if errors.As(err, &refused) {
			return err
		}
		return fmt.Errorf("read %s from the SFTP server %s: %w", p, c.cfg.Addr(), err)
	}
	return nil
}

// ReadFile reads the folder's guardians.csv as it is, up to limit bytes (0
// means MaxFileBytes): for a person who previews a file and then applies
// the very bytes they previewed. A missing file is a *MissingFileError, a
// bigger one a *RefusedError.
func (c *SFTPConn) ReadFile(limit int64) ([]byte, error) {
	var data []byte
	err := c.open(func(fh io.Reader, size int64) (err error) {
		data, err = readAtMost(fh, size, maxBytes(Options{MaxBytes: limit}))
		return err
	})
	return data, err
}

// Probe is what a connection test found.
type Probe struct {
	HostKey string // the fingerprint the server presented
	Folder  string // as configured ("" is the home folder)
	// File is guardians.csv's size and time; Found is false without one.
	Found   bool
	Size    int64
	ModTime time.Time
}

// Probe checks the folder and looks for guardians.csv without reading it.
func (c *SFTPConn) Probe() (Probe, error) {
	p := Probe{HostKey: c.HostKey, Folder: c.cfg.Folder}
	if err := c.done(); err != nil {
		return p, err
	}
	folder := c.cfg.Folder
	if folder == "" {
		folder = "."
	}
	st, err := c.sftp.Stat(folder)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return p, fmt.Errorf("the folder %q does not exist on the SFTP server %s", c.cfg.Folder, c.cfg.Addr())
	case err != nil:
		return p, fmt.Errorf("the folder %q on the SFTP server %s: %w", c.cfg.Folder, c.cfg.Addr(), err)
	case !st.IsDir():
		return p, fmt.Errorf("%q on the SFTP server %s is a file, not a folder", c.cfg.Folder, c.cfg.Addr())
	}
	st, err = c.sftp.Stat(c.cfg.Path())
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return p, nil
	case err != nil:
		return p, fmt.Errorf("%s on the SFTP server %s: %w", c.cfg.Path(), c.cfg.Addr(), err)
	}
	p.Found, p.Size, p.ModTime = true, st.Size(), st.ModTime()
	return p, nil
}
