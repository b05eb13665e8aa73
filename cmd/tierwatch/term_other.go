//go:build !linux

package main

import "os"

// cbreak is a no-op off Linux: keys are read in line mode (key, Enter).
func cbreak(f *os.File) (restore func(), err error) { return func() {}, nil }
