package classlink

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// scanner reads JSON from a byte slice without reflection: the decoders
// of decode.go walk a page with it, turning only the fields rostersync
// uses into Go values and skipping (but still checking) everything else.
// What it accepts and what it makes of it follow encoding/json, which the
// fuzz tests hold it to.
type scanner struct {
	b     []byte
	i     int
	depth int    // containers open at i
	base  int    // depth of the value encoding/json would decode on its own
	fold  []byte // scratch for case-insensitive key matching
	unesc []byte // scratch for unescaping strings
}

// errEnd: the document stopped in the middle of a value.
var errEnd = errors.New("unexpected end of JSON input")

func (s *scanner) syntax(what string) error {
	if s.i >= len(s.b) {
		return errEnd
	}
	return fmt.Errorf("invalid character %q %s (at byte %d)", s.b[s.i], what, s.i)
}

// ws skips white space and returns the next byte (0 at the end).
func (s *scanner) ws() byte {
	if s.i < len(s.b) && s.b[s.i] > ' ' { // the usual case: none
		return s.b[s.i]
	}
	for s.i < len(s.b) {
		switch c := s.b[s.i]; c {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return c
		}
	}
	return 0
}

// expect consumes c after white space.
func (s *scanner) expect(c byte, what string) error {
	if s.ws() != c {
		return s.syntax(what)
	}
	s.i++
	return nil
}

// strClass: 0 for bytes a string holds as they are; 1 for '"' and '\\';
// 2 for control characters; 3 for bytes of multi-byte UTF-8.
var strClass = func() (t [256]uint8) {
	for c := range 0x20 {
		t[c] = 2
	}
	t['"'], t['\\'] = 1, 1
	for c := 0x80; c < 0x100; c++ {
		t[c] = 3
	}
	return t
}()

const (
	lsb = 0x0101010101010101
	msb = 0x8080808080808080
)

// special marks (in the top bit of each byte) the bytes of w a string
// cannot hold as they are: '"', '\\', control characters and bytes of
// 0x80 and above. Marks above the lowest one may be wrong (a borrow), so
// only the lowest is used.
func special(w uint64) uint64 {
	q := w ^ (lsb * '"')
	e := w ^ (lsb * '\\')
	return ((q-lsb)&^q | (e-lsb)&^e | (w-lsb*0x20)&^w | w) & msb
}

// str reads the string at s.i (a '"') and returns its raw content between
// the quotes and whether it has escapes (esc) or bytes of 0x80 and above
// (high).
func (s *scanner) str() (raw []byte, esc, high bool, err error) {
	b := s.b
	i := s.i + 1
	start := i
	for {
		// The common case: runs of ordinary bytes, eight at a time.
		for i+8 <= len(b) {
			if m := special(binary.LittleEndian.Uint64(b[i:])); m != 0 {
				i += bits.TrailingZeros64(m) >> 3
				break
			}
			i += 8
		}
		for i < len(b) && strClass[b[i]] == 0 {
			i++
		}
		if i >= len(b) {
			s.i = i
			return nil, esc, high, errEnd
		}
		switch strClass[b[i]] {
		case 1:
			if b[i] == '"' {
				s.i = i + 1
				return b[start:i], esc, high, nil
			}
			esc = true
			if i+1 >= len(b) {
				s.i = len(b)
				return nil, esc, high, errEnd
			}
			switch b[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+6 > len(b) {
					s.i = len(b)
					return nil, esc, high, errEnd
				}
				for _, h := range b[i+2 : i+6] {
					if unhex(h) < 0 {
						s.i = i
						return nil, esc, high, fmt.Errorf("invalid character %q in \\u escape (at byte %d)", h, i)
					}
				}
				i += 6
			default:
				s.i = i + 1
				return nil, esc, high, fmt.Errorf("invalid escape \\%c in string (at byte %d)", b[i+1], i)
			}
		case 2:
			s.i = i
			return nil, esc, high, fmt.Errorf("invalid control character %q in string (at byte %d)", b[i], i)
		default:
			high = true
			i++
		}
	}
}

// unescape is a string's value as encoding/json gives it: escapes
// resolved, lone surrogates and invalid UTF-8 as U+FFFD. The result lives
// in the scanner's scratch until the next call.
func (s *scanner) unescape(raw []byte) []byte {
	out := s.unesc[:0]
	for i := 0; i < len(raw); {
		c := raw[i]
		switch {
		case c == '\\':
			switch raw[i+1] {
			case 'b':
				out = append(out, '\b')
			case 'f':
				out = append(out, '\f')
			case 'n':
				out = append(out, '\n')
			case 'r':
				out = append(out, '\r')
			case 't':
				out = append(out, '\t')
			case 'u':
				r := hex4(raw[i+2:])
				i += 6
				if utf16.IsSurrogate(r) {
					r2 := rune(-1)
					if i+6 <= len(raw) && raw[i] == '\\' && raw[i+1] == 'u' {
						r2 = hex4(raw[i+2:])
					}
					if dec := utf16.DecodeRune(r, r2); dec != unicode.ReplacementChar {
						i += 6
						r = dec
					} else {
						r = unicode.ReplacementChar
					}
				}
				out = utf8.AppendRune(out, r)
				continue
			default: // '"', '\\', '/'
				out = append(out, raw[i+1])
			}
			i += 2
		case c < utf8.RuneSelf:
			out = append(out, c)
			i++
		default:
			r, size := utf8.DecodeRune(raw[i:])
			if r == utf8.RuneError && size == 1 {
				out = utf8.AppendRune(out, unicode.ReplacementChar)
			} else {
				out = append(out, raw[i:i+size]...)
			}
			i += size
		}
	}
	s.unesc = out
	return out
}

func unhex(c byte) int {
	switch {
	case '0' <= c && c <= '9':
		return int(c - '0')
	case 'a' <= c && c <= 'f':
		return int(c - 'a' + 10)
	case 'A' <= c && c <= 'F':
		return int(c - 'A' + 10)
	}
	return -1
}

func hex4(b []byte) rune {
	return rune(unhex(b[0])<<12 | unhex(b[1])<<8 | unhex(b[2])<<4 | unhex(b[3]))
}

// text reads a string and returns its value; bytes that are their own value
// come back without copying (the caller copies what it keeps).
func (s *scanner) text() ([]byte, error) {
	raw, esc, high, err := s.str()
	if err != nil || !esc && (!high || utf8.Valid(raw)) {
		return raw, err
	}
	return s.unescape(raw), nil
}

// key reads an object key and the colon after it, giving the key's value.
func (s *scanner) key() ([]byte, error) {
	if s.ws() != '"' {
		return nil, s.syntax("looking for beginning of object key string")
	}
	k, err := s.text()
	if err != nil {
		return nil, err
	}
	if err := s.expect(':', "after object key"); err != nil {
		return nil, err
	}
	return k, nil
}

// next moves past a ',' between members or elements, or reports the
// closing byte: it returns true when another member follows.
func (s *scanner) next(closing byte) (bool, error) {
	switch s.ws() {
	case ',':
		s.i++
		return true, nil
	case closing:
		s.i++
		return false, nil
	}
	if closing == '}' {
		return false, s.syntax("after object key:value pair")
	}
	return false, s.syntax("after array element")
}

// open consumes '{' or '[' (already seen by the caller) and reports
// whether the object or array has members.
func (s *scanner) open(closing byte) bool {
	s.i++
	if s.ws() == closing {
		s.i++
		return false
	}
	s.depth++
	return true
}

// literal consumes true, false or null.
func (s *scanner) literal(word string) error {
	if len(s.b)-s.i < len(word) || string(s.b[s.i:s.i+len(word)]) != word {
		for j := 1; j < len(word); j++ { // find the first wrong byte, as encoding/json does
			if s.i+j >= len(s.b) {
				s.i = len(s.b)
				return errEnd
			}
			if s.b[s.i+j] != word[j] {
				s.i += j
				return s.syntax("in literal " + word)
			}
		}
	}
	s.i += len(word)
	return nil
}

// number reads a JSON number and returns it as written.
func (s *scanner) number() ([]byte, error) {
	b, i := s.b, s.i
	start := i
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i >= len(b):
		s.i = i
		return nil, errEnd
	case b[i] == '0':
		i++
	case '1' <= b[i] && b[i] <= '9':
		for i < len(b) && '0' <= b[i] && b[i] <= '9' {
			i++
		}
	default:
		s.i = i
		return nil, s.syntax("in numeric literal")
	}
	if i < len(b) && b[i] == '.' {
		i++
		if i >= len(b) || b[i] < '0' || b[i] > '9' {
			s.i = i
			return nil, s.syntax("after decimal point in numeric literal")
		}
		for i < len(b) && '0' <= b[i] && b[i] <= '9' {
			i++
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if i >= len(b) || b[i] < '0' || b[i] > '9' {
			s.i = i
			return nil, s.syntax("in exponent of numeric literal")
		}
		for i < len(b) && '0' <= b[i] && b[i] <= '9' {
			i++
		}
	}
	s.i = i
	return b[start:i], nil
}

// maxDepth bounds nesting, as encoding/json does: at most this many
// containers open within one value it decodes.
const maxDepth = 10000

var errDepth = errors.New("exceeded max depth")

// skip reads one value of any kind and drops it.
func (s *scanner) skip() error {
	switch c := s.ws(); {
	case c == '"':
		_, _, _, err := s.str()
		return err
	case c == '{':
		if s.depth-s.base >= maxDepth {
			return errDepth
		}
		if !s.open('}') {
			return nil
		}
		for {
			if s.ws() != '"' {
				return s.syntax("looking for beginning of object key string")
			}
			if _, _, _, err := s.str(); err != nil {
				return err
			}
			if err := s.expect(':', "after object key"); err != nil {
				return err
			}
			if err := s.skip(); err != nil {
				return err
			}
			if more, err := s.next('}'); err != nil || !more {
				return err
			}
		}
	case c == '[':
		if s.depth-s.base >= maxDepth {
			return errDepth
		}
		if !s.open(']') {
			return nil
		}
		for {
			if err := s.skip(); err != nil {
				return err
			}
			if more, err := s.next(']'); err != nil || !more {
				return err
			}
		}
	case c == 't':
		return s.literal("true")
	case c == 'f':
		return s.literal("false")
	case c == 'n':
		return s.literal("null")
	case c == '-' || '0' <= c && c <= '9':
		_, err := s.number()
		return err
	}
	return s.syntax("looking for beginning of value")
}

// kind names the JSON type of the value at s.i, for type errors.
func (s *scanner) kind() string {
	switch c := s.ws(); {
	case c == '"':
		return "string"
	case c == '{':
		return "object"
	case c == '[':
		return "array"
	case c == 't' || c == 'f':
		return "bool"
	case c == 'n':
		return "null"
	case c == '-' || '0' <= c && c <= '9':
		return "number"
	}
	return "value"
}

// typeError: the value at s.i is well-formed JSON of the wrong type for
// field. The value is checked first, so a syntax error wins as it does in
// encoding/json's streaming decoder.
func (s *scanner) typeError(field, want string) error {
	kind := s.kind()
	if err := s.skip(); err != nil {
		return err
	}
	return fmt.Errorf("%s: expected %s, got %s", field, want, kind)
}

// fieldSet is the JSON names a decoder knows, for the case-insensitive
// match encoding/json falls back to when no name matches exactly.
type fieldSet struct {
	names  [][]byte
	folded []string
}

func newFieldSet(names ...string) *fieldSet {
	fs := &fieldSet{}
	for _, n := range names {
		fs.names = append(fs.names, []byte(n))
		fs.folded = append(fs.folded, string(foldName(nil, []byte(n))))
	}
	return fs
}

// canonical is the known name key matches ignoring case (Unicode simple
// folding, as encoding/json), nil for none. Decoders try exact names
// first and call this only for keys they do not know.
func (s *scanner) canonical(key []byte, fs *fieldSet) []byte {
	ascii := true
	for _, c := range key {
		if c >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if ascii { // the usual case: same length, letters without case
		for _, n := range fs.names {
			if len(n) == len(key) && asciiEqualFold(n, key) {
				return n
			}
		}
		return nil
	}
	s.fold = foldName(s.fold[:0], key)
	for i, n := range fs.folded {
		if string(s.fold) == n {
			return fs.names[i]
		}
	}
	return nil
}

func asciiEqualFold(a, b []byte) bool {
	for i := range a {
		x, y := a[i], b[i]
		if 'a' <= x && x <= 'z' {
			x -= 'a' - 'A'
		}
		if 'a' <= y && y <= 'z' {
			y -= 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// foldName is encoding/json's: ASCII upper-cased, other runes upper(lower(r)).
func foldName(out, in []byte) []byte {
	for i := 0; i < len(in); {
		if c := in[i]; c < utf8.RuneSelf {
			if 'a' <= c && c <= 'z' {
				c -= 'a' - 'A'
			}
			out = append(out, c)
			i++
			continue
		}
		r, n := utf8.DecodeRune(in[i:])
		out = utf8.AppendRune(out, unicode.ToUpper(unicode.ToLower(r)))
		i += n
	}
	return out
}
