// Package sftptest is a real SFTP server on loopback for tests: pkg/sftp's
// request server over an x/crypto/ssh server, serving a temp folder as
// "/", with password and public key logins and its own ed25519 host key.
//
//	srv := sftptest.Start(t)
//	srv.Put("/guardians/guardians.csv", data)
//	cfg := srv.Config("/guardians")          // password login, host key pinned
//	conn, err := guardians.DialSFTP(ctx, cfg, guardians.SFTPOptions{})
package sftptest

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	gosync "sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"

	"github.com/schoolstatus/rostersync/guardians"
)

// Server is a running SFTP server.
type Server struct {
	Host string
	Port int
	// Root is the folder served as "/".
	Root string
	// HostKey is the server's host key fingerprint ("SHA256:…").
	HostKey string
	// User logs in with Password or with ClientKey (OpenSSH private key
	// text), whose signer is ClientSigner.
	User, Password, ClientKey string
	ClientSigner              ssh.Signer

	// Logins counts successful authentications; Reads counts files opened
	// for reading.
	Logins, Reads atomic.Int64

	// trickle, when set (Trickle), is the pause before each byte served.
	trickle atomic.Int64
	stop    chan struct{}

	ln    net.Listener
	wg    gosync.WaitGroup
	mu    gosync.Mutex
	conns map[net.Conn]bool
}

// Start runs a server until the test ends.
func Start(t testing.TB) *Server {
	t.Helper()
	s, err := New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

// New starts a server on 127.0.0.1 serving root; Close stops it.
func New(root string) (*Server, error) {
	_, hostPriv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	hostSigner, err := ssh.NewSignerFromKey(hostPriv)
	if err != nil {
		return nil, err
	}
	clientPub, clientPriv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	block, err := ssh.MarshalPrivateKey(clientPriv, "sftptest client")
	if err != nil {
		return nil, err
	}
	authorized, err := ssh.NewPublicKey(clientPub)
	if err != nil {
		return nil, err
	}
	clientSigner, err := ssh.NewSignerFromKey(clientPriv)
	if err != nil {
		return nil, err
	}
	s := &Server{
		Root: root, HostKey: ssh.FingerprintSHA256(hostSigner.PublicKey()),
		User: "district", Password: "correct horse battery staple",
		ClientKey: string(pem.EncodeToMemory(block)), ClientSigner: clientSigner,
		conns: map[net.Conn]bool{}, stop: make(chan struct{}),
	}
	cfg := &ssh.ServerConfig{
		PasswordCallback: func(c ssh.ConnMetadata, pw []byte) (*ssh.Permissions, error) {
			if c.User() == s.User && string(pw) == s.Password {
				s.Logins.Add(1)
				return nil, nil
			}
			return nil, errors.New("wrong password")
		},
		PublicKeyCallback: func(c ssh.ConnMetadata, key ssh.PublicKey) (*ssh.Permissions, error) {
			if c.User() == s.User && string(key.Marshal()) == string(authorized.Marshal()) {
				s.Logins.Add(1)
				return nil, nil
			}
			return nil, errors.New("unknown key")
		},
	}
	cfg.AddHostKey(hostSigner)
	s.ln, err = net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	host, port, _ := net.SplitHostPort(s.ln.Addr().String())
	s.Host = host
	s.Port, _ = strconv.Atoi(port)
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			conn, err := s.ln.Accept()
			if err != nil {
				return
			}
			s.mu.Lock()
			s.conns[conn] = true
			s.mu.Unlock()
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				s.serve(conn, cfg)
				s.mu.Lock()
				delete(s.conns, conn)
				s.mu.Unlock()
			}()
		}
	}()
	return s, nil
}

// Trickle makes the server send files one byte at a time, every pause
// (0: at full speed again): a server that is slow but never idle, which
// no read timeout catches, only a deadline for the whole transfer.
func (s *Server) Trickle(pause time.Duration) { s.trickle.Store(int64(pause)) }

// Close stops accepting, closes open connections and waits for them.
func (s *Server) Close() {
	select {
	case <-s.stop:
	default:
		close(s.stop)
	}
	s.ln.Close()
	s.mu.Lock()
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
}

// Config is a district's SFTP settings for this server: password login,
// host key pinned, guardians.csv read from folder.
func (s *Server) Config(folder string) guardians.SFTP {
	return guardians.SFTP{Host: s.Host, Port: s.Port, User: s.User, Password: s.Password, Folder: folder, HostKey: s.HostKey}
}

// Put writes a file under Root (name is the path the client sees).
func (s *Server) Put(name string, data []byte) {
	p := s.local(name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		panic(err)
	}
	if err := os.WriteFile(p, data, 0o644); err != nil {
		panic(err)
	}
}

// Remove deletes a file under Root.
func (s *Server) Remove(name string) { os.Remove(s.local(name)) }

// local maps a client path to the folder; pkg/sftp has already cleaned it
// to an absolute path without "..".
func (s *Server) local(name string) string {
	return filepath.Join(s.Root, filepath.FromSlash(filepath.Clean("/"+name)))
}

func (s *Server) serve(conn net.Conn, cfg *ssh.ServerConfig) {
	defer conn.Close()
	sc, chans, reqs, err := ssh.NewServerConn(conn, cfg)
	if err != nil {
		return
	}
	defer sc.Close()
	go ssh.DiscardRequests(reqs)
	for nc := range chans {
		if nc.ChannelType() != "session" {
			nc.Reject(ssh.UnknownChannelType, "only sessions")
			continue
		}
		ch, chReqs, err := nc.Accept()
		if err != nil {
			return
		}
		go func() {
			for req := range chReqs {
				ok := req.Type == "subsystem" && len(req.Payload) >= 4 && string(req.Payload[4:]) == "sftp"
				req.Reply(ok, nil)
				if !ok {
					continue
				}
				h := handler{s}
				rs := sftp.NewRequestServer(ch, sftp.Handlers{FileGet: h, FilePut: h, FileCmd: h, FileList: h})
				rs.Serve()
				rs.Close()
				ch.Close()
				return
			}
		}()
	}
}

// handler serves Root read-only.
type handler struct{ s *Server }

func (h handler) Fileread(r *sftp.Request) (io.ReaderAt, error) {
	f, err := os.Open(h.s.local(r.Filepath))
	if err != nil {
		return nil, err
	}
	h.s.Reads.Add(1)
	if pause := time.Duration(h.s.trickle.Load()); pause > 0 {
		return trickled{f, pause, h.s.stop}, nil
	}
	return f, nil
}

// trickled serves a file one byte per read request, each after a pause.
type trickled struct {
	f     *os.File
	pause time.Duration
	stop  <-chan struct{}
}

func (t trickled) ReadAt(p []byte, off int64) (int, error) {
	select {
	case <-time.After(t.pause):
	case <-t.stop:
		return 0, errors.New("the server is closing")
	}
	n, err := t.f.ReadAt(p[:min(len(p), 1)], off)
	if err == nil && n < len(p) {
		err = io.EOF // a short read must say why; pkg/sftp still sends the byte
	}
	return n, err
}

func (t trickled) Close() error { return t.f.Close() }

func (h handler) Filewrite(*sftp.Request) (io.WriterAt, error) {
	return nil, sftp.ErrSSHFxPermissionDenied
}

func (h handler) Filecmd(*sftp.Request) error { return sftp.ErrSSHFxPermissionDenied }

func (h handler) Filelist(r *sftp.Request) (sftp.ListerAt, error) {
	p := h.s.local(r.Filepath)
	switch r.Method {
	case "List":
		entries, err := os.ReadDir(p)
		if err != nil {
			return nil, err
		}
		var infos listerAt
		for _, e := range entries {
			if info, err := e.Info(); err == nil {
				infos = append(infos, info)
			}
		}
		return infos, nil
	case "Stat", "Lstat":
		info, err := os.Stat(p)
		if err != nil {
			return nil, err
		}
		return listerAt{info}, nil
	}
	return nil, fmt.Errorf("%s is not supported", r.Method)
}

type listerAt []os.FileInfo

func (l listerAt) ListAt(out []os.FileInfo, off int64) (int, error) {
	if off >= int64(len(l)) {
		return 0, io.EOF
	}
	n := copy(out, l[off:])
	if n < len(out) {
		return n, io.EOF
	}
	return n, nil
}
