package sync

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"slices"
	"time"

	"github.com/schoolstatus/rostersync/store"
)

// The pulled roster's stream (format 1): for classes, users and
// enrollments in turn, the kept records then the dropped ids, each list
// a count and its entries in sourcedId order. An id is written as the
// length it shares with the id before it in its list and the rest; a
// string as its length and bytes. Enrollments start with their interned
// class, user and role tables and refer to them by number.

type pulledWriter struct {
	w   *bufio.Writer
	buf []byte
	err error
}

func (pw *pulledWriter) flush() {
	if pw.err == nil && len(pw.buf) > 0 {
		_, pw.err = pw.w.Write(pw.buf)
	}
	pw.buf = pw.buf[:0]
}

func (pw *pulledWriter) uvarint(n int) {
	pw.buf = binary.AppendUvarint(pw.buf, uint64(n))
}

func (pw *pulledWriter) str(s string) {
	pw.uvarint(len(s))
	pw.buf = append(pw.buf, s...)
	if len(pw.buf) > 64<<10 {
		pw.flush()
	}
}

// id writes s front-coded against prev.
func (pw *pulledWriter) id(prev, s string) {
	n := 0
	for n < len(prev) && n < len(s) && prev[n] == s[n] {
		n++
	}
	pw.uvarint(n)
	pw.str(s[n:])
}

func (pw *pulledWriter) ids(list []string) {
	pw.uvarint(len(list))
	prev := ""
	for _, s := range list {
		pw.id(prev, s)
		prev = s
	}
}

func (pw *pulledWriter) strs(list []string) {
	pw.uvarint(len(list))
	for _, s := range list {
		pw.str(s)
	}
}

// encode writes p's records (not its meta) to w.
func (p *pulled) encode(w io.Writer) error {
	pw := &pulledWriter{w: bufio.NewWriterSize(w, 256<<10)}
	pw.uvarint(len(p.classes))
	prev := ""
	for _, k := range p.classes {
		pw.id(prev, k.id)
		pw.str(k.name)
		pw.str(k.school)
		prev = k.id
	}
	pw.ids(p.dropped[dropClasses])

	pw.uvarint(len(p.users))
	prev = ""
	for _, u := range p.users {
		pw.id(prev, u.id)
		pw.buf = append(pw.buf, byte(u.kind), byte(u.group))
		pw.str(u.given)
		pw.str(u.family)
		pw.str(u.email)
		pw.str(u.sms)
		pw.str(u.phone)
		pw.strs(u.agents)
		prev = u.id
	}
	pw.ids(p.dropped[dropUsers])

	t := &p.enrollments
	pw.strs(t.classes)
	pw.strs(t.users)
	pw.strs(t.roles)
	pw.uvarint(t.len())
	var prevID []byte
	for i := range t.len() {
		id := t.id(i)
		n := 0
		for n < len(prevID) && n < len(id) && prevID[n] == id[n] {
			n++
		}
		pw.uvarint(n)
		pw.uvarint(len(id) - n)
		pw.buf = append(pw.buf, id[n:]...)
		pw.uvarint(int(t.class[i]))
		pw.uvarint(int(t.user[i]))
		pw.buf = append(pw.buf, t.role[i])
		prevID = id
		if len(pw.buf) > 64<<10 {
			pw.flush()
		}
	}
	pw.ids(p.dropped[dropEnrollments])
	pw.flush()
	if pw.err != nil {
		return pw.err
	}
	return pw.w.Flush()
}

type pulledReader struct {
	r    *bufio.Reader
	err  error
	buf  []byte
	blob []byte
}

var errPulledCorrupt = errors.New("the pulled roster kept from the last run is damaged")

func (pr *pulledReader) uvarint() int {
	if pr.err != nil {
		return 0
	}
	n, err := binary.ReadUvarint(pr.r)
	if err != nil || n > 1<<40 {
		pr.err = errPulledCorrupt
		return 0
	}
	return int(n)
}

// count reads a list length no longer than the stream could hold.
func (pr *pulledReader) count() int {
	n := pr.uvarint()
	if n > 1<<31 {
		pr.err = errPulledCorrupt
		return 0
	}
	return n
}

func (pr *pulledReader) bytes(n int) []byte {
	if pr.err != nil {
		return nil
	}
	if n > 1<<20 {
		pr.err = errPulledCorrupt
		return nil
	}
	pr.buf = slices.Grow(pr.buf[:0], n)[:n]
	if _, err := io.ReadFull(pr.r, pr.buf); err != nil {
		pr.err = errPulledCorrupt
		return nil
	}
	return pr.buf
}

func (pr *pulledReader) str() string { return string(pr.bytes(pr.uvarint())) }

func (pr *pulledReader) id(prev string) string {
	n := pr.uvarint()
	rest := pr.str()
	if n > len(prev) {
		pr.err = errPulledCorrupt
		return ""
	}
	return prev[:n] + rest
}

func (pr *pulledReader) ids() []string {
	n := pr.count()
	if n == 0 {
		return nil
	}
	list := make([]string, 0, min(n, 1<<16))
	prev := ""
	for i := range n {
		if pr.err != nil {
			return nil
		}
		id := pr.id(prev)
		pr.ascending(i, prev, id)
		list = append(list, id)
		prev = id
	}
	return list
}

// ascending checks that entry i of a list comes after the one before:
// every list is in sourcedId order without repeats, which the merge and
// the sweep's binary searches rely on.
func (pr *pulledReader) ascending(i int, prev, id string) {
	if i > 0 && id <= prev {
		pr.err = errPulledCorrupt
	}
}

func (pr *pulledReader) strs() []string {
	n := pr.count()
	var list []string
	for range n {
		if pr.err != nil {
			return nil
		}
		list = append(list, pr.str())
	}
	return list
}

// user reads one user entry with all its strings in one allocation: an
// L-tier district has almost a million users to read per run.
func (pr *pulledReader) user(prevID string) rosterUser {
	shared := pr.uvarint()
	if shared > len(prevID) {
		pr.err = errPulledCorrupt
		return rosterUser{}
	}
	blob := append(pr.blob[:0], prevID[:shared]...)
	blob = append(blob, pr.bytes(pr.uvarint())...)
	var ends [6]int
	ends[0] = len(blob)
	u := rosterUser{kind: userKind(pr.byte()), group: store.RoleGroup(pr.byte())}
	for k := 1; k < 6; k++ {
		blob = append(blob, pr.bytes(pr.uvarint())...)
		ends[k] = len(blob)
	}
	agents := pr.count()
	agentEnds := make([]int, 0, min(agents, 64))
	for range agents {
		if pr.err != nil {
			break
		}
		blob = append(blob, pr.bytes(pr.uvarint())...)
		agentEnds = append(agentEnds, len(blob))
	}
	pr.blob = blob
	all := string(blob)
	u.id, u.given, u.family, u.email, u.sms, u.phone = all[:ends[0]], all[ends[0]:ends[1]], all[ends[1]:ends[2]], all[ends[2]:ends[3]], all[ends[3]:ends[4]], all[ends[4]:ends[5]]
	if len(agentEnds) > 0 {
		u.agents = make([]string, len(agentEnds))
		from := ends[5]
		for k, end := range agentEnds {
			u.agents[k], from = all[from:end], end
		}
	}
	return u
}

func (pr *pulledReader) byte() byte {
	if pr.err != nil {
		return 0
	}
	b, err := pr.r.ReadByte()
	if err != nil {
		pr.err = errPulledCorrupt
	}
	return b
}

// decodePulled reads what encode wrote into a pulled roster with meta.
func decodePulled(r io.Reader, meta pulledMeta) (*pulled, error) {
	pr := &pulledReader{r: bufio.NewReaderSize(r, 256<<10)}
	// The kept starts were never after that pull began; a pull of changes
	// moves until to its own start (update).
	var until time.Time
	for _, t := range meta.Since {
		if t.After(until) {
			until = t
		}
	}
	p := &pulled{meta: meta, since: newWatermarks(until)}
	n := pr.count()
	p.classes = make([]rosterClass, 0, min(n, 1<<20))
	prev := ""
	for i := range n {
		if pr.err != nil {
			break
		}
		k := rosterClass{id: pr.id(prev)}
		pr.ascending(i, prev, k.id)
		k.name, k.school = pr.str(), pr.str()
		p.classes = append(p.classes, k)
		prev = k.id
	}
	p.dropped[dropClasses] = pr.ids()

	n = pr.count()
	// Room for a day's new users, so that merging them in does not move
	// every user to a bigger array.
	p.users = make([]rosterUser, 0, min(n+n/64+256, 1<<22))
	prev = ""
	for i := range n {
		if pr.err != nil {
			break
		}
		u := pr.user(prev)
		pr.ascending(i, prev, u.id)
		// Every field is an index somewhere later (Key, countsName).
		if u.kind < kindStudent || u.kind > kindGuardian || u.group < 0 || int(u.group) >= len(store.RoleGroups) {
			pr.err = errPulledCorrupt
		}
		p.users = append(p.users, u)
		prev = u.id
	}
	p.dropped[dropUsers] = pr.ids()

	t := &p.enrollments
	t.classes, t.users, t.roles = pr.strs(), pr.strs(), pr.strs()
	n = pr.count()
	t.grow(min(n, 1<<16))
	var id []byte
	for i := range n {
		if pr.err != nil {
			break
		}
		shared := pr.uvarint()
		rest := pr.bytes(pr.uvarint())
		// After the shared prefix, the rest must sort after the last id's.
		if shared > len(id) || i > 0 && bytes.Compare(rest, id[shared:]) <= 0 {
			pr.err = errPulledCorrupt
			break
		}
		id = append(id[:shared], rest...)
		class, user, role := pr.uvarint(), pr.uvarint(), int(pr.byte())
		if class >= len(t.classes) || user >= len(t.users) || role >= len(t.roles) {
			pr.err = errPulledCorrupt
			break
		}
		t.push(id, int32(class), int32(user), uint8(role))
	}
	t.sorted = true
	p.dropped[dropEnrollments] = pr.ids()
	if pr.err == nil {
		if _, err := pr.r.ReadByte(); err != io.EOF {
			pr.err = errPulledCorrupt
		}
	}
	if pr.err != nil {
		return nil, pr.err
	}
	for c, t := range meta.Since {
		p.since.newest[c] = t
	}
	return p, nil
}
