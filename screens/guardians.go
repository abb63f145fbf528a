package screens

import (
	"strings"

	tea "charm.land/bubbletea/v2"

	"github.com/schoolstatus/rostersync/store"
)

// GuardiansActions is how the guardians screens reach the guardians file
// engine and, in a local session, the local files; the wizard fills it in
// (screens import neither sync nor guardians). Nil hides those screens'
// actions.
type GuardiansActions struct {
	// TestSFTP tests d's SFTP folder (the draft's settings); trust is a
	// host key the person confirmed, "" for none. SFTPTestedMsg follows.
	TestSFTP func(d store.District, trust string) tea.Cmd
	// Read reads a guardians file: the local file at path, or with path ""
	// guardians.csv from d's SFTP folder. GuardiansFileReadMsg follows.
	Read func(d store.District, path string) tea.Cmd
	// Process checks (dryRun) or applies a file read by Read, those very
	// bytes. GuardiansProcessedMsg follows.
	Process func(d store.District, f GuardiansFile, dryRun, abandon bool) tea.Cmd
	// WriteSample writes a sample guardians.csv with d's students at path
	// (never over an existing file). A FlashMsg follows.
	WriteSample func(d store.District, path string) tea.Cmd
	// Complete completes a local path: the longest completion of prefix
	// and the names that share it. Nil over SSH, where a session never
	// reads the server's folders.
	Complete func(prefix string) (string, []string)
	// Local says the session may read and write local files: false over
	// SSH, where files come only from the SFTP folder (or from
	// `rostersync guardians upload` run on the server).
	Local bool
}

// SFTPReport is what an SFTP folder test found.
type SFTPReport struct {
	TenantID int64
	OK       bool
	Addr     string
	Path     string
	HostKey  string // the fingerprint the server presented
	KeyType  string
	Pinned   bool // HostKey is the one pinned in the settings tested
	Unpinned bool // no key pinned yet
	Mismatch bool // another key is pinned
	Found    bool // guardians.csv is there
	Size     int64
	Err      string
}

// SFTPTestedMsg carries a finished SFTP folder test.
type SFTPTestedMsg struct{ Report SFTPReport }

// GuardiansFile is a guardians file read into memory, to be previewed and
// then applied as it is.
type GuardiansFile struct {
	TenantID int64
	Name     string // the local path, or the path in the SFTP folder
	SFTP     bool   // read from the SFTP folder
	Data     []byte
}

// GuardiansFileReadMsg carries a read file, or why it could not be read.
type GuardiansFileReadMsg struct {
	File GuardiansFile
	Err  error
}

// GuardiansRow is one row of a processed file, as the preview lists it.
type GuardiansRow struct {
	Line                  int
	Action                string // CREATED, UPDATED, LINKED, UNCHANGED, ERROR
	GuardianID, StudentID string
	Result                string // "success", "success; warning: …" or the errors
}

// GuardiansProcessedMsg carries a processed file's run and its notable
// rows (errors first, then warnings, then the rest).
type GuardiansProcessedMsg struct {
	TenantID int64
	Run      store.Run
	Rows     []GuardiansRow
	AllRows  int
	Err      error
}

// scrolled shows lines in h rows, keeping line focus in view; "↑ N more"
// and "↓ N more" say what is above and below.
func scrolled(st *Styles, lines []string, focus, h int) string {
	return scrolledRange(st, lines, focus, focus, h)
}

// scrolledRange is scrolled keeping lines from…to in view (from first
// when they do not all fit): page's window, scrolled afresh each frame.
func scrolledRange(st *Styles, lines []string, from, to, h int) string {
	var scroll int
	return strings.Join(window(st, lines, from, to, h, &scroll), "\n")
}

// wrapLines wraps s to w and returns its lines.
func wrapLines(s string, w int) []string { return strings.Split(wrap(s, w), "\n") }

// guardiansManaged says why the guardians file screens do not apply: the
// sync manages guardians ("" when it does not).
func guardiansManaged(e *Edit) string {
	if e.Draft.Settings.ManageGuardians {
		return "Allow sync to manage Guardians is on: guardians come from ClassLink (turn it off on District-Level Daily Sync to use guardians.csv)"
	}
	return ""
}

// guardiansSummary is the source in a few words.
func guardiansSummary(g store.GuardiansSource) string {
	switch g.SourceOrNone() {
	case store.GuardiansUpload:
		return "Source: uploads of guardians.csv"
	case store.GuardiansSFTP:
		s := "Source: SFTP folder " + g.SFTP.Host
		if g.SFTP.HostKey == "" {
			s += " (host key not pinned yet)"
		}
		return s
	}
	return "Source: none"
}
