package store

import (
	"fmt"

	"github.com/schoolstatus/rostersync/untrusted"
)

// Limits on what a district holds, whoever types or imports it; the README
// states them.
const (
	MaxNameLength     = 120    // district name, characters
	MaxClientIDLength = 256    // OAuth consumer key, characters
	MaxSecretLength   = 256    // OAuth consumer secret, characters
	MaxSourcedIDBytes = 256    // one school's org sourcedId
	MaxSchools        = 10_000 // schools connected to SIS
	MaxImportBytes    = 4 << 20
	MaxListLength     = 64 // any other list in an import (a role group's permissions)
)

// checkText applies the rules for a line of text from outside: no control
// characters (they would reach other people's terminals) and at most most
// characters.
func checkText(field, s string, most int) error {
	if err := untrusted.CheckLine(s); err != nil {
		return &FieldError{Field: field, Msg: err.Error()}
	}
	if err := untrusted.CheckLength(s, most); err != nil {
		return &FieldError{Field: field, Msg: err.Error()}
	}
	return nil
}

// checkSchools applies the rules for the connected schools: at most
// MaxSchools, each a short sourcedId of printable text, none twice.
func checkSchools(schools []string) error {
	if len(schools) > MaxSchools {
		return fieldErr("schools", "lists %d schools; at most %d are allowed", len(schools), MaxSchools)
	}
	seen := make(map[string]bool, len(schools))
	for i, s := range schools {
		field := fmt.Sprintf("schools[%d]", i)
		switch {
		case s == "" || len(s) > MaxSourcedIDBytes:
			return fieldErr(field, "must be an org sourcedId of 1 to %d bytes, got %q", MaxSourcedIDBytes, s)
		case seen[s]:
			return fieldErr(field, "%q is listed twice", s)
		}
		if err := untrusted.CheckLine(s); err != nil {
			return &FieldError{Field: field, Msg: err.Error()}
		}
		seen[s] = true
	}
	return nil
}
