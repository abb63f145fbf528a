package guardians

import (
	"fmt"
	"slices"
	"strings"
)

// Guardian is one guardian_id of the file: its details (the same on every
// row) and the students its rows link it to.
type Guardian struct {
	ID                       string
	FirstName, LastName      string
	Email, Mobile, HomePhone string
	Language                 string
	Students                 []string // sorted, no repeats
	Rows                     []int    // indexes into File.Rows, in file order
}

// compared are the columns every row of one guardian must agree on.
var compared = []Column{FirstName, LastName, Email, Mobile, HomePhone, Language}

// same says whether two rows give one column the same value: emails in
// any case, phones as E.164 when valid, everything else exactly.
func same(a, b *Row, c Column) bool {
	switch c {
	case Email:
		return strings.EqualFold(a.raw(c), b.raw(c))
	case Mobile:
		if a.Mobile != "" || b.Mobile != "" {
			return a.Mobile == b.Mobile
		}
	case HomePhone:
		if a.HomePhone != "" || b.HomePhone != "" {
			return a.HomePhone == b.HomePhone
		}
	case Language:
		if a.Language != "" || b.Language != "" {
			return a.Language == b.Language
		}
	}
	return a.raw(c) == b.raw(c)
}

// merge checks the rows of each guardian_id against its first good row and
// the uniqueness of emails across guardians.
func (f *File) merge() {
	first := map[string]int{}
	// guardian, student → first row; only for guardians on several rows
	// (most are on one, and a million-row file's pairs cost 100 MB).
	pairs := map[[2]string]int{}
	for i := range f.Rows {
		r := &f.Rows[i]
		if !r.OK() {
			continue
		}
		j, seen := first[r.GuardianID]
		if !seen {
			first[r.GuardianID] = i
			continue
		}
		ref := &f.Rows[j]
		if _, ok := pairs[[2]string{ref.GuardianID, ref.StudentID}]; !ok {
			pairs[[2]string{ref.GuardianID, ref.StudentID}] = j
		}
		var diff []string
		for _, c := range compared {
			if !same(ref, r, c) {
				diff = append(diff, fmt.Sprintf("%s %s here, %s there", c, quote(r.raw(c)), quote(ref.raw(c))))
			}
		}
		if len(diff) > 0 {
			r.Fail("guardian_id %s conflicts with line %d: %s; one guardian_id must have the same name and contacts on every row",
				quote(r.GuardianID), ref.Line, strings.Join(diff, ", "))
			continue
		}
		key := [2]string{r.GuardianID, r.StudentID}
		if k, dup := pairs[key]; dup {
			r.Warn("repeats line %d (same guardian and student)", f.Rows[k].Line)
		} else {
			pairs[key] = i
		}
	}

	// An email is a login: it must belong to one guardian only.
	owners := map[string][]string{}
	for id, i := range first {
		if e := strings.ToLower(f.Rows[i].Email); e != "" && !slices.Contains(owners[e], id) {
			owners[e] = append(owners[e], id)
		}
	}
	for i := range f.Rows {
		r := &f.Rows[i]
		if !r.OK() || r.Email == "" {
			continue
		}
		others := owners[strings.ToLower(r.Email)]
		if len(others) < 2 {
			continue
		}
		other := others[0]
		if other == r.GuardianID {
			other = others[1]
		}
		where := f.Rows[first[other]].Line
		if r.Mobile == "" {
			r.Fail("email %s is also guardian_id %s's (line %d) and there is no valid mobile: a guardian needs a unique email or a valid mobile",
				quote(r.Email), quote(other), where)
		} else {
			r.Warn("email %s is also guardian_id %s's (line %d); this guardian logs in with the mobile", quote(r.Email), quote(other), where)
		}
	}
}

// Guardians groups the rows without errors by guardian_id, sorted by ID.
// Call it after every row error is in: a guardian whose rows all failed is
// not listed.
func (f *File) Guardians() []Guardian {
	// Indexed first, so that the list is allocated once at its size.
	at := map[string]int{}
	for i := range f.Rows {
		if r := &f.Rows[i]; r.OK() {
			if _, ok := at[r.GuardianID]; !ok {
				at[r.GuardianID] = -1
			}
		}
	}
	out := make([]Guardian, 0, len(at))
	for i := range f.Rows {
		r := &f.Rows[i]
		if !r.OK() {
			continue
		}
		k := at[r.GuardianID]
		if k < 0 {
			k = len(out)
			at[r.GuardianID] = k
			out = append(out, Guardian{ID: r.GuardianID, FirstName: r.FirstName, LastName: r.LastName,
				Email: r.Email, Mobile: r.Mobile, HomePhone: r.HomePhone, Language: r.Language})
		}
		g := &out[k]
		g.Rows = append(g.Rows, i)
		g.Students = append(g.Students, r.StudentID)
	}
	for i := range out {
		slices.Sort(out[i].Students)
		out[i].Students = slices.Compact(out[i].Students)
	}
	slices.SortFunc(out, func(a, b Guardian) int { return strings.Compare(a.ID, b.ID) })
	return out
}

// Counts are a processed file's rows by outcome.
type Counts struct {
	Rows, Errors, Warnings int
}

// Count tallies rows, rows with errors and warnings.
func (f *File) Count() Counts {
	n := Counts{Rows: len(f.Rows)}
	for i := range f.Rows {
		if !f.Rows[i].OK() {
			n.Errors++
		}
		n.Warnings += len(f.Rows[i].Warnings)
	}
	return n
}

// CheckErrorShare refuses a file in which more than half the rows are
// errors: such a file is the wrong file or a broken export, and applying
// the rest would do more harm than good.
func (f *File) CheckErrorShare() error {
	n := f.Count()
	if n.Errors*2 > n.Rows {
		first := ""
		for i := range f.Rows {
			if r := &f.Rows[i]; !r.OK() {
				first = fmt.Sprintf(" (line %d: %s)", r.Line, r.Errors[0])
				break
			}
		}
		return refuse("%d of its %d rows are errors, more than half%s; nothing was changed. Fix the file and process it again", n.Errors, n.Rows, first)
	}
	return nil
}

// Notable lists up to n row indexes for a preview: rows with errors first,
// then rows with warnings, then the rest, each in file order.
func (f *File) Notable(n int) []int {
	var errs, warns, rest []int
	for i := range f.Rows {
		switch r := &f.Rows[i]; {
		case !r.OK():
			errs = append(errs, i)
		case len(r.Warnings) > 0:
			warns = append(warns, i)
		default:
			rest = append(rest, i)
		}
	}
	out := slices.Concat(errs, warns, rest)
	if len(out) > n {
		out = out[:n]
	}
	return out
}
