package guardians

import (
	"strings"
)

// Column is one of guardians.csv's columns.
type Column int

const (
	StudentID Column = iota
	GuardianID
	FirstName
	LastName
	Email
	Mobile
	HomePhone
	Language
	numColumns
)

// Columns are the header names, in the order a sample file lists them.
var Columns = [numColumns]string{"student_id", "guardian_id", "first_name", "last_name", "email", "mobile", "home_phone", "language"}

func (c Column) String() string { return Columns[c] }

// required: a file must have these columns; home_phone and language may be
// left out.
func (c Column) required() bool { return c <= Mobile }

// Result-file columns. A result file read back (fixed and uploaded again)
// has them too: they are ignored.
const (
	ResultColumn = "result"
	ActionColumn = "action"
)

// headerKey is how header names are compared: case does not matter and
// spaces, underscores and hyphens are dropped ("Student ID", "student_id",
// "StudentId" and "STUDENT-ID" are one column).
func headerKey(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(strings.TrimSpace(s)) {
		if r != ' ' && r != '_' && r != '-' {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// header maps the file's header row to columns.
type header struct {
	names []string // as read
	index [numColumns]int
	// ignored marks the result file's own columns.
	ignored []bool
}

func parseHeader(names []string) (header, error) {
	h := header{names: names, ignored: make([]bool, len(names))}
	for c := range h.index {
		h.index[c] = -1
	}
	byKey := map[string]Column{}
	for c := range numColumns {
		byKey[headerKey(Columns[c])] = c
	}
	var unknown []string
	for i, name := range names {
		key := headerKey(name)
		if key == ResultColumn || key == ActionColumn {
			h.ignored[i] = true
			continue
		}
		c, ok := byKey[key]
		if !ok {
			unknown = append(unknown, quote(name))
			continue
		}
		if h.index[c] >= 0 {
			return h, refuse("the header names %s twice (columns %d and %d)", c, h.index[c]+1, i+1)
		}
		h.index[c] = i
	}
	var missing []string
	for c := range numColumns {
		if c.required() && h.index[c] < 0 {
			missing = append(missing, c.String())
		}
	}
	if len(unknown) > 0 || len(missing) > 0 {
		var parts []string
		if len(missing) > 0 {
			parts = append(parts, "it lacks "+strings.Join(missing, ", "))
		}
		if len(unknown) > 0 {
			parts = append(parts, "it has unknown column(s) "+strings.Join(unknown, ", "))
		}
		return h, refuse("the first line must be the header (%s; home_phone and language are optional; case, spaces and underscores do not matter): %s",
			strings.Join(Columns[:], ","), strings.Join(parts, " and "))
	}
	return h, nil
}
