package classlinktest

import (
	"fmt"
	"strings"
	"time"
)

// filter is a parsed OneRoster 1.1 filter: one or two predicates joined by
// AND or OR, on dateLastModified or status (the fields the sync filters on).
type filter struct {
	preds []predicate
	or    bool
}

type predicate struct {
	field string // "dateLastModified" or "status"
	op    string // = != > >= < <= ~
	value string
	when  time.Time // for dateLastModified
}

var filterOps = []string{">=", "<=", "!=", "=", ">", "<", "~"}

// parseFilter reads e.g. "dateLastModified>'2026-01-01T00:00:00Z' AND status='active'".
func parseFilter(s string) (*filter, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, nil
	}
	f := &filter{}
	parts := []string{s}
	for _, sep := range []string{" AND ", " OR "} {
		if a, b, ok := cutOutsideQuotes(s, sep); ok {
			parts, f.or = []string{a, b}, sep == " OR "
			break
		}
	}
	for _, p := range parts {
		pr, err := parsePredicate(strings.TrimSpace(p))
		if err != nil {
			return nil, err
		}
		f.preds = append(f.preds, pr)
	}
	return f, nil
}

// cutOutsideQuotes splits s at the first sep that is not inside '…'.
func cutOutsideQuotes(s, sep string) (string, string, bool) {
	in := false
	for i := 0; i < len(s); i++ {
		if s[i] == '\'' {
			in = !in
		}
		if !in && strings.HasPrefix(s[i:], sep) {
			return s[:i], s[i+len(sep):], true
		}
	}
	return "", "", false
}

func parsePredicate(s string) (predicate, error) {
	for i := 0; i < len(s); i++ {
		for _, op := range filterOps {
			if !strings.HasPrefix(s[i:], op) {
				continue
			}
			field := strings.TrimSpace(s[:i])
			value := strings.TrimSpace(s[i+len(op):])
			if len(value) < 2 || value[0] != '\'' || value[len(value)-1] != '\'' {
				return predicate{}, fmt.Errorf("filter value %q must be in single quotes", value)
			}
			p := predicate{field: field, op: op, value: value[1 : len(value)-1]}
			switch field {
			case "status":
			case "dateLastModified":
				t, err := parseWhen(p.value)
				if err != nil {
					return predicate{}, fmt.Errorf("filter date %q: %v", p.value, err)
				}
				p.when = t
			default:
				return predicate{}, fmt.Errorf("invalid_filter_field: %q (this server filters on dateLastModified and status)", field)
			}
			return p, nil
		}
	}
	return predicate{}, fmt.Errorf("filter %q has no operator", s)
}

func parseWhen(v string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, v); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("not a date")
}

func (f *filter) match(status, modified string) bool {
	t, err := parseWhen(modified)
	return f.matchAt(status, t, err == nil)
}

// matchAt is match with the date already read (dated false: unreadable).
func (f *filter) matchAt(status string, modified time.Time, dated bool) bool {
	if f == nil {
		return true
	}
	for i, p := range f.preds {
		ok := p.match(status, modified, dated)
		switch {
		case f.or && ok:
			return true
		case !f.or && !ok:
			return false
		case i == len(f.preds)-1:
			return ok
		}
	}
	return true
}

func (p predicate) match(status string, modified time.Time, dated bool) bool {
	if p.field == "status" {
		switch p.op {
		case "=":
			return status == p.value
		case "!=":
			return status != p.value
		case "~":
			return strings.Contains(status, p.value)
		}
		return compare(strings.Compare(status, p.value), p.op)
	}
	if !dated {
		return false
	}
	return compare(modified.Compare(p.when), p.op)
}

func compare(c int, op string) bool {
	switch op {
	case "=":
		return c == 0
	case "!=":
		return c != 0
	case ">":
		return c > 0
	case ">=":
		return c >= 0
	case "<":
		return c < 0
	case "<=":
		return c <= 0
	}
	return false
}
