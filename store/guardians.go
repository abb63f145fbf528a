package store

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"strings"

	"golang.org/x/crypto/ssh"

	"github.com/schoolstatus/rostersync/untrusted"
)

// Where guardians come from when Manage Guardians is off (DESIGN §5:
// guardians.source).
const (
	GuardiansNone   = "none"
	GuardiansUpload = "upload"
	GuardiansSFTP   = "sftp"
)

// Encodings a guardians file may be read in; "" is UTF-8 (with ASCII).
const (
	EncodingUTF8     = "utf-8"
	EncodingISO88591 = "iso-8859-1"
)

// GuardiansSource is the Guardians source setting of SIS Rostering: none,
// uploads (Upload Guardians / `guardians upload`), or the automated SFTP
// folder the daily sync reads guardians.csv from.
type GuardiansSource struct {
	Source string `json:"source"`
	// Encoding is "" (UTF-8 or ASCII) or "iso-8859-1", by arrangement only.
	Encoding string `json:"encoding,omitempty"`
	// Abandon applies to the daily SFTP file: guardians created from
	// earlier files that it no longer lists are archived (under the
	// deletion threshold), as an upload with Abandon does.
	Abandon bool       `json:"abandon"`
	SFTP    SFTPFolder `json:"sftp"`
}

// SFTPFolder is the district's SFTP folder. Password and PrivateKey are
// secrets like the client secret: masked on export and in every view,
// kept when "********" is imported, never logged.
type SFTPFolder struct {
	Host string `json:"host"`
	Port int    `json:"port"`
	User string `json:"user"`
	// Password and/or PrivateKey (the key's text in OpenSSH format, not a
	// path, without a passphrase).
	Password   string `json:"password"`
	PrivateKey string `json:"private_key"`
	// Folder holds guardians.csv; "" is the account's home folder.
	Folder string `json:"folder"`
	// HostKey is the server's pinned host key, the "SHA256:…" fingerprint
	// `ssh-keygen -lf` prints; pinned only after a person confirms it.
	HostKey string `json:"host_key"`
}

// SourceOrNone is the source with "" read as none.
func (g GuardiansSource) SourceOrNone() string {
	if g.Source == "" {
		return GuardiansNone
	}
	return g.Source
}

// Masked returns a copy safe to show or print.
func (g GuardiansSource) Masked() GuardiansSource {
	if g.SFTP.Password != "" {
		g.SFTP.Password = SecretMask
	}
	if g.SFTP.PrivateKey != "" {
		g.SFTP.PrivateKey = SecretMask
	}
	return g
}

// CheckPinned is the rule for saving an SFTP guardians source: the
// server's host key is pinned, so the daily sync never signs in to a
// server whose key no person compared. Every save applies it (the wizard,
// the accessible prompts, config import) when the folder changes; the
// screens ask it before Review.
func (g GuardiansSource) CheckPinned() error {
	if g.Source != GuardiansSFTP || g.SFTP.HostKey != "" {
		return nil
	}
	return fieldErr("guardians.sftp.host_key", "is required for an SFTP folder: test the connection, compare the key it shows with the fingerprint from the server's administrator, and pin it (Guardians source: enter on Host key tests, y pins), or give host_key in config import as \"SHA256:…\" (ssh-keygen -lf prints it)")
}

// CheckPinnedSince is CheckPinned when g reads another SFTP folder, or
// trusts another key there, than prev: what every save asks (a district
// saved before the rule keeps its folder until the folder or its key
// changes), and the Guardians source screen before Review.
func (g GuardiansSource) CheckPinnedSince(prev GuardiansSource) error {
	if g.sftpTarget() == prev.sftpTarget() {
		return nil
	}
	return g.CheckPinned()
}

// sftpTarget is the server a source signs in to and the key it trusts
// there ("" when it reads no SFTP folder).
func (g GuardiansSource) sftpTarget() string {
	if g.Source != GuardiansSFTP {
		return ""
	}
	return fmt.Sprintf("%s|%d|%s|%s", g.SFTP.Host, g.SFTP.Port, g.SFTP.User, g.SFTP.HostKey)
}

// keepSecrets is KeepStoredSecrets for an imported file, whose "********"
// is refused where no secret is stored.
func (g GuardiansSource) keepSecrets(stored GuardiansSource, tenantID int64) (GuardiansSource, error) {
	if g.SFTP.Password == SecretMask && stored.SFTP.Password == "" {
		return g, maskWithoutSecret("guardians.sftp.password", "SFTP password", tenantID)
	}
	if g.SFTP.PrivateKey == SecretMask && stored.SFTP.PrivateKey == "" {
		return g, maskWithoutSecret("guardians.sftp.private_key", "SFTP private key", tenantID)
	}
	return g.KeepStoredSecrets(stored, SecretMask)
}

// SameAccount reports whether t signs in where s does: the same host (in
// any case), port (0 is 22) and user.
func (s SFTPFolder) SameAccount(t SFTPFolder) bool {
	return s.changedAccount(t) == ""
}

func sftpPort(p int) int {
	if p == 0 {
		return 22
	}
	return p
}

// changedAccount names what of host, port and user t changed from s.
func (s SFTPFolder) changedAccount(t SFTPFolder) string {
	var out []string
	if !strings.EqualFold(strings.TrimSuffix(s.Host, "."), strings.TrimSuffix(t.Host, ".")) {
		out = append(out, "guardians.sftp.host")
	}
	if sftpPort(s.Port) != sftpPort(t.Port) {
		out = append(out, "guardians.sftp.port")
	}
	if s.User != t.User {
		out = append(out, "guardians.sftp.user")
	}
	return strings.Join(out, " and ")
}

// KeepStoredSecrets is the one rule for keeping a stored SFTP password or
// private key, which the Guardians source screen, accessible mode, config
// import and the connection test all apply: a secret of g equal to keep
// ("" in a form field, "********" in an imported file) stands for the
// stored one, and the stored one is kept only while g signs in at the
// host, port and user it was stored for. A secret typed for one server is
// never sent to another that someone typed later. So when the account
// changed, an imported "********" is refused, and an empty form field is
// no secret: g then needs a password or a private key entered again
// (a *FieldError naming the field and why otherwise).
func (g GuardiansSource) KeepStoredSecrets(stored GuardiansSource, keep string) (GuardiansSource, error) {
	same := g.SFTP.SameAccount(stored.SFTP)
	var dropped []string
	for _, f := range []struct {
		field, name   string
		value, stored *string
	}{
		{"guardians.sftp.password", "password", &g.SFTP.Password, &stored.SFTP.Password},
		{"guardians.sftp.private_key", "private key", &g.SFTP.PrivateKey, &stored.SFTP.PrivateKey},
	} {
		if *f.value != keep {
			continue
		}
		switch {
		case same || *f.stored == "":
			*f.value = *f.stored
		case keep != "":
			return g, fieldErr(f.field, "%q keeps the stored %s only for the host, port and user it was stored for, and %s changed: put the %s for the new server in the file (a stored secret is never sent to another server)",
				keep, f.name, stored.SFTP.changedAccount(g.SFTP), f.name)
		default:
			*f.value = ""
			dropped = append(dropped, f.field)
		}
	}
	if len(dropped) > 0 && g.SFTP.Password == "" && g.SFTP.PrivateKey == "" {
		name := map[string]string{"guardians.sftp.password": "password", "guardians.sftp.private_key": "private key"}[dropped[0]]
		return g, fieldErr(dropped[0], "enter the %s again: %s changed, and a stored secret is sent only to the host, port and user it was stored for",
			name, stored.SFTP.changedAccount(g.SFTP))
	}
	return g, nil
}

// Validate checks the source, the encoding and, when the source is sftp,
// everything a connection needs. SFTP settings kept while another source is
// chosen are checked for shape only. No message quotes a secret.
func (g GuardiansSource) Validate() error {
	switch g.Source {
	case "", GuardiansNone, GuardiansUpload, GuardiansSFTP:
	default:
		return fieldErr("guardians.source", "must be %q, %q or %q, got %s", GuardiansNone, GuardiansUpload, GuardiansSFTP, untrusted.Quote(g.Source))
	}
	switch g.Encoding {
	case "", EncodingUTF8, EncodingISO88591:
	default:
		return fieldErr("guardians.encoding", "must be %q or %q, got %s", EncodingUTF8, EncodingISO88591, untrusted.Quote(g.Encoding))
	}
	return g.SFTP.validate(g.Source == GuardiansSFTP)
}

// Limits on the SFTP settings (README: "Guardians from a guardians.csv").
const (
	MaxHostLength       = 253 // a DNS name
	MaxSFTPFolderLength = 1024
	MaxPrivateKeyLength = 16 << 10 // an RSA 4096 key in OpenSSH format is about 3.4 KiB
)

func (s SFTPFolder) validate(required bool) error {
	if !required && s == (SFTPFolder{}) {
		return nil
	}
	switch host := s.Host; {
	case host == "":
		if required {
			return fieldErr("guardians.sftp.host", "is required: the SFTP server's host name or IP address")
		}
	case strings.TrimSpace(host) != host || strings.ContainsAny(host, " /@[]\\") || strings.Contains(host, ":") && net.ParseIP(host) == nil:
		return fieldErr("guardians.sftp.host", "must be a host name or IP address without scheme, user, port or path, got %s", untrusted.Quote(host))
	default:
		if err := checkText("guardians.sftp.host", host, MaxHostLength); err != nil {
			return err
		}
	}
	if s.Port < 0 || s.Port > 65535 {
		return fieldErr("guardians.sftp.port", "must be from 1 to 65535 (0 means 22), got %d", s.Port)
	}
	if required && strings.TrimSpace(s.User) == "" {
		return fieldErr("guardians.sftp.user", "is required")
	}
	if err := checkText("guardians.sftp.user", s.User, MaxClientIDLength); err != nil {
		return err
	}
	if required && s.Password == "" && s.PrivateKey == "" {
		return fieldErr("guardians.sftp.password", "a password or a private_key is required")
	}
	// A sealed secret this key cannot open is SecretProblem's to report.
	if !IsSealed(s.Password) && (untrusted.CheckLine(s.Password) != nil || untrusted.CheckLength(s.Password, MaxSecretLength) != nil) {
		return fieldErr("guardians.sftp.password", "must be one line of printable text of at most %d characters", MaxSecretLength)
	}
	if s.PrivateKey != "" && !IsSealed(s.PrivateKey) {
		if len(s.PrivateKey) > MaxPrivateKeyLength {
			return fieldErr("guardians.sftp.private_key", "is %d bytes; a private key is at most %d", len(s.PrivateKey), MaxPrivateKeyLength)
		}
		if _, err := SFTPSigner(s.PrivateKey); err != nil {
			return err
		}
	}
	if err := checkText("guardians.sftp.folder", s.Folder, MaxSFTPFolderLength); err != nil {
		return err
	}
	if s.HostKey != "" {
		if err := ValidateHostKey(s.HostKey); err != nil {
			return err
		}
	}
	return nil
}

// SFTPSigner parses guardians.sftp.private_key. The daily sync runs
// unattended, so a key protected by a passphrase is refused.
func SFTPSigner(key string) (ssh.Signer, error) {
	s, err := ssh.ParsePrivateKey([]byte(key))
	var pass *ssh.PassphraseMissingError
	switch {
	case errors.As(err, &pass):
		return nil, fieldErr("guardians.sftp.private_key", "is protected by a passphrase; the daily sync cannot type one: use a key without a passphrase for this account")
	case err != nil:
		return nil, fieldErr("guardians.sftp.private_key", "is not a private key in OpenSSH or PEM format (paste the key's text, not its path)")
	}
	return s, nil
}

// ValidateHostKey checks a host key fingerprint as `ssh-keygen -lf`
// prints it: "SHA256:" and 43 base64 characters.
func ValidateHostKey(fp string) error {
	b64, ok := strings.CutPrefix(fp, "SHA256:")
	raw, err := base64.RawStdEncoding.DecodeString(b64)
	if !ok || err != nil || len(raw) != 32 {
		return fieldErr("guardians.sftp.host_key", "must be a SHA256 fingerprint as ssh-keygen -lf prints it (SHA256: and 43 base64 characters), got %s", untrusted.Quote(fp))
	}
	return nil
}

func parseGuardians(raw json.RawMessage) (GuardiansSource, error) {
	var g GuardiansSource
	m, err := object(raw, "guardians", []string{"source", "encoding", "abandon", "sftp"}, []string{"source"})
	if err != nil {
		return g, err
	}
	if err := decodeField(m, "source", "guardians.", &g.Source); err != nil {
		return g, err
	}
	if err := decodeField(m, "encoding", "guardians.", &g.Encoding); err != nil {
		return g, err
	}
	if err := decodeField(m, "abandon", "guardians.", &g.Abandon); err != nil {
		return g, err
	}
	if raw, ok := m["sftp"]; ok {
		keys := []string{"host", "port", "user", "password", "private_key", "folder", "host_key"}
		s, err := object(raw, "guardians.sftp", keys, nil)
		if err != nil {
			return g, err
		}
		for _, f := range []struct {
			key string
			dst any
		}{
			{"host", &g.SFTP.Host}, {"port", &g.SFTP.Port}, {"user", &g.SFTP.User}, {"password", &g.SFTP.Password},
			{"private_key", &g.SFTP.PrivateKey}, {"folder", &g.SFTP.Folder}, {"host_key", &g.SFTP.HostKey},
		} {
			if err := decodeField(s, f.key, "guardians.sftp.", f.dst); err != nil {
				return g, err
			}
		}
	}
	if g.Source == "" {
		return g, fieldErr("guardians.source", "must be %q, %q or %q", GuardiansNone, GuardiansUpload, GuardiansSFTP)
	}
	// A masked private key stands for the stored one: ApplyTo checks it
	// once it is put back.
	check := g
	if check.SFTP.PrivateKey == SecretMask {
		check.SFTP.PrivateKey, check.SFTP.Password = "", SecretMask
	}
	return g, check.Validate()
}

// guardiansChanges lists what a save changes in the guardians settings,
// secrets masked.
func guardiansChanges(a, b GuardiansSource) []Change {
	var out []Change
	add := func(field, from, to string) {
		if from != to {
			out = append(out, Change{Field: field, From: from, To: to})
		}
	}
	secret := func(field, from, to string) {
		if from != to {
			out = append(out, Change{Field: field, From: maskText(from), To: maskText(to) + " (changed)"})
		}
	}
	add("guardians.source", a.SourceOrNone(), b.SourceOrNone())
	add("guardians.encoding", orDefault(a.Encoding, EncodingUTF8), orDefault(b.Encoding, EncodingUTF8))
	add("guardians.abandon", onOff(a.Abandon), onOff(b.Abandon))
	x, y := a.SFTP, b.SFTP
	add("guardians.sftp.host", x.Host, y.Host)
	add("guardians.sftp.port", fmt.Sprint(x.Port), fmt.Sprint(y.Port))
	add("guardians.sftp.user", x.User, y.User)
	secret("guardians.sftp.password", x.Password, y.Password)
	secret("guardians.sftp.private_key", x.PrivateKey, y.PrivateKey)
	add("guardians.sftp.folder", x.Folder, y.Folder)
	add("guardians.sftp.host_key", x.HostKey, y.HostKey)
	return out
}

func maskText(s string) string {
	if s == "" {
		return ""
	}
	return SecretMask
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// rebaseGuardians takes every guardians field mine changed from base.
func rebaseGuardians(out *GuardiansSource, mine, base GuardiansSource) {
	for _, f := range []struct{ out, mine, base *string }{
		{&out.Source, &mine.Source, &base.Source}, {&out.Encoding, &mine.Encoding, &base.Encoding},
		{&out.SFTP.Host, &mine.SFTP.Host, &base.SFTP.Host}, {&out.SFTP.User, &mine.SFTP.User, &base.SFTP.User},
		{&out.SFTP.Password, &mine.SFTP.Password, &base.SFTP.Password}, {&out.SFTP.PrivateKey, &mine.SFTP.PrivateKey, &base.SFTP.PrivateKey},
		{&out.SFTP.Folder, &mine.SFTP.Folder, &base.SFTP.Folder}, {&out.SFTP.HostKey, &mine.SFTP.HostKey, &base.SFTP.HostKey},
	} {
		if *f.mine != *f.base {
			*f.out = *f.mine
		}
	}
	if mine.Abandon != base.Abandon {
		out.Abandon = mine.Abandon
	}
	if mine.SFTP.Port != base.SFTP.Port {
		out.SFTP.Port = mine.SFTP.Port
	}
}
