package monitor

// The fault suite: hostile feed servers against the real Fetcher and
// Poller with the daemon's default limits (10 MiB body cap, 5 redirects),
// and a short per-request timeout. Each case reports figures (time taken,
// bytes the server sent, bytes this process allocated, goroutines left)
// that RELIABILITY.md quotes; run it with
//
//	go test -run TestFaultSuite -v ./monitor/
//
// Cases run one after another, never in parallel, so the allocation
// figure of each is its own.

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"go.uber.org/goleak"

	"github.com/tierwatch/tierwatch/config"
	"github.com/tierwatch/tierwatch/model"
)

// countingWriter counts the bytes a hostile handler managed to send.
type countingWriter struct {
	w http.ResponseWriter
	n *atomic.Int64
}

func (c countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n.Add(int64(n))
	return n, err
}

const gib = 1 << 30

// streamHuge writes an endless-looking RSS document of total bytes made of
// one repeated 64 KiB chunk: the 1 GB body is generated, never held.
func streamHuge(w io.Writer, total int64) {
	chunk := bytes.Repeat([]byte("<item><title>padding</title></item>"), 64<<10/35)
	if _, err := io.WriteString(w, `<?xml version="1.0"?><rss version="2.0"><channel><title>huge</title>`); err != nil {
		return
	}
	for sent := int64(0); sent < total; sent += int64(len(chunk)) {
		if _, err := w.Write(chunk); err != nil {
			return // the client hung up at its cap: expected
		}
	}
}

// gzipZeros compresses n zero bytes: 32 MiB become about 32 KiB.
func gzipZeros(t *testing.T, n int) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		t.Fatal(err)
	}
	zeros := make([]byte, 1<<20)
	for i := 0; i < n>>20; i++ {
		if _, err := zw.Write(zeros); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func feedOf(items string) string {
	return `<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>T</title><link>https://h.example/</link>` +
		items + `</channel></rss>`
}

func manyItems(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, `<item><title>Story %d</title><link>https://h.example/s/%d</link><guid>g%d</guid></item>`, i, i, i)
	}
	return feedOf(b.String())
}

// billionLaughs is the classic entity-expansion document: ten levels of
// ten references, 10^9 "lol"s if a parser expanded them.
func billionLaughs() string {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY lol "lol">`)
	prev := "lol"
	for i := 1; i <= 9; i++ {
		name := fmt.Sprintf("lol%d", i)
		fmt.Fprintf(&b, `<!ENTITY %s "%s">`, name, strings.Repeat("&"+prev+";", 10))
		prev = name
	}
	b.WriteString(`]><rss version="2.0"><channel><title>&lol9;</title><item><title>&lol9;</title><guid>x</guid></item></channel></rss>`)
	return b.String()
}

type faultCase struct {
	name    string
	path    string // on the plain server; "" when url is set
	url     func(plain, tls string) string
	handler http.HandlerFunc
	// wantClass is the error class; "" means the poll must succeed.
	wantClass model.ErrorClass
	wantErr   string // substring of the error
	check     func(t *testing.T, items []model.Item)
	maxAlloc  int64 // bound on bytes allocated by the poll
}

func TestFaultSuite(t *testing.T) {
	if testing.Short() {
		t.Skip("fault suite streams up to 1 GiB over loopback; skipped in -short")
	}
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	const timeout = 2 * time.Second
	bomb := gzipZeros(t, 32<<20)
	stop := make(chan struct{})
	var sent atomic.Int64

	cases := []faultCase{
		{name: "slow drip, never finishes", path: "/drip", wantClass: model.ClassTimeout, wantErr: "no complete response within 2s",
			handler: func(w http.ResponseWriter, r *http.Request) {
				cw := countingWriter{w, &sent}
				for i := 0; ; i++ {
					if _, err := fmt.Fprintf(cw, "<!-- %d -->", i); err != nil {
						return
					}
					w.(http.Flusher).Flush()
					select { // one comment per 50ms, forever
					case <-r.Context().Done():
						return
					case <-stop:
						return
					case <-time.After(50 * time.Millisecond):
					}
				}
			}},
		{name: "1 GiB body, chunked", path: "/huge", wantClass: model.ClassTooLarge, maxAlloc: 64 << 20,
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/rss+xml")
				streamHuge(countingWriter{w, &sent}, gib)
			}},
		{name: "1 GiB body, Content-Length", path: "/huge-length", wantClass: model.ClassTooLarge, wantErr: "content-length", maxAlloc: 8 << 20,
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Length", fmt.Sprint(int64(gib)+90))
				streamHuge(countingWriter{w, &sent}, gib)
			}},
		{name: "gzip bomb, 32 MiB of zeros in 32 KiB", path: "/bomb", wantClass: model.ClassTooLarge, maxAlloc: 64 << 20,
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Encoding", "gzip")
				_, _ = countingWriter{w, &sent}.Write(bomb) // the client hangs up at its cap
			}},
		{name: "invalid UTF-8", path: "/latin", handler: serve(feedOf("<item><title>caf\xe9 \xff\xfe ok</title><guid>u1</guid><link>https://h.example/u</link></item>")),
			check: func(t *testing.T, items []model.Item) {
				if len(items) != 1 {
					t.Fatalf("got %d items, want 1", len(items))
				}
				if !utf8.ValidString(items[0].Title) || !strings.Contains(items[0].Title, "ok") {
					t.Errorf("title %q is not valid UTF-8 keeping the rest", items[0].Title)
				}
			}},
		{name: "NUL and control bytes", path: "/nul", handler: serve(feedOf("<item><title>a\x00b\x01c</title><description>d\x00e</description><guid>n\x001</guid><link>https://h.example/n</link></item>")),
			check: func(t *testing.T, items []model.Item) {
				if len(items) != 1 {
					t.Fatalf("got %d items, want 1", len(items))
				}
				for _, s := range []string{items[0].Title, items[0].Summary, items[0].Key} {
					if strings.ContainsAny(s, "\x00\x01") {
						t.Errorf("field %q keeps a NUL or control byte", s)
					}
				}
			}},
		{name: "entity expansion (billion laughs)", path: "/lol", handler: serve(billionLaughs()), maxAlloc: 16 << 20,
			check: func(t *testing.T, items []model.Item) {
				for _, it := range items {
					t.Logf("item title %q", it.Title)
					if len(it.Title) > 1000 {
						t.Errorf("title of %d bytes: entities were expanded", len(it.Title))
					}
				}
			}},
		{name: "10,000 items in one feed", path: "/many", handler: serve(manyItems(10000)), maxAlloc: 256 << 20,
			check: func(t *testing.T, items []model.Item) {
				if len(items) != 10000 {
					t.Errorf("got %d items, want all 10000", len(items))
				}
			}},
		{name: "redirect loop", path: "/loop", wantClass: model.ClassHTTPStatus, wantErr: "redirect loop",
			handler: func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/loop", http.StatusFound) }},
		{name: "TLS with an untrusted certificate", url: func(_, tls string) string { return tls + "/feed" },
			wantClass: model.ClassNetwork, wantErr: "certificate"},
		{name: "plain HTTP server on an https URL", url: func(plain, _ string) string { return strings.Replace(plain, "http://", "https://", 1) + "/plain" },
			wantClass: model.ClassNetwork, wantErr: "http response to https client"},
	}

	mux := http.NewServeMux()
	for _, c := range cases {
		if c.handler != nil {
			mux.Handle(c.path, c.handler)
		}
	}
	mux.Handle("/plain", serve(feedOf("")))
	plain := httptest.NewServer(mux)
	defer plain.Close()
	tlsSrv := httptest.NewUnstartedServer(serve(feedOf("")))
	// The handshake failure is the point; keep the server's log quiet.
	tlsSrv.Config.ErrorLog = log.New(io.Discard, "", 0)
	tlsSrv.StartTLS()
	defer tlsSrv.Close()
	defer close(stop)

	opts := config.Defaults().Fetch // the daemon's limits
	f := NewFetcher(FetchOptions{Timeout: timeout, ConnectTimeout: timeout, MaxBytes: opts.MaxBytes, MaxRedirects: opts.MaxRedirects}, quietLog())

	t.Logf("%-42s %-12s %9s %11s %11s %6s", "fault", "result", "time", "served", "allocated", "items")
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			state := newMemState()
			p := NewPoller(f, state, state, nil, PollerOptions{Concurrency: 1}, quietLog())
			url := plain.URL + c.path
			if c.url != nil {
				url = c.url(plain.URL, tlsSrv.URL)
			}
			src := config.Source{Name: "hostile", Type: model.SourceFeed, URL: url}
			sent.Store(0)
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			start := time.Now()
			res, err := p.Poll(t.Context(), src, true)
			elapsed := time.Since(start)
			runtime.ReadMemStats(&after)
			alloc := int64(after.TotalAlloc - before.TotalAlloc)
			if err != nil {
				t.Fatalf("Poll: %v (only store failures may return an error)", err)
			}
			result := "ok"
			if res.Err != nil {
				class, _ := ClassOf(res.Err)
				result = string(class)
			}
			t.Logf("%-42s %-12s %9s %11s %11s %6d", c.name, result, elapsed.Round(time.Millisecond),
				mib(sent.Load()), mib(alloc), len(state.items["hostile"]))

			switch {
			case c.wantClass == "" && res.Err != nil:
				t.Errorf("poll failed: %v", res.Err)
			case c.wantClass != "":
				class, _ := ClassOf(res.Err)
				if res.Err == nil || class != c.wantClass || !strings.Contains(strings.ToLower(res.Err.Error()), c.wantErr) {
					t.Errorf("got %v (class %s), want class %s with %q", res.Err, class, c.wantClass, c.wantErr)
				}
				st := state.states["hostile"]
				if st.ConsecutiveErrors != 1 || st.LastErrorClass != c.wantClass || st.NextRun.IsZero() {
					t.Errorf("state after failure %+v: want one error of class %s and a retry time", st, c.wantClass)
				}
			}
			if c.check != nil {
				c.check(t, state.items["hostile"])
			}
			if elapsed > timeout+time.Second {
				t.Errorf("took %v; the %v timeout should bound every fault", elapsed, timeout)
			}
			if c.maxAlloc > 0 && alloc > c.maxAlloc {
				t.Errorf("allocated %s, want at most %s", mib(alloc), mib(c.maxAlloc))
			}
		})
	}
}

func serve(body string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/rss+xml")
		_, _ = io.WriteString(w, body) // a client hanging up early is its business
	}
}

// mib formats a byte count for the figures table.
func mib(n int64) string {
	if n < 1<<20 {
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
}
