package main

import (
	"os"

	"golang.org/x/sys/unix"
)

// cbreak puts a terminal on f into cbreak mode (keys arrive one at a time,
// unechoed, with output processing left on so "\n" still starts a line)
// and returns the function that restores it. On anything but a terminal
// it does nothing.
func cbreak(f *os.File) (restore func(), err error) {
	fd := int(f.Fd())
	old, err := unix.IoctlGetTermios(fd, unix.TCGETS)
	if err != nil {
		return func() {}, nil // not a terminal: a pipe or a file
	}
	raw := *old
	raw.Lflag &^= unix.ICANON | unix.ECHO
	raw.Cc[unix.VMIN], raw.Cc[unix.VTIME] = 1, 0
	if err := unix.IoctlSetTermios(fd, unix.TCSETS, &raw); err != nil {
		return func() {}, err
	}
	return func() {
		// Restoring can only fail if the terminal went away.
		_ = unix.IoctlSetTermios(fd, unix.TCSETS, old)
	}, nil
}
