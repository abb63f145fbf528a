// Package guardians is the guardians.csv format: what a district sends when
// Connect's sync does not manage guardians (Settings → SIS Rostering →
// Upload Guardians, or the automated SFTP folder read by the daily sync).
//
// Read checks a file as a whole (size, encoding, header, CSV syntax, row
// count) and each row on its own (required columns, email, mobile and home
// phone through the same phone rules as the roster sync, language code,
// field length), then merges the rows of one guardian_id and marks rows
// that contradict an earlier row of the same guardian. What needs the
// Connect directory (does the student exist, is the email a staff
// member's) is the sync's part: it adds its own row errors with Row.Fail
// and sets each row's Action, then CheckErrorShare refuses a file that is
// mostly errors and WriteResult writes the result file.
//
//	f, err := guardians.Read(r, guardians.Options{})
//	var refused *guardians.RefusedError
//	if errors.As(err, &refused) { ... } // nothing may change
//	for _, g := range f.Guardians() { ... }
//
// The SFTP client (sftp.go) fetches guardians.csv from a district's folder
// with a pinned host key; guardians/sftptest is a real SFTP server for
// tests. The package imports nothing from rostersync but phone and
// untrusted.
package guardians
