package guardians

import (
	"bytes"
	"errors"
	"slices"
	"testing"
)

// FuzzRead: any bytes are either refused as a whole or read into rows
// whose result file reads back to the same rows.
func FuzzRead(f *testing.F) {
	var sample bytes.Buffer
	WriteSample(&sample, nil)
	for _, s := range []string{
		sample.String(),
		"\ufeff" + head + "s1,g1,Ana,Ruiz,ana@example.org,,,\r\n",
		head + "s1,g1,\"Ana \"\"A\"\"\",Ruiz,,2128741234,,es\n",
		head + "s1,g1,Ana,Ruiz,a@b.org\ns1,g1,Ana,Ruiz,a@b.org,,,,,\n",
		"Student ID,Guardian ID,First Name,Last Name,Email,Mobile,result,action\ns,g,a,b,a@b.c,,x,y\n",
		head + "s1,g\"1,Ana\n",
		"\xff\xfe",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := Read(bytes.NewReader(data), Options{})
		if err != nil {
			var refused *RefusedError
			if !errors.As(err, &refused) {
				t.Fatalf("Read failed without refusing: %v", err)
			}
			return
		}
		if len(file.Rows) == 0 {
			t.Fatal("a file with no rows was accepted")
		}
		prev := 1
		for _, r := range file.Rows {
			if r.Line <= prev {
				t.Fatalf("line %d after line %d", r.Line, prev)
			}
			prev = r.Line
			if r.OK() && (r.StudentID == "" || r.GuardianID == "" || r.Email == "" && r.Mobile == "") {
				t.Fatalf("row accepted without an id or contact: %+v", r)
			}
		}
		file.CheckErrorShare()
		for range file.Guardians() {
		}
		var out bytes.Buffer
		if err := file.WriteResult(&out); err != nil {
			t.Fatal(err)
		}
		again, err := Read(bytes.NewReader(out.Bytes()), Options{})
		if err != nil {
			t.Fatalf("the result file does not read back: %v\n%q", err, out.String())
		}
		if len(again.Rows) != len(file.Rows) {
			t.Fatalf("result file has %d rows, the file %d", len(again.Rows), len(file.Rows))
		}
		for i := range file.Rows {
			a, b := file.Rows[i], again.Rows[i]
			if ra, rb := rawColumns(&a), rawColumns(&b); a.OK() && len(a.Fields) == len(file.Header()) && !slices.Equal(ra, rb) {
				t.Fatalf("row %d changed through the result file: %q → %q", i, ra, rb)
			}
		}
	})
}

// rawColumns are a row's values by column, as the rules read them.
func rawColumns(r *Row) []string {
	out := make([]string, numColumns)
	for c := range numColumns {
		out[c] = r.raw(c)
	}
	return out
}
