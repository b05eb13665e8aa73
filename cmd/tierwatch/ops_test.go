package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tierwatch/tierwatch/config"
	"github.com/tierwatch/tierwatch/model"
	"github.com/tierwatch/tierwatch/review"
	"github.com/tierwatch/tierwatch/storage"
)

// seedDead stores outbox records for dest "hook" with the given ids, all
// dead, and returns nothing; the store must be closed (no daemon).
func seedDead(t *testing.T, stateDir string, ids ...string) {
	t.Helper()
	st, err := storage.Open(stateDir, storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	err = st.Update(func(tx *storage.Tx) error {
		for _, id := range ids {
			if err := tx.Enqueue(model.OutboxRecord{ID: id, Dest: "hook", Event: model.AlertCreated, CandidateID: revA}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		err := st.OutboxResult(id, func(r *model.OutboxRecord) { r.State, r.Attempts, r.LastError = model.OutboxDead, 8, "http 500" })
		if err != nil {
			t.Fatal(err)
		}
	}
}

func TestStoreOutbox(t *testing.T) {
	tests := []struct {
		name     string
		run      func(o storeOutbox) (int, error)
		wantN    int
		wantErr  error
		wantLeft []string // "id state" afterwards
	}{
		{name: "retry dead", run: func(o storeOutbox) (int, error) { return o.RetryOutbox(context.Background(), "d1") },
			wantN: 1, wantLeft: []string{"d1 pending", "d2 dead", "p1 pending"}},
		{name: "retry every dead", run: func(o storeOutbox) (int, error) { return o.RetryOutbox(context.Background(), "") },
			wantN: 2, wantLeft: []string{"d1 pending", "d2 pending", "p1 pending"}},
		{name: "retry pending is a conflict", run: func(o storeOutbox) (int, error) { return o.RetryOutbox(context.Background(), "p1") },
			wantErr: review.ErrConflict, wantLeft: []string{"d1 dead", "d2 dead", "p1 pending"}},
		{name: "retry unknown", run: func(o storeOutbox) (int, error) { return o.RetryOutbox(context.Background(), "nope") },
			wantErr: storage.ErrNotFound, wantLeft: []string{"d1 dead", "d2 dead", "p1 pending"}},
		{name: "drop", run: func(o storeOutbox) (int, error) { return 0, o.DropOutbox(context.Background(), "d2") },
			wantLeft: []string{"d1 dead", "p1 pending"}},
		{name: "drop unknown", run: func(o storeOutbox) (int, error) { return 0, o.DropOutbox(context.Background(), "nope") },
			wantErr: storage.ErrNotFound, wantLeft: []string{"d1 dead", "d2 dead", "p1 pending"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			state := filepath.Join(t.TempDir(), "state")
			seedDead(t, state, "d1", "d2")
			st, err := storage.Open(state, storage.Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer func() {
				if err := st.Check(); err != nil {
					t.Errorf("store check: %v", err)
				}
				st.Close()
			}()
			if err := st.Update(func(tx *storage.Tx) error {
				return tx.Enqueue(model.OutboxRecord{ID: "p1", Dest: "hook", Event: model.AlertCreated})
			}); err != nil {
				t.Fatal(err)
			}
			o := storeOutbox{admin: st, now: time.Now}
			n, err := tt.run(o)
			if n != tt.wantN || !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Errorf("got %d, %v; want %d, %v", n, err, tt.wantN, tt.wantErr)
			}
			recs, err := o.Outbox(context.Background(), "")
			if err != nil {
				t.Fatal(err)
			}
			var left []string
			for _, r := range recs {
				left = append(left, r.ID+" "+r.State)
			}
			slices.Sort(left)
			if !slices.Equal(left, tt.wantLeft) {
				t.Errorf("outbox %v, want %v", left, tt.wantLeft)
			}
		})
	}
}

func TestNextRun(t *testing.T) {
	now := time.Date(2025, 3, 10, 12, 0, 0, 0, time.UTC)
	src := config.Source{Name: "s", Schedule: "@every 15m"}
	tests := []struct {
		name string
		st   model.SourceState
		tick time.Time
		want time.Time
	}{
		{name: "never polled, no scheduler", want: now},
		{name: "after the last attempt", st: model.SourceState{LastAttempt: now.Add(-5 * time.Minute)}, want: now.Add(10 * time.Minute)},
		{name: "scheduler tick wins", st: model.SourceState{LastAttempt: now.Add(-5 * time.Minute)}, tick: now.Add(3 * time.Minute), want: now.Add(3 * time.Minute)},
		{name: "backing off skips ticks", st: model.SourceState{LastAttempt: now, NextRun: now.Add(40 * time.Minute)},
			tick: now.Add(15 * time.Minute), want: now.Add(45 * time.Minute)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := nextRun(src, tt.st, tt.tick, now); !got.Equal(tt.want) {
				t.Errorf("nextRun = %v, want %v", got, tt.want)
			}
		})
	}
}

// jsonKeys returns the sorted keys of each object of a JSON array.
func jsonKeys(t *testing.T, data string) [][]string {
	t.Helper()
	var objs []map[string]json.RawMessage
	if err := json.Unmarshal([]byte(data), &objs); err != nil {
		t.Fatalf("not a JSON array of objects: %v\n%s", err, data)
	}
	var out [][]string
	for _, o := range objs {
		var keys []string
		for k := range o {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		out = append(out, keys)
	}
	return out
}

// TestOpsThroughDaemon runs sources, outbox, replay and export first on the
// store, then through a running daemon's unix socket, and compares.
func TestOpsThroughDaemon(t *testing.T) {
	feed := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/rss+xml")
		w.Header().Set("ETag", `"v1"`)
		if r.Header.Get("If-None-Match") == `"v1"` {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		fmt.Fprint(w, `<?xml version="1.0"?><rss version="2.0"><channel><title>Wire</title>
<item><title>Palantir wins new ICE contract for case management</title><link>https://wire.example/palantir-ice</link><guid>p1</guid><pubDate>Tue, 20 Aug 2019 09:30:00 GMT</pubDate></item>
<item><title>City council debates the budget</title><link>https://wire.example/budget</link><guid>b1</guid><pubDate>Tue, 20 Aug 2019 10:30:00 GMT</pubDate></item>
</channel></rss>`)
	}))
	defer feed.Close()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	sockDir, err := os.MkdirTemp("", "tw-ops") // unix socket paths are short
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(sockDir) })
	extra := "include: [" + filepath.Join(root, "examples/rules/watch.yaml") + "]\nreview:\n  socket: " + filepath.Join(sockDir, "review.sock") + "\n"
	cfg := writeConfig(t, dir, extra, feed.URL+"/rss")
	state := filepath.Join(dir, "state")
	if out, errOut, code := tw(t, cfg, "once"); code != 0 {
		t.Fatalf("once: exit %d\n%s\n%s", code, out, errOut)
	}
	acc := reviewCand(revA, "Amazon wins ICE contract", 5, model.StatusAccepted)
	acc.Summary = "Amazon won a contract with ICE, according to Reuters and a follow-up analysis."
	seedState(t, state, acc)
	seedDead(t, state, "dead1", "dead2")

	// Each command, run on the store and then through the daemon.
	cmds := [][]string{
		{"sources", "--json"},
		{"outbox", "list", "--json"},
		{"outbox", "list", "--state", "dead"},
		{"replay"},
		{"replay", "--since", "2019-01-01"},
		{"outbox", "retry", "nope"},
		{"outbox", "drop", "nope"},
		{"queue", "list", "--json"},
		{"queue", "show", acc.ID, "--json"},
		{"queue", "show", "nope"},
	}
	type result struct {
		out, errOut string
		code        int
	}
	offline := map[string]result{}
	for _, args := range cmds {
		out, errOut, code := tw(t, cfg, args...)
		offline[strings.Join(args, " ")] = result{out, errOut, code}
	}
	if r := offline["replay"]; r.code != 0 || !regexp.MustCompile(`^replayed 2 items: 1 matched, 0 candidates created, 0 joined existing ones\n$`).MatchString(r.out) {
		t.Fatalf("offline replay: exit %d\n%s\n%s", r.code, r.out, r.errOut)
	}

	d := startDaemon(t, cfg)
	defer d.stop(t)
	d.waitLog(t, "review api serving")
	for _, args := range cmds {
		name := strings.Join(args, " ")
		t.Run(name, func(t *testing.T) {
			want := offline[name]
			out, errOut, code := tw(t, cfg, args...)
			if code != want.code {
				t.Fatalf("exit %d through the daemon, %d on the store\n%s\n%s", code, want.code, out, errOut)
			}
			if strings.Contains(errOut, "locked") {
				t.Errorf("stderr mentions the lock: %s", errOut)
			}
			switch {
			case code != 0:
				if !strings.Contains(errOut, "not found") {
					t.Errorf("stderr %q does not say not found (on the store: %q)", errOut, want.errOut)
				}
			case name == "sources --json":
				if got, want := jsonKeys(t, out), jsonKeys(t, want.out); !slices.EqualFunc(got, want, slices.Equal) {
					t.Errorf("sources keys %v through the daemon, %v on the store", got, want)
				}
				var rows []review.SourceRow
				if err := json.Unmarshal([]byte(out), &rows); err != nil || len(rows) != 1 || rows[0].Name != "feed-0" ||
					rows[0].State.ItemsSeen != 2 || rows[0].NextRun.IsZero() {
					t.Errorf("sources through the daemon: %v\n%s", err, out)
				}
			default:
				if out != want.out {
					t.Errorf("through the daemon:\n%s\non the store:\n%s", out, want.out)
				}
			}
		})
	}

	out, errOut, code := tw(t, cfg, "outbox", "drop", "dead2")
	if code != 0 || out != "dropped dead2\n" {
		t.Errorf("drop through the daemon: exit %d\n%s\n%s", code, out, errOut)
	}
	out, errOut, code = tw(t, cfg, "outbox", "retry", "dead1")
	if code != 0 || out != "requeued 1 record(s)\n" {
		t.Errorf("retry through the daemon: exit %d\n%s\n%s", code, out, errOut)
	}
	exportDir := filepath.Join(dir, "timeline")
	if err := os.Mkdir(exportDir, 0o755); err != nil {
		t.Fatal(err)
	}
	out, errOut, code = tw(t, cfg, "export", "--dir", exportDir)
	if code != 0 || !strings.Contains(out, "wrote "+revA+".md (candidate "+revA+")") || !strings.Contains(out, "1 events exported to "+exportDir) {
		t.Errorf("export through the daemon: exit %d\n%s\n%s", code, out, errOut)
	}
	d.stop(t)

	if c := readCand(t, state, revA); c.Exported != revA+".md" {
		t.Errorf("candidate marked exported as %q", c.Exported)
	}
	st, err := storage.Open(state, storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	recs, err := st.Outbox("")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		if r.ID == "dead2" {
			t.Errorf("dead2 still stored after the daemon dropped it: %+v", r)
		}
		if r.ID == "dead1" && r.State == model.OutboxDead && r.Attempts == 8 {
			t.Errorf("dead1 not requeued: %+v", r)
		}
	}
}
