// Package untrusted holds the rules for what reaches rostersync from
// outside the process: text typed into forms, imported from files or sent
// by ClassLink, and the roster URLs the server is asked to call.
//
// Text shows a string from outside with its control characters escaped, so
// a district name or an upstream error can never move another person's
// cursor or split a line; Quote is the short form for error messages;
// CheckLine refuses control characters where names and IDs are typed.
// RosterURL is the one validation of a roster URL: the connection screen,
// Review, config import and the dialer all call it.
//
// The package imports only the standard library, so that store and
// classlink, which import nothing else of rostersync, can share it.
package untrusted
