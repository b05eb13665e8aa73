package main

import "fmt"

func cmdVersion(e *env, args []string) error {
	fmt.Fprintln(e.stdout, "tierwatch", versionString())
	return nil
}
