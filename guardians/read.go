package guardians

import (
	"bytes"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// Limits on one file (README: "guardians.csv"). A district of the L tier
// has about 480,000 guardians; a row is rarely over 200 bytes.
const (
	MaxFileBytes   = 128 << 20 // 128 MiB
	MaxRows        = 1_000_000
	MaxFieldLength = 256 // characters, per field
)

// Encoding is how the file's bytes are read. UTF-8 (which includes ASCII)
// is the default; ISO-8859-1 only when the district arranged it.
type Encoding string

const (
	UTF8     Encoding = "utf-8"
	ISO88591 Encoding = "iso-8859-1"
)

// ParseEncoding reads an encoding name as people write it; "" is UTF-8.
func ParseEncoding(s string) (Encoding, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "utf-8", "utf8", "ascii", "us-ascii":
		return UTF8, nil
	case "iso-8859-1", "iso8859-1", "latin1", "latin-1":
		return ISO88591, nil
	}
	return "", fmt.Errorf("encoding: must be %q or %q, got %q", UTF8, ISO88591, s)
}

// Options tune Read; the zero value reads UTF-8 within the package limits.
type Options struct {
	Encoding Encoding
	MaxBytes int64 // 0 means MaxFileBytes
	MaxRows  int   // 0 means MaxRows
}

// RefusedError is a file refused as a whole: nothing may change.
type RefusedError struct{ Reason string }

func (e *RefusedError) Error() string { return RefusedPrefix + e.Reason }

// RefusedPrefix starts a refused file's message, before the reason.
const RefusedPrefix = "guardians file refused: "

func refuse(format string, args ...any) error {
	return &RefusedError{Reason: fmt.Sprintf(format, args...)}
}

// File is a read guardians.csv.
type File struct {
	header header
	Rows   []Row
	Size   int64  // bytes as received
	SHA256 string // hex, of the bytes as received
}

// Header is the header row as read.
func (f *File) Header() []string { return f.header.names }

// Row is one data row: its fields as read, the values the rules made of
// them, and its outcome.
type Row struct {
	Line   int      // where the row starts in the file; the header is line 1
	Fields []string // as read

	StudentID, GuardianID, FirstName, LastName string
	Email                                      string // "" when invalid
	Mobile, HomePhone                          string // E.164, "" when blank or invalid
	Language                                   string // canonical BCP 47 tag, "" when blank or invalid

	// cols is where each column is in Fields (the file's header index);
	// bad marks the columns whose value failed a check (too long, a
	// control character). raw reads a column through them: a row keeps
	// its fields once, not again by column.
	cols     *[numColumns]int
	bad      uint16
	Errors   []string
	Warnings []string
	// Action is set by whoever applies the file (CREATED, UPDATED, …).
	Action string
}

// OK reports whether the row has no error.
func (r *Row) OK() bool { return len(r.Errors) == 0 }

// Fail adds a row error.
func (r *Row) Fail(format string, args ...any) {
	r.Errors = append(r.Errors, fmt.Sprintf(format, args...))
}

// Warn adds a warning; the row is still used.
func (r *Row) Warn(format string, args ...any) {
	r.Warnings = append(r.Warnings, fmt.Sprintf(format, args...))
}

// Raw is a column's input value, trimmed.
func (r *Row) Raw(c Column) string { return r.raw(c) }

// raw is column c's value, trimmed; "" when the column is missing or its
// value failed a check.
func (r *Row) raw(c Column) string {
	if r.cols == nil || r.bad&(1<<c) != 0 {
		return ""
	}
	if i := r.cols[c]; i >= 0 && i < len(r.Fields) {
		return strings.TrimSpace(r.Fields[i])
	}
	return ""
}

// Result is the row's result column: "success", "success; warning: …" or
// the errors.
func (r *Row) Result() string {
	if !r.OK() {
		return strings.Join(r.Errors, "; ")
	}
	if len(r.Warnings) == 0 {
		return "success"
	}
	return "success; warning: " + strings.Join(r.Warnings, "; warning: ")
}

// Read reads and checks a whole guardians.csv. A *RefusedError means the
// file cannot be used at all (too big, wrong encoding, bad header, broken
// CSV, no rows, too many rows); the File returned with it has only Size
// and SHA256 (nil for a file over the size limit). Any other error is the
// reader's. Row problems are kept on the rows.
func Read(r io.Reader, opt Options) (*File, error) {
	return readSized(r, -1, opt)
}

// ReadBytes is Read of a file already in memory: data is parsed where it
// is, never copied.
func ReadBytes(data []byte, opt Options) (*File, error) {
	if limit := maxBytes(opt); int64(len(data)) > limit {
		return nil, tooBig(limit)
	}
	return parse(data, opt)
}

func maxBytes(opt Options) int64 {
	if opt.MaxBytes <= 0 {
		return MaxFileBytes
	}
	return opt.MaxBytes
}

func tooBig(limit int64) error {
	return refuse("the file is larger than %s, the limit for one guardians file", byteSize(limit))
}

// readSized is Read of a file said to be size bytes (-1: unknown).
func readSized(r io.Reader, size int64, opt Options) (*File, error) {
	data, err := readAtMost(r, size, maxBytes(opt))
	if err != nil {
		return nil, err
	}
	return parse(data, opt)
}

// readAtMost reads r, said to be size bytes (-1: unknown), into one
// buffer of that size (a file that grew since grows it), not grown by
// doubling; a file over limit bytes is refused.
func readAtMost(r io.Reader, size, limit int64) ([]byte, error) {
	buf := bytes.NewBuffer(make([]byte, 0, min(max(size, 0), limit)+bytes.MinRead))
	if _, err := buf.ReadFrom(io.LimitReader(r, limit+1)); err != nil {
		return nil, err
	}
	if int64(buf.Len()) > limit {
		return nil, tooBig(limit)
	}
	return buf.Bytes(), nil
}

// parse checks data, the whole file.
func parse(data []byte, opt Options) (*File, error) {
	maxRows := opt.MaxRows
	if maxRows <= 0 {
		maxRows = MaxRows
	}
	sum := sha256.Sum256(data)
	f := &File{Size: int64(len(data)), SHA256: hex.EncodeToString(sum[:])}
	refused := func(err error) (*File, error) { return &File{Size: f.Size, SHA256: f.SHA256}, err }
	text, err := decode(data, opt.Encoding)
	if err != nil {
		return refused(err)
	}
	cr := csv.NewReader(bytes.NewReader(text))
	cr.FieldsPerRecord = -1
	names, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return refused(refuse("the file is empty; its first line must be the header %s", strings.Join(Columns[:], ",")))
	}
	if err != nil {
		return refused(csvRefusal(err))
	}
	if f.header, err = parseHeader(names); err != nil {
		return refused(err)
	}
	// One allocation for the rows: a slice grown by appending would cost
	// several times its final size on the way (Go grows big ones by 1.25).
	f.Rows = make([]Row, 0, min(rowsAtMost(text), maxRows+1))
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return refused(csvRefusal(err))
		}
		if blank(rec) {
			continue // spreadsheets end files with rows of empty cells
		}
		if len(f.Rows) == maxRows {
			return refused(refuse("the file has more than %d rows, the limit for one guardians file; split it by school", maxRows))
		}
		line, _ := cr.FieldPos(0)
		f.Rows = append(f.Rows, f.readRow(line, rec))
	}
	if len(f.Rows) == 0 {
		return refused(refuse("the file has a header but no rows"))
	}
	f.merge()
	return f, nil
}

// decode checks the encoding and returns UTF-8 text without a BOM.
func decode(data []byte, enc Encoding) ([]byte, error) {
	if bytes.HasPrefix(data, []byte{0xff, 0xfe}) || bytes.HasPrefix(data, []byte{0xfe, 0xff}) {
		return nil, refuse("the file is UTF-16; save it as UTF-8 (\"CSV UTF-8\" in Excel)")
	}
	switch enc {
	case "", UTF8:
		data = bytes.TrimPrefix(data, []byte{0xef, 0xbb, 0xbf})
		if !utf8.Valid(data) {
			bad := len(data)
			for i := 0; i < len(data); {
				r, n := utf8.DecodeRune(data[i:])
				if r == utf8.RuneError && n <= 1 {
					bad = i
					break
				}
				i += n
			}
			return nil, refuse("line %d is not valid UTF-8; save the file as UTF-8 or ASCII (ISO-8859-1 only when the district's guardians encoding is set to it)",
				1+bytes.Count(data[:bad], []byte{'\n'}))
		}
	case ISO88591:
		out := make([]byte, 0, len(data)+len(data)/8)
		for _, b := range data {
			out = utf8.AppendRune(out, rune(b))
		}
		data = out
	default:
		return nil, fmt.Errorf("encoding: must be %q or %q, got %q", UTF8, ISO88591, enc)
	}
	if i := bytes.IndexByte(data, 0); i >= 0 {
		return nil, refuse("line %d contains a NUL byte; the file is not text (UTF-16 or a spreadsheet?): save it as CSV in UTF-8",
			1+bytes.Count(data[:i], []byte{'\n'}))
	}
	return data, nil
}

func csvRefusal(err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return refuse("the file is not valid CSV: line %d, column %d: %v", pe.Line, pe.Column, pe.Err)
	}
	return refuse("the file is not valid CSV: %v", err)
}

// rowsAtMost bounds the rows text can hold: its lines with something
// besides separators, quotes and spaces (a record is one line or more,
// and a line of nothing else is a blank row, skipped).
func rowsAtMost(text []byte) int {
	n, content := 0, false
	for _, b := range text {
		switch b {
		case '\n':
			if content {
				n++
			}
			content = false
		case ',', '"', ' ', '\t', '\r':
		default:
			content = true
		}
	}
	if content {
		n++
	}
	return n
}

func blank(rec []string) bool {
	for _, s := range rec {
		if strings.TrimSpace(s) != "" {
			return false
		}
	}
	return true
}

func byteSize(n int64) string {
	if n >= 1<<20 && n%(1<<20) == 0 {
		return fmt.Sprintf("%d MiB", n>>20)
	}
	return fmt.Sprintf("%d bytes", n)
}
