package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/tierwatch/tierwatch/model"
	"github.com/tierwatch/tierwatch/review"
	"github.com/tierwatch/tierwatch/storage"
)

// binPath is the tierwatch binary built once for the end-to-end tests.
var binPath string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "tierwatch-e2e")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binPath = filepath.Join(dir, "tierwatch")
	args := []string{"build", "-o", binPath}
	if raceEnabled {
		args = append(args, "-race")
	}
	out, err := exec.Command("go", append(args, ".")...).CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "build tierwatch: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// tw runs the binary to completion and returns stdout, stderr and the exit
// status.
func tw(t *testing.T, cfg string, args ...string) (string, string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, binPath, append([]string{"-config", cfg}, args...)...)
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

// writeConfig writes a config polling the given feed URLs.
func writeConfig(t *testing.T, dir string, extra string, urls ...string) string {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "state_dir: %s\nlog_level: debug\nfetch:\n  timeout: 5s\n  host_gap: 0s\n  jitter: 0s\n  backoff_base: 1m\n%s", filepath.Join(dir, "state"), extra)
	if !strings.Contains(extra, "service:") {
		// Tests run in parallel packages: no daemon may take the default
		// metrics port unless a test asks for the listener.
		b.WriteString("service:\n  metrics_addr: \"\"\n")
	}
	b.WriteString("sources:\n")
	for i, u := range urls {
		fmt.Fprintf(&b, "  - name: feed-%d\n    url: %s\n", i, u)
	}
	path := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// genFeed returns an RSS document of n items whose GUIDs start at from.
func genFeed(name string, from, n int) string {
	var b strings.Builder
	fmt.Fprintf(&b, `<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>%s</title><link>https://%s.example.org/</link>`, name, name)
	for i := from; i < from+n; i++ {
		fmt.Fprintf(&b, `<item><title>%s story %d about the city council budget</title><link>https://%s.example.org/story/%d?utm_source=rss</link><guid isPermaLink="false">%s-%d</guid><pubDate>Mon, 02 Jan 2023 15:04:05 GMT</pubDate><description>Story number %d.</description></item>`, name, i, name, i, name, i, i)
	}
	b.WriteString(`</channel></rss>`)
	return b.String()
}

// feedServer serves genFeed documents with an ETag and answers 304 to a
// matching If-None-Match. It records the validators each request sent.
type feedServer struct {
	*httptest.Server
	mu       sync.Mutex // guards requests
	requests []http.Header
	delay    time.Duration
}

func newFeedServer(t *testing.T, items int) *feedServer {
	fs := &feedServer{}
	fs.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fs.mu.Lock()
		fs.requests = append(fs.requests, r.Header.Clone())
		delay := fs.delay
		fs.mu.Unlock()
		name := strings.Trim(r.URL.Path, "/")
		etag := `"` + name + `-v1"`
		if r.Header.Get("If-None-Match") == etag {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		if delay > 0 {
			select {
			case <-time.After(delay):
			case <-r.Context().Done():
				return
			}
		}
		w.Header().Set("ETag", etag)
		w.Header().Set("Last-Modified", "Mon, 02 Jan 2023 15:04:05 GMT")
		w.Header().Set("Content-Type", "application/rss+xml; charset=utf-8")
		fmt.Fprint(w, genFeed(name, 0, items))
	}))
	t.Cleanup(fs.Close)
	return fs
}

func (fs *feedServer) headers() []http.Header {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	return append([]http.Header(nil), fs.requests...)
}

// storedItems opens the state (the binary must have exited) and returns
// the items per source+key, failing on any key stored twice.
func storedItems(t *testing.T, stateDir string) map[string]model.Item {
	t.Helper()
	st, err := storage.Open(stateDir, storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	items := map[string]model.Item{}
	err = st.Items(context.Background(), time.Time{}, func(it model.Item) error {
		k := it.Source + "/" + it.Key
		if _, dup := items[k]; dup {
			return fmt.Errorf("item %s stored twice", k)
		}
		items[k] = it
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Check(); err != nil {
		t.Fatalf("store check: %v", err)
	}
	return items
}

func TestOnceStoresEachItemOnceAndSendsValidators(t *testing.T) {
	srv := newFeedServer(t, 5)
	dir := t.TempDir()
	cfg := writeConfig(t, dir, "", srv.URL+"/alpha", srv.URL+"/beta")

	for run := 1; run <= 2; run++ {
		out, errOut, code := tw(t, cfg, "once")
		if code != 0 {
			t.Fatalf("run %d: exit %d\n%s\n%s", run, code, out, errOut)
		}
		want := "10 new"
		if run == 2 {
			want = "0 new"
		}
		if !strings.Contains(out, want) {
			t.Errorf("run %d summary %q, want it to say %q", run, out, want)
		}
	}
	hs := srv.headers()
	if len(hs) != 4 {
		t.Fatalf("server saw %d requests, want 4", len(hs))
	}
	for _, h := range hs[2:] {
		if h.Get("If-None-Match") == "" || h.Get("If-Modified-Since") == "" {
			t.Errorf("second poll sent no validators: %v", h)
		}
		if ua := h.Get("User-Agent"); !strings.HasPrefix(ua, "tierwatch/") {
			t.Errorf("User-Agent %q does not name tierwatch", ua)
		}
	}
	items := storedItems(t, filepath.Join(dir, "state"))
	if len(items) != 10 {
		t.Errorf("stored %d items, want 10", len(items))
	}
	for k, it := range items {
		if strings.Contains(it.URL, "utm_") {
			t.Errorf("item %s URL %q keeps tracking parameters", k, it.URL)
		}
	}

	out, _, code := tw(t, cfg, "sources", "--json")
	if code != 0 {
		t.Fatalf("sources exit %d", code)
	}
	var rows []review.SourceRow
	if err := json.Unmarshal([]byte(out), &rows); err != nil {
		t.Fatalf("sources --json: %v\n%s", err, out)
	}
	for _, r := range rows {
		if r.State.ItemsSeen != 5 || r.State.LastSuccess.IsZero() || r.State.ETag == "" {
			t.Errorf("source %s state %+v, want 5 items seen, a success and an ETag", r.Name, r.State)
		}
	}
}

func TestOnceNamesFailingSourcesAndGoesOn(t *testing.T) {
	good := newFeedServer(t, 3)
	bad := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/500":
			http.Error(w, "boom", http.StatusInternalServerError)
		case "/garbage":
			fmt.Fprint(w, "<html><body>not a feed</body></html>")
		}
	}))
	defer bad.Close()
	dir := t.TempDir()
	cfg := writeConfig(t, dir, "", good.URL+"/ok", bad.URL+"/500", bad.URL+"/garbage")
	out, errOut, code := tw(t, cfg, "once")
	if code != 0 {
		t.Fatalf("exit %d, want 0 when the cycle ran\n%s\n%s", code, out, errOut)
	}
	for _, want := range []string{"3 new", "2 failed", "FAILED feed-1 (http_status)", "FAILED feed-2 (parse)"} {
		if !strings.Contains(out, want) {
			t.Errorf("summary lacks %q:\n%s", want, out)
		}
	}
}

func TestSecondProcessFailsFastOnLockedState(t *testing.T) {
	srv := newFeedServer(t, 1)
	dir := t.TempDir()
	cfg := writeConfig(t, dir, "", srv.URL+"/a")
	d := startDaemon(t, cfg)
	defer d.stop(t)

	start := time.Now()
	_, errOut, code := tw(t, cfg, "once")
	took := time.Since(start)
	if code == 0 {
		t.Fatal("second process succeeded on a locked state directory")
	}
	want := "state in " + filepath.Join(dir, "state") + " is locked by a running tierwatch"
	if !strings.Contains(errOut, want) {
		t.Errorf("stderr %q lacks %q", errOut, want)
	}
	if took > 15*time.Second {
		t.Errorf("second process took %s to fail, want a few seconds", took)
	}
}

// proc is a running `tierwatch run`.
type proc struct {
	cmd    *exec.Cmd
	stderr *syncBuffer
	done   chan error
}

// syncBuffer is a bytes.Buffer safe for the writer goroutine and readers.
type syncBuffer struct {
	mu sync.Mutex // guards b
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startDaemon starts `tierwatch run` and waits until it logs that it runs.
func startDaemon(t *testing.T, cfg string, extraEnv ...string) *proc {
	t.Helper()
	cmd := exec.Command(binPath, "-config", cfg, "run")
	cmd.Env = append(os.Environ(), extraEnv...)
	d := &proc{cmd: cmd, stderr: &syncBuffer{}, done: make(chan error, 1)}
	cmd.Stderr = d.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { d.done <- cmd.Wait() }()
	d.waitLog(t, "tierwatch running")
	return d
}

// waitLog waits until the daemon's log contains s, or fails.
func (d *proc) waitLog(t *testing.T, s string) {
	t.Helper()
	deadline := time.After(60 * time.Second)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for !strings.Contains(d.stderr.String(), s) {
		select {
		case err := <-d.done:
			t.Fatalf("daemon exited (%v) before logging %q:\n%s", err, s, d.stderr.String())
		case <-deadline:
			t.Fatalf("daemon did not log %q within 60s:\n%s", s, d.stderr.String())
		case <-tick.C:
		}
	}
}

// stop sends SIGTERM and waits for a clean exit.
func (d *proc) stop(t *testing.T) {
	t.Helper()
	if err := d.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		return // already gone
	}
	select {
	case err := <-d.done:
		if err != nil {
			t.Errorf("daemon exit: %v\n%s", err, d.stderr.String())
		}
	case <-time.After(30 * time.Second):
		d.cmd.Process.Kill()
		t.Errorf("daemon did not stop within 30s of SIGTERM:\n%s", d.stderr.String())
	}
}

func TestKillMidCycleThenRestartLosesAndDuplicatesNothing(t *testing.T) {
	const feeds, items = 30, 20
	srv := newFeedServer(t, items)
	// Slow responses keep the cycle in flight when the kill comes.
	srv.mu.Lock()
	srv.delay = 50 * time.Millisecond
	srv.mu.Unlock()
	var urls []string
	for i := range feeds {
		urls = append(urls, fmt.Sprintf("%s/f%02d", srv.URL, i))
	}
	dir := t.TempDir()
	cfg := writeConfig(t, dir, "", urls...)
	// Concurrency 2 with 50ms responses makes the first cycle take about
	// 0.75s; kill once some sources are stored and others are not.
	body, _ := os.ReadFile(cfg)
	body = bytes.Replace(body, []byte("fetch:\n"), []byte("fetch:\n  concurrency: 2\n"), 1)
	if err := os.WriteFile(cfg, body, 0o600); err != nil {
		t.Fatal(err)
	}
	d := startDaemon(t, cfg)
	d.waitLog(t, `"source polled"`)
	if err := d.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-d.done
	var polled atomic.Int32
	for _, line := range strings.Split(d.stderr.String(), "\n") {
		if strings.Contains(line, `"source polled"`) {
			polled.Add(1)
		}
	}
	if int(polled.Load()) >= feeds {
		t.Fatalf("kill came after the whole cycle (%d sources polled); the test proves nothing", polled.Load())
	}
	partial := storedItems(t, filepath.Join(dir, "state"))
	t.Logf("killed after %d sources logged; %d items stored", polled.Load(), len(partial))

	srv.mu.Lock()
	srv.delay = 0
	srv.mu.Unlock()
	out, errOut, code := tw(t, cfg, "once")
	if code != 0 {
		t.Fatalf("once after kill: exit %d\n%s\n%s", code, out, errOut)
	}
	all := storedItems(t, filepath.Join(dir, "state"))
	if len(all) != feeds*items {
		t.Errorf("after restart %d items stored, want %d", len(all), feeds*items)
	}
	for k, it := range partial {
		if all[k].FirstSeen != it.FirstSeen {
			t.Errorf("item %s was stored again after the restart", k)
		}
	}
}
