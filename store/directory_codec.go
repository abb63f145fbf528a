package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"
)

// Directory values are small binary records rather than JSON: a sync of a
// large district reads millions of them, and decoding JSON would cost more
// than the rest of the planning. Each starts with a format byte so the
// layout can change later.

const directoryFormat = 1

const (
	flagActive  = 1 << 0
	flagManaged = 1 << 1
	flagJoined  = 1 << 2
	// flagFile: the user came from a guardians file, not ClassLink.
	flagFile = 1 << 3
	// flagLanguage: a language string follows guardian_of.
	flagLanguage = 1 << 4

	userFlags = flagActive | flagManaged | flagJoined | flagFile | flagLanguage
)

var userKinds = [...]string{KindStudent, KindStaff, KindGuardian}
var archivedByCodes = [...]string{"", ArchivedBySync, ArchivedByHand}

var errCorrupt = errors.New("store: corrupt directory record")

func appendStr(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// reader walks an encoded record; the first problem sticks.
type reader struct {
	b   []byte
	err error
}

func (r *reader) byte() byte {
	if r.err != nil || len(r.b) == 0 {
		r.err = errCorrupt
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

func (r *reader) str() string {
	if r.err != nil {
		return ""
	}
	n, k := binary.Uvarint(r.b)
	if k <= 0 || uint64(len(r.b)-k) < n {
		r.err = errCorrupt
		return ""
	}
	s := string(r.b[k : k+int(n)])
	r.b = r.b[k+int(n):]
	return s
}

// raw is str without the copy: the bytes, valid as long as the record.
func (r *reader) raw() []byte {
	if r.err != nil {
		return nil
	}
	n, k := binary.Uvarint(r.b)
	if k <= 0 || uint64(len(r.b)-k) < n {
		r.err = errCorrupt
		return nil
	}
	s := r.b[k : k+int(n)]
	r.b = r.b[k+int(n):]
	return s
}

func (r *reader) uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	n, k := binary.Uvarint(r.b)
	if k <= 0 {
		r.err = errCorrupt
		return 0
	}
	r.b = r.b[k:]
	return n
}

func (r *reader) done() error {
	if r.err == nil && len(r.b) != 0 {
		r.err = errCorrupt
	}
	return r.err
}

func index(list []string, s string) (byte, bool) {
	for i, v := range list {
		if v == s {
			return byte(i), true
		}
	}
	return 0, false
}

func statusFlag(status string) (byte, error) {
	switch status {
	case StatusActive:
		return flagActive, nil
	case StatusArchived:
		return 0, nil
	}
	return 0, fmt.Errorf("store: status must be %q or %q, got %q", StatusActive, StatusArchived, status)
}

func flagStatus(flags byte) string {
	if flags&flagActive != 0 {
		return StatusActive
	}
	return StatusArchived
}

// encodeUser writes u without its sourcedId (the key).
func encodeUser(u DirectoryUser) ([]byte, error) {
	flags, err := statusFlag(u.Status)
	if err != nil {
		return nil, err
	}
	if u.Managed {
		flags |= flagManaged
	}
	if u.Joined {
		flags |= flagJoined
	}
	switch u.Source {
	case "", SourceClassLink:
	case SourceGuardiansFile:
		flags |= flagFile
	default:
		return nil, fmt.Errorf("store: user source must be %s or %s, got %q", SourceClassLink, SourceGuardiansFile, u.Source)
	}
	if u.Language != "" {
		flags |= flagLanguage
	}
	kind, ok := index(userKinds[:], u.Kind)
	if !ok {
		return nil, fmt.Errorf("store: user kind must be student, staff or guardian, got %q", u.Kind)
	}
	group := byte(0xff)
	if u.RoleGroup != "" {
		g, err := ParseRoleGroup(u.RoleGroup)
		if err != nil {
			return nil, err
		}
		group = byte(g)
	}
	var perms byte
	for _, key := range u.Permissions {
		p, err := ParsePermission(key)
		if err != nil {
			return nil, err
		}
		perms |= 1 << p
	}
	b := make([]byte, 0, 16+len(u.GivenName)+len(u.FamilyName)+len(u.Email)+len(u.Mobile)+len(u.HomePhone)+12*len(u.GuardianOf))
	b = append(b, directoryFormat, flags, kind, group, perms)
	for _, s := range []string{u.GivenName, u.FamilyName, u.Email, u.Mobile, u.HomePhone} {
		b = appendStr(b, s)
	}
	b = binary.AppendUvarint(b, uint64(len(u.GuardianOf)))
	for _, s := range u.GuardianOf {
		b = appendStr(b, s)
	}
	if u.Language != "" {
		b = appendStr(b, u.Language)
	}
	return b, nil
}

func decodeUser(id string, raw []byte) (DirectoryUser, error) {
	r := reader{b: raw}
	if r.byte() != directoryFormat {
		return DirectoryUser{}, errCorrupt
	}
	flags, kind, group, perms := r.byte(), r.byte(), r.byte(), r.byte()
	u := DirectoryUser{SourcedID: id, Status: flagStatus(flags), Managed: flags&flagManaged != 0, Joined: flags&flagJoined != 0, Source: SourceClassLink}
	if flags&flagFile != 0 {
		u.Source = SourceGuardiansFile
	}
	if flags&^userFlags != 0 || int(kind) >= len(userKinds) || group != 0xff && int(group) >= len(roleGroupKeys) || perms>>len(AllPermissions) != 0 {
		return u, errCorrupt
	}
	u.Kind = userKinds[kind]
	if group != 0xff {
		u.RoleGroup = roleGroupKeys[group]
	}
	u.Permissions = []string{}
	if perms != 0 {
		u.Permissions = make([]string, 0, bits.OnesCount8(perms))
		for _, p := range AllPermissions {
			if perms&(1<<p) != 0 {
				u.Permissions = append(u.Permissions, p.Key())
			}
		}
	}
	// Every string of the user shares one allocation (the sync reads
	// every user of a district on each run).
	body, all := r.b, string(r.b)
	str := func() string {
		s := r.raw()
		end := len(body) - len(r.b)
		return all[end-len(s) : end]
	}
	u.GivenName, u.FamilyName, u.Email, u.Mobile, u.HomePhone = str(), str(), str(), str(), str()
	n := r.uvarint()
	if n > uint64(len(r.b)) { // each entry takes at least one byte
		return u, errCorrupt
	}
	u.GuardianOf = []string{}
	if n > 0 {
		u.GuardianOf = make([]string, 0, n)
		for range n {
			u.GuardianOf = append(u.GuardianOf, str())
		}
	}
	if flags&flagLanguage != 0 {
		u.Language = str()
	}
	return u, r.done()
}

func encodeClassroom(c Classroom) ([]byte, error) {
	flags, err := statusFlag(c.Status)
	if err != nil {
		return nil, err
	}
	if c.Managed {
		flags |= flagManaged
	}
	by, ok := index(archivedByCodes[:], c.ArchivedBy)
	if !ok {
		return nil, fmt.Errorf("store: archived_by must be sync, hand or empty, got %q", c.ArchivedBy)
	}
	if (c.Status == StatusActive) != (c.ArchivedBy == "") {
		return nil, fmt.Errorf("store: classroom %s is %s but archived_by is %q", c.SourcedID, c.Status, c.ArchivedBy)
	}
	b := make([]byte, 0, 8+len(c.Name)+len(c.School))
	b = append(b, directoryFormat, flags, by)
	b = appendStr(b, c.Name)
	return appendStr(b, c.School), nil
}

func decodeClassroom(id string, raw []byte) (Classroom, error) {
	r := reader{b: raw}
	if r.byte() != directoryFormat {
		return Classroom{}, errCorrupt
	}
	flags, by := r.byte(), r.byte()
	if flags&^(flagActive|flagManaged) != 0 || int(by) >= len(archivedByCodes) || (flags&flagActive != 0) != (by == 0) {
		return Classroom{}, errCorrupt
	}
	c := Classroom{SourcedID: id, Status: flagStatus(flags), Managed: flags&flagManaged != 0, ArchivedBy: archivedByCodes[by]}
	c.Name, c.School = r.str(), r.str()
	return c, r.done()
}

func encodeMembership(m Membership) ([]byte, error) {
	flags, err := statusFlag(m.Status)
	if err != nil {
		return nil, err
	}
	return appendStr([]byte{directoryFormat, flags}, m.Role), nil
}

func decodeMembership(key, raw []byte) (Membership, error) {
	return decodeMembershipAfter(&Membership{}, key, raw)
}

// decodeMembershipAfter decodes a membership, using prev's classroom and
// role strings when they hold the same bytes instead of new copies.
func decodeMembershipAfter(prev *Membership, key, raw []byte) (Membership, error) {
	i := 0
	for i < len(key) && key[i] != 0 {
		i++
	}
	if i == len(key) {
		return Membership{}, errCorrupt
	}
	r := reader{b: raw}
	if r.byte() != directoryFormat {
		return Membership{}, errCorrupt
	}
	flags := r.byte()
	if flags&^flagActive != 0 {
		return Membership{}, errCorrupt
	}
	m := Membership{ClassroomID: prev.ClassroomID, UserID: string(key[i+1:]), Status: flagStatus(flags), Role: prev.Role}
	if string(key[:i]) != m.ClassroomID {
		m.ClassroomID = string(key[:i])
	}
	if role := r.raw(); string(role) != m.Role {
		m.Role = string(role)
	}
	return m, r.done()
}

func encodeSchool(s School) ([]byte, error) {
	flags, err := statusFlag(s.Status)
	if err != nil {
		return nil, err
	}
	return appendStr([]byte{directoryFormat, flags}, s.Name), nil
}

func decodeSchool(id string, raw []byte) (School, error) {
	r := reader{b: raw}
	if r.byte() != directoryFormat {
		return School{}, errCorrupt
	}
	flags := r.byte()
	if flags&^flagActive != 0 {
		return School{}, errCorrupt
	}
	s := School{SourcedID: id, Status: flagStatus(flags)}
	s.Name = r.str()
	return s, r.done()
}
