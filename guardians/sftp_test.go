package guardians_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/schoolstatus/rostersync/guardians"
	"github.com/schoolstatus/rostersync/guardians/sftptest"
)

const file = "student_id,guardian_id,first_name,last_name,email,mobile\ns1,g1,Ana,Ruiz,ana@example.org,\n"

func TestSFTPFetchWithPasswordAndWithKey(t *testing.T) {
	srv := sftptest.Start(t)
	srv.Put("/district/in/guardians.csv", []byte(file))
	withKey := srv.Config("/district/in")
	withKey.Password, withKey.Signer = "", srv.ClientSigner
	for name, cfg := range map[string]guardians.SFTP{"password": srv.Config("/district/in"), "key": withKey} {
		t.Run(name, func(t *testing.T) {
			conn, err := guardians.DialSFTP(context.Background(), cfg, guardians.SFTPOptions{})
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			f, err := conn.Fetch(guardians.Options{})
			if err != nil {
				t.Fatal(err)
			}
			sum := sha256.Sum256([]byte(file))
			if len(f.Rows) != 1 || f.Rows[0].Email != "ana@example.org" || f.SHA256 != hex.EncodeToString(sum[:]) || f.Size != int64(len(file)) {
				t.Fatalf("fetched %+v (sha %s size %d)", f.Rows, f.SHA256, f.Size)
			}
			if conn.HostKey != srv.HostKey {
				t.Fatalf("HostKey = %q, want %q", conn.HostKey, srv.HostKey)
			}
		})
	}
	if srv.Logins.Load() != 2 || srv.Reads.Load() != 2 {
		t.Fatalf("logins %d reads %d, want 2 and 2", srv.Logins.Load(), srv.Reads.Load())
	}
}

func TestSFTPHostKeyIsNeverTrustedSilently(t *testing.T) {
	srv := sftptest.Start(t)
	srv.Put("/guardians.csv", []byte(file))
	ctx := context.Background()

	unpinned := srv.Config("/")
	unpinned.HostKey = ""
	_, err := guardians.DialSFTP(ctx, unpinned, guardians.SFTPOptions{})
	var unknown *guardians.UnknownHostKeyError
	if !errors.As(err, &unknown) || unknown.Fingerprint != srv.HostKey || unknown.KeyType != "ssh-ed25519" || !strings.Contains(err.Error(), "not pinned yet") {
		t.Fatalf("unpinned: %v", err)
	}

	other := otherFingerprint(t)
	wrong := srv.Config("/")
	wrong.HostKey = other
	_, err = guardians.DialSFTP(ctx, wrong, guardians.SFTPOptions{})
	var mismatch *guardians.HostKeyMismatchError
	if !errors.As(err, &mismatch) || mismatch.Pinned != other || mismatch.Fingerprint != srv.HostKey ||
		!strings.Contains(err.Error(), "refusing to connect") {
		t.Fatalf("wrong pin: %v", err)
	}
	// A confirmation of some other key does not open the door either.
	_, err = guardians.DialSFTP(ctx, unpinned, guardians.SFTPOptions{TrustHostKey: other})
	if !errors.As(err, &mismatch) {
		t.Fatalf("trusting another key: %v", err)
	}
	if srv.Logins.Load() != 0 || srv.Reads.Load() != 0 {
		t.Fatalf("a refused host key still logged in (%d) or read (%d)", srv.Logins.Load(), srv.Reads.Load())
	}

	// The confirmed key of this server is accepted, pinned or not.
	for _, cfg := range []guardians.SFTP{unpinned, wrong} {
		conn, err := guardians.DialSFTP(ctx, cfg, guardians.SFTPOptions{TrustHostKey: srv.HostKey})
		if err != nil {
			t.Fatal(err)
		}
		if conn.HostKey != srv.HostKey {
			t.Fatalf("HostKey = %q", conn.HostKey)
		}
		conn.Close()
	}
}

func otherFingerprint(t *testing.T) string {
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	k, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return ssh.FingerprintSHA256(k)
}

func TestSFTPRefusedLoginNamesNoSecret(t *testing.T) {
	srv := sftptest.Start(t)
	cfg := srv.Config("/")
	cfg.Password = "hunter2-not-it"
	_, err := guardians.DialSFTP(context.Background(), cfg, guardians.SFTPOptions{})
	if err == nil || !strings.Contains(err.Error(), `refused the login of user "district" with the password given`) || strings.Contains(err.Error(), "hunter2") {
		t.Fatalf("err = %v", err)
	}
}

func TestSFTPMissingFileAndProbe(t *testing.T) {
	srv := sftptest.Start(t)
	srv.Put("/in/readme.txt", []byte("x"))
	conn, err := guardians.DialSFTP(context.Background(), srv.Config("/in"), guardians.SFTPOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_, err = conn.Fetch(guardians.Options{})
	var missing *guardians.MissingFileError
	if !errors.As(err, &missing) || missing.Path != "/in/guardians.csv" {
		t.Fatalf("Fetch = %v", err)
	}
	p, err := conn.Probe()
	if err != nil || p.Found || p.HostKey != srv.HostKey {
		t.Fatalf("Probe = %+v, %v", p, err)
	}
	srv.Put("/in/guardians.csv", []byte(file))
	if p, err = conn.Probe(); err != nil || !p.Found || p.Size != int64(len(file)) {
		t.Fatalf("Probe = %+v, %v", p, err)
	}

	gone, err := guardians.DialSFTP(context.Background(), srv.Config("/nowhere"), guardians.SFTPOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer gone.Close()
	if _, err := gone.Probe(); err == nil || !strings.Contains(err.Error(), `the folder "/nowhere" does not exist`) {
		t.Fatalf("Probe of a missing folder = %v", err)
	}
}

func TestSFTPRefusedFileAndCancel(t *testing.T) {
	srv := sftptest.Start(t)
	srv.Put("/guardians.csv", []byte("name,phone\nx,y\n"))
	ctx, cancel := context.WithCancel(context.Background())
	conn, err := guardians.DialSFTP(ctx, srv.Config("/"), guardians.SFTPOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_, err = conn.Fetch(guardians.Options{})
	var refused *guardians.RefusedError
	if !errors.As(err, &refused) {
		t.Fatalf("Fetch = %v, want refused", err)
	}
	cancel()
	if _, err := conn.Probe(); err == nil {
		t.Fatal("the connection outlived its context")
	}
}

func TestSFTPReadFileKeepsTheBytes(t *testing.T) {
	srv := sftptest.Start(t)
	srv.Put("/in/guardians.csv", []byte(file))
	conn, err := guardians.DialSFTP(context.Background(), srv.Config("/in"), guardians.SFTPOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if data, err := conn.ReadFile(0); err != nil || string(data) != file {
		t.Fatalf("ReadFile = %q, %v", data, err)
	}
	var refused *guardians.RefusedError
	if _, err := conn.ReadFile(10); !errors.As(err, &refused) {
		t.Fatalf("ReadFile over the limit = %v", err)
	}
	srv.Remove("/in/guardians.csv")
	var missing *guardians.MissingFileError
	if _, err := conn.ReadFile(0); !errors.As(err, &missing) {
		t.Fatalf("ReadFile of a missing file = %v", err)
	}
}

// A failed connection says in a person's words what failed and what to
// do: no Go error chain, and the pinning command names the district.
func TestSFTPFailuresSayWhatToDo(t *testing.T) {
	ctx := context.Background()
	srv := sftptest.Start(t)
	unpinned := srv.Config("/")
	unpinned.HostKey, unpinned.District = "", 4321
	_, err := guardians.DialSFTP(ctx, unpinned, guardians.SFTPOptions{})
	if msg := err.Error(); !strings.HasPrefix(msg, "the SFTP host key is not pinned yet: the server") ||
		!strings.Contains(msg, "Guardians source → Host key") ||
		!strings.Contains(msg, "rostersync guardians sftp test --district 4321 --trust-host-key "+srv.HostKey) {
		t.Errorf("unpinned: %s", msg)
	}

}

// Every failure before an SSH server's version line reads the same: a
// closed port, a filtered one, one that times out, and one that answers
// but is no SSH server. A connection test is no port scanner.
func TestSFTPUnreachableReadsTheSame(t *testing.T) {
	ctx := context.Background()
	srv := sftptest.Start(t)
	// listen serves each connection with serve on a fresh port.
	listen := func(serve func(net.Conn)) int {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { l.Close() })
		go func() {
			for {
				c, err := l.Accept()
				if err != nil {
					return
				}
				go func() { serve(c); c.Close() }()
			}
		}()
		return l.Addr().(*net.TCPAddr).Port
	}
	filtered := func(ctx context.Context, _, _ string) (net.Conn, error) { <-ctx.Done(); return nil, ctx.Err() }
	for _, c := range []struct {
		name string
		port int
		dial func(context.Context, string, string) (net.Conn, error)
	}{
		{"closed", freePort(t), nil},
		{"filtered", 22999, filtered},
		{"closes at once", listen(func(net.Conn) {}), nil},
		{"an HTTP server", listen(func(c net.Conn) { c.Write([]byte("HTTP/1.0 400 Bad Request\r\n\r\n")) }), nil},
		{"silent", listen(func(c net.Conn) { time.Sleep(2 * time.Second) }), nil},
		{"a banner, never a version", listen(func(c net.Conn) { c.Write([]byte("welcome\r\n")); time.Sleep(2 * time.Second) }), nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg := srv.Config("/")
			cfg.Host, cfg.Port = "127.0.0.1", c.port
			_, err := guardians.DialSFTP(ctx, cfg, guardians.SFTPOptions{Dial: c.dial, Timeout: 300 * time.Millisecond})
			want := fmt.Sprintf("no SFTP server answered at 127.0.0.1:%d: check the host and port of the district's SFTP folder, and that this machine may reach it", c.port)
			var u *guardians.UnreachableError
			if !errors.As(err, &u) || err.Error() != want {
				t.Errorf("got  %v\nwant %s", err, want)
			}
		})
	}
	// An SSH server is told apart only once it has said so.
	_, err := guardians.DialSFTP(ctx, srv.Config("/"), guardians.SFTPOptions{TrustHostKey: "SHA256:" + strings.Repeat("A", 43)})
	var mismatch *guardians.HostKeyMismatchError
	if !errors.As(err, &mismatch) {
		t.Errorf("an SSH server with another key: %v", err)
	}
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	return port
}
