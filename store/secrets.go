package store

import (
	"bytes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	bolt "go.etcd.io/bbolt"
	"golang.org/x/crypto/chacha20poly1305"
)

// Secrets at rest: every secret a district holds (SecretFields) is stored
// sealed with XChaCha20-Poly1305 under a 32-byte key kept outside the
// database, so a copy of the database alone yields no secret. The key is
// loaded (or created, 0600) the first time a secret is sealed or opened.

// SecretsKeyEnv names the key file when Options.SecretsKey is empty.
const SecretsKeyEnv = "ROSTERSYNC_SECRETS_KEY"

// sealedPrefix starts every sealed value; the rest is the key's id and the
// base64 of nonce and ciphertext.
const sealedPrefix = "sealed:v1:"

// DefaultSecretsKeyPath is where the key lives when nobody names one:
// rostersync/secrets.key in the user's configuration directory.
func DefaultSecretsKeyPath() (string, error) {
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("no place for the secrets key (%v): name one with --secrets-key or %s", err, SecretsKeyEnv)
	}
	return filepath.Join(dir, "rostersync", "secrets.key"), nil
}

// SecretField is one secret of a district, by its key in the JSON contract.
type SecretField struct {
	Key   string
	Value *string
}

// SecretFields lists every secret d holds. A new secret (the guardians
// SFTP password or key, say) is added here and is then sealed at rest,
// masked in exports and checked for a lost key like the client secret.
func (d *District) SecretFields() []SecretField {
	return []SecretField{
		{"connection.client_secret", &d.Connection.ClientSecret},
		{"guardians.sftp.password", &d.Guardians.SFTP.Password},
		{"guardians.sftp.private_key", &d.Guardians.SFTP.PrivateKey},
	}
}

// IsSealed reports whether s is still sealed in memory: the store could not
// open it (a lost or different key), so it must be entered again.
func IsSealed(s string) bool { return strings.HasPrefix(s, sealedPrefix) }

// SecretError says a stored secret cannot be decrypted with this process's
// key: the district and the field to enter again.
type SecretError struct {
	TenantID int64
	Field    string // e.g. connection.client_secret
	KeyID    string // the key it was sealed with
}

func (e *SecretError) Error() string {
	return fmt.Sprintf("district %d: the stored %s cannot be decrypted with this rostersync's secrets key (it was sealed with key %s; the key file was lost or another one is in use, see --secrets-key or %s): restore that key file, or enter the %s again (%s, or config import)",
		e.TenantID, e.Field, e.KeyID, SecretsKeyEnv, secretLabel(e.Field), secretScreen(e.Field))
}

func secretLabel(field string) string {
	switch field {
	case "connection.client_secret":
		return "client secret"
	case "guardians.sftp.password":
		return "SFTP password"
	case "guardians.sftp.private_key":
		return "SFTP private key"
	}
	return field
}

// secretScreen is where in the wizard a secret is entered.
func secretScreen(field string) string {
	if strings.HasPrefix(field, "guardians.") {
		return "wizard SIS Rostering → Guardians source"
	}
	return "wizard ⋮ → ClassLink connection"
}

// SecretProblem is a *SecretError for the first secret of d that could not
// be decrypted, nil when every secret is readable.
func (d District) SecretProblem() error { return d.SecretProblemOf("") }

// SecretProblemOf is SecretProblem for the secrets whose key starts with
// prefix ("connection." for ClassLink, "guardians." for the SFTP folder),
// so a lost SFTP password does not stop the roster sync.
func (d District) SecretProblemOf(prefix string) error {
	for _, f := range d.SecretFields() {
		if strings.HasPrefix(f.Key, prefix) && IsSealed(*f.Value) {
			return &SecretError{TenantID: d.TenantID, Field: f.Key, KeyID: sealedKeyID(*f.Value)}
		}
	}
	return nil
}

func sealedKeyID(s string) string {
	id, _, _ := strings.Cut(strings.TrimPrefix(s, sealedPrefix), ":")
	return id
}

// secretBox seals and opens secrets with the key at path, loaded on first
// use.
type secretBox struct {
	path string // "" when no key was named: Options, then the environment, then the default
	// readOnly never creates the key: a read-only open (a copy, a
	// read-only mount) without it keeps secrets sealed.
	readOnly bool

	mu   sync.Mutex
	aead cipher.AEAD
	id   string
}

func (b *secretBox) load() (cipher.AEAD, string, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.aead != nil {
		return b.aead, b.id, nil
	}
	path := b.path
	if path == "" {
		path = os.Getenv(SecretsKeyEnv)
	}
	if path == "" {
		if testing.Testing() {
			// Tests must never touch the person's real configuration.
			return nil, "", fmt.Errorf("secrets key: a test stored a secret without naming a key file: set %s (for example in TestMain) or Options.SecretsKey", SecretsKeyEnv)
		}
		var err error
		if path, err = DefaultSecretsKeyPath(); err != nil {
			return nil, "", err
		}
	}
	load := loadOrCreateKey
	if b.readOnly {
		load = readKey
	}
	key, err := load(path)
	if err != nil {
		return nil, "", err
	}
	aead, err := chacha20poly1305.NewX(key)
	if err != nil {
		return nil, "", err
	}
	sum := sha256.Sum256(append([]byte("rostersync secrets key id\x00"), key...))
	b.aead, b.id = aead, hex.EncodeToString(sum[:4])
	return b.aead, b.id, nil
}

// loadOrCreateKey reads the key file, or creates it (0600, its folder 0700
// if missing; an existing folder is left as it is).
func loadOrCreateKey(path string) ([]byte, error) {
	key, err := readKey(path)
	if !errors.Is(err, fs.ErrNotExist) {
		return key, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("secrets key %s: %w", path, err)
	}
	key = make([]byte, chacha20poly1305.KeySize)
	if _, err := rand.Read(key); err != nil {
		return nil, err
	}
	// Written whole to a temporary file, then linked into place: a crash
	// leaves no half key, and two processes creating it at once agree.
	tmp, err := os.CreateTemp(filepath.Dir(path), ".secrets-key-*")
	if err != nil {
		return nil, fmt.Errorf("secrets key %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	_, err = tmp.WriteString(hex.EncodeToString(key) + "\n")
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("secrets key %s: %w", path, err)
	}
	if err := os.Link(tmp.Name(), path); errors.Is(err, fs.ErrExist) {
		return readKey(path) // someone else made it first
	} else if err != nil {
		return nil, fmt.Errorf("secrets key %s: %w", path, err)
	}
	return key, nil
}

func readKey(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		return nil, fmt.Errorf("secrets key %s: %w", path, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("secrets key %s: %w", path, err)
	}
	if st.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("secrets key %s can be read by other accounts (mode %04o): run chmod 600 %s", path, st.Mode().Perm(), path)
	}
	raw := make([]byte, 200)
	n, _ := f.Read(raw)
	key, err := hex.DecodeString(strings.TrimSpace(string(raw[:n])))
	if err != nil || len(key) != chacha20poly1305.KeySize {
		return nil, fmt.Errorf("secrets key %s is not a rostersync secrets key (64 hexadecimal digits)", path)
	}
	return key, nil
}

// seal encrypts plain for scope (which tenant and field it belongs to, so a
// sealed value moved elsewhere does not open). Empty and already sealed
// values are kept as they are.
func (b *secretBox) seal(plain, scope string) (string, error) {
	if plain == "" || IsSealed(plain) {
		return plain, nil
	}
	aead, id, err := b.load()
	if err != nil {
		return "", err
	}
	nonce := make([]byte, aead.NonceSize(), aead.NonceSize()+len(plain)+aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return "", err
	}
	out := aead.Seal(nonce, nonce, []byte(plain), []byte(scope))
	return sealedPrefix + id + ":" + base64.RawURLEncoding.EncodeToString(out), nil
}

// open decrypts a sealed value; a plain one (written before secrets were
// sealed) is returned as it is. A value this key cannot open stays sealed
// and ok is false.
func (b *secretBox) open(s, scope string) (plain string, ok bool, err error) {
	if !IsSealed(s) {
		return s, true, nil
	}
	aead, _, err := b.load()
	if b.readOnly && errors.Is(err, fs.ErrNotExist) {
		return s, false, nil
	}
	if err != nil {
		return "", false, err
	}
	_, enc, _ := strings.Cut(strings.TrimPrefix(s, sealedPrefix), ":")
	raw, err := base64.RawURLEncoding.DecodeString(enc)
	if err != nil || len(raw) < aead.NonceSize() {
		return s, false, nil
	}
	out, err := aead.Open(nil, raw[:aead.NonceSize()], raw[aead.NonceSize():], []byte(scope))
	if err != nil {
		return s, false, nil
	}
	return string(out), true, nil
}

func secretScope(tenantID int64, field string) string {
	return "rostersync/" + strconv.FormatInt(tenantID, 10) + "/" + field
}

// sealDistrict is d as stored: every secret sealed.
func (db *DB) sealDistrict(d District) (District, error) {
	for _, f := range d.SecretFields() {
		s, err := db.secrets.seal(*f.Value, secretScope(d.TenantID, f.Key))
		if err != nil {
			return d, err
		}
		*f.Value = s
	}
	return d, nil
}

// openDistrict is d as read: every secret the key opens in plain text; one
// it cannot open stays sealed (SecretProblem names it).
func (db *DB) openDistrict(d District) (District, error) {
	for _, f := range d.SecretFields() {
		s, _, err := db.secrets.open(*f.Value, secretScope(d.TenantID, f.Key))
		if err != nil {
			return d, err
		}
		*f.Value = s
	}
	return d, nil
}

// SealSecret encrypts a secret kept outside a district record; scope names
// what it is (it must be given again to OpenSecret). Empty stays empty.
func (db *DB) SealSecret(scope, plain string) (string, error) {
	return db.secrets.seal(plain, "rostersync/"+scope)
}

// OpenSecret decrypts what SealSecret made. A value this key cannot open is
// an error naming scope.
func (db *DB) OpenSecret(scope, sealed string) (string, error) {
	s, ok, err := db.secrets.open(sealed, "rostersync/"+scope)
	if err != nil {
		return "", err
	}
	if !ok {
		return "", fmt.Errorf("the stored %s cannot be decrypted with this rostersync's secrets key (key %s sealed it; see --secrets-key or %s): restore that key file, or enter it again", scope, sealedKeyID(sealed), SecretsKeyEnv)
	}
	return s, nil
}

// Districts and drafts hold secrets: they are read and written only
// through these, so nothing reaches the file unsealed.

func (db *DB) getDistrict(b *bolt.Bucket, key []byte) (District, bool, error) {
	raw := b.Get(key)
	if raw == nil {
		return District{}, false, nil
	}
	d, err := db.decodeDistrict(raw)
	return d, err == nil, err
}

func (db *DB) decodeDistrict(raw []byte) (District, error) {
	var d District
	if err := json.Unmarshal(raw, &d); err != nil {
		return d, err
	}
	return db.openDistrict(d)
}

func (db *DB) putDistrict(b *bolt.Bucket, d District) error {
	sealed, err := db.sealDistrict(d)
	if err != nil {
		return err
	}
	return putJSON(b, tenantKey(d.TenantID), sealed)
}

func (db *DB) decodeDraft(raw []byte) (Draft, error) {
	var d Draft
	err := json.Unmarshal(raw, &d)
	if err == nil {
		d.Base, err = db.openDistrict(d.Base)
	}
	if err == nil {
		d.District, err = db.openDistrict(d.District)
	}
	return d, err
}

func (db *DB) putDraft(b *bolt.Bucket, d Draft) error {
	var err error
	if d.Base, err = db.sealDistrict(d.Base); err != nil {
		return err
	}
	if d.District, err = db.sealDistrict(d.District); err != nil {
		return err
	}
	return putJSON(b, draftKey(d.User, d.TenantID), d)
}

// sealPlainSecrets is the schema 1 → 2 step: secrets written in plain text
// by older versions are sealed in place.
func (db *DB) sealPlainSecrets(tx *bolt.Tx) error {
	type record struct{ k, v []byte }
	collect := func(b *bolt.Bucket) []record {
		var out []record
		b.ForEach(func(k, v []byte) error {
			out = append(out, record{bytes.Clone(k), bytes.Clone(v)})
			return nil
		})
		return out
	}
	districts := tx.Bucket(bucketDistricts)
	for _, r := range collect(districts) {
		d, err := db.decodeDistrict(r.v)
		if err != nil {
			return fmt.Errorf("seal the stored secrets: %w", err)
		}
		if err := db.putDistrict(districts, d); err != nil {
			return fmt.Errorf("seal the stored secrets of district %d: %w", d.TenantID, err)
		}
		db.sealedPlain = db.sealedPlain || hasPlainSecret(d)
	}
	drafts := tx.Bucket(bucketDrafts)
	for _, r := range collect(drafts) {
		d, err := db.decodeDraft(r.v)
		if err != nil {
			return fmt.Errorf("seal the stored secrets: %w", err)
		}
		sealed := d
		if sealed.Base, err = db.sealDistrict(d.Base); err == nil {
			sealed.District, err = db.sealDistrict(d.District)
		}
		if err != nil {
			return fmt.Errorf("seal the stored secrets of a draft of district %d: %w", d.TenantID, err)
		}
		if err := putJSON(drafts, r.k, sealed); err != nil {
			return err
		}
		db.sealedPlain = db.sealedPlain || hasPlainSecret(d.Base) || hasPlainSecret(d.District)
	}
	return nil
}

func hasPlainSecret(d District) bool {
	for _, f := range d.SecretFields() {
		if *f.Value != "" && !IsSealed(*f.Value) {
			return true
		}
	}
	return false
}

// rewriteClean copies the database into a fresh file and puts it in place
// of the old one: bbolt leaves overwritten values in its free pages, and the
// plain secrets the migration just sealed must not stay readable there.
func (db *DB) rewriteClean(opt *bolt.Options) error {
	tmp := db.path + ".sealing"
	os.Remove(tmp)
	dst, err := openBolt(tmp, &bolt.Options{Timeout: opt.Timeout})
	if err != nil {
		return fmt.Errorf("rewrite %s without its plain secrets: %w", db.path, err)
	}
	err = db.compactInto(dst)
	if cerr := dst.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, db.path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("rewrite %s without its plain secrets: %w", db.path, err)
	}
	if dir, err := os.Open(filepath.Dir(db.path)); err == nil {
		dir.Sync()
		dir.Close()
	}
	db.bolt.Close()
	b, err := openBolt(db.path, opt)
	if err != nil {
		return err
	}
	db.bolt = b
	return nil
}
