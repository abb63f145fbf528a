package guardians

import (
	"encoding/csv"
	"io"
)

// Row actions in the result file's action column.
const (
	ActionCreated   = "CREATED"
	ActionUpdated   = "UPDATED"
	ActionLinked    = "LINKED" // a staff member's account, linked to the student
	ActionUnchanged = "UNCHANGED"
	ActionError     = "ERROR"
)

// WriteResult writes the result file: the input's columns (a result file's
// own result and action columns left out) and, per row, its fields, then
// result and action. A row with more fields than the header loses the
// extra ones (its result says how many it had); a shorter one is padded.
func (f *File) WriteResult(w io.Writer) error {
	cw := csv.NewWriter(w)
	keep := func(fields []string) []string {
		out := make([]string, 0, len(f.header.names)+2)
		for i := range f.header.names {
			if f.header.ignored[i] {
				continue
			}
			v := ""
			if i < len(fields) {
				v = fields[i]
			}
			out = append(out, v)
		}
		return out
	}
	if err := cw.Write(append(keep(f.header.names), ResultColumn, ActionColumn)); err != nil {
		return err
	}
	for i := range f.Rows {
		r := &f.Rows[i]
		action := r.Action
		if !r.OK() {
			action = ActionError
		}
		if err := cw.Write(append(keep(r.Fields), r.Result(), action)); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}
