package screens

import "charm.land/bubbles/v2/key"

// KeyMap is every key binding of the wizard. Screens pick from it for their
// ShortHelp and FullHelp, so the footer always shows the keys that work.
// The same key means the same thing on every screen: k is up, space
// toggles, ctrl+n continues a form, y (never enter) confirms what is risky,
// esc goes back, / opens a list's filter.
type KeyMap struct {
	Up, Down, Left, Right key.Binding
	Next, Prev            key.Binding
	Select                key.Binding
	Toggle                key.Binding
	ToggleRow             key.Binding
	ToggleColumn          key.Binding
	Continue              key.Binding
	Menu                  key.Binding
	Confirm               key.Binding
	Deny                  key.Binding
	Back                  key.Binding
	Filter                key.Binding
	Help                  key.Binding
	Quit                  key.Binding
	// QuitKey is q, which quits like ctrl+c where no text field is focused.
	QuitKey key.Binding
}

// DefaultKeyMap is the wizard's keys.
func DefaultKeyMap() *KeyMap {
	return &KeyMap{
		Up:           key.NewBinding(key.WithKeys("up", "k"), key.WithHelp("↑/k", "up")),
		Down:         key.NewBinding(key.WithKeys("down", "j"), key.WithHelp("↓/j", "down")),
		Left:         key.NewBinding(key.WithKeys("left", "h"), key.WithHelp("←/h", "left")),
		Right:        key.NewBinding(key.WithKeys("right", "l"), key.WithHelp("→/l", "right")),
		Next:         key.NewBinding(key.WithKeys("tab", "down"), key.WithHelp("tab", "next")),
		Prev:         key.NewBinding(key.WithKeys("shift+tab", "up"), key.WithHelp("shift+tab", "previous")),
		Select:       key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "open")),
		Toggle:       key.NewBinding(key.WithKeys("space", "x"), key.WithHelp("space", "toggle")),
		ToggleRow:    key.NewBinding(key.WithKeys("r"), key.WithHelp("r", "toggle row")),
		ToggleColumn: key.NewBinding(key.WithKeys("c"), key.WithHelp("c", "toggle column")),
		Continue:     key.NewBinding(key.WithKeys("ctrl+n"), key.WithHelp("ctrl+n", "continue")),
		Menu:         key.NewBinding(key.WithKeys("m", "."), key.WithHelp("m", "⋮ menu")),
		Confirm:      key.NewBinding(key.WithKeys("y"), key.WithHelp("y", "yes")),
		Deny:         key.NewBinding(key.WithKeys("n"), key.WithHelp("n", "no")),
		Back:         key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "back")),
		Filter:       key.NewBinding(key.WithKeys("/"), key.WithHelp("/", "filter")),
		Help:         key.NewBinding(key.WithKeys("?"), key.WithHelp("?", "help")),
		Quit:         key.NewBinding(key.WithKeys("ctrl+c"), key.WithHelp("ctrl+c", "quit")),
		QuitKey:      key.NewBinding(key.WithKeys("q"), key.WithHelp("q", "quit")),
	}
}

// WithHelp returns a copy of b whose help description reads desc.
func WithHelp(b key.Binding, desc string) key.Binding {
	b.SetHelp(b.Help().Key, desc)
	return b
}

// with is WithHelp, short for the screens' own keymaps.
func with(b key.Binding, desc string) key.Binding { return WithHelp(b, desc) }
