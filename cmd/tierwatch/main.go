// Command tierwatch polls news feeds and procurement data, matches new
// items against watch rules, queues candidate timeline events for review
// and alerts Slack and webhooks. Run `tierwatch help` for the commands.
//
// Each subcommand lives in its own file: parse flags, load, build, call.
// Business logic belongs in the packages.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
)

// command is one subcommand.
type command struct {
	summary string
	run     func(e *env, args []string) error
}

// env is what every subcommand gets: where to write and which config.
type env struct {
	stdout, stderr io.Writer
	stdin          io.Reader
	configPath     string
}

// exitError carries a specific exit status.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

func commands() map[string]command {
	return map[string]command{
		"run":     {"run the daemon: poll on schedules, alert, serve the review page", cmdRun},
		"once":    {"poll every source once and exit", cmdOnce},
		"check":   {"validate the config and rules; list every problem", cmdCheck},
		"sources": {"show each source's state: last success and error, next run, items seen", cmdSources},
		"replay":  {"run the current rules over stored items [--since YYYY-MM-DD]", cmdReplay},
		"queue":   {"list, show and decide candidates: queue list|show|accept|reject|snooze|dup|undo|edit|next", cmdQueue},
		"version": {"print the version", cmdVersion},
		"outbox":  {"show and handle queued and dead alerts: outbox list|retry|drop", cmdOutbox},
		"notify":  {"send a sample alert: notify test DEST", cmdNotify},
		"bench":   {"measure the pipeline on generated loopback feeds against the parse floor", cmdBench},
		"export":  {"write accepted candidates as timeline files (--dir DIR) or check a timeline (--validate DIR)", cmdExport},
		"backup":  {"write a consistent copy of the store to FILE, also while the daemon runs", cmdBackup},
		"compact": {"rewrite the store without its free pages (daemon stopped)", cmdCompact},
	}
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// run parses args and runs a subcommand; it returns the exit status.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	configPath, rest, err := extractConfig(args)
	if err != nil {
		fmt.Fprintln(stderr, "tierwatch:", err)
		return 2
	}
	if configPath == "" {
		configPath = os.Getenv("TIERWATCH_CONFIG")
	}
	if configPath == "" {
		configPath = "config.yaml"
	}
	cmds := commands()
	if len(rest) == 0 || rest[0] == "help" || rest[0] == "-h" || rest[0] == "--help" {
		usage(stdout, cmds)
		return 0
	}
	c, ok := cmds[rest[0]]
	if !ok {
		fmt.Fprintf(stderr, "tierwatch: unknown command %q\n", rest[0])
		usage(stderr, cmds)
		return 2
	}
	e := &env{stdout: stdout, stderr: stderr, stdin: stdin, configPath: configPath}
	if err := c.run(e, rest[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		var ee *exitError
		if errors.As(err, &ee) {
			if ee.err != nil {
				fmt.Fprintln(stderr, "tierwatch:", ee.err)
			}
			return ee.code
		}
		fmt.Fprintf(stderr, "tierwatch %s: %v\n", rest[0], err)
		return 1
	}
	return 0
}

// extractConfig takes -config FILE (or --config, or -config=FILE) from
// anywhere before a "--", so it may stand before or after the subcommand.
func extractConfig(args []string) (string, []string, error) {
	var path string
	var rest []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			rest = append(rest, args[i:]...)
			break
		}
		name, val, hasVal := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if !strings.HasPrefix(a, "-") || name != "config" {
			rest = append(rest, a)
			continue
		}
		if !hasVal {
			if i+1 >= len(args) {
				return "", nil, errors.New("-config needs a file")
			}
			i++
			val = args[i]
		}
		path = val
	}
	return path, rest, nil
}

func usage(w io.Writer, cmds map[string]command) {
	fmt.Fprintln(w, "usage: tierwatch [-config FILE] COMMAND [flags]")
	fmt.Fprintln(w, "The config file defaults to $TIERWATCH_CONFIG, then ./config.yaml.")
	fmt.Fprintln(w, "\ncommands:")
	names := make([]string, 0, len(cmds))
	for n := range cmds {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-8s %s\n", n, cmds[n].summary)
	}
}

// newFlags returns a flag set for a subcommand that prints its errors to
// stderr and returns them rather than exiting.
func newFlags(e *env, name string) *flag.FlagSet {
	fs := flag.NewFlagSet("tierwatch "+name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	return fs
}
