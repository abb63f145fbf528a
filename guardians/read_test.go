package guardians

import (
	"bytes"
	"encoding/csv"
	"errors"
	"slices"
	"strings"
	"testing"
)

const head = "student_id,guardian_id,first_name,last_name,email,mobile,home_phone,language\n"

func mustRead(t *testing.T, text string, opt Options) *File {
	t.Helper()
	f, err := Read(strings.NewReader(text), opt)
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	return f
}

func refusedWith(t *testing.T, text string, opt Options, want string) {
	t.Helper()
	_, err := Read(strings.NewReader(text), opt)
	var refused *RefusedError
	if !errors.As(err, &refused) {
		t.Fatalf("Read = %v, want a *RefusedError", err)
	}
	if !strings.Contains(err.Error(), want) {
		t.Fatalf("refusal %q does not say %q", err, want)
	}
}

func TestHeaderMatchingBOMAndCRLF(t *testing.T) {
	text := "\ufeffStudent ID,GUARDIAN_ID,First Name,last_name,E-mail,Mobile\r\n" +
		"s1,g1,Ana,Ruiz,ana@example.org,(212) 874-1234\r\n"
	f := mustRead(t, text, Options{})
	if len(f.Rows) != 1 {
		t.Fatalf("rows = %d, want 1", len(f.Rows))
	}
	r := f.Rows[0]
	if !r.OK() || r.StudentID != "s1" || r.GuardianID != "g1" || r.Email != "ana@example.org" || r.Mobile != "+12128741234" || r.Line != 2 {
		t.Fatalf("row = %+v", r)
	}
	if r.Fields[5] != "(212) 874-1234" {
		t.Fatalf("fields as read lost: %q", r.Fields)
	}
}

func TestRefusedAsAWhole(t *testing.T) {
	for _, tc := range []struct {
		name, text string
		opt        Options
		want       string
	}{
		{"empty", "", Options{}, "the file is empty"},
		{"header only", head, Options{}, "a header but no rows"},
		{"missing column", "student_id,guardian_id,first_name,last_name,email\ns,g,a,b,a@b.org\n", Options{}, "it lacks mobile"},
		{"unknown column", "student_id,guardian_id,first_name,last_name,email,mobile,shoe_size\n", Options{}, `unknown column(s) "shoe_size"`},
		{"twice", "student_id,guardian_id,first_name,last_name,email,mobile,Mobile\n", Options{}, "names mobile twice (columns 6 and 7)"},
		{"data as header", "s1,g1,Ana,Ruiz,ana@example.org,2128741234\n", Options{}, "the first line must be the header"},
		{"latin-1 bytes", head + "s1,g1,Jos\xe9,Ruiz,a@example.org,,,\n", Options{}, "line 2 is not valid UTF-8"},
		{"utf-16", "\xff\xfes\x00", Options{}, "UTF-16"},
		{"nul", head + "s1,g1\x00,Ana,Ruiz,a@example.org,,,\n", Options{}, "line 2 contains a NUL byte"},
		{"bare quote", head + "s1,g\"1,Ana,Ruiz,a@example.org,,,\n", Options{}, "not valid CSV: line 2"},
		{"too big", head + strings.Repeat("s1,g1,Ana,Ruiz,a@example.org,,,\n", 10), Options{MaxBytes: 200}, "larger than 200 bytes"},
		{"too many rows", head + strings.Repeat("s1,g1,Ana,Ruiz,a@example.org,,,\n", 4), Options{MaxRows: 3}, "more than 3 rows"},
	} {
		t.Run(tc.name, func(t *testing.T) { refusedWith(t, tc.text, tc.opt, tc.want) })
	}
}

func TestISO88591OnlyWhenConfigured(t *testing.T) {
	text := head + "s1,g1,Jos\xe9,Ni\xf1o,jose@example.org,,,\n"
	f := mustRead(t, text, Options{Encoding: ISO88591})
	if r := f.Rows[0]; r.FirstName != "José" || r.LastName != "Niño" {
		t.Fatalf("names = %q %q", r.FirstName, r.LastName)
	}
	if _, err := ParseEncoding("latin1"); err != nil {
		t.Fatal(err)
	}
	if _, err := ParseEncoding("utf-16"); err == nil || !strings.Contains(err.Error(), "encoding") {
		t.Fatalf("ParseEncoding(utf-16) = %v", err)
	}
}

func TestRowRules(t *testing.T) {
	for _, tc := range []struct {
		name, row string
		err, warn string // substrings; "" means none
		check     func(Row) bool
	}{
		{"email only", "s1,g1,Ana,Ruiz,ana@example.org,,,", "", "", func(r Row) bool { return r.Email == "ana@example.org" && r.Mobile == "" }},
		{"mobile only", "s1,g1,Ana,Ruiz,,212.874.1234 x12,,", "", "", func(r Row) bool { return r.Mobile == "+12128741234" }},
		{"neither", "s1,g1,Ana,Ruiz,,,,", "email and mobile are both empty", "", nil},
		{"both invalid", "s1,g1,Ana,Ruiz,ana at home,n/a,,", `email "ana at home" is not a valid address and mobile "n/a" is not a valid phone number`, "", nil},
		{"bad mobile, good email", "s1,g1,Ana,Ruiz,ana@example.org,555-1234,,", "", `mobile "555-1234" is not a valid phone number; left empty`, func(r Row) bool { return r.Mobile == "" }},
		{"bad email, good mobile", "s1,g1,Ana,Ruiz,ana@,2128741234,,", "", `email "ana@" is not a valid address; left empty`, func(r Row) bool { return r.Email == "" }},
		{"display name email", "s1,g1,Ana,Ruiz,Ana <ana@example.org>,,,", "not a valid address", "", nil},
		{"bad home phone", "s1,g1,Ana,Ruiz,ana@example.org,,123,", "", `home_phone "123" is not a valid phone number`, func(r Row) bool { return r.HomePhone == "" }},
		{"home phone", "s1,g1,Ana,Ruiz,ana@example.org,,(415) 871-2233,", "", "", func(r Row) bool { return r.HomePhone == "+14158712233" }},
		{"language", "s1,g1,Ana,Ruiz,ana@example.org,,,pt_br", "", "", func(r Row) bool { return r.Language == "pt-BR" }},
		{"bad language", "s1,g1,Ana,Ruiz,ana@example.org,,,Spanish", "", `language "Spanish" is not a language code`, func(r Row) bool { return r.Language == "" }},
		{"und", "s1,g1,Ana,Ruiz,ana@example.org,,,und", "", "is not a language code", nil},
		{"no student", ",g1,Ana,Ruiz,ana@example.org,,,", "student_id is empty", "", nil},
		{"no guardian", "s1, ,Ana,Ruiz,ana@example.org,,,", "guardian_id is empty", "", nil},
		{"no names", "s1,g1,,,ana@example.org,,,", "first_name is empty; last_name is empty", "", nil},
		{"short row", "s1,g1,Ana,Ruiz,ana@example.org", "the row has 5 fields; the header has 8", "", nil},
		{"long field", "s1,g1," + strings.Repeat("a", MaxFieldLength+1) + ",Ruiz,ana@example.org,,,", "first_name is 257 characters long; at most 256 are allowed", "", nil},
		{"control character", "s1,g1,\"An\na\",Ruiz,ana@example.org,,,", "first_name must not contain control characters", "", nil},
		{"spaces trimmed", " s1 , g1 , Ana , Ruiz , ana@example.org ,,,", "", "", func(r Row) bool { return r.StudentID == "s1" && r.FirstName == "Ana" && r.Email == "ana@example.org" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := mustRead(t, head+tc.row+"\n", Options{})
			r := f.Rows[0]
			errs, warns := strings.Join(r.Errors, "; "), strings.Join(r.Warnings, "; ")
			if tc.err == "" && errs != "" || tc.err != "" && !strings.Contains(errs, tc.err) {
				t.Fatalf("errors = %q, want %q", errs, tc.err)
			}
			if tc.warn == "" && warns != "" || tc.warn != "" && !strings.Contains(warns, tc.warn) {
				t.Fatalf("warnings = %q, want %q", warns, tc.warn)
			}
			if tc.check != nil && !tc.check(r) {
				t.Fatalf("row = %+v", r)
			}
		})
	}
}

func TestBlankRowsSkipped(t *testing.T) {
	f := mustRead(t, head+",,,,,,,\n\ns1,g1,Ana,Ruiz,ana@example.org,,,\n , ,,,,,,\n", Options{})
	if len(f.Rows) != 1 || f.Rows[0].Line != 4 {
		t.Fatalf("rows = %+v", f.Rows)
	}
}

func TestSameGuardianOnSeveralRows(t *testing.T) {
	f := mustRead(t, head+
		"s1,g1,Ana,Ruiz,ANA@example.org,(212) 874-1234,,es\n"+
		"s2,g1,Ana,Ruiz,ana@example.org,212-874-1234,,es-ES\n"+ // same mobile in another shape; different language
		"s3,g1,Ana,Ruiz,ana@example.org,212-874-1234,,es\n"+
		"s2,g2,Ben,Ruiz,ben@example.org,,,\n"+
		"s4,g2,Benjamin,Ruiz,ben@example.org,,,\n"+
		"s2,g2,Ben,Ruiz,ben@example.org,,,\n", Options{})
	r := f.Rows
	if !r[0].OK() || !r[2].OK() || !r[3].OK() {
		t.Fatalf("good rows failed: %q %q %q", r[0].Errors, r[2].Errors, r[3].Errors)
	}
	if !strings.Contains(r[1].Result(), `guardian_id "g1" conflicts with line 2: language "es-ES" here, "es" there`) {
		t.Fatalf("conflict not named: %q", r[1].Result())
	}
	if !strings.Contains(r[4].Result(), `conflicts with line 5: first_name "Benjamin" here, "Ben" there`) {
		t.Fatalf("conflict not named: %q", r[4].Result())
	}
	if !r[5].OK() || !strings.Contains(r[5].Result(), "repeats line 5") {
		t.Fatalf("repeat = %q", r[5].Result())
	}
	gs := f.Guardians()
	if len(gs) != 2 || gs[0].ID != "g1" || strings.Join(gs[0].Students, ",") != "s1,s3" || gs[1].ID != "g2" || strings.Join(gs[1].Students, ",") != "s2" {
		t.Fatalf("guardians = %+v", gs)
	}
	if gs[0].Mobile != "+12128741234" || gs[0].Language != "es" || len(gs[0].Rows) != 2 {
		t.Fatalf("g1 = %+v", gs[0])
	}
}

func TestEmailMustBeUniqueWithoutMobile(t *testing.T) {
	f := mustRead(t, head+
		"s1,g1,Ana,Ruiz,family@example.org,,,\n"+
		"s1,g2,Ben,Ruiz,Family@example.org,(212) 874-1234,,\n", Options{})
	if f.Rows[0].OK() || !strings.Contains(f.Rows[0].Result(), `email "family@example.org" is also guardian_id "g2"'s (line 3)`) {
		t.Fatalf("row 2 = %q", f.Rows[0].Result())
	}
	if !f.Rows[1].OK() || !strings.Contains(f.Rows[1].Result(), "logs in with the mobile") {
		t.Fatalf("row 3 = %q", f.Rows[1].Result())
	}
}

func TestCheckErrorShare(t *testing.T) {
	half := mustRead(t, head+"s1,g1,Ana,Ruiz,ana@example.org,,,\ns1,g2,,,,,,\n", Options{})
	if err := half.CheckErrorShare(); err != nil {
		t.Fatalf("half errors refused: %v", err)
	}
	more := mustRead(t, head+"s1,g1,Ana,Ruiz,ana@example.org,,,\ns1,g2,,,,,,\ns1,g3,Cy,,,,,\n", Options{})
	err := more.CheckErrorShare()
	var refused *RefusedError
	if !errors.As(err, &refused) || !strings.Contains(err.Error(), "2 of its 3 rows are errors") || !strings.Contains(err.Error(), "line 3:") {
		t.Fatalf("CheckErrorShare = %v", err)
	}
}

func TestResultFile(t *testing.T) {
	f := mustRead(t, "Student ID,guardian_id,first_name,last_name,email,mobile,result,action\n"+
		"s1,g1,Ana,Ruiz,ana@example.org,,old,OLD\n"+
		"s1,g2,Ben,,ben@example.org,,old,OLD\n"+
		"s1,g3,Cy,Ruiz,cy@example.org,n/a,,\n", Options{})
	f.Rows[0].Action = ActionCreated
	f.Rows[2].Action = ActionUpdated
	var buf bytes.Buffer
	if err := f.WriteResult(&buf); err != nil {
		t.Fatal(err)
	}
	got, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{
		{"Student ID", "guardian_id", "first_name", "last_name", "email", "mobile", "result", "action"},
		{"s1", "g1", "Ana", "Ruiz", "ana@example.org", "", "success", "CREATED"},
		{"s1", "g2", "Ben", "", "ben@example.org", "", "last_name is empty", "ERROR"},
		{"s1", "g3", "Cy", "Ruiz", "cy@example.org", "n/a", `success; warning: mobile "n/a" is not a valid phone number; left empty`, "UPDATED"},
	}
	if len(got) != len(want) {
		t.Fatalf("result = %q", got)
	}
	for i := range want {
		if strings.Join(got[i], "|") != strings.Join(want[i], "|") {
			t.Errorf("line %d = %q, want %q", i+1, got[i], want[i])
		}
	}
}

func TestSampleReadsBack(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteSample(&buf, []string{"S-1", "S-2"}); err != nil {
		t.Fatal(err)
	}
	f := mustRead(t, buf.String(), Options{})
	if n := f.Count(); n.Rows != 4 || n.Errors != 0 || n.Warnings != 0 {
		t.Fatalf("sample counts = %+v: %+v", n, f.Rows)
	}
	gs := f.Guardians()
	if len(gs) != 3 || strings.Join(gs[0].Students, ",") != "S-1,S-2" || gs[2].Students[0] != "student-1003" {
		t.Fatalf("sample guardians = %+v", gs)
	}
	if !strings.HasPrefix(buf.String(), strings.Join(Columns[:], ",")+"\n") {
		t.Fatalf("sample header = %q", strings.SplitN(buf.String(), "\n", 2)[0])
	}
}

func TestChecksumIsOfTheBytesReceived(t *testing.T) {
	a := mustRead(t, head+"s1,g1,Ana,Ruiz,ana@example.org,,,\n", Options{})
	b := mustRead(t, "\ufeff"+head+"s1,g1,Ana,Ruiz,ana@example.org,,,\n", Options{})
	if a.SHA256 == b.SHA256 || len(a.SHA256) != 64 || b.Size != a.Size+3 {
		t.Fatalf("sha256 %s %s, size %d %d", a.SHA256, b.SHA256, a.Size, b.Size)
	}
}

func TestNotableRowsErrorsFirst(t *testing.T) {
	f := mustRead(t, head+"s1,g1,Ana,Ruiz,ana@example.org,,,\ns1,g2,Bo,Li,bo@example.org,,123,\ns1,g3,,,,,,\ns1,g4,Cy,Ng,cy@example.org,,,\n", Options{})
	if got := f.Notable(3); !slices.Equal(got, []int{2, 1, 0}) {
		t.Fatalf("Notable(3) = %v", got)
	}
	if got := f.Notable(10); len(got) != 4 {
		t.Fatalf("Notable(10) = %v", got)
	}
}
