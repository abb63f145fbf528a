package screens

import (
	"charm.land/bubbles/v2/help"
	"charm.land/lipgloss/v2"
)

// Styles is every style of the wizard in one place. Nothing on screen relies
// on colour alone: focus is "›" and checked state is "[x]", so NO_COLOR and
// TERM=dumb stay usable.
type Styles struct {
	App        lipgloss.Style
	Header     lipgloss.Style
	Step       lipgloss.Style
	Crumb      lipgloss.Style
	CrumbLast  lipgloss.Style
	Context    lipgloss.Style
	Title      lipgloss.Style
	Text       lipgloss.Style
	Muted      lipgloss.Style
	Focused    lipgloss.Style
	Checked    lipgloss.Style
	Error      lipgloss.Style
	Warning    lipgloss.Style
	Success    lipgloss.Style
	Note       lipgloss.Style
	Box        lipgloss.Style
	Dialog     lipgloss.Style
	Cell       lipgloss.Style
	CellFocus  lipgloss.Style
	ColumnHead lipgloss.Style
	Help       help.Styles
}

// NewStyles builds the styles for a dark or light terminal background.
func NewStyles(isDark bool) *Styles {
	ld := lipgloss.LightDark(isDark)
	accent := ld(lipgloss.Color("#5A3FC0"), lipgloss.Color("#9D8CFF"))
	muted := ld(lipgloss.Color("#6B6B6B"), lipgloss.Color("#8C8C8C"))
	red := ld(lipgloss.Color("#B3261E"), lipgloss.Color("#FF6B6B"))
	amber := ld(lipgloss.Color("#8A5A00"), lipgloss.Color("#F5B942"))
	green := ld(lipgloss.Color("#1E7A3C"), lipgloss.Color("#5FD38D"))
	border := ld(lipgloss.Color("#C8C8C8"), lipgloss.Color("#4A4A4A"))

	s := &Styles{}
	s.App = lipgloss.NewStyle().Padding(0, 1)
	s.Header = lipgloss.NewStyle()
	s.Step = lipgloss.NewStyle().Bold(true).Foreground(accent)
	s.Crumb = lipgloss.NewStyle().Foreground(muted)
	s.CrumbLast = lipgloss.NewStyle().Bold(true)
	s.Context = lipgloss.NewStyle().Foreground(muted)
	s.Title = lipgloss.NewStyle().Bold(true).Foreground(accent)
	s.Text = lipgloss.NewStyle()
	s.Muted = lipgloss.NewStyle().Foreground(muted)
	s.Focused = lipgloss.NewStyle().Bold(true).Foreground(accent)
	s.Checked = lipgloss.NewStyle().Foreground(green)
	s.Error = lipgloss.NewStyle().Foreground(red)
	s.Warning = lipgloss.NewStyle().Bold(true).Foreground(amber)
	s.Success = lipgloss.NewStyle().Foreground(green)
	s.Note = lipgloss.NewStyle().Foreground(muted).Italic(true)
	s.Box = lipgloss.NewStyle().Border(lipgloss.RoundedBorder()).BorderForeground(border).Padding(0, 1)
	s.Dialog = lipgloss.NewStyle().Border(lipgloss.DoubleBorder()).BorderForeground(amber).Padding(0, 1)
	s.Cell = lipgloss.NewStyle()
	s.CellFocus = lipgloss.NewStyle().Bold(true).Reverse(true)
	s.ColumnHead = lipgloss.NewStyle().Bold(true)
	s.Help = help.DefaultStyles(isDark)
	return s
}
