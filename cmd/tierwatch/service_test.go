package main

// End-to-end tests of the service extension through the real binary:
// sd_notify messages, the metrics scrape, backups while running and
// offline, compaction, file modes, and a corrupted store at start.

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tierwatch/tierwatch/model"
	"github.com/tierwatch/tierwatch/storage"
)

// serviceExtra is config that makes genFeed items match a rule and binds
// the metrics listener to a free port.
const serviceExtra = `entities:
  - {id: company:council, name: City Council, aliases: [city council]}
rules:
  - name: council
    any: [company:council]
service:
  metrics_addr: 127.0.0.1:0
`

// metricsURL returns the base URL the daemon logged for its listener.
func metricsURL(t *testing.T, d *proc) string {
	t.Helper()
	d.waitLog(t, `"msg":"metrics listening"`)
	sc := bufio.NewScanner(strings.NewReader(d.stderr.String()))
	for sc.Scan() {
		var line struct{ Msg, Addr string }
		if json.Unmarshal(sc.Bytes(), &line) == nil && line.Msg == "metrics listening" {
			return "http://" + line.Addr
		}
	}
	t.Fatalf("no metrics address in the log:\n%s", d.stderr.String())
	return ""
}

func httpGet(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

// waitUntil polls cond (an HTTP scrape, a file) until it holds; the
// daemon is a separate process, so there is no channel to wait on.
func waitUntil(t *testing.T, d *proc, what string, cond func() bool) {
	t.Helper()
	deadline := time.After(60 * time.Second)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case err := <-d.done:
			t.Fatalf("daemon exited (%v) while waiting for %s:\n%s", err, what, d.stderr.String())
		case <-deadline:
			t.Fatalf("no %s within 60s:\n%s", what, d.stderr.String())
		case <-tick.C:
		}
	}
}

// notifySocket listens like systemd's notify socket.
type notifySocket struct {
	conn *net.UnixConn
	path string
}

func newNotifySocket(t *testing.T) *notifySocket {
	t.Helper()
	// Unix socket paths are limited to 108 bytes; t.TempDir can be long.
	dir, err := os.MkdirTemp("", "twn")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	path := filepath.Join(dir, "notify.sock")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return &notifySocket{conn: conn, path: path}
}

// next returns the next datagram that is not a watchdog ping, counting the
// pings skipped; the deadline only bounds a broken daemon.
func (n *notifySocket) next(t *testing.T) (msg string, pings int) {
	t.Helper()
	buf := make([]byte, 4096)
	for {
		if err := n.conn.SetReadDeadline(time.Now().Add(60 * time.Second)); err != nil {
			t.Fatal(err)
		}
		k, err := n.conn.Read(buf)
		if err != nil {
			t.Fatalf("read notify socket: %v", err)
		}
		if msg := string(buf[:k]); msg != "WATCHDOG=1" {
			return msg, pings
		}
		pings++
	}
}

// TestSystemdNotifyLifecycle drives READY, WATCHDOG, RELOADING and
// STOPPING through the binary, as systemd would see them.
func TestSystemdNotifyLifecycle(t *testing.T) {
	srv := newFeedServer(t, 3)
	dir := t.TempDir()
	cfg := writeConfig(t, dir, serviceExtra, srv.URL+"/a")
	sock := newNotifySocket(t)
	// 100ms WatchdogSec: pings every 50ms, so several arrive before stop.
	d := startDaemon(t, cfg, "NOTIFY_SOCKET="+sock.path, "WATCHDOG_USEC=100000", "WATCHDOG_PID=")

	msg, _ := sock.next(t)
	if msg != "READY=1\nSTATUS=polling 1 sources" {
		t.Fatalf("first message %q, want READY=1 with a status", msg)
	}
	// Wait for pings by reading them: three in a row prove the ticker.
	for i := 0; i < 3; i++ {
		if err := sock.conn.SetReadDeadline(time.Now().Add(60 * time.Second)); err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 64)
		k, err := sock.conn.Read(buf)
		if err != nil || string(buf[:k]) != "WATCHDOG=1" {
			t.Fatalf("message %d after READY: %q, %v; want WATCHDOG=1", i, buf[:k], err)
		}
	}
	// A reload is bracketed by RELOADING=1 (with the monotonic time
	// systemd 253+ wants) and READY=1, whether or not the config is good.
	for _, name := range []string{"good config", "bad config"} {
		if name == "bad config" {
			if err := os.WriteFile(cfg, []byte("sources: [\n"), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		if err := d.cmd.Process.Signal(syscall.SIGHUP); err != nil {
			t.Fatal(err)
		}
		msg, _ = sock.next(t)
		if !strings.HasPrefix(msg, "RELOADING=1\nMONOTONIC_USEC=") || !strings.HasSuffix(msg, "\nSTATUS=reloading config") {
			t.Errorf("%s: message after SIGHUP %q, want RELOADING=1 with MONOTONIC_USEC", name, msg)
		}
		if msg, _ = sock.next(t); msg != "READY=1\nSTATUS=polling 1 sources" {
			t.Errorf("%s: message after reload %q, want READY=1", name, msg)
		}
	}
	if err := d.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	msg, _ = sock.next(t)
	if msg != "STOPPING=1\nSTATUS=stopping" {
		t.Errorf("message after SIGTERM %q, want STOPPING=1", msg)
	}
	if err := <-d.done; err != nil {
		t.Errorf("daemon exit: %v\n%s", err, d.stderr.String())
	}
}

func TestWatchdogOffWhenPidIsAnotherProcess(t *testing.T) {
	dir := t.TempDir()
	cfg := writeConfig(t, dir, serviceExtra)
	sock := newNotifySocket(t)
	// WATCHDOG_PID names our test process, not the daemon: per
	// sd_watchdog_enabled(3) the daemon must not ping.
	d := startDaemon(t, cfg, "NOTIFY_SOCKET="+sock.path, "WATCHDOG_USEC=100000",
		"WATCHDOG_PID="+strconv.Itoa(os.Getpid()))
	if msg, _ := sock.next(t); !strings.HasPrefix(msg, "READY=1") {
		t.Fatalf("first message %q, want READY=1", msg)
	}
	if err := d.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	msg, pings := sock.next(t)
	if !strings.HasPrefix(msg, "STOPPING=1") || pings != 0 {
		t.Errorf("got %q after %d pings, want STOPPING=1 after none", msg, pings)
	}
	<-d.done
}

func TestMetricsScrapedFromRunningBinary(t *testing.T) {
	srv := newFeedServer(t, 4)
	dir := t.TempDir()
	cfg := writeConfig(t, dir, serviceExtra, srv.URL+"/a", srv.URL+"/b")
	d := startDaemon(t, cfg)
	defer d.stop(t)
	base := metricsURL(t, d)

	// The series are set by different hooks (fetch result, ingest stats,
	// source state) a moment apart, so wait for all of them, not one.
	series := []string{
		`tierwatch_fetches_total{result="ok",source="feed-0"} 1`,
		`tierwatch_fetches_total{result="ok",source="feed-1"} 1`,
		`tierwatch_fetch_duration_seconds_count{result="ok"} 2`,
		`tierwatch_items_total{source="feed-0",state="new"} 4`,
		`tierwatch_items_total{source="feed-0",state="seen"} 0`,
		`tierwatch_matches_total{rule="council"} 8`,
		`tierwatch_candidates{status="pending"} `,
		`tierwatch_candidates{status="accepted"} 0`,
		`tierwatch_outbox_pending 0`,
		`tierwatch_outbox_dead 0`,
		`tierwatch_source_last_success_timestamp_seconds{source="feed-1"} `,
		`tierwatch_store_read_ok 1`,
		`go_goroutines `,
		`process_resident_memory_bytes `,
	}
	missing := func(body string) []string {
		var out []string
		for _, s := range series {
			if !strings.Contains(body, "\n"+s) {
				out = append(out, s)
			}
		}
		return out
	}
	var body string
	waitUntil(t, d, "every series in /metrics after both first polls", func() bool {
		_, body = httpGet(t, base+"/metrics")
		return len(missing(body)) == 0
	})
	if m := missing(body); len(m) > 0 {
		t.Errorf("scrape lacks %q", m)
	}
	for path, want := range map[string]string{"/healthz": "ok\n", "/readyz": "ok\n"} {
		if code, got := httpGet(t, base+path); code != 200 || got != want {
			t.Errorf("GET %s: %d %q, want 200 %q", path, code, got, want)
		}
	}
}

func TestBackupWhileRunningThenOffline(t *testing.T) {
	srv := newFeedServer(t, 5)
	dir := t.TempDir()
	cfg := writeConfig(t, dir, serviceExtra, srv.URL+"/a")
	d := startDaemon(t, cfg)
	base := metricsURL(t, d)
	waitUntil(t, d, "the first poll", func() bool {
		_, body := httpGet(t, base+"/metrics")
		return strings.Contains(body, `tierwatch_items_total{source="feed-0",state="new"} 5`)
	})

	// The endpoint refuses requests without the token.
	for name, auth := range map[string]string{"no token": "", "wrong token": "Bearer nope"} {
		req, _ := http.NewRequest("POST", base+"/backup", nil) // constant method and valid URL
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("%s: status %d, want 401", name, resp.StatusCode)
		}
	}

	tests := []struct {
		name, via string
		running   bool
	}{
		{"while running", "via running daemon", true},
		{"offline", "via store file", false},
	}
	for _, tt := range tests {
		if !tt.running {
			d.stop(t)
			if _, err := os.Stat(filepath.Join(dir, "state", opsFileName)); !os.IsNotExist(err) {
				t.Errorf("ops file outlives the daemon: %v", err)
			}
		}
		t.Run(tt.name, func(t *testing.T) {
			dest := filepath.Join(t.TempDir(), "backup.db")
			out, stderr, code := tw(t, cfg, "backup", dest)
			if code != 0 || !strings.Contains(out, tt.via) {
				t.Fatalf("exit %d, stdout %q, stderr %q; want 0 and %q", code, out, stderr, tt.via)
			}
			assertMode(t, dest, 0o600)
			// The copy opens as a store, passes Check and has the items.
			restored := filepath.Join(t.TempDir(), "restored")
			if err := os.Mkdir(restored, 0o700); err != nil {
				t.Fatal(err)
			}
			backup, err := os.ReadFile(dest)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.Rename(dest, filepath.Join(restored, storage.FileName)); err != nil {
				t.Fatal(err)
			}
			if n := len(storedItems(t, restored)); n != 5 {
				t.Errorf("backup holds %d items, want 5", n)
			}
			if tt.running {
				return
			}
			// Restored over the stopped daemon's own store and compacted
			// before the next start (the item log travels at the end of
			// the backup file; compact must not drop it).
			if err := os.WriteFile(filepath.Join(dir, "state", storage.FileName), backup, 0o600); err != nil {
				t.Fatal(err)
			}
			if _, stderr, code := tw(t, cfg, "compact"); code != 0 {
				t.Fatalf("compact after restore: exit %d, %s", code, stderr)
			}
			if n := len(storedItems(t, filepath.Join(dir, "state"))); n != 5 {
				t.Errorf("restored and compacted store holds %d items, want 5", n)
			}
		})
	}
}

func TestStateFileModes(t *testing.T) {
	dir := t.TempDir()
	cfg := writeConfig(t, dir, serviceExtra)
	d := startDaemon(t, cfg)
	metricsURL(t, d) // the ops file is written before the listener logs
	assertMode(t, filepath.Join(dir, "state"), 0o700|os.ModeDir)
	assertMode(t, filepath.Join(dir, "state", storage.FileName), 0o600)
	assertMode(t, filepath.Join(dir, "state", storage.ItemsDirName), 0o700|os.ModeDir)
	assertMode(t, filepath.Join(dir, "state", storage.ItemsDirName, "00000000.log"), 0o600)
	assertMode(t, filepath.Join(dir, "state", opsFileName), 0o600)
	d.stop(t)
}

func assertMode(t *testing.T, path string, want os.FileMode) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := fi.Mode() & (os.ModePerm | os.ModeDir); got != want {
		t.Errorf("%s: mode %v, want %v", path, got, want)
	}
}

func TestCompactRefusesWhileRunningThenShrinks(t *testing.T) {
	srv := newFeedServer(t, 200)
	dir := t.TempDir()
	cfg := writeConfig(t, dir, serviceExtra, srv.URL+"/a")
	d := startDaemon(t, cfg)
	base := metricsURL(t, d)
	waitUntil(t, d, "the first poll", func() bool {
		_, body := httpGet(t, base+"/metrics")
		return strings.Contains(body, `tierwatch_items_total{source="feed-0",state="new"} 200`)
	})
	_, stderr, code := tw(t, cfg, "compact")
	if code != 1 || !strings.Contains(stderr, "locked by a running tierwatch; stop it first") {
		t.Errorf("compact while running: exit %d, stderr %q; want 1 and a refusal", code, stderr)
	}
	d.stop(t)

	// Grow the file with 20,000 more items, then delete every item and
	// seen entry (a retention of 1ns) to leave free pages behind. (Item
	// bodies live in the item log, so the daemon's 200 items alone leave
	// too few bbolt pages to free for a size change to be certain.)
	st, err := storage.Open(filepath.Join(dir, "state"), storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for batch := range 20 {
		var items []model.Item
		for i := range 1000 {
			items = append(items, model.Item{Key: fmt.Sprintf("bulk-%d-%d", batch, i), URL: "https://example.com/", Title: "bulk"})
		}
		if _, err := st.Commit(t.Context(), model.SourceState{Name: "bulk"}, items, nil); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := st.Prune(time.Now(), storage.Retention{Items: time.Nanosecond, Seen: time.Nanosecond}); err != nil {
		t.Fatal(err)
	}
	st.Close()
	path := filepath.Join(dir, "state", storage.FileName)
	before, _ := os.Stat(path) // exists: the store was just open

	out, stderr, code := tw(t, cfg, "compact")
	if code != 0 {
		t.Fatalf("compact: exit %d, %s", code, stderr)
	}
	after, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s", strings.TrimSpace(out))
	if after.Size() >= before.Size() {
		t.Errorf("compact did not shrink the file: %d -> %d bytes", before.Size(), after.Size())
	}
	assertMode(t, path, 0o600)
	st, err = storage.Open(filepath.Join(dir, "state"), storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.Check(); err != nil {
		t.Error(err)
	}
	if s, err := st.SourceState("feed-0"); err != nil || s.ItemsSeen != 200 {
		t.Errorf("source state after compact: %+v, %v; want 200 items seen", s, err)
	}
}

func TestRetentionWorkerPrunesAtStart(t *testing.T) {
	srv := newFeedServer(t, 6)
	dir := t.TempDir()
	cfg := writeConfig(t, dir, serviceExtra, srv.URL+"/a")
	if _, stderr, code := tw(t, cfg, "once"); code != 0 {
		t.Fatalf("once: exit %d\n%s", code, stderr)
	}
	if n := len(storedItems(t, filepath.Join(dir, "state"))); n != 6 {
		t.Fatalf("%d items stored, want 6", n)
	}
	// Items older than 1ns: every stored item is past retention.
	cfg = writeConfig(t, dir, serviceExtra+"retention:\n  items: 1ns\n")
	d := startDaemon(t, cfg)
	d.waitLog(t, `"msg":"store pruned"`)
	d.stop(t)
	if !strings.Contains(d.stderr.String(), `"msg":"store pruned","stage":"service","items":6,`) {
		t.Errorf("prune log lacks items=6:\n%s", d.stderr.String())
	}
	if n := len(storedItems(t, filepath.Join(dir, "state"))); n != 0 {
		t.Errorf("%d items left after retention, want 0", n)
	}
}
