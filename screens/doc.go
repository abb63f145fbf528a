// Package screens holds one file per screen of Connect's click path
// (Dropdown → District Home Page → ⋮ → Settings → SIS Rostering →
// District-Level Daily Sync → Permissions → Review), the permissions matrix
// component, and what every screen shares: Common (size, styles, keys),
// the Edit being made, and the messages screens send to the router.
//
// A screen never navigates by itself: it posts one of the messages in
// messages.go (Open, Back, DistrictChosen, Saved) to Common's outbox and the
// wizard's router acts on it as soon as the screen's Update returns. Screens
// never import the sync engine or the ClassLink client; the wizard hands them
// data or functions.
//
// # Every screen at every size (layout.go, wait.go, keymap.go)
//
// A screen draws into Common.Width × Common.Height, from 48×12 (a 50×16
// terminal) up, and never touches the database in View. Use these, not
// lipgloss cuts or hand-made windows:
//
//   - page{Head, Body, Foot, Focus, FocusEnd, Scroll}.render(st, w, h):
//     Head stays on top, Foot at the bottom; Body scrolls so that its lines
//     Focus..FocusEnd stay in view, marked "↑ N more" / "↓ N more". With
//     Focus < 0 the body is a text page that scrolls from *Scroll and says
//     "lines a–b of n". Keep Scroll in the screen (an int field) so the
//     view moves only as far as the focus needs. Render the focused row in
//     full (wrapped) and the others truncated.
//   - Scrolled(st, text, &scroll, &scrolls, w, h) is the same for a plain
//     text page; scrolls says whether it did not fit.
//   - truncate(s, w) / Truncate cut to w columns and end in "…"; wrap(s, w)
//     wraps. Never cut text any other way: what a person confirms is what
//     they can see.
//   - Dialog(st, w, title, text, safe, others...) is a bordered question
//     that wraps to the width, its safe Choice first ({"n/esc", "keep it"}).
//     Render it as the page body, with Focus on its last line, so the
//     choices stay in view when the text gives way.
//   - KeyMap.Confirm is y only: risky confirmations (save, apply, enable
//     early, discard, untick a verified step) never take enter. ctrl+n
//     (KeyMap.Continue) continues every form; k/j move everywhere; "/"
//     (KeyMap.Filter) opens a list's filter (searchField, which also takes
//     bracketed paste); q quits where no field is focused, so a screen with
//     a focused text field implements Typing.
//   - waiter is a long wait on ClassLink: start(c, what, run) gives run a
//     context that esc cancels (stop), and view() is a spinner with the
//     time elapsed; the router turns the spinner while any wait is active.
//   - Database work: reads that fill a screen run in a command from Init
//     and come back as a message; writes go through Common.Do (the router
//     holds the keys typed meanwhile and replays them after the result), or
//     Common.SetStep for a checklist tick. Screens that show what others
//     change implement Refresher.
//   - ShortHelp lists exactly the keys that work in the current state, the
//     most useful first (the footer keeps as many as fit).
package screens
