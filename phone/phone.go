// Package phone reads the free-text phone fields of a roster or a
// guardians.csv into E.164, by one rule for every path: the roster sync's
// SMS and Phone fields and guardians.csv's mobile and home_phone columns.
// It imports nothing else from rostersync.
package phone

import (
	"slices"
	"strings"

	"github.com/nyaruka/phonenumbers"
	"google.golang.org/protobuf/proto"
)

// Region is the region free-text numbers without a country code are read
// in (DESIGN §3).
const Region = "US"

// Normalize turns a free-text phone field into E.164. ok is false for
// a blank field and for anything libphonenumber does not call a valid
// number; the caller warns about the latter.
//
// libphonenumber needs ~40µs a number, which at the L tier (over a million
// phone fields) would be most of a sync. The common North American shapes
// ("(212) 874-1234", "212.874.1234 x204", "+1 212 874 1234", …) are read
// here instead and their validity is looked up in a table generated from
// libphonenumber (nanp_table.go, by gen_nanp.go): within the North American
// plan validity depends on the first six digits alone, except in the area
// codes of deepNPAs, which are asked of libphonenumber number by number.
// (The generator checks every NPA-NXX prefix at twelve line numbers and
// refuses to write a table if that stops being true; TestNANPTable,
// TestPhoneFastPathAgrees and FuzzNormalize hold the table and the fast
// path to libphonenumber's answers.) Every other shape takes
// libphonenumber's own path.
func Normalize(raw string) (e164 string, ok bool) {
	s := strings.TrimSpace(raw)
	if s == "" {
		return "", false
	}
	if national, handled := nanpDigits(s); handled {
		if !nanpValid(national) {
			return "", false
		}
		return "+1" + national, true
	}
	return slowNormalize(s)
}

// slowNormalize is libphonenumber's answer.
func slowNormalize(s string) (string, bool) {
	n, err := phonenumbers.Parse(s, Region)
	if err != nil || !phonenumbers.IsValidNumber(n) {
		return "", false
	}
	return phonenumbers.Format(n, phonenumbers.E164), true
}

// nanpDigits reads s as a North American number: an optional "+1" or "1",
// ten digits with at most one separator (space, dot, dash) between groups
// or "(NPA)" around the area code, and an optional extension. It returns
// the ten national digits, or handled false for any other shape and for
// digits that cannot start an area code.
func nanpDigits(s string) (string, bool) {
	s = stripExtension(s)
	var d [11]byte
	n := 0
	plus := false
	prevSep := true // no separator at the start
	paren := 0      // 1 inside "(", 2 after ")"
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case isDigit(c):
			if n == len(d) {
				return "", false
			}
			d[n] = c
			n++
			prevSep = false
		case c == '+' && i == 0:
			plus = true
		case c == '(' && paren == 0 && (n == 0 || n == 1 && d[0] == '1'):
			paren = 1
			prevSep = true
		case c == ')' && paren == 1 && (n == 3 || n == 4 && d[0] == '1'):
			paren = 2
			prevSep = false
		case (c == ' ' || c == '-' || c == '.') && !prevSep:
			prevSep = true
		default:
			return "", false
		}
	}
	if paren == 1 || prevSep { // "(212" or a trailing separator
		return "", false
	}
	var national []byte
	switch {
	case n == 11 && d[0] == '1':
		national = d[1:11]
	case n == 10 && !plus && d[0] != '1':
		national = d[:10]
	default:
		return "", false
	}
	if national[0] < '2' {
		// No area code starts with 0 or 1; libphonenumber reads such
		// digits its own way (as a shorter number), so it answers.
		return "", false
	}
	return string(national), true
}

// stripExtension removes a trailing extension: "x204", " x 204",
// " ext 204", " ext. 204" (any case), of at most seven digits.
func stripExtension(s string) string {
	i := len(s)
	for i > 0 && isDigit(s[i-1]) {
		i--
	}
	if i == len(s) || len(s)-i > 7 {
		return s
	}
	head := strings.TrimRight(s[:i], " ")
	for _, mark := range []string{"ext.", "ext", "x"} {
		if len(head) <= len(mark) || !strings.EqualFold(head[len(head)-len(mark):], mark) {
			continue
		}
		rest := head[:len(head)-len(mark)]
		if last := rest[len(rest)-1]; last == ' ' || isDigit(last) {
			return strings.TrimRight(rest, " ")
		}
	}
	return s
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

//go:generate go run gen_nanp.go

// deepNPAs are area codes whose libphonenumber patterns look past the
// exchange (Barbados 246, Jamaica 876); gen_nanp.go leaves them out of the
// table and must name the same ones.
var deepNPAs = map[int]bool{246: true, 876: true}

func nanpValid(national string) bool {
	prefix := 0
	for i := range 6 {
		prefix = prefix*10 + int(national[i]-'0')
	}
	if deepNPAs[prefix/1000] {
		return validNANP(national)
	}
	return tableValid(prefix)
}

// tableValid reads libphonenumber's verdict on an NPA-NXX prefix from
// the generated table: valid where an odd number of bounds lie at or
// below it.
func tableValid(prefix int) bool {
	i, found := slices.BinarySearch(nanpBounds[:], uint32(prefix))
	if found {
		i++
	}
	return i%2 == 1
}

// validNANP asks libphonenumber about ten national digits.
func validNANP(national string) bool {
	var num uint64
	for i := range 10 {
		num = num*10 + uint64(national[i]-'0')
	}
	return phonenumbers.IsValidNumber(&phonenumbers.PhoneNumber{CountryCode: proto.Int32(1), NationalNumber: proto.Uint64(num)})
}
