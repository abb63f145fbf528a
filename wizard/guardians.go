package wizard

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/schoolstatus/rostersync/guardians"
	"github.com/schoolstatus/rostersync/screens"
	"github.com/schoolstatus/rostersync/store"
	rsync "github.com/schoolstatus/rostersync/sync"
)

// previewRows is how many rows of a processed file the preview lists.
const previewRows = 500

// guardiansActions is what Guardians source and Upload Guardians may do
// in this session. Only a local session touches files on this machine;
// the SFTP folder is reached through the engine's SFTPDial (a served
// rostersync's address rules).
func (m *Model) guardiansActions() *screens.GuardiansActions {
	a := &screens.GuardiansActions{
		TestSFTP: m.testSFTP,
		Read:     m.readGuardians,
		Process:  m.processGuardians,
		Local:    m.opts.LocalFiles,
	}
	if m.opts.LocalFiles {
		a.WriteSample = m.writeSample
		a.Complete = completePath
	}
	return a
}

// sftpDial is how this session reaches an SFTP folder.
func (m *Model) sftpDial() rsync.SFTPDialFunc { return m.opts.Engine.SFTPDial }

func (m *Model) testSFTP(d store.District, trust string) tea.Cmd {
	dial := m.sftpDial()
	ctx, done, err := m.out.begin(context.Background(), outTest, m.top())
	if err != nil {
		return refusedTest(d, err)
	}
	return func() tea.Msg {
		defer done()
		tctx, cancel := context.WithTimeout(ctx, time.Minute)
		defer cancel()
		r := rsync.TestSFTP(tctx, dial, d, trust)
		if ctx.Err() != nil {
			return nil // its screen was left, or the session ended
		}
		return screens.SFTPTestedMsg{Report: screens.SFTPReport{TenantID: d.TenantID, OK: r.OK, Addr: r.Addr, Path: r.Path,
			HostKey: r.HostKey, KeyType: r.KeyType, Pinned: r.Pinned, Unpinned: r.Unpinned, Mismatch: r.Mismatch,
			Found: r.Found, Size: r.Size, Err: r.Error}}
	}
}

// refusedTest is an SFTP test the session's limits refused.
func refusedTest(d store.District, err error) tea.Cmd {
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return func() tea.Msg {
		return screens.SFTPTestedMsg{Report: screens.SFTPReport{TenantID: d.TenantID, Err: err.Error()}}
	}
}

// readGuardians reads a local file, or (path "") guardians.csv from the
// district's SFTP folder; a remote session never reads a local path.
func (m *Model) readGuardians(d store.District, path string) tea.Cmd {
	remote, engine := !m.opts.LocalFiles, m.opts.Engine
	msg := screens.GuardiansFileReadMsg{File: screens.GuardiansFile{TenantID: d.TenantID, Name: path}}
	if path == "" {
		ctx, done, err := m.out.begin(context.Background(), outRead, m.top())
		if err != nil {
			msg.Err = err
			if errors.Is(err, context.Canceled) {
				return nil
			}
			return func() tea.Msg { return msg }
		}
		return func() tea.Msg {
			defer done()
			// The engine bounds the read (sync.SFTPFloor) and says so.
			msg.File.SFTP = true
			msg.File.Data, msg.File.Name, msg.Err = engine.FetchGuardiansSFTP(ctx, d)
			if ctx.Err() != nil {
				return nil // its screen was left, or the session ended
			}
			return msg
		}
	}
	return func() tea.Msg {
		if remote {
			msg.Err = errors.New("over SSH the file comes only from the SFTP folder")
			return msg
		}
		msg.File.Data, msg.Err = readLocal(path)
		return msg
	}
}

// fileProblem says in a person's words why a local file could not be
// opened (os's errors read "open PATH: …").
func fileProblem(path string, err error) error {
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("%s does not exist (or its folder does not): check the path; tab completes it", path)
	case errors.Is(err, fs.ErrExist):
		return fmt.Errorf("%s already exists, and a sample is never written over a file: type another name", path)
	case errors.Is(err, fs.ErrPermission):
		return fmt.Errorf("this account may not open %s (permission denied)", path)
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return fmt.Errorf("%s: %v", path, pe.Err)
	}
	return err
}

// readLocal reads a local file of at most guardians.MaxFileBytes.
func readLocal(path string) ([]byte, error) {
	f, err := os.Open(expandHome(path))
	if err != nil {
		return nil, fileProblem(path, err)
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.IsDir() {
		return nil, fmt.Errorf("%s is a folder; type the path of the guardians.csv in it", path)
	}
	data, err := io.ReadAll(io.LimitReader(f, guardians.MaxFileBytes+1))
	if err != nil {
		return nil, err
	}
	if len(data) > guardians.MaxFileBytes {
		return nil, fmt.Errorf("%s is larger than %d MiB, the limit for one guardians file", path, guardians.MaxFileBytes>>20)
	}
	return data, nil
}

// processGuardians checks or applies a file's bytes as an upload run.
func (m *Model) processGuardians(d store.District, f screens.GuardiansFile, dryRun, abandon bool) tea.Cmd {
	engine, going, runs := m.opts.Engine, m.opts.RunsGoing, m.opts.Runs
	return func() tea.Msg {
		going.Add(1) // a stopping server waits for the apply to finish
		defer going.Done()
		source := store.GuardiansUpload
		if f.SFTP {
			source = store.GuardiansSFTP
		}
		res, err := engine.RunGuardiansFile(runs, d.TenantID, nil, rsync.FileOptions{Data: f.Data,
			DryRun: dryRun, Abandon: abandon, Name: f.Name, Source: source})
		msg := screens.GuardiansProcessedMsg{TenantID: d.TenantID, Run: res.Run, Err: err}
		if res.File != nil {
			msg.AllRows = len(res.File.Rows)
			for _, i := range res.File.Notable(previewRows) {
				r := &res.File.Rows[i]
				action := r.Action
				if !r.OK() {
					action = guardians.ActionError
				}
				msg.Rows = append(msg.Rows, screens.GuardiansRow{Line: r.Line, Action: action, GuardianID: r.GuardianID, StudentID: r.StudentID, Result: r.Result()})
			}
		}
		return msg
	}
}

// writeSample writes a sample guardians.csv with the district's students,
// never over an existing file.
func (m *Model) writeSample(d store.District, path string) tea.Cmd {
	db := m.opts.DB
	return func() tea.Msg {
		var buf bytes.Buffer
		if err := rsync.WriteSample(&buf, db, d.TenantID); err != nil {
			return screens.FlashMsg{Text: err.Error(), Error: true}
		}
		f, err := os.OpenFile(expandHome(path), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return screens.FlashMsg{Text: "The sample was not written: " + fileProblem(path, err).Error(), Error: true}
		}
		if _, err := f.Write(buf.Bytes()); err != nil {
			f.Close()
			return screens.FlashMsg{Text: err.Error(), Error: true}
		}
		if err := f.Close(); err != nil {
			return screens.FlashMsg{Text: err.Error(), Error: true}
		}
		return screens.FlashMsg{Text: "Wrote a sample guardians file to " + path + "."}
	}
}

// completePath completes a local path: the longest common completion of
// prefix among the folder's entries, and those entries (folders end in
// "/"; hidden ones only when the prefix starts with ".").
func completePath(prefix string) (string, []string) {
	dir, base := filepath.Split(prefix)
	readFrom := expandHome(dir)
	if readFrom == "" {
		readFrom = "."
	}
	entries, err := os.ReadDir(readFrom)
	if err != nil {
		return prefix, nil
	}
	var names []string
	for _, e := range entries {
		n := e.Name()
		if !strings.HasPrefix(n, base) || strings.HasPrefix(n, ".") && !strings.HasPrefix(base, ".") {
			continue
		}
		if e.IsDir() {
			n += "/"
		}
		names = append(names, n)
	}
	if len(names) == 0 {
		return prefix, nil
	}
	slices.Sort(names)
	common := names[0]
	for _, n := range names[1:] {
		for !strings.HasPrefix(n, common) {
			common = common[:len(common)-1]
		}
	}
	return dir + common, names
}

// expandHome reads a leading "~/" as the home folder.
func expandHome(path string) string {
	if rest, ok := strings.CutPrefix(path, "~/"); ok {
		if home, err := os.UserHomeDir(); err == nil {
			return filepath.Join(home, rest)
		}
	}
	return path
}
