package untrusted

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// unsafe reports whether r must not reach a terminal as it is: C0 and C1
// controls (ESC starts every escape sequence; CR and LF move the cursor),
// DEL, the line and paragraph separators, and the bidirectional controls
// that reorder what is shown.
func unsafe(r rune) bool {
	switch {
	case r < 0x20, r == 0x7f, r >= 0x80 && r < 0xa0:
		return true
	case r == 0x2028, r == 0x2029: // line and paragraph separators
		return true
	case r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069, r == 0x200e, r == 0x200f, r == 0x061c:
		return true
	}
	return false
}

// Text is s as it may be shown: every control character escaped the way Go
// writes it (\x1b, \n, \u202e) and invalid UTF-8 as \xNN. Text without
// them comes back unchanged.
func Text(s string) string {
	if clean(s) {
		return s
	}
	var b strings.Builder
	writeEscaped(&b, s, false)
	return b.String()
}

// Lines is Text keeping line breaks, for a message of several lines of
// rostersync's own with values from outside in it.
func Lines(s string) string {
	if clean(s) {
		return s
	}
	var b strings.Builder
	writeEscaped(&b, s, true)
	return b.String()
}

func clean(s string) bool {
	for _, r := range s {
		if r == utf8.RuneError || unsafe(r) {
			return false
		}
	}
	return true
}

func writeEscaped(b *strings.Builder, s string, keepNewlines bool) {
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size <= 1:
			fmt.Fprintf(b, `\x%02x`, s[i])
		case r == '\n' && keepNewlines:
			b.WriteByte('\n')
		case unsafe(r):
			b.WriteString(escaped(r))
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
}

// escaped is how an unsafe rune is written: \n, \r and \t as Go writes
// them, other ASCII controls as \x1b, the rest as \u202e.
func escaped(r rune) string {
	switch {
	case r == '\n':
		return `\n`
	case r == '\r':
		return `\r`
	case r == '\t':
		return `\t`
	case r < 0x80:
		return fmt.Sprintf(`\x%02x`, r)
	}
	return fmt.Sprintf(`\u%04x`, r)
}

// quoteRunes is how much of a value an error message repeats.
const quoteRunes = 40

// Quote is s for an error message: quoted, escaped, and cut after a short
// prefix (saying how long it was), so a huge or hostile value is never
// echoed whole.
func Quote(s string) string {
	if utf8.RuneCountInString(s) <= quoteRunes {
		return `"` + strings.ReplaceAll(Text(s), `"`, `\"`) + `"`
	}
	n, end := 0, 0
	for end < len(s) && n < quoteRunes {
		_, size := utf8.DecodeRuneInString(s[end:])
		end += size
		n++
	}
	return fmt.Sprintf(`"%s…" (%d bytes)`, strings.ReplaceAll(Text(s[:end]), `"`, `\"`), len(s))
}

// CheckLine refuses text that must stay on one line and print as typed: a
// name or an ID with a control character (an escape sequence, CR, LF, NUL
// or a bidirectional control) or invalid UTF-8 is an error saying what was
// found.
func CheckLine(s string) error {
	for i, r := range s {
		if r == utf8.RuneError {
			if _, size := utf8.DecodeRuneInString(s[i:]); size <= 1 {
				return fmt.Errorf("is not valid UTF-8 text (byte %d)", i+1)
			}
		}
		if unsafe(r) {
			return fmt.Errorf("must not contain control characters such as escape sequences, line breaks or NUL (found %s at character %d)", escaped(r), utf8.RuneCountInString(s[:i])+1)
		}
	}
	return nil
}

// CheckLength refuses text longer than most characters.
func CheckLength(s string, most int) error {
	if n := utf8.RuneCountInString(s); n > most {
		return fmt.Errorf("is %d characters long; at most %d are allowed", n, most)
	}
	return nil
}
