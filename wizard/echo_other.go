//go:build !linux

package wizard

import (
	"strings"

	"golang.org/x/term"
)

// readSecretLine reads one line from the terminal fd with echo off. (Off
// Linux x/term reads it: ctrl+d does not end that read.)
func readSecretLine(fd uintptr, _ func() (string, error)) (string, error) {
	b, err := term.ReadPassword(int(fd))
	return strings.TrimSpace(string(b)), err
}
