package wizard

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/schoolstatus/rostersync/screens"
	"github.com/schoolstatus/rostersync/store"
	rsync "github.com/schoolstatus/rostersync/sync"
)

// guardians is SIS Rostering → Guardians source as prompts, asked only
// while Manage Guardians is off: the source, the SFTP folder's settings
// and its host key, pinned only when the person confirms the key a test
// showed. The password and the private key are read as the client
// secret is: never shown.
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
	source, err := a.chooseValue("Guardians source", []string{store.GuardiansNone, store.GuardiansUpload, store.GuardiansSFTP},
		[]string{"None", "Uploads of guardians.csv", "An SFTP folder read by the daily sync"}, g.SourceOrNone())
	if err != nil {
		return err
	}
	g.Source = source
	if source == store.GuardiansNone {
		return nil
	}
	g.Encoding, err = a.chooseValue("Encoding of guardians.csv", []string{"", store.EncodingISO88591}, []string{"UTF-8 (or plain ASCII)", "ISO-8859-1 (Latin-1)"}, g.Encoding)
	if err != nil {
		return err
	}
	if source != store.GuardiansSFTP {
		return nil
	}
	s := &g.SFTP
	check := func(field string, edit func(*store.GuardiansSource, string)) func(string) error {
		return func(v string) error {
			try := *g
			edit(&try, strings.TrimSpace(v))
			return fieldProblem(try, field)
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
			var err error
			if t.SFTP.Port, err = strconv.Atoi(v); err != nil && v != "" {
				t.SFTP.Port = -1 // not a number: out of the store's range
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
	if err := a.sftpSecrets(e); err != nil {
		return err
	}
	if err := a.pinHostKey(e); err != nil {
		return err
	}
	if err := g.CheckPinnedSince(e.Saved.Guardians); err != nil { // as the save will
		a.say("Not pinned: the host key %s.", screens.ErrText(err))
	}
	return nil
}

// sftpSecrets asks for the SFTP account's password and private key, one
// of them at least, as the Guardians source screen does; enter keeps a
// stored one only while host, port and user are the stored ones (store's
// KeepStoredSecrets).
func (a *accessible) sftpSecrets(e *screens.Edit) error {
	s := &e.Draft.Guardians.SFTP
	saved := e.Saved.Guardians
	same := s.SameAccount(saved.SFTP)
	// A secret the draft holds as stored is the form's "keep" (empty).
	stored := map[string]bool{}
	for _, f := range []struct {
		name          string
		value, stored *string
	}{{"password", &s.Password, &saved.SFTP.Password}, {"private key", &s.PrivateKey, &saved.SFTP.PrivateKey}} {
		if *f.stored != "" && *f.value == *f.stored {
			*f.value, stored[f.name] = "", true
		}
	}
	a.say("The SFTP account signs in with a password, a private key, or both. Neither is ever shown.")
	if !same && (stored["password"] || stored["private key"]) {
		a.say("The stored password and key are sent only to the host, port and user they were stored for, and those changed: type them again for the new server.")
	}
	hint := func(name, value string) string {
		switch {
		case stored[name] && same:
			return "enter keeps the stored one"
		case value != "":
			return "enter keeps the one typed"
		}
		return "enter for none"
	}
	for {
		pw, err := a.secret("SFTP password (never shown; "+hint("password", s.Password)+")", func(v string) error { return checkSFTPSecret("guardians.sftp.password", *s, v) })
		if err != nil {
			return err
		}
		if pw != "" {
			s.Password = pw
		}
		key, err := a.privateKey("SFTP private key: paste the key's text, which ends at its -----END line ("+hint("private key", s.PrivateKey)+")", *s)
		if err != nil {
			return err
		}
		if key != "" {
			s.PrivateKey = key
		}
		g, err := e.Draft.Guardians.KeepStoredSecrets(saved, "")
		if err == nil {
			err = screens.SFTPSecretsProblem(g.SFTP)
		}
		if err == nil {
			err = g.Validate() // the save's rule: a password or a private key
		}
		if err == nil {
			e.Draft.Guardians = g
			return nil
		}
		a.say("%s.", err)
	}
}

// privateKey reads a pasted private key line by line up to its -----END
// line, and asks again while the key is refused. "" is no answer.
func (a *accessible) privateKey(title string, s store.SFTPFolder) (string, error) {
	for {
		first, err := a.secret(title, nil)
		if err != nil || strings.TrimSpace(first) == "" {
			return "", err
		}
		lines := []string{strings.TrimSpace(first)}
		size := len(first)
		for strings.HasPrefix(lines[0], "-----BEGIN") && !strings.HasPrefix(lines[len(lines)-1], "-----END") && size <= store.MaxPrivateKeyLength {
			next, err := a.secret("More of the key:", nil)
			if err != nil {
				return "", err
			}
			lines, size = append(lines, strings.TrimSpace(next)), size+len(next)+1
		}
		key := strings.Join(lines, "\n") + "\n"
		if err := checkSFTPSecret("guardians.sftp.private_key", s, key); err != nil {
			a.say("%s.", err)
			continue
		}
		return key, nil
	}
}

// checkSFTPSecret is the store's rule for one SFTP secret, v, alone: an
// empty v is no answer.
func checkSFTPSecret(field string, s store.SFTPFolder, v string) error {
	if v == "" {
		return nil
	}
	try := store.GuardiansSource{Source: store.GuardiansSFTP, SFTP: s}
	if field == "guardians.sftp.password" {
		try.SFTP.Password = v
	} else {
		try.SFTP.PrivateKey = v
	}
	return fieldProblem(try, field)
}

// fieldProblem is what store's Validate says of g's field, nil when its
// only complaints are about other fields (not asked for yet).
func fieldProblem(g store.GuardiansSource, field string) error {
	var fe *store.FieldError
	if err := g.Validate(); errors.As(err, &fe) && fe.Field == field {
		return err
	}
	return nil
}

// pinHostKey tests the folder and, when the server shows a key that is not
// pinned, reads it out whole and pins it only on a yes.
func (a *accessible) pinHostKey(e *screens.Edit) error {
	test := true
	if err := a.confirm("Test the SFTP connection now?", "", &test); err != nil || !test {
		return err
	}
	octx, done, err := a.outbound.begin(a.ctx, outTest, nil)
	if err != nil {
		a.say("No test: %s.", err)
		return nil
	}
	defer done()
	ctx, cancel := context.WithTimeout(octx, time.Minute)
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
