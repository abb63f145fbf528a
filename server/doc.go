// Package server is `rostersync serve`: the wizard over SSH (wish), one
// Bubble Tea program per session, public-key logins checked against the
// access list in the database, the admin socket through which `rostersync
// access` changes that list while the server holds the database, and the
// host of the daily sync schedule.
//
//	srv, err := server.New(server.Options{Listen: "127.0.0.1:2222", HostKeyPath: "host_ed25519",
//		DB: db, Dialer: dialer, Engine: engine, AdminSocket: server.AdminSocketPath(dbPath)})
//	if err != nil { ... }
//	err = srv.Serve(ctx) // until ctx ends; then sessions keep their drafts and leave
//
// The wizard itself (package wizard) knows nothing about SSH: the server
// gives each session a wizard.Model with the person's access and role. What
// sessions (and the schedule that runs what they saved) may make the server
// reach is the Dialer's Reach: roster hosts on an allow-list, at addresses
// that are not loopback, private, link-local or metadata ones.
//
// Every session is untrusted input. What one client may cost the server is
// bounded where it enters: connections are rate-limited per address and
// capped while not logged in, with a handshake deadline (limits.go); a
// session's window is clamped to 400×200 on every path a size arrives by,
// and idle means no keystrokes (session.go). An access list change reaches
// open sessions at once (access.go). However a session ends, its draft is
// kept (unless its model panicked), its syncs are released, its terminal
// is restored and, when the server ended it, the person is told why; a stop
// takes at most ShutdownGrace plus StopWait.
package server
