package screens

import (
	"errors"
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"

	"github.com/schoolstatus/rostersync/store"
	"github.com/schoolstatus/rostersync/untrusted"
)

// The connection fields, in screen order.
const (
	cnMode = iota
	cnURL
	cnClientID
	cnSecret
	cnMethod
	cnContinue
	cnFields
)

// TokenNote says where the proxy's partner token lives.
const TokenNote = "The ClassLink partner token is read from the server's environment (ROSTERSYNC_CLASSLINK_TOKEN); it is never stored or shown."

// Connection edits how the sync reaches the district's roster: the
// district's own Roster Server with OAuth 1.0a, or ClassLink's proxy.
type Connection struct {
	c      *Common
	edit   *Edit
	focus  int
	mode   string
	method string
	inputs [3]textinput.Model // base URL, client id, secret
	errs   [3]error
	shown  bool // the form was left invalid once: show every error
	// touched is set by the person's first edit; until then the form only
	// shows the draft and never writes it, so opening the screen changes
	// nothing.
	touched bool
	scroll  int
}

// NewConnection edits e.Draft's connection.
func NewConnection(c *Common, e *Edit) *Connection {
	st := c.Styles
	conn := e.Draft.Connection
	s := &Connection{c: c, edit: e, mode: conn.Mode, method: conn.SignatureMethod}
	if s.mode == "" {
		s.mode = store.ModeOAuth1
	}
	if s.method == "" {
		s.method = store.HMACSHA256
	}
	s.inputs[0] = newInput(st, "", "", max(c.Width-6, 8)) // the example is shown under it, in full
	s.inputs[0].CharLimit = untrusted.MaxURLLength
	if s.mode != store.ModeProxy {
		s.inputs[0].SetValue(conn.BaseURL) // a proxy URL is built, never typed
	}
	s.inputs[1] = newInput(st, "", "consumer key from ClassLink", 40)
	s.inputs[1].CharLimit = store.MaxClientIDLength
	s.inputs[1].SetValue(conn.ClientID)
	s.inputs[2] = newInput(st, "", "consumer secret", 40)
	s.inputs[2].CharLimit = store.MaxSecretLength
	s.inputs[2].EchoMode = textinput.EchoPassword
	switch secret := e.Saved.Connection.ClientSecret; {
	case store.IsSealed(secret):
		s.inputs[2].Placeholder = bracketed("cannot be decrypted; type it again")
	case secret != "":
		s.inputs[2].Placeholder = bracketed("stored; leave empty to keep it")
	}
	if conn.ClientSecret != e.Saved.Connection.ClientSecret {
		s.inputs[2].SetValue(conn.ClientSecret) // a draft's new secret, still masked on screen
	}
	s.validate()
	return s
}

func (s *Connection) proxyURL() string {
	if s.c.ProxyBaseURL == nil {
		return ""
	}
	return s.c.ProxyBaseURL(s.edit.Draft.ApplicationID)
}

func (s *Connection) Init() tea.Cmd { return nil }
func (s *Connection) ID() ID        { return ConnectionScreen }
func (s *Connection) Crumb() string { return "ClassLink connection" }
func (s *Connection) Step() int     { return 3 }
func (s *Connection) Typing() bool  { return s.focus >= cnURL && s.focus <= cnSecret }

func (s *Connection) ShortHelp() []key.Binding {
	k := s.c.Keys
	if s.edit.Draft.Demo {
		return []key.Binding{k.Back}
	}
	if s.Typing() {
		return []key.Binding{with(k.Continue, "review"), k.Next, k.Back}
	}
	return []key.Binding{with(k.Toggle, "switch"), with(k.Continue, "review"), k.Next, k.Back}
}

func (s *Connection) FullHelp() [][]key.Binding {
	k := s.c.Keys
	if s.edit.Draft.Demo {
		return [][]key.Binding{s.ShortHelp()}
	}
	return [][]key.Binding{{k.Next, k.Prev}, {with(k.Toggle, "switch mode / signature (enter too)")}, {with(k.Continue, "review and save"), with(k.Back, "back (changes are kept)")}}
}

// visible reports whether field f applies to the current mode and takes
// the focus. The proxy's URL is shown but not typed: it is built from the
// proxy root and the application_id.
func (s *Connection) visible(f int) bool {
	return s.mode == store.ModeOAuth1 || f == cnMode || f == cnContinue
}

func (s *Connection) move(delta int) tea.Cmd {
	s.focus = nextField(s.focus, delta, cnFields, s.visible)
	return focusInput(s.inputs[:], cnURL, s.focus)
}

// urlExample is the Roster Server URL's shape, shown under the empty field.
const urlExample = "https://<tenant>-<region>-v2.oneroster.com/ims/oneroster/v1p1/"

// fitInputs sizes the fields to the screen before they scroll their text.
func (s *Connection) fitInputs() {
	for i := range s.inputs {
		s.inputs[i].SetWidth(max(s.c.Width-6, 8))
	}
}

func (s *Connection) Update(msg tea.Msg) (Screen, tea.Cmd) {
	s.fitInputs()
	if p, ok := msg.(tea.PasteMsg); ok && s.Typing() && !s.edit.Draft.Demo {
		i := s.focus - cnURL
		var cmd tea.Cmd
		s.inputs[i], cmd = s.inputs[i].Update(p)
		s.touched = true
		s.validate()
		return s, cmd
	}
	km, ok := msg.(tea.KeyPressMsg)
	if !ok || s.edit.Draft.Demo {
		if ok && key.Matches(km, s.c.Keys.Back) {
			return s, s.c.Back()
		}
		return s, nil
	}
	k := s.c.Keys
	switch {
	case key.Matches(km, k.Back):
		return s, s.c.Back()
	case km.String() == "tab" || km.String() == "down" || (s.Typing() && km.String() == "enter"):
		return s, s.move(1)
	case km.String() == "shift+tab" || km.String() == "up":
		return s, s.move(-1)
	case key.Matches(km, k.Continue), s.focus == cnContinue && km.String() == "enter":
		return s, s.review()
	case s.focus == cnMode && (key.Matches(km, k.Toggle) || km.String() == "enter" || km.String() == "left" || km.String() == "right"):
		s.touched = true
		s.toggleMode()
	case s.focus == cnMethod && (key.Matches(km, k.Toggle) || km.String() == "enter" || km.String() == "left" || km.String() == "right"):
		s.touched = true
		if s.method == store.HMACSHA256 {
			s.method = store.HMACSHA1
		} else {
			s.method = store.HMACSHA256
		}
	case s.Typing():
		i := s.focus - cnURL
		before := s.inputs[i].Value()
		var cmd tea.Cmd
		s.inputs[i], cmd = s.inputs[i].Update(msg)
		s.touched = s.touched || s.inputs[i].Value() != before
		s.validate()
		return s, cmd
	default:
		return s, nil
	}
	s.validate()
	return s, nil
}

// toggleMode switches between OAuth 1.0a and the proxy; the typed Roster
// Server URL stays for switching back.
func (s *Connection) toggleMode() {
	if s.mode == store.ModeOAuth1 {
		s.mode = store.ModeProxy
	} else {
		s.mode = store.ModeOAuth1
	}
}

// validate checks the fields and copies the connection into the draft.
func (s *Connection) validate() {
	url := strings.TrimSpace(s.inputs[0].Value())
	if s.mode == store.ModeProxy {
		url = s.proxyURL()
	}
	s.errs = [3]error{}
	if url == "" {
		s.errs[0] = errors.New("the roster server URL is required")
	} else {
		s.errs[0] = store.ValidateBaseURL(url)
	}
	conn := store.Connection{Mode: s.mode, BaseURL: url}
	if s.mode == store.ModeOAuth1 {
		conn.ClientID = strings.TrimSpace(s.inputs[1].Value())
		conn.ClientSecret = s.inputs[2].Value()
		conn.SignatureMethod = s.method
		if conn.ClientSecret == "" {
			conn.ClientSecret = s.edit.Saved.Connection.ClientSecret
		}
		s.errs[1], s.errs[2] = ClientIDProblem(conn.ClientID), ClientSecretProblem(conn.ClientSecret)
	}
	if s.errs[0] == nil && s.c.CheckConnection != nil {
		d := s.edit.Draft
		d.Connection = conn
		s.errs[0] = s.c.CheckConnection(d)
	}
	if !s.touched {
		return
	}
	if conn.BaseURL == "" && conn.ClientID == "" && conn.ClientSecret == "" && s.edit.Saved.Connection == (store.Connection{}) {
		conn = store.Connection{} // an emptied form is no connection, not a change
	}
	s.edit.Draft.Connection = conn
}

// ClientIDProblem is the rule for an OAuth 1.0a client ID (trimmed), on
// this form and in accessible mode.
func ClientIDProblem(id string) error {
	if id == "" {
		return errors.New("the client ID (consumer key) is required")
	}
	return nil
}

// ClientSecretProblem is the rule for the OAuth 1.0a client secret that
// would be saved (the one typed, else the stored one), on this form and in
// accessible mode: required, and not a stored one the secrets key cannot
// open.
func ClientSecretProblem(secret string) error {
	switch {
	case secret == "":
		return errors.New("the client secret is required")
	case store.IsSealed(secret):
		return errors.New("the stored client secret cannot be decrypted with this rostersync's secrets key (a lost or different key): type it again")
	}
	return nil
}

func (s *Connection) invalid() int {
	for i, err := range s.errs {
		if err != nil && s.visible(cnURL+i) {
			return cnURL + i
		}
	}
	return -1
}

func (s *Connection) review() tea.Cmd {
	if f := s.invalid(); f >= 0 {
		s.shown = true
		s.focus = f - 1
		return s.move(1)
	}
	return s.c.Open(ReviewScreen)
}

func (s *Connection) View() string {
	st, w := s.c.Styles, s.c.Width
	head := st.Title.Render("ClassLink connection")
	if s.edit.Draft.Demo {
		return page{Head: head, Body: wrap("The demo district's roster is built in and served on this machine; there is nothing to set up.", w)}.render(st, w, s.c.Height)
	}
	var b strings.Builder
	focus, focusEnd := 0, 0
	field := func(f int, text string) {
		start := strings.Count(b.String(), "\n")
		b.WriteString(text + "\n")
		if s.focus == f {
			focus, focusEnd = start, strings.Count(b.String(), "\n")-1
		}
	}
	radio := func(on bool, text string) string {
		if on {
			return "    (•) " + text
		}
		return "    ( ) " + text
	}
	field(cnMode, line(st, s.focus == cnMode, "Mode:")+"\n"+radio(s.mode == store.ModeOAuth1, "Roster Server, OAuth 1.0a")+"\n"+radio(s.mode == store.ModeProxy, "ClassLink proxy"))
	labels := [...]string{"Base URL:", "Client ID:", "Client secret:"}
	for i, in := range s.inputs {
		f := cnURL + i
		if i == 0 && s.mode == store.ModeProxy {
			// Shown in full, not typed: built from the proxy root and the application_id.
			b.WriteString(line(st, false, labels[0]) + "\n" + indent(wrap(s.proxyURL(), w-4), "    ") + "\n")
			b.WriteString(st.Muted.Render(indent(wrap(fmt.Sprintf("built from ClassLink's proxy and application_id %d; it cannot be typed", s.edit.Draft.ApplicationID), w-4), "    ")) + "\n")
			if s.errs[0] != nil {
				b.WriteString(st.Error.Render(indent(wrap("✗ "+ErrText(s.errs[0]), w-4), "    ")) + "\n")
			}
			continue
		}
		if !s.visible(f) {
			continue
		}
		s.inputs[i].SetWidth(max(w-6, 8))
		in = s.inputs[i]
		value := "    " + in.View()
		switch {
		case !in.Focused() && in.Value() != "" && in.EchoMode == textinput.EchoNormal:
			value = indent(wrap(in.Value(), w-4), "    ") // in full while not being edited
		case f == cnURL && in.Value() == "":
			value += "\n" + st.Muted.Render(indent(wrap("e.g. "+urlExample, w-4), "    "))
		}
		text := line(st, s.focus == f, labels[i]) + "\n" + value
		if s.errs[i] != nil && (s.shown || in.Value() != "") {
			text += "\n" + st.Error.Render(indent(wrap("✗ "+ErrText(s.errs[i]), w-4), "    "))
		}
		field(f, text)
	}
	if s.visible(cnMethod) {
		field(cnMethod, line(st, s.focus == cnMethod, "Signature:")+"\n"+radio(s.method == store.HMACSHA256, "HMAC-SHA256")+"\n"+radio(s.method == store.HMACSHA1, "HMAC-SHA1"))
	}
	field(cnContinue, line(st, s.focus == cnContinue, "Review and save ›"))
	b.WriteString("\n")
	if s.mode == store.ModeProxy {
		b.WriteString(st.Note.Render(wrap(TokenNote, w)))
	} else {
		b.WriteString(st.Note.Render(wrap(fmt.Sprintf("From ClassLink's Roster Server page for this district (application %d). Only https is accepted, except loopback addresses. The secret is stored encrypted and never shown.", s.edit.Draft.ApplicationID), w)))
	}
	return page{Head: head, Body: b.String(), Focus: focus, FocusEnd: focusEnd, Scroll: &s.scroll}.render(st, w, s.c.Height)
}
