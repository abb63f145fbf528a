package screens

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"

	"github.com/schoolstatus/rostersync/store"
	"github.com/schoolstatus/rostersync/untrusted"
)

// The Guardians source fields, in screen order.
const (
	gsSource = iota
	gsEncoding
	gsHost
	gsPort
	gsUser
	gsPassword
	gsKey
	gsFolder
	gsAbandon
	gsHostKey
	gsContinue
	gsFields
)

// gsInputs are the text fields: host, port, user, password, private key,
// folder.
const gsFirstInput, gsInputCount = gsHost, 6

var gsLabels = [gsFields]string{"Source:      ", "Encoding:    ", "Host:        ", "Port:        ", "User:        ",
	"Password:    ", "Private key: ", "Folder:      ", "Abandon:     ", "Host key:    ", ""}

// gsField maps a configuration key to its field, for errors.
var gsField = map[string]int{
	"guardians.source": gsSource, "guardians.encoding": gsEncoding, "guardians.sftp.host": gsHost, "guardians.sftp.port": gsPort,
	"guardians.sftp.user": gsUser, "guardians.sftp.password": gsPassword, "guardians.sftp.private_key": gsKey,
	"guardians.sftp.folder": gsFolder, "guardians.sftp.host_key": gsHostKey,
}

// The placeholders of a stored password or key: kept while host, port and
// user are the stored ones, to be entered again otherwise.
const (
	gsKeptPlaceholder    = "(stored; empty keeps it)"
	gsReenterPlaceholder = "(stored for the old server: enter again)"
)

var guardianSources = []string{store.GuardiansNone, store.GuardiansUpload, store.GuardiansSFTP}

// GuardiansSource is SIS Rostering → Guardians source: where guardians
// come from while Manage Guardians is off (none, uploads, or the SFTP
// folder the daily sync reads guardians.csv from), the folder's settings,
// and its host key, pinned only when the person confirms the key a test
// showed.
type GuardiansSource struct {
	c        *Common
	edit     *Edit
	focus    int
	source   string
	encoding string
	abandon  bool
	hostKey  string
	inputs   [gsInputCount]textinput.Model
	err      error // the first problem of the settings, shown at its field
	errField int
	shown    bool // the person tried to continue: show the problem wherever it is
	touched  bool // the person changed something: only then the draft changes
	testing  bool
	test     *SFTPReport
}

// NewGuardiansSource edits e.Draft's guardians source.
func NewGuardiansSource(c *Common, e *Edit) *GuardiansSource {
	g := e.Draft.Guardians
	s := &GuardiansSource{c: c, edit: e, source: g.SourceOrNone(), encoding: g.Encoding, abandon: g.Abandon, hostKey: g.SFTP.HostKey}
	st := c.Styles
	placeholders := [gsInputCount]string{"sftp.example.org", "22", "the SFTP account", "", "paste the key's text", "empty: the home folder"}
	for i := range s.inputs {
		s.inputs[i] = newInput(st, "", placeholders[i], 30)
		s.inputs[i].CharLimit = 256
	}
	sftp := g.SFTP
	s.inputs[0].SetValue(sftp.Host)
	if sftp.Port != 0 {
		s.inputs[1].SetValue(strconv.Itoa(sftp.Port))
	}
	s.inputs[1].CharLimit = 5
	s.inputs[2].SetValue(sftp.User)
	s.inputs[5].SetValue(sftp.Folder)
	s.inputs[5].CharLimit = store.MaxSFTPFolderLength
	s.inputs[4].CharLimit = store.MaxPrivateKeyLength
	saved := e.Saved.Guardians.SFTP
	for i, pair := range [][2]string{{saved.Password, sftp.Password}, {saved.PrivateKey, sftp.PrivateKey}} {
		in := &s.inputs[3+i]
		in.EchoMode = textinput.EchoPassword
		stored, draft := pair[0], pair[1]
		switch {
		case store.IsSealed(stored):
			in.Placeholder = bracketed("unreadable; enter again")
		case stored != "":
			in.Placeholder = gsKeptPlaceholder
		default:
			in.Placeholder = bracketed(map[int]string{0: "or a private key below", 1: "paste the key's text"}[i])
		}
		if draft != stored {
			in.SetValue(draft) // a draft's new secret, still masked on screen
		}
	}
	s.layout()
	s.validate()
	return s
}

func (s *GuardiansSource) Init() tea.Cmd { return nil }
func (s *GuardiansSource) ID() ID        { return GuardiansSourceScreen }
func (s *GuardiansSource) Crumb() string { return "Guardians source" }
func (s *GuardiansSource) Step() int     { return 6 }
func (s *GuardiansSource) Typing() bool {
	return s.focus >= gsFirstInput && s.focus < gsFirstInput+gsInputCount
}

var gsPin = key.NewBinding(key.WithKeys("y"), key.WithHelp("y", "pin the key a test showed"))

func (s *GuardiansSource) ShortHelp() []key.Binding {
	k := s.c.Keys
	if s.pending() != "" && s.focus == gsHostKey {
		return []key.Binding{gsPin, k.Next, k.Back}
	}
	return []key.Binding{k.Next, with(k.Toggle, "choose"), with(k.Continue, "review"), k.Back}
}

func (s *GuardiansSource) FullHelp() [][]key.Binding {
	k := s.c.Keys
	return [][]key.Binding{
		{k.Next, k.Prev},
		{with(k.Toggle, "choose source, encoding, abandon"), with(k.Select, "on Host key: test the connection")},
		{gsPin},
		{with(k.Continue, "review and save"), with(k.Back, "back (changes are kept)")},
	}
}

// visible reports whether field f applies to the chosen source.
func (s *GuardiansSource) visible(f int) bool {
	switch f {
	case gsSource, gsContinue:
		return true
	case gsEncoding:
		return s.source != store.GuardiansNone
	}
	return s.source == store.GuardiansSFTP
}

func (s *GuardiansSource) layout() {
	w := max(s.c.Width-len(gsLabels[0])-4, 12)
	for i := range s.inputs {
		s.inputs[i].SetWidth(w)
	}
}

func (s *GuardiansSource) move(delta int) tea.Cmd {
	s.focus = nextField(s.focus, delta, gsFields, s.visible)
	return focusInput(s.inputs[:], gsFirstInput, s.focus)
}

// pending is a host key a test showed that is not the pinned one: the
// person may confirm it.
func (s *GuardiansSource) pending() string {
	if t := s.test; t != nil && (t.Unpinned || t.Mismatch || t.OK && !t.Pinned) && t.HostKey != "" && t.HostKey != s.hostKey {
		return t.HostKey
	}
	return ""
}

func (s *GuardiansSource) Update(msg tea.Msg) (Screen, tea.Cmd) {
	s.layout()
	switch msg := msg.(type) {
	case SFTPTestedMsg:
		if msg.Report.TenantID == s.edit.Draft.TenantID {
			s.testing, s.test = false, &msg.Report
		}
		return s, nil
	case tea.PasteMsg:
		if s.Typing() {
			return s, s.typed(msg)
		}
		return s, nil
	case tea.KeyPressMsg:
		return s, s.key(msg)
	}
	return s, nil
}

func (s *GuardiansSource) key(km tea.KeyPressMsg) tea.Cmd {
	k := s.c.Keys
	choose := key.Matches(km, k.Toggle) || km.String() == "left" || km.String() == "right" || km.String() == "enter"
	switch {
	case key.Matches(km, k.Back):
		return s.c.Back()
	case km.String() == "tab" || km.String() == "down" || (s.Typing() && km.String() == "enter"):
		return s.move(1)
	case km.String() == "shift+tab" || km.String() == "up":
		return s.move(-1)
	case key.Matches(km, k.Continue), s.focus == gsContinue && km.String() == "enter":
		return s.review()
	case s.focus == gsSource && choose:
		s.source = cycle(guardianSources, s.source, km.String() == "left")
	case s.focus == gsEncoding && choose:
		if s.encoding == "" {
			s.encoding = store.EncodingISO88591
		} else {
			s.encoding = ""
		}
	case s.focus == gsAbandon && choose:
		s.abandon = !s.abandon
	case s.focus == gsHostKey && km.String() == "enter":
		return s.runTest()
	case s.focus == gsHostKey && km.String() == "y" && s.pending() != "":
		s.hostKey = s.pending()
		s.edit.Note(fmt.Sprintf("SFTP host key %s pinned after a connection test showed it, confirmed by the person", s.hostKey))
		s.touched = true
		s.validate()
		return s.runTest() // again, with the key pinned
	case s.Typing():
		return s.typed(km)
	default:
		return nil
	}
	s.touched = true
	s.validate()
	return nil
}

func (s *GuardiansSource) typed(msg tea.Msg) tea.Cmd {
	i := s.focus - gsFirstInput
	before := s.inputs[i].Value()
	var cmd tea.Cmd
	s.inputs[i], cmd = s.inputs[i].Update(msg)
	if s.inputs[i].Value() != before {
		s.touched = true
		s.validate()
	}
	return cmd
}

func cycle(list []string, cur string, back bool) string {
	for i, v := range list {
		if v == cur {
			if back {
				return list[(i+len(list)-1)%len(list)]
			}
			return list[(i+1)%len(list)]
		}
	}
	return list[0]
}

// settings is the guardians source as the fields say; an empty password or
// key field keeps the stored one while host, port and user are the stored
// ones (store's KeepStoredSecrets).
func (s *GuardiansSource) settings() (store.GuardiansSource, error) {
	g := store.GuardiansSource{Source: s.source, Encoding: s.encoding, Abandon: s.abandon}
	v := func(i int) string { return strings.TrimSpace(s.inputs[i].Value()) }
	g.SFTP = store.SFTPFolder{Host: v(0), User: v(2), Password: s.inputs[3].Value(), PrivateKey: NormalizeKey(s.inputs[4].Value()), Folder: v(5), HostKey: s.hostKey}
	if p := v(1); p != "" {
		port, err := strconv.Atoi(p)
		if err != nil {
			return g, &store.FieldError{Field: "guardians.sftp.port", Msg: "must be a whole number from 1 to 65535"}
		}
		g.SFTP.Port = port
	}
	g, err := g.KeepStoredSecrets(s.edit.Saved.Guardians, "")
	if err != nil && s.source == store.GuardiansSFTP {
		return g, err
	}
	if s.source == store.GuardiansSFTP {
		if err := SFTPSecretsProblem(g.SFTP); err != nil {
			return g, err
		}
	}
	return g, g.Validate()
}

// SFTPSecretsProblem is the rule for the SFTP password and key that would
// be saved, on this form and in accessible mode: a stored one the secrets
// key cannot open is entered again (store's Validate lets it through, as
// SecretProblem's to report).
func SFTPSecretsProblem(f store.SFTPFolder) error {
	for _, secret := range []struct{ field, value string }{{"guardians.sftp.password", f.Password}, {"guardians.sftp.private_key", f.PrivateKey}} {
		if store.IsSealed(secret.value) {
			return &store.FieldError{Field: secret.field, Msg: "the stored value cannot be decrypted with this rostersync's secrets key (a lost or different key): enter it again"}
		}
	}
	return nil
}

// validate checks the fields and, once the person changed something,
// copies them into the draft.
func (s *GuardiansSource) validate() {
	g, err := s.settings()
	// A stored secret is kept only for the account it was stored for.
	for _, in := range []*textinput.Model{&s.inputs[3], &s.inputs[4]} {
		if in.Placeholder == gsKeptPlaceholder || in.Placeholder == gsReenterPlaceholder {
			in.Placeholder = gsKeptPlaceholder
			if !g.SFTP.SameAccount(s.edit.Saved.Guardians.SFTP) {
				in.Placeholder = gsReenterPlaceholder
			}
		}
	}
	s.err, s.errField = err, -1
	var fe *store.FieldError
	if errors.As(err, &fe) {
		if f, ok := gsField[fe.Field]; ok {
			s.errField = f
		}
	}
	if s.touched {
		s.edit.Draft.Guardians = g
	}
}

func (s *GuardiansSource) review() tea.Cmd {
	if g, _ := s.settings(); s.err == nil {
		if err := g.CheckPinnedSince(s.edit.Saved.Guardians); err != nil {
			s.err, s.errField = err, gsHostKey // the save's rule, asked before Review
		}
	}
	if s.err != nil {
		s.shown = true
		if s.errField >= 0 && s.visible(s.errField) {
			s.focus = s.errField - 1
			return s.move(1)
		}
		return s.c.FlashError(s.err)
	}
	return s.c.Open(ReviewScreen)
}

func (s *GuardiansSource) runTest() tea.Cmd {
	a := s.c.Guardians
	if a == nil || a.TestSFTP == nil || s.testing {
		return nil
	}
	s.validate() // the pin's own rule (review) does not stop a test
	if s.err != nil {
		return s.review() // shows the problem at its field; nothing is sent
	}
	g, _ := s.settings()
	d := s.edit.Draft
	d.Guardians = g
	s.testing, s.test = true, nil
	return a.TestSFTP(d, "")
}

func (s *GuardiansSource) View() string {
	st := s.c.Styles
	w := s.c.Width
	var lines []string
	focusLine, focusEnd := 0, -1
	add := func(f int, text string) {
		if f == s.focus {
			focusLine = len(lines)
		}
		lines = append(lines, truncate(line(st, f == s.focus, gsLabels[f]+text), w))
		if s.err != nil && s.errField == f && (s.shown || f >= gsFirstInput && f < gsFirstInput+gsInputCount && s.inputs[f-gsFirstInput].Value() != "") {
			for _, l := range wrapLines("✗ "+ErrText(s.err), w-4) {
				lines = append(lines, st.Error.Render("    "+l))
			}
		}
	}
	if s.edit.Draft.Settings.ManageGuardians {
		lines = append(lines, wrapLines("Allow sync to manage Guardians is on: guardians come from ClassLink, so this source is not used until it is turned off (District-Level Daily Sync).", w)...)
		lines = append(lines, "")
	}
	add(gsSource, radio(guardianSources, s.source, map[string]string{store.GuardiansNone: "None", store.GuardiansUpload: "Upload", store.GuardiansSFTP: "SFTP"}))
	if s.visible(gsEncoding) {
		add(gsEncoding, radio([]string{"", store.EncodingISO88591}, s.encoding, map[string]string{"": "UTF-8/ASCII", store.EncodingISO88591: "ISO-8859-1"}))
	}
	if s.source == store.GuardiansSFTP {
		for i := range s.inputs {
			add(gsFirstInput+i, s.inputs[i].View())
		}
		add(gsAbandon, checkbox(s.abandon)+" archive guardians not listed")
		pinned := "none pinned yet"
		if s.hostKey != "" {
			pinned = s.hostKey
		}
		add(gsHostKey, pinned)
		switch {
		case s.testing:
			lines = append(lines, st.Muted.Render("    testing the connection…"))
		case s.test != nil:
			lines = append(lines, s.testLines(w)...)
		case s.focus == gsHostKey:
			lines = append(lines, st.Muted.Render("    enter tests the connection"))
		}
		if s.focus == gsHostKey {
			focusEnd = len(lines) - 1 // what the test found stays in view
		}
	}
	add(gsContinue, "Review and save ›")
	lines = append(lines, "")
	var note string
	switch s.source {
	case store.GuardiansNone:
		note = "No automated source: guardians come only from Upload Guardians (or `rostersync guardians upload`)."
	case store.GuardiansUpload:
		note = "Guardians come from files uploaded on Upload Guardians or with `rostersync guardians upload`."
	default:
		note = "Every sync reads guardians.csv from the folder after the roster. Password and key are stored encrypted and never shown; the host key is pinned only when you confirm the key a test shows."
	}
	for _, l := range wrapLines(note, w) {
		lines = append(lines, st.Note.Render(l))
	}
	title := st.Title.Render("Guardians source")
	return title + "\n" + scrolledRange(st, lines, focusLine, max(focusLine, focusEnd), s.c.Height-1)
}

// testLines say what the last test found, with the full fingerprint of a
// key the person may pin: what they confirm is what they see.
func (s *GuardiansSource) testLines(w int) []string {
	st, t := s.c.Styles, s.test
	var out []string
	say := func(style func(...string) string, text string) {
		for _, l := range wrapLines(text, w-4) {
			out = append(out, style("    "+l))
		}
	}
	if t.HostKey != "" && (t.Unpinned || t.Mismatch || !t.Pinned) && t.HostKey != s.hostKey {
		what := "The server presents host key"
		if t.Mismatch {
			what = "WARNING: the server now presents another host key (someone may be intercepting the connection):"
		}
		say(st.Warning.Render, fmt.Sprintf("%s %s:", what, t.KeyType))
		// Whole, on a line of its own (cut in two only on the narrowest
		// terminals): the person compares every character.
		for _, l := range hardWrap(t.HostKey, w) {
			out = append(out, st.Warning.Render(l))
		}
		say(st.Note.Render, "Compare it with the fingerprint from the server's administrator; y pins it (saved with Review).")
		return out
	}
	if !t.OK {
		say(st.Error.Render, "✗ "+untrusted.Text(t.Err))
		return out
	}
	file := "no guardians.csv yet"
	if t.Found {
		file = fmt.Sprintf("guardians.csv: %d bytes", t.Size)
	}
	say(st.Success.Render, "✓ connected to "+t.Addr+"; "+file)
	return out
}

// hardWrap cuts s into lines of at most w characters.
func hardWrap(s string, w int) []string {
	w = max(w, 1)
	var out []string
	for len(s) > w {
		out = append(out, s[:w])
		s = s[w:]
	}
	return append(out, s)
}

// radio renders a choice among values with their labels.
func radio(values []string, cur string, labels map[string]string) string {
	var parts []string
	for _, v := range values {
		mark := "( )"
		if v == cur {
			mark = "(•)"
		}
		parts = append(parts, mark+" "+labels[v])
	}
	return strings.Join(parts, " ")
}

var pemBlock = regexp.MustCompile(`(-----BEGIN [A-Z0-9 ]+-----)(.*?)(-----END [A-Z0-9 ]+-----)`)

// NormalizeKey turns a private key pasted into a one-line field (its line
// breaks turned to spaces, or lost) back into its text: header, base64
// body in lines of 70, footer.
func NormalizeKey(s string) string {
	s = strings.TrimSpace(s)
	m := pemBlock.FindStringSubmatch(strings.ReplaceAll(strings.ReplaceAll(s, "\r", " "), "\n", " "))
	if m == nil {
		return s
	}
	body := strings.Join(strings.Fields(m[2]), "")
	var b strings.Builder
	b.WriteString(m[1] + "\n")
	for len(body) > 70 {
		b.WriteString(body[:70] + "\n")
		body = body[70:]
	}
	if body != "" {
		b.WriteString(body + "\n")
	}
	b.WriteString(m[3] + "\n")
	return b.String()
}
