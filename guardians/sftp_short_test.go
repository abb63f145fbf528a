package guardians_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"io"
	"net"
	"os"
	"strconv"
	"testing"

	"github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"

	"github.com/schoolstatus/rostersync/guardians"
)

// shortServer serves one file, answering every read with at most 1000
// bytes, as SFTP allows a server to.
type shortServer struct{ data []byte }

func (s shortServer) Fileread(*sftp.Request) (io.ReaderAt, error) { return shortReads(s.data), nil }
func (s shortServer) Filelist(r *sftp.Request) (sftp.ListerAt, error) {
	return nil, os.ErrNotExist // Stat fails: the size is unknown
}

type shortReads []byte

func (b shortReads) ReadAt(p []byte, off int64) (int, error) {
	if off >= int64(len(b)) {
		return 0, io.EOF
	}
	return copy(p[:min(len(p), 1000)], b[off:]), nil
}

// A server that answers reads in short pieces still gives the whole file:
// the client's big reads take a short piece for the end of the file, which
// must never cut guardians.csv short without an error.
func TestSFTPShortReadsGiveTheWholeFile(t *testing.T) {
	want := append([]byte("student_id,guardian_id,first_name,last_name,email,mobile,home_phone,language\n"),
		bytes.Repeat([]byte("s-1,g-1,Ana,Ruiz,ana@example.org,,,\n"), 4000)...) // 144 KB, several packets
	_, hostPriv, _ := ed25519.GenerateKey(rand.Reader)
	hostSigner, _ := ssh.NewSignerFromKey(hostPriv)
	cfg := &ssh.ServerConfig{PasswordCallback: func(ssh.ConnMetadata, []byte) (*ssh.Permissions, error) { return nil, nil }}
	cfg.AddHostKey(hostSigner)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		conn, err := ln.Accept()
		if err != nil {
			return
		}
		defer conn.Close()
		_, chans, reqs, err := ssh.NewServerConn(conn, cfg)
		if err != nil {
			return
		}
		go ssh.DiscardRequests(reqs)
		for nc := range chans {
			ch, chReqs, _ := nc.Accept()
			go func() {
				for req := range chReqs {
					req.Reply(req.Type == "subsystem", nil)
					h := shortServer{want}
					rs := sftp.NewRequestServer(ch, sftp.Handlers{FileGet: h, FileList: h, FilePut: nil, FileCmd: nil})
					rs.Serve()
					ch.Close()
					return
				}
			}()
		}
	}()
	port, _ := strconv.Atoi(ln.Addr().(*net.TCPAddr).AddrPort().String()[len("127.0.0.1:"):])
	conn, err := guardians.DialSFTP(context.Background(), guardians.SFTP{Host: "127.0.0.1", Port: port, User: "u", Password: "p",
		HostKey: ssh.FingerprintSHA256(hostSigner.PublicKey())}, guardians.SFTPOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	got, err := conn.ReadFile(0)
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("ReadFile: %d bytes of %d, %v", len(got), len(want), err)
	}
	f, err := conn.Fetch(guardians.Options{})
	if err != nil || f.Size != int64(len(want)) || len(f.Rows) != 4000 {
		t.Fatalf("Fetch: %v", err)
	}
}
