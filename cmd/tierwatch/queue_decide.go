package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/user"
	"strings"
	"time"

	"github.com/tierwatch/tierwatch/config"
	"github.com/tierwatch/tierwatch/model"
	"github.com/tierwatch/tierwatch/review"
)

// decider is what the decision subcommands need: a review.Queue on the
// store when no daemon runs, a review.Client of the daemon's API when one
// does.
type decider interface {
	Do(ctx context.Context, r review.Request) (review.Result, error)
	Candidates(ctx context.Context, status string) ([]model.Candidate, error)
	Candidate(ctx context.Context, id string) (model.Candidate, error)
}

// cliLockTimeout is how long the CLI waits for the store before it turns
// to the daemon's API.
const cliLockTimeout = 500 * time.Millisecond

// openDecider opens the store, or, when the daemon holds it, returns a
// client of the daemon's API (unix socket first, then TCP with the token).
func openDecider(cfg *config.Config) (decider, func(), error) {
	store, client, err := openLocalOrDaemon(cfg)
	if err != nil {
		return nil, nil, err
	}
	if client != nil {
		return client, func() {}, nil
	}
	return review.NewQueue(store, nil, nil), func() { _ = store.Close() }, nil
}

// decisionFlags are the flags of the decision subcommands.
type decisionFlags struct {
	version       int
	who           string
	reason, until string
	target        string
	edit          review.Edit
}

func newDecisionFlags(e *env, name string) (*flag.FlagSet, *decisionFlags) {
	fs := newFlags(e, "queue "+name)
	f := &decisionFlags{}
	fs.IntVar(&f.version, "version", 0, "the candidate version you decided on (0 skips the stale check)")
	fs.StringVar(&f.who, "who", defaultWho(), "reviewer name recorded with the decision (default $USER)")
	fs.StringVar(&f.reason, "reason", "", "why (reject, snooze)")
	fs.StringVar(&f.until, "until", "24h", "snooze until: RFC 3339 time or a duration such as 48h or 3d")
	fs.StringVar(&f.target, "target", "", "dup: the candidate this one duplicates")
	fs.StringVar(&f.edit.Title, "title", "", "accept/edit: event title")
	fs.StringVar(&f.edit.Date, "date", "", "accept/edit: event date YYYY-MM-DD")
	fs.IntVar(&f.edit.Importance, "importance", 0, "accept/edit: importance 1-10")
	fs.StringVar(&f.edit.Status, "status", "", "accept/edit: confirmed, reported, developing, alleged or disputed")
	fs.StringVar(&f.edit.Summary, "summary", "", "accept/edit: the event summary")
	list := func(dst *[]string) func(string) error {
		return func(s string) error {
			*dst = []string{}
			for _, p := range strings.Split(s, ",") {
				if p = strings.TrimSpace(p); p != "" {
					*dst = append(*dst, p)
				}
			}
			return nil
		}
	}
	fs.Func("actors", "accept/edit: comma-separated actors (\"\" clears)", list(&f.edit.Actors))
	fs.Func("tags", "accept/edit: comma-separated tags (\"\" clears)", list(&f.edit.Tags))
	return fs, f
}

// defaultWho is $USER, else the account name, else "cli".
func defaultWho() string {
	if u := os.Getenv("USER"); u != "" {
		return u
	}
	if u, err := user.Current(); err == nil && u.Username != "" {
		return u.Username
	}
	return "cli"
}

// parseInterleaved parses flags that may stand before, between or after
// positional arguments, and returns the positionals.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			return pos, nil
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

// decisionCommand builds a `queue ACTION` subcommand taking nargs
// positionals (the candidate id, and for dup the target).
func decisionCommand(action string, nargs int) func(e *env, args []string) error {
	name := action
	if action == model.ActionDuplicate {
		name = "dup"
	}
	return func(e *env, args []string) error {
		fs, f := newDecisionFlags(e, name)
		pos, err := parseInterleaved(fs, args)
		if err != nil {
			return err
		}
		if action == model.ActionDuplicate && len(pos) == 1 && f.target != "" {
			pos = append(pos, f.target)
		}
		if len(pos) != nargs {
			return &exitError{code: 2, err: fmt.Errorf("queue %s needs %s", name, map[int]string{0: "no arguments", 1: "a candidate id", 2: "a candidate id and the id it duplicates"}[nargs])}
		}
		cfg, err := e.loadConfig()
		if err != nil {
			return err
		}
		d, closeFn, err := openDecider(cfg)
		if err != nil {
			return err
		}
		defer closeFn()
		req := review.Request{Action: action, Version: f.version, Who: f.who, Reason: f.reason, Edit: f.edit}
		if nargs > 0 {
			req.ID = pos[0]
		}
		if nargs > 1 {
			req.Target = pos[1]
		}
		if action == model.ActionSnooze {
			if req.Until, err = review.ParseUntil(f.until, time.Now()); err != nil {
				return &exitError{code: 2, err: err}
			}
		}
		res, err := d.Do(context.Background(), req)
		if err != nil {
			return err
		}
		printResult(e, res)
		return nil
	}
}

func printResult(e *env, res review.Result) {
	d := res.Decision
	fmt.Fprintf(e.stdout, "%s #%d on %s by %s", d.Action, d.Seq, d.CandidateID, d.Who)
	if d.Reason != "" {
		fmt.Fprintf(e.stdout, ": %s", d.Reason)
	}
	fmt.Fprintln(e.stdout)
	for _, c := range res.Candidates {
		fmt.Fprintf(e.stdout, "  %s is %s (version %d)\n", c.ID, c.Status, c.Version)
	}
}

const nextHelp = "keys: a accept, x reject, s snooze 24h, d duplicate (then the target id and Enter), " +
	"o show best source URL, u undo, j next, k previous, q quit, ? help"

// cmdQueueNext shows pending candidates one at a time and reads one key
// per decision from stdin. On a terminal each key acts at once (cbreak
// mode); from a pipe it reads bytes and skips white space, so keys may
// come one per line. End of input quits.
func cmdQueueNext(e *env, args []string) error {
	fs, f := newDecisionFlags(e, "next")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, err := e.loadConfig()
	if err != nil {
		return err
	}
	d, closeFn, err := openDecider(cfg)
	if err != nil {
		return err
	}
	defer closeFn()
	ctx := context.Background()
	in := &keyReader{r: e.stdin}
	if f, ok := e.stdin.(*os.File); ok {
		restore, err := cbreak(f)
		if err != nil {
			return err
		}
		defer restore()
		in.restore = restore
		in.cbreak = func() { restore, _ = cbreak(f) } // a failure leaves line mode, which still works
	}
	idx := 0
	for {
		cands, err := d.Candidates(ctx, model.StatusPending)
		if err != nil {
			return err
		}
		if len(cands) == 0 {
			fmt.Fprintln(e.stdout, "nothing pending")
			return nil
		}
		idx = min(max(idx, 0), len(cands)-1)
		c := cands[idx]
		showCard(e, c, idx, len(cands))
		fmt.Fprint(e.stdout, "> ")
		key, ok := in.key()
		if !ok {
			fmt.Fprintln(e.stdout)
			return nil
		}
		req := review.Request{ID: c.ID, Version: c.Version, Who: f.who}
		switch key {
		case 'q':
			return nil
		case 'j':
			idx++
			continue
		case 'k':
			idx--
			continue
		case '?':
			fmt.Fprintln(e.stdout, nextHelp)
			continue
		case 'o':
			fmt.Fprintln(e.stdout, bestURL(c))
			continue
		case 'a':
			req.Action = model.ActionAccept
		case 'x':
			req.Action = model.ActionReject
		case 's':
			req.Action, req.Until = model.ActionSnooze, time.Now().Add(24*time.Hour)
		case 'd':
			fmt.Fprint(e.stdout, "duplicate of: ")
			target, ok := in.line()
			if !ok || target == "" {
				continue
			}
			req.Action, req.Target = model.ActionDuplicate, target
		case 'u':
			req = review.Request{Action: model.ActionUndo, Who: f.who}
		default:
			fmt.Fprintf(e.stdout, "unknown key %q; %s\n", key, nextHelp)
			continue
		}
		res, err := d.Do(ctx, req)
		if err != nil {
			// A refused decision (stale, conflict, invalid) is shown and
			// the loop goes on with fresh data.
			fmt.Fprintln(e.stdout, "error:", err)
			continue
		}
		printResult(e, res)
	}
}

// showCard prints one candidate for `queue next`.
func showCard(e *env, c model.Candidate, i, n int) {
	w := e.stdout
	known := ""
	if c.Known {
		known = "  [already in the timeline]"
	}
	fmt.Fprintf(w, "\n[%d/%d] %s  score %.2f  importance %d  version %d%s\n", i+1, n, c.ID, c.Score, c.Importance, c.Version, known)
	fmt.Fprintf(w, "%s\n", c.Title)
	for _, s := range c.Sources {
		fmt.Fprintf(w, "  [tier %d] %s — %s\n", s.Tier, s.Publisher, s.Title)
	}
	for _, m := range c.Matches {
		for _, h := range m.Hits {
			fmt.Fprintf(w, "  matched %q in %s (rule %s)\n", h.Text, h.Field, m.Rule)
		}
	}
}

// bestURL returns the URL of the best-tier source, or "".
func bestURL(c model.Candidate) string {
	best := c.BestTier()
	for _, s := range c.Sources {
		if s.Tier == best {
			return s.URL
		}
	}
	return ""
}

// keyReader reads single keys and lines from an unbuffered reader.
type keyReader struct {
	r   interface{ Read([]byte) (int, error) }
	buf [1]byte
	// restore and cbreak switch a terminal to line mode and back, so a
	// typed duplicate target is echoed and editable.
	restore, cbreak func()
}

// key returns the next byte that is not white space.
func (k *keyReader) key() (byte, bool) {
	for {
		n, err := k.r.Read(k.buf[:])
		if n == 1 && !strings.ContainsRune(" \t\r\n", rune(k.buf[0])) {
			return k.buf[0], true
		}
		if err != nil {
			return 0, false
		}
	}
}

// line returns the rest of the current line (or the next line when the
// current one is empty), trimmed.
func (k *keyReader) line() (string, bool) {
	if k.restore != nil {
		k.restore()
		defer k.cbreak()
	}
	var b strings.Builder
	for {
		n, err := k.r.Read(k.buf[:])
		if n == 1 {
			if k.buf[0] == '\n' {
				if s := strings.TrimSpace(b.String()); s != "" {
					return s, true
				}
				continue
			}
			b.WriteByte(k.buf[0])
		}
		if err != nil {
			s := strings.TrimSpace(b.String())
			return s, s != ""
		}
	}
}
