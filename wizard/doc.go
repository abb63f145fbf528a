// Package wizard is rostersync's Bubble Tea application: the router that
// walks Connect's click path screen by screen (package screens), the header
// with "Step N of M" and the web UI's breadcrumb, the footer with key help,
// the unsaved-changes prompt and draft keeping. The same Model runs locally
// (RunLocal), as plain prompts for screen readers (RunAccessible), and per
// SSH session under `rostersync serve` (package server).
//
// The wizard reaches ClassLink only through package sync, with the
// process's one dial function (Options.Engine.Dial) and Dialer:
//
//	m := wizard.New(wizard.Options{DB: db, Actor: store.Actor{User: "ana", Via: "local"},
//		Dialer: dialer, Engine: &sync.Engine{DB: db, Dial: dialer.Dial}})
//	_, err := tea.NewProgram(m).Run()
package wizard
