package store

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/schoolstatus/rostersync/untrusted"
)

// Config is a district's configuration in the JSON contract of DESIGN.md §5,
// as printed by `config show --json` and `config export` and read by
// `config import`.
type Config struct {
	TenantID      int64               `json:"tenant_id"`
	ApplicationID int64               `json:"application_id"`
	Name          string              `json:"name"`
	Revision      int64               `json:"revision"`
	Settings      Settings            `json:"settings"`
	Permissions   map[string][]string `json:"permissions"`
	Connection    Connection          `json:"connection"`
	Schools       []string            `json:"schools"`
	Guardians     GuardiansSource     `json:"guardians"`
}

// ExportConfig renders d in the contract; the client secret is masked unless
// includeSecrets is set.
func ExportConfig(d District, includeSecrets bool) Config {
	c := Config{
		TenantID:      d.TenantID,
		ApplicationID: d.ApplicationID,
		Name:          d.Name,
		Revision:      d.Revision,
		Settings:      d.Settings,
		Permissions:   map[string][]string{},
		Connection:    d.Connection,
		Schools:       slices.Clone(d.Schools),
		Guardians:     d.Guardians,
	}
	c.Guardians.Source = c.Guardians.SourceOrNone()
	if c.Schools == nil {
		c.Schools = []string{}
	}
	if !includeSecrets {
		c.Connection = c.Connection.Masked()
		c.Guardians = c.Guardians.Masked()
	}
	for _, g := range RoleGroups {
		keys := []string{}
		for _, p := range d.Permissions.Granted(g) {
			keys = append(keys, p.Key())
		}
		c.Permissions[g.Key()] = keys
	}
	return c
}

// MarshalIndent is the contract's printed form.
func (c Config) MarshalIndent() []byte {
	raw, _ := json.MarshalIndent(c, "", "  ")
	return append(raw, '\n')
}

// ConfigImport is a parsed, fully validated import file. Optional parts left
// out of the file keep the stored value.
type ConfigImport struct {
	TenantID      int64
	ApplicationID int64 // 0 when absent
	// Revision is the revision the file was exported at, 0 when absent.
	Revision    int64
	Name        string
	Settings    Settings
	Permissions Permissions
	Connection  *Connection      // nil: keep the stored connection
	Schools     []string         // nil: keep the stored schools
	Guardians   *GuardiansSource // nil: keep the stored guardians source
}

// ParseConfig reads an import file strictly: unknown keys, wrong types,
// unknown role groups or permissions, an out-of-range threshold, a bad time
// zone or a non-https URL are refused with a *FieldError naming the key.
func ParseConfig(data []byte) (ConfigImport, error) {
	var ci ConfigImport
	if len(data) > MaxImportBytes {
		return ci, fieldErr("(file)", "is larger than an import file may be: at most %d MiB (%d bytes)", MaxImportBytes>>20, MaxImportBytes)
	}
	if err := checkDuplicateKeys(data); err != nil {
		return ci, err
	}
	top, err := object(data, "", []string{"tenant_id", "application_id", "name", "revision", "settings", "permissions", "connection", "schools", "guardians"}, []string{"tenant_id", "settings", "permissions"})
	if err != nil {
		return ci, err
	}
	if ci.TenantID, err = decodeID(top, "tenant_id"); err != nil {
		return ci, err
	}
	if _, ok := top["application_id"]; ok {
		if ci.ApplicationID, err = decodeID(top, "application_id"); err != nil {
			return ci, err
		}
	}
	if err := decodeField(top, "revision", "", &ci.Revision); err != nil {
		return ci, err
	}
	if ci.Revision < 0 {
		return ci, fieldErr("revision", "must be 0 or more, got %d", ci.Revision)
	}
	if err := decodeField(top, "name", "", &ci.Name); err != nil {
		return ci, err
	}
	if _, ok := top["name"]; ok && strings.TrimSpace(ci.Name) != "" {
		if err := CheckName(strings.TrimSpace(ci.Name)); err != nil {
			return ci, err
		}
	}
	if ci.Settings, err = parseSettings(top["settings"]); err != nil {
		return ci, err
	}
	if ci.Permissions, err = parsePermissions(top["permissions"]); err != nil {
		return ci, err
	}
	if raw, ok := top["connection"]; ok {
		conn, err := parseConnection(raw)
		if err != nil {
			return ci, err
		}
		ci.Connection = &conn
	}
	if raw, ok := top["guardians"]; ok {
		g, err := parseGuardians(raw)
		if err != nil {
			return ci, err
		}
		ci.Guardians = &g
	}
	if _, ok := top["schools"]; ok {
		if err := decodeField(top, "schools", "", &ci.Schools); err != nil {
			return ci, err
		}
		if ci.Schools == nil {
			return ci, fieldErr("schools", "must be an array of org sourcedIds")
		}
		if err := checkSchools(ci.Schools); err != nil {
			return ci, err
		}
	}
	return ci, nil
}

// ApplyTo returns cur with the import's values. exists says whether cur is a
// stored district; a new one needs application_id in the file.
func (ci ConfigImport) ApplyTo(cur District, exists bool) (District, error) {
	if exists && ci.TenantID != cur.TenantID {
		return cur, fieldErr("tenant_id", "the file is for tenant %d, not %d", ci.TenantID, cur.TenantID)
	}
	if !exists {
		if ci.ApplicationID == 0 {
			return cur, fieldErr("application_id", "is required to import a district that is not stored yet")
		}
		cur = NewDistrict(ci.TenantID, ci.ApplicationID, ci.Name)
	}
	if exists && ci.ApplicationID != 0 && ci.ApplicationID != cur.ApplicationID {
		return cur, fieldErr("application_id", "the file says %d but district %d has application_id %d; the IDs of a stored district cannot be changed by import", ci.ApplicationID, cur.TenantID, cur.ApplicationID)
	}
	if strings.TrimSpace(ci.Name) != "" {
		cur.Name = strings.TrimSpace(ci.Name)
	}
	cur.Settings = ci.Settings
	cur.Permissions = ci.Permissions
	if ci.Connection != nil {
		conn := *ci.Connection
		if conn.ClientSecret == SecretMask {
			if cur.Connection.ClientSecret == "" {
				return cur, maskWithoutSecret("connection.client_secret", "client secret", cur.TenantID)
			}
			conn.ClientSecret = cur.Connection.ClientSecret
		}
		cur.Connection = conn
	}
	if ci.Schools != nil {
		cur.Schools = slices.Clone(ci.Schools)
	}
	if ci.Guardians != nil {
		g, err := ci.Guardians.keepSecrets(cur.Guardians, cur.TenantID)
		if err != nil {
			return cur, err
		}
		cur.Guardians = g
	}
	return cur, cur.Validate()
}

// maskWithoutSecret refuses SecretMask where no secret is stored to keep:
// it is the placeholder config show and export print, never a secret.
func maskWithoutSecret(field, what string, tenantID int64) error {
	return fieldErr(field, "is %q, the placeholder that keeps the stored %s, but district %d has no %s stored: give the %s itself (config export --include-secrets prints a stored one)",
		SecretMask, what, tenantID, what, what)
}

// ImportOptions tune ImportConfig.
type ImportOptions struct {
	// Force imports a file exported at an older revision over newer saves.
	Force bool
	// Check runs last on the district as it would be saved (the caller's
	// rules, such as where the proxy URL may point).
	Check func(District) error
	// Listing is what ClassLink's list says about the tenant, for a
	// district the file adds (CheckApplicationID); nil is NoListing.
	Listing *Listing
	// Specialist: the person importing may set an application_id without
	// ClassLink's list (the local operator).
	Specialist bool
	// EnableBeforeSelfCheck confirms turning Enable Daily sync on before
	// the guide's self-check; the audit entry notes it
	// (NoteEnabledBeforeSelfCheck). Without it such an import is refused.
	EnableBeforeSelfCheck bool
}

// ImportConfig parses data and saves it as district tenantID's next revision
// in one transaction. A file that changes nothing writes nothing and
// returns the stored district with an empty AuditEntry (Revision 0). A file that carries a revision older than the stored
// one is refused (it would silently undo the saves since) unless
// opt.Force. Nothing is written on any error.
func (db *DB) ImportConfig(tenantID int64, data []byte, who Actor, opt ImportOptions) (District, AuditEntry, error) {
	ci, err := ParseConfig(data)
	if err != nil {
		return District{}, AuditEntry{}, err
	}
	if ci.TenantID != tenantID {
		return District{}, AuditEntry{}, fieldErr("tenant_id", "the file is for tenant %d but --district is %d", ci.TenantID, tenantID)
	}
	cur, err := db.District(tenantID)
	exists := err == nil
	if err != nil && !isNotFound(err) {
		return District{}, AuditEntry{}, err
	}
	if exists && ci.Revision != 0 && ci.Revision != cur.Revision && !opt.Force {
		return District{}, AuditEntry{}, fieldErr("revision", "the file was exported at revision %d, but district %d is at revision %d (saved by %s at %s); export it again, or import with --force to overwrite the changes since",
			ci.Revision, tenantID, cur.Revision, cur.SavedBy, cur.SavedAt.Format("2006-01-02 15:04 MST"))
	}
	next, err := ci.ApplyTo(cur, exists)
	if err != nil {
		return District{}, AuditEntry{}, err
	}
	if opt.Check != nil {
		if err := opt.Check(next); err != nil {
			return District{}, AuditEntry{}, err
		}
	}
	if exists && len(Diff(cur, next)) == 0 {
		// Nothing to save: a revision without changes would only make every
		// older export look stale.
		return cur, AuditEntry{}, nil
	}
	notes := []string{"imported from a config file"}
	if opt.EnableBeforeSelfCheck {
		notes = append(notes, NoteEnabledBeforeSelfCheck)
	}
	if !exists {
		l := NoListing
		if opt.Listing != nil {
			l = *opt.Listing
		}
		note, err := CheckApplicationID(next.TenantID, next.ApplicationID, l, opt.Specialist)
		if err != nil {
			return District{}, AuditEntry{}, err
		}
		notes = append(notes, note)
	}
	return db.SaveDistrict(next, cur.Revision, who, notes)
}

func isNotFound(err error) bool {
	_, ok := err.(*DistrictNotFoundError)
	return ok
}

func parseSettings(raw json.RawMessage) (Settings, error) {
	keys := []string{"enable_daily_sync", "manage_guardians", "unarchive_reappearing_classrooms", "update_active_user_contacts", "deletion_threshold_percent", "daily_start", "time_zone"}
	m, err := object(raw, "settings", keys, keys)
	if err != nil {
		return Settings{}, err
	}
	var s Settings
	for _, f := range []struct {
		key string
		dst any
	}{
		{"enable_daily_sync", &s.EnableDailySync},
		{"manage_guardians", &s.ManageGuardians},
		{"unarchive_reappearing_classrooms", &s.UnarchiveReappearingClassrooms},
		{"update_active_user_contacts", &s.UpdateActiveUserContacts},
		{"deletion_threshold_percent", &s.DeletionThresholdPercent},
		{"daily_start", &s.DailyStart},
		{"time_zone", &s.TimeZone},
	} {
		if err := decodeField(m, f.key, "settings.", f.dst); err != nil {
			return s, err
		}
	}
	s = s.Canonical()
	return s, s.Validate()
}

func parsePermissions(raw json.RawMessage) (Permissions, error) {
	var out Permissions
	m, err := object(raw, "permissions", roleGroupKeys[:], roleGroupKeys[:])
	if err != nil {
		return out, err
	}
	for _, g := range RoleGroups {
		var keys []string
		if err := decodeField(m, g.Key(), "permissions.", &keys); err != nil {
			return out, err
		}
		if keys == nil {
			return out, fieldErr("permissions."+g.Key(), "must be an array of permission keys (use [] for none)")
		}
		if len(keys) > MaxListLength {
			return out, fieldErr("permissions."+g.Key(), "lists %d permissions; at most %d are allowed", len(keys), MaxListLength)
		}
		for _, k := range keys {
			p, err := ParsePermission(k)
			if err != nil {
				return out, &FieldError{Field: "permissions." + g.Key(), Msg: err.Error()}
			}
			out.Set(g, p, true)
		}
	}
	return out, nil
}

func parseConnection(raw json.RawMessage) (Connection, error) {
	keys := []string{"mode", "base_url", "client_id", "client_secret", "signature_method"}
	m, err := object(raw, "connection", keys, []string{"mode", "base_url"})
	if err != nil {
		return Connection{}, err
	}
	var c Connection
	for _, f := range []struct {
		key string
		dst *string
	}{{"mode", &c.Mode}, {"base_url", &c.BaseURL}, {"client_id", &c.ClientID}, {"client_secret", &c.ClientSecret}, {"signature_method", &c.SignatureMethod}} {
		if err := decodeField(m, f.key, "connection.", f.dst); err != nil {
			return c, err
		}
	}
	if c.Mode == ModeOAuth1 && c.SignatureMethod == "" {
		c.SignatureMethod = HMACSHA256
	}
	return c, c.Validate()
}

// object decodes a JSON object, refusing keys outside allowed and requiring
// every key of required; path prefixes the key names in messages.
func object(raw json.RawMessage, path string, allowed, required []string) (map[string]json.RawMessage, error) {
	name := path
	if name == "" {
		name = "the file"
	}
	var m map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(raw))
	if err := dec.Decode(&m); err != nil || m == nil {
		return nil, &FieldError{Field: orTop(path), Msg: "must be a JSON object" + jsonDetail(err)}
	}
	if dec.More() {
		return nil, &FieldError{Field: orTop(path), Msg: "has trailing data after the JSON object"}
	}
	var unknown []string
	for k := range m {
		if !slices.Contains(allowed, k) {
			unknown = append(unknown, k)
		}
	}
	sort.Strings(unknown)
	if len(unknown) > 0 {
		return nil, &FieldError{Field: join(path, unknown[0]), Msg: fmt.Sprintf("unknown key in %s (allowed: %s)", name, strings.Join(allowed, ", "))}
	}
	for _, k := range required {
		if _, ok := m[k]; !ok {
			return nil, &FieldError{Field: join(path, k), Msg: "is required"}
		}
	}
	return m, nil
}

func decodeField(m map[string]json.RawMessage, key, prefix string, dst any) error {
	raw, ok := m[key]
	if !ok {
		return nil
	}
	if err := json.Unmarshal(raw, dst); err != nil {
		return &FieldError{Field: prefix + key, Msg: "has the wrong type: expected " + typeName(dst) + ", got " + untrusted.Quote(string(raw))}
	}
	return nil
}

// decodeID reads an ID key with the ID rule's message for anything else
// (a number too large for int64 included).
func decodeID(m map[string]json.RawMessage, key string) (int64, error) {
	var n int64
	if err := json.Unmarshal(m[key], &n); err != nil {
		return 0, fieldErr(key, "must be %s, got %s", idRule, m[key])
	}
	return n, checkID(key, "", n)
}

func typeName(dst any) string {
	switch dst.(type) {
	case *bool:
		return "true or false"
	case *int, *int64:
		return "a whole number"
	case *string:
		return "a string"
	case *[]string:
		return "an array of strings"
	}
	return fmt.Sprintf("%T", dst)
}

func join(path, key string) string {
	if key == "" || len(key) > 40 || strings.ContainsAny(key, ". \t\n\"") || untrusted.CheckLine(key) != nil {
		key = untrusted.Quote(key)
	}
	if path == "" {
		return key
	}
	return path + "." + key
}

func orTop(path string) string {
	if path == "" {
		return "(top level)"
	}
	return path
}

func jsonDetail(err error) string {
	if err == nil {
		return ""
	}
	return " (" + err.Error() + ")"
}

// checkDuplicateKeys refuses a key given twice in one object, at any depth:
// encoding/json would keep the last one silently (a second "settings"
// object once dropped enable_daily_sync that way).
func checkDuplicateKeys(data []byte) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	type level struct {
		object bool
		path   string
		keys   map[string]bool
		next   int // array index
	}
	var stack []*level
	// child is the path of the value about to be read.
	child := func(key string) string {
		if len(stack) == 0 {
			return ""
		}
		top := stack[len(stack)-1]
		if top.object {
			return join(top.path, key)
		}
		p := fmt.Sprintf("%s[%d]", top.path, top.next)
		top.next++
		return p
	}
	expectKey := func() bool { return len(stack) > 0 && stack[len(stack)-1].object }
	var key string
	for {
		tok, err := dec.Token()
		if err != nil {
			return nil // syntax errors are reported where the file is parsed
		}
		if expectKey() {
			if d, ok := tok.(json.Delim); ok && d == '}' {
				stack = stack[:len(stack)-1]
				continue
			}
			k, _ := tok.(string)
			top := stack[len(stack)-1]
			if top.keys[k] {
				return &FieldError{Field: join(top.path, k), Msg: "is given twice; each key may appear once"}
			}
			top.keys[k] = true
			key = k
			tok, err = dec.Token()
			if err != nil {
				return nil
			}
		}
		switch tok {
		case json.Delim('{'):
			stack = append(stack, &level{object: true, path: child(key), keys: map[string]bool{}})
		case json.Delim('['):
			stack = append(stack, &level{path: child(key)})
		case json.Delim(']'):
			stack = stack[:len(stack)-1]
		default:
			child(key) // a scalar: move an array's index on
		}
		if len(stack) == 0 {
			return nil
		}
	}
}
