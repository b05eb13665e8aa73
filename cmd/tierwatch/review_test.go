package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tierwatch/tierwatch/model"
	"github.com/tierwatch/tierwatch/storage"
)

const (
	revA = "2025-03-01--amazon-wins-ice-contract"
	revB = "2025-03-02--ice-expands-aws-use"
	revC = "2025-03-03--aws-ice-deal-reported-again"
)

// reviewCand returns a candidate for the review CLI tests.
func reviewCand(id, title string, score float64, status string) model.Candidate {
	date := id[:10]
	return model.Candidate{
		ID: id, Status: status, Score: score, Importance: 5, Date: date, Title: title,
		Actors: []string{"Amazon"}, Tags: []string{"surveillance"},
		Sources: []model.Ref{
			{URL: "https://www.reuters.com/" + id, Title: title, Publisher: "Reuters", Date: date, Tier: 1},
			{URL: "https://www.example.org/" + id, Title: "More: " + title, Publisher: "Example", Date: date, Tier: 3},
		},
		Keys:     []string{"url:https://www.reuters.com/" + id},
		LastSeen: time.Date(2025, 3, 4, 0, 0, 0, 0, time.UTC),
	}
}

// seedState writes candidates into the store of stateDir (no daemon runs).
func seedState(t *testing.T, stateDir string, cs ...model.Candidate) {
	t.Helper()
	st, err := storage.Open(stateDir, storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	err = st.Update(func(tx *storage.Tx) error {
		for i := range cs {
			if err := tx.PutCandidate(&cs[i]); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func readCand(t *testing.T, stateDir, id string) model.Candidate {
	t.Helper()
	st, err := storage.Open(stateDir, storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	c, err := st.Candidate(id)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// twStdin runs the binary with stdin and returns stdout, stderr and status.
func twStdin(t *testing.T, cfg, stdin string, args ...string) (string, string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, binPath, append([]string{"-config", cfg}, args...)...)
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("run tierwatch %v: %v", args, err)
	}
	return stdout.String(), stderr.String(), code
}

func TestQueueDecisionsCLI(t *testing.T) {
	dir := t.TempDir()
	cfg := writeConfig(t, dir, "")
	state := filepath.Join(dir, "state")
	seedState(t, state,
		reviewCand(revA, "Amazon wins ICE contract", 5, model.StatusPending),
		reviewCand(revB, "ICE expands AWS use", 4, model.StatusPending),
		reviewCand(revC, "AWS ICE deal reported again", 3, model.StatusPending))
	// The steps share one store, in order.
	steps := []struct {
		name     string
		args     []string
		wantCode int
		wantOut  string // in stdout (code 0) or stderr
	}{
		{"stale version", []string{"queue", "accept", revA, "--version", "5"}, 1, "stale version"},
		{"accept with edits", []string{"queue", "accept", revA, "--version", "1", "--importance", "8", "--actors", "ICE, Amazon", "--who", "alice"}, 0, "accept #1 on " + revA + " by alice"},
		{"already decided", []string{"queue", "reject", revA, "--reason", "late"}, 1, "already accepted"},
		{"unknown id", []string{"queue", "reject", "2025-01-01--nope"}, 1, "not found"},
		{"bad date", []string{"queue", "edit", revB, "--date", "2025-13-01"}, 1, "invalid request"},
		{"bad until", []string{"queue", "snooze", revB, "--until", "someday"}, 2, "neither RFC 3339"},
		{"snooze", []string{"queue", "snooze", revB, "--until", "48h", "--reason", "wait for records"}, 0, "is snoozed"},
		{"undo", []string{"queue", "undo", "--who", "carol"}, 0, "undo #"},
		{"dup with flags after", []string{"queue", "dup", revC, revB, "--who", "dan"}, 0, "is duplicate"},
		{"missing id", []string{"queue", "accept"}, 2, "needs a candidate id"},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			out, errOut, code := tw(t, cfg, s.args...)
			if code != s.wantCode {
				t.Fatalf("exit %d, want %d\nstdout %s\nstderr %s", code, s.wantCode, out, errOut)
			}
			if !strings.Contains(out+errOut, s.wantOut) {
				t.Errorf("output lacks %q:\nstdout %s\nstderr %s", s.wantOut, out, errOut)
			}
		})
	}
	if c := readCand(t, state, revA); c.Status != model.StatusAccepted || c.Importance != 8 || strings.Join(c.Actors, ",") != "ICE,Amazon" {
		t.Errorf("%s = %s importance %d actors %q", revA, c.Status, c.Importance, c.Actors)
	}
	if c := readCand(t, state, revB); c.Status != model.StatusPending || len(c.Sources) != 4 {
		t.Errorf("%s = %s with %d sources, want pending with the duplicate's sources", revB, c.Status, len(c.Sources))
	}
	if c := readCand(t, state, revC); c.Status != model.StatusDuplicate || c.DuplicateOf != revB {
		t.Errorf("%s = %s of %q", revC, c.Status, c.DuplicateOf)
	}
}

func TestQueueNextFromPipe(t *testing.T) {
	dir := t.TempDir()
	cfg := writeConfig(t, dir, "")
	state := filepath.Join(dir, "state")
	seedState(t, state,
		reviewCand(revA, "Amazon wins ICE contract", 5, model.StatusPending),
		reviewCand(revB, "ICE expands AWS use", 4, model.StatusPending),
		reviewCand(revC, `<b>AWS</b> ICE deal reported again`, 3, model.StatusPending))
	// j moves to B, x rejects it, a accepts the next card (C), u undoes
	// that, ? prints help, then input ends.
	out, errOut, code := twStdin(t, cfg, "j\nx\na\nu\n?\n", "queue", "next", "--who", "erin")
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	for _, want := range []string{"[1/3] " + revA, "[2/3] " + revB, "reject #1 on " + revB + " by erin", "accept #2 on " + revC, "undo #", "keys: a accept"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	want := map[string]string{revA: model.StatusPending, revB: model.StatusRejected, revC: model.StatusPending}
	for id, status := range want {
		if c := readCand(t, state, id); c.Status != status {
			t.Errorf("%s is %s, want %s", id, c.Status, status)
		}
	}
}

func TestQueueThroughDaemonSocket(t *testing.T) {
	dir := t.TempDir()
	sockDir, err := os.MkdirTemp("", "tw-sock") // unix socket paths are short
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(sockDir) })
	sock := filepath.Join(sockDir, "review.sock")
	cfg := writeConfig(t, dir, "review:\n  socket: "+sock+"\n")
	state := filepath.Join(dir, "state")
	seedState(t, state, reviewCand(revA, "Amazon wins ICE contract", 5, model.StatusPending))

	d := startDaemon(t, cfg)
	d.waitLog(t, "review api serving")
	out, errOut, code := tw(t, cfg, "queue", "accept", revA, "--version", "1", "--who", "frank")
	if code != 0 || !strings.Contains(out, "accept #1 on "+revA+" by frank") {
		t.Errorf("accept through the daemon: exit %d\n%s\n%s", code, out, errOut)
	}
	out, errOut, code = tw(t, cfg, "queue", "reject", revA)
	if code != 1 || !strings.Contains(errOut, "already accepted") {
		t.Errorf("second accept through the daemon: exit %d\n%s\n%s", code, out, errOut)
	}
	d.stop(t)
	if _, err := os.Lstat(sock); !os.IsNotExist(err) {
		t.Errorf("socket left after stop: %v", err)
	}
	if c := readCand(t, state, revA); c.Status != model.StatusAccepted {
		t.Errorf("%s is %s after the daemon stopped", revA, c.Status)
	}
}

func TestExportCLI(t *testing.T) {
	dir := t.TempDir()
	cfg := writeConfig(t, dir, "")
	state := filepath.Join(dir, "state")
	acc := reviewCand(revA, "Amazon wins ICE contract", 5, model.StatusAccepted)
	acc.Summary = "Amazon won a contract with ICE, according to Reuters and a follow-up analysis."
	seedState(t, state, acc, reviewCand(revB, "ICE expands AWS use", 4, model.StatusPending))
	out := filepath.Join(dir, "timeline")
	if err := os.Mkdir(out, 0o755); err != nil {
		t.Fatal(err)
	}

	stdout, stderr, code := tw(t, cfg, "export", "--dir", out)
	if code != 0 || !strings.Contains(stdout, "wrote "+revA+".md") || !strings.Contains(stdout, "1 events exported") {
		t.Fatalf("export: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if c := readCand(t, state, revA); c.Exported != revA+".md" {
		t.Errorf("candidate marked exported as %q", c.Exported)
	}
	stdout, _, code = tw(t, cfg, "export", "--dir", out)
	if code != 0 || !strings.Contains(stdout, "0 events exported") {
		t.Errorf("second export: exit %d\n%s", code, stdout)
	}
	stdout, _, code = tw(t, cfg, "export", "--validate", out)
	if code != 0 || !strings.Contains(stdout, "0 errors") {
		t.Errorf("validate the export: exit %d\n%s", code, stdout)
	}

	good, err := os.ReadFile(filepath.Join(out, revA+".md"))
	if err != nil {
		t.Fatal(err)
	}
	bad := t.TempDir()
	files := map[string]struct{ data, rule string }{
		"unquoted-date.md":          {strings.Replace(strings.Replace(string(good), "date: '2025-03-01'", "date: 2025-03-01", 1), "id: "+revA, "id: unquoted-date", 1), "date-quoted"},
		"2025-03-01--wrong-name.md": {string(good), "file-name"},
		"2025-03-01--no-title.md":   {strings.Replace(strings.Replace(string(good), "title: Amazon wins ICE contract\n", "", 1), "id: "+revA, "id: 2025-03-01--no-title", 1), "field-missing"},
	}
	for name, f := range files {
		if err := os.WriteFile(filepath.Join(bad, name), []byte(f.data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	stdout, stderr, code = tw(t, cfg, "export", "--validate", bad)
	if code != 1 {
		t.Fatalf("validate bad files: exit %d, want 1\n%s\n%s", code, stdout, stderr)
	}
	for name, f := range files {
		if !strings.Contains(stdout, name+":") || !strings.Contains(stdout, f.rule) {
			t.Errorf("validate output lacks %s with rule %s:\n%s", name, f.rule, stdout)
		}
	}
}
