package sync

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"time"

	"github.com/schoolstatus/rostersync/guardians"
	"github.com/schoolstatus/rostersync/store"
)

// SFTPDialFunc opens the TCP connection to a district's SFTP server.
type SFTPDialFunc func(ctx context.Context, network, addr string) (net.Conn, error)

// sftpSettings turns a district's SFTP folder into the client's settings.
func sftpSettings(d store.District) (guardians.SFTP, error) {
	s := d.Guardians.SFTP
	cfg := guardians.SFTP{Host: s.Host, Port: s.Port, User: s.User, Password: s.Password, Folder: s.Folder, HostKey: s.HostKey, District: d.TenantID}
	if err := d.SecretProblemOf("guardians."); err != nil {
		return cfg, err // a lost or different secrets key
	}
	if s.PrivateKey != "" {
		signer, err := store.SFTPSigner(s.PrivateKey)
		if err != nil {
			return cfg, err
		}
		cfg.Signer = signer
	}
	return cfg, nil
}

// sftpDue reports whether a roster run of d also reads the SFTP folder.
func sftpDue(d store.District) bool {
	return !d.Settings.ManageGuardians && d.Guardians.Source == store.GuardiansSFTP
}

// sftpStep is the daily SFTP guardians sync inside a roster run: fetch
// guardians.csv after the roster, and process it like an upload (with the
// district's Abandon setting) in the same run record. An unchanged file is
// skipped; a missing one is a warning that changes nothing; a refused or
// unreadable one fails the run with reason guardians_file.
// rosterChangedUsers says the run's roster part writes users (so even an
// unchanged file must be checked again); users is nil for the stored
// directory.
func (e *Engine) sftpStep(ctx context.Context, d store.District, run *store.Run, dryRun, rosterChangedUsers bool, users eachUser, samples int, report func(Progress)) ([]Sample, error) {
	gf := &store.GuardiansFileRun{Source: store.GuardiansSFTP, Abandon: d.Guardians.Abandon}
	run.GuardiansFile = gf
	report(Progress{Phase: PhaseGuardiansFile})
	failed := func(err error) ([]Sample, error) {
		gf.Status, gf.Message = store.FileFailed, err.Error()
		failRun(run, store.ReasonGuardiansFile, "guardians.csv from SFTP: "+err.Error())
		return nil, nil
	}
	cfg, err := sftpSettings(d)
	gf.Name = cfg.Path()
	if err != nil {
		return failed(err)
	}
	encoding, err := guardians.ParseEncoding(d.Guardians.Encoding)
	if err != nil {
		return failed(err)
	}
	budget := e.runBudget()
	limit := sftpTime(budget, budget-e.now().Sub(run.StartedAt))
	// A scheduled run waits its turn for a file slot, within its time.
	wctx, cancel := context.WithTimeout(ctx, limit)
	release, err := e.fileSlot(wctx, true)
	cancel()
	if err != nil {
		if ctx.Err() == nil {
			err = fmt.Errorf("no guardians file slot came free within %s (this server reads or processes at most %d guardians files at once); guardians were left as they are", limit, cap(e.files))
		}
		return failed(err)
	}
	defer release()
	var f *guardians.File
	err = e.readSFTP(ctx, cfg, limit, func(conn *guardians.SFTPConn) (err error) {
		f, err = conn.Fetch(guardians.Options{Encoding: encoding})
		return err
	}, fmt.Sprintf("what was left of the run's time budget of %s, and at least %s or the whole budget", budget, SFTPFloor),
		"allow more time with --time-budget")
	var missing *guardians.MissingFileError
	var refused *guardians.RefusedError
	switch {
	case errors.As(err, &missing):
		gf.Status, gf.Message = store.FileMissing, err.Error()+"; guardians were left as they are"
		note(run, "warning: "+gf.Message)
		return nil, nil
	case errors.As(err, &refused):
		fileRefused(run, f, err)
		return nil, nil
	case err != nil:
		return failed(err)
	}
	if !rosterChangedUsers {
		state, current, err := e.DB.GuardiansFileApplied(d.TenantID)
		if err != nil {
			return nil, err
		}
		if current && state.SHA256 == f.SHA256 && state.ConfigRevision == d.Revision && state.Abandon == d.Guardians.Abandon {
			n := f.Count()
			gf.Status, gf.Size, gf.FileSHA256, gf.Rows = store.FileUnchanged, f.Size, f.SHA256, n.Rows
			gf.Message = "the same file as the one last applied, and no user changed since: skipped"
			return nil, nil
		}
	}
	return e.processFile(ctx, d, f, run, fileStep{dryRun: dryRun, abandon: d.Guardians.Abandon, samples: samples, users: users}, report)
}

// note adds a line for people to a run that has not failed.
func note(run *store.Run, msg string) {
	if run.Message == "" {
		run.Message = msg
	} else if !strings.Contains(run.Message, msg) {
		run.Message += "; " + msg
	}
}

// overlaid is users as the plan would leave them: the stored directory
// with the plan's writes (and allowed archives) in their place.
func overlaid(users eachUser, p *plan) eachUser {
	over := slices.Concat(p.overlay, p.overlayArchives)
	slices.SortStableFunc(over, func(a, b store.DirectoryUser) int { return strings.Compare(a.SourcedID, b.SourcedID) })
	return func(fn func(store.DirectoryUser) error) error {
		i := 0
		err := users(func(u store.DirectoryUser) error {
			for ; i < len(over) && over[i].SourcedID < u.SourcedID; i++ {
				if err := fn(over[i]); err != nil {
					return err
				}
			}
			if i < len(over) && over[i].SourcedID == u.SourcedID {
				i++
				return fn(over[i-1])
			}
			return fn(u)
		})
		for ; err == nil && i < len(over); i++ {
			err = fn(over[i])
		}
		return err
	}
}

// SFTPFloor is the least time reading guardians.csv from an SFTP folder
// is given (connecting, logging in and reading it), unless the run's
// budget itself is shorter: a slow ClassLink that used most of the budget
// does not leave the daily SFTP step none.
const SFTPFloor = 5 * time.Minute

// sftpTime is how long reading guardians.csv from SFTP may take: what is
// left of the run's budget, and at least SFTPFloor or the whole budget,
// whichever is shorter. A server that is slow, or trickles bytes without
// ever going idle, holds the run (and in serve, its district's run slot)
// no longer than that.
func sftpTime(budget, left time.Duration) time.Duration {
	return max(left, min(budget, SFTPFloor))
}

// errSFTPTime is the cause of a context whose time for SFTP ran out.
var errSFTPTime = errors.New("the time for reading guardians.csv from SFTP ran out")

// readSFTP connects to the SFTP folder of cfg and calls read with the
// connection, all within limit. Past it the connection is closed and the
// error says what ran out (limit, what it was: of; what to do: hint).
func (e *Engine) readSFTP(ctx context.Context, cfg guardians.SFTP, limit time.Duration, read func(*guardians.SFTPConn) error, of, hint string) error {
	sctx, cancel := context.WithTimeoutCause(ctx, limit, errSFTPTime)
	defer cancel()
	conn, err := guardians.DialSFTP(sctx, cfg, guardians.SFTPOptions{Dial: e.SFTPDial})
	if err == nil {
		err = read(conn)
		conn.Close()
	}
	if err != nil && ctx.Err() == nil && context.Cause(sctx) == errSFTPTime {
		return fmt.Errorf("the time for reading %s from the SFTP server %s ran out after %s (%s): the server sent it too slowly or not at all; "+
			"guardians were left as they are. Check the SFTP server, or %s", cfg.Path(), cfg.Addr(), limit.Round(time.Millisecond), of, hint)
	}
	return err
}

// FetchGuardiansSFTP reads guardians.csv from d's SFTP folder as it is,
// for a person to preview and then apply those very bytes
// (RunGuardiansFile with Source sftp), within SFTPFloor (or the run
// budget, when shorter). It returns the file's path there.
func (e *Engine) FetchGuardiansSFTP(ctx context.Context, d store.District) ([]byte, string, error) {
	cfg, err := sftpSettings(d)
	if err != nil {
		return nil, cfg.Path(), err
	}
	release, err := e.fileSlot(ctx, false)
	if err != nil {
		return nil, cfg.Path(), err
	}
	defer release()
	budget := e.runBudget()
	var data []byte
	err = e.readSFTP(ctx, cfg, sftpTime(budget, 0), func(conn *guardians.SFTPConn) (err error) {
		data, err = conn.ReadFile(0)
		return err
	}, fmt.Sprintf("%s, or the time budget when shorter", SFTPFloor), "try again later")
	return data, cfg.Path(), err
}

// SFTPReport is what `guardians sftp test` found.
type SFTPReport struct {
	TenantID int64  `json:"tenant_id"`
	OK       bool   `json:"ok"`
	Addr     string `json:"addr"`
	Path     string `json:"path"`
	// HostKey is the fingerprint the server presented; Pinned says it is
	// (now) the district's pinned key.
	HostKey string `json:"host_key,omitempty"`
	KeyType string `json:"key_type,omitempty"`
	Pinned  bool   `json:"pinned"`
	// Unpinned: the server's key is not pinned yet and was not confirmed;
	// Mismatch: it differs from the pinned one.
	Unpinned bool   `json:"unpinned,omitempty"`
	Mismatch bool   `json:"mismatch,omitempty"`
	Found    bool   `json:"found"` // guardians.csv is in the folder
	Size     int64  `json:"size,omitempty"`
	Error    string `json:"error,omitempty"`
}

// TestSFTP connects to the district's SFTP folder and looks for
// guardians.csv without reading it. trust is a host key fingerprint a
// person confirmed ("" for none): the server's key is accepted only when it
// is pinned already or equals trust; the caller pins a trusted key.
func TestSFTP(ctx context.Context, dial SFTPDialFunc, d store.District, trust string) SFTPReport {
	s := d.Guardians.SFTP
	cfg, err := sftpSettings(d)
	r := SFTPReport{TenantID: d.TenantID, Addr: cfg.Addr(), Path: cfg.Path()}
	if err == nil {
		err = d.Guardians.Validate()
	}
	if err == nil && s.Host == "" {
		err = &store.FieldError{Field: "guardians.sftp.host", Msg: "is required: set the SFTP folder on the Guardians source screen or with config import"}
	}
	if err != nil {
		r.Error = err.Error()
		return r
	}
	conn, err := guardians.DialSFTP(ctx, cfg, guardians.SFTPOptions{TrustHostKey: trust, Dial: dial})
	var unknown *guardians.UnknownHostKeyError
	var mismatch *guardians.HostKeyMismatchError
	switch {
	case errors.As(err, &unknown):
		r.HostKey, r.KeyType, r.Unpinned = unknown.Fingerprint, unknown.KeyType, true
	case errors.As(err, &mismatch):
		r.HostKey, r.KeyType, r.Mismatch = mismatch.Fingerprint, mismatch.KeyType, true
	}
	if err != nil {
		r.Error = err.Error()
		return r
	}
	defer conn.Close()
	r.HostKey, r.Pinned = conn.HostKey, conn.HostKey == s.HostKey
	p, err := conn.Probe()
	if err != nil {
		r.Error = err.Error()
		return r
	}
	r.OK, r.Found, r.Size = true, p.Found, p.Size
	return r
}
