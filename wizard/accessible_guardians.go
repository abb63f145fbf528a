package wizard

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"charm.land/huh/v2"

	"github.com/schoolstatus/rostersync/screens"
	"github.com/schoolstatus/rostersync/store"
	rsync "github.com/schoolstatus/rostersync/sync"
)

// guardians is SIS Rostering → Guardians source as prompts, asked only
// while Manage Guardians is off: the source, the SFTP folder's settings
// and its host key, pinned only when the person confirms the key a test
// showed. Password and private key are not typed here (a line prompt
// shows what is typed): they are kept as stored, and set on the Guardians
// source screen or with config import.
func (a *accessible) guardians(e *screens.Edit) error {
	if e.Draft.Settings.ManageGuardians {
		return nil
	}
	g := &e.Draft.Guardians
	a.say("SIS Rostering, Guardians source. Guardians are off, so they come from a guardians.csv: uploaded with rostersync guardians upload, or read from an SFTP folder by the daily sync. The source is now %s.", g.SourceOrNone())
	change := false
	if err := a.confirm("Change the guardians source?", "", &change); err != nil || !change {
		return err
	}
	source := g.SourceOrNone()
	opts := []huh.Option[string]{
		huh.NewOption("None", store.GuardiansNone), huh.NewOption("Uploads of guardians.csv", store.GuardiansUpload),
		huh.NewOption("An SFTP folder read by the daily sync", store.GuardiansSFTP),
	}
	if err := a.ask(huh.NewSelect[string]().Title("Guardians source").Options(opts...).Value(&source)); err != nil {
		return err
	}
	g.Source = source
	if source != store.GuardiansSFTP {
		return nil
	}
	s := &g.SFTP
	check := func(field string, edit func(*store.GuardiansSource, string)) func(string) error {
		return func(v string) error {
			try := *g
			edit(&try, strings.TrimSpace(v))
			var fe *store.FieldError
			if err := try.Validate(); errors.As(err, &fe) && fe.Field == field {
				return err
			}
			return nil
		}
	}
	port := ""
	if s.Port != 0 {
		port = strconv.Itoa(s.Port)
	}
	for _, f := range []struct {
		title, field string
		value        *string
		edit         func(*store.GuardiansSource, string)
	}{
		{"SFTP host name or IP address", "guardians.sftp.host", &s.Host, func(t *store.GuardiansSource, v string) { t.SFTP.Host = v }},
		{"SFTP port (22 when empty)", "guardians.sftp.port", &port, func(t *store.GuardiansSource, v string) {
			t.SFTP.Port, _ = strconv.Atoi(v)
			if _, err := strconv.Atoi(v); err != nil && v != "" {
				t.SFTP.Port = -1
			}
		}},
		{"SFTP user", "guardians.sftp.user", &s.User, func(t *store.GuardiansSource, v string) { t.SFTP.User = v }},
		{"Folder holding guardians.csv (the home folder when empty)", "guardians.sftp.folder", &s.Folder, func(t *store.GuardiansSource, v string) { t.SFTP.Folder = v }},
	} {
		if err := a.input(f.title, f.value, check(f.field, f.edit)); err != nil {
			return err
		}
		*f.value = strings.TrimSpace(*f.value)
	}
	s.Port, _ = strconv.Atoi(port)
	if err := a.confirm("Abandon: archive guardians from earlier files that the daily file no longer lists?", "", &g.Abandon); err != nil {
		return err
	}
	if s.Password == "" && s.PrivateKey == "" {
		a.say("No SFTP password or private key is stored: set one on the Guardians source screen or with config import before the daily sync can read the folder.")
		return nil
	}
	return a.pinHostKey(e)
}

// pinHostKey tests the folder and, when the server shows a key that is not
// pinned, reads it out whole and pins it only on a yes.
func (a *accessible) pinHostKey(e *screens.Edit) error {
	test := true
	if err := a.confirm("Test the SFTP connection now?", "", &test); err != nil || !test {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	dial := rsync.SFTPDialFunc(nil)
	if a.opts.Engine != nil {
		dial = a.opts.Engine.SFTPDial
	}
	r := rsync.TestSFTP(ctx, dial, e.Draft, "")
	if !r.Unpinned && !r.Mismatch {
		if r.OK {
			a.say("Connected to %s with the pinned host key.", r.Addr)
		} else {
			a.say("The test failed: %s", r.Error)
		}
		return nil
	}
	if r.Mismatch {
		a.say("Warning. The server %s now presents another host key than the pinned one; someone may be intercepting the connection.", r.Addr)
	}
	a.say("The server %s presents host key %s, type %s. Compare it with the fingerprint from the server's administrator.", r.Addr, r.HostKey, r.KeyType)
	pin := false
	if err := a.confirm("Pin this host key?", "", &pin); err != nil || !pin {
		return err
	}
	e.Draft.Guardians.SFTP.HostKey = r.HostKey
	e.Note(fmt.Sprintf("SFTP host key %s pinned after a connection test showed it, confirmed by the person", r.HostKey))
	return nil
}
