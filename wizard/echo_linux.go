package wizard

import "golang.org/x/sys/unix"

// readSecretLine reads one line from the terminal fd with echo off,
// through read (the prompts' own line reader, which ends at ctrl+d and at
// ctrl+c); the terminal is put back as it was.
func readSecretLine(fd uintptr, read func() (string, error)) (string, error) {
	was, err := unix.IoctlGetTermios(int(fd), unix.TCGETS)
	if err != nil {
		return "", err
	}
	quiet := *was
	quiet.Lflag &^= unix.ECHO
	quiet.Lflag |= unix.ICANON | unix.ISIG
	if err := unix.IoctlSetTermios(int(fd), unix.TCSETS, &quiet); err != nil {
		return "", err
	}
	defer unix.IoctlSetTermios(int(fd), unix.TCSETS, was)
	return read()
}
