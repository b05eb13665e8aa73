package monitor

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tierwatch/tierwatch/model"
)

const smallFeed = `<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>` +
	`<item><title>One</title><link>https://example.com/1</link></item></channel></rss>`

func gzipped(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestFetchHostile runs the fetcher against servers that misbehave and
// checks each ends in bounded time with the right error class.
func TestFetchHostile(t *testing.T) {
	const timeout = 300 * time.Millisecond
	const maxBytes = 64 << 10
	now := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	bomb := gzipped(t, make([]byte, 8<<20)) // 8 MiB of zeros in ~8 KiB
	stop := make(chan struct{})

	mux := http.NewServeMux()
	mux.HandleFunc("/drip", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/rss+xml")
		_, _ = io.WriteString(w, "<rss><channel>") // the client notices a dead peer on its own
		w.(http.Flusher).Flush()
		select { // a body that never ends
		case <-r.Context().Done():
		case <-stop:
		}
	})
	mux.HandleFunc("/large-chunked", func(w http.ResponseWriter, r *http.Request) {
		chunk := bytes.Repeat([]byte("x"), 8<<10)
		for range maxBytes/len(chunk) + 2 {
			if _, err := w.Write(chunk); err != nil {
				return // client gave up: expected
			}
			w.(http.Flusher).Flush()
		}
	})
	mux.HandleFunc("/large-length", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", fmt.Sprint(maxBytes+1))
		_, _ = w.Write(make([]byte, maxBytes+1)) // client may hang up early: fine
	})
	mux.HandleFunc("/bomb", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Encoding", "gzip")
		_, _ = w.Write(bomb) // client hangs up at the cap
	})
	mux.HandleFunc("/badgzip", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Encoding", "gzip")
		_, _ = io.WriteString(w, "this is not gzip")
	})
	mux.HandleFunc("/loop/a", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/loop/b", http.StatusFound) })
	mux.HandleFunc("/loop/b", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/loop/a", http.StatusFound) })
	mux.HandleFunc("/chain/", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, r.URL.Path+"x", http.StatusMovedPermanently)
	})
	mux.HandleFunc("/to-file", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "file:///etc/passwd", http.StatusFound)
	})
	status := func(code int, retryAfter string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			if retryAfter != "" {
				w.Header().Set("Retry-After", retryAfter)
			}
			w.WriteHeader(code)
		}
	}
	mux.Handle("/429", status(http.StatusTooManyRequests, "120"))
	mux.Handle("/503-date", status(http.StatusServiceUnavailable, now.Add(90*time.Second).Format(http.TimeFormat)))
	mux.Handle("/503", status(http.StatusServiceUnavailable, ""))
	mux.Handle("/500", status(http.StatusInternalServerError, ""))
	mux.Handle("/404", status(http.StatusNotFound, ""))
	mux.Handle("/401", status(http.StatusUnauthorized, ""))
	srv := httptest.NewServer(mux)
	defer srv.Close()
	defer close(stop)

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refused := "http://" + l.Addr().String() + "/feed"
	_ = l.Close() // nothing listens there any more: connections are refused

	f := NewFetcher(FetchOptions{Timeout: timeout, MaxBytes: maxBytes, MaxRedirects: 3,
		Now: func() time.Time { return now }}, nil)
	tests := []struct {
		name       string
		url        string
		class      model.ErrorClass
		status     int
		retryAfter time.Duration
		errHas     string
	}{
		{name: "drip never ends", url: srv.URL + "/drip", class: model.ClassTimeout, errHas: "no complete response within 300ms"},
		{name: "chunked body over cap", url: srv.URL + "/large-chunked", class: model.ClassTooLarge},
		{name: "content-length over cap", url: srv.URL + "/large-length", class: model.ClassTooLarge, errHas: "content-length"},
		{name: "gzip bomb", url: srv.URL + "/bomb", class: model.ClassTooLarge},
		{name: "bad gzip", url: srv.URL + "/badgzip", class: model.ClassParse},
		{name: "redirect loop", url: srv.URL + "/loop/a", class: model.ClassHTTPStatus, errHas: "redirect loop"},
		{name: "redirect chain over limit", url: srv.URL + "/chain/", class: model.ClassHTTPStatus, errHas: "too many redirects"},
		{name: "redirect to file", url: srv.URL + "/to-file", class: model.ClassPermanent, errHas: "non-http"},
		{name: "429 retry-after seconds", url: srv.URL + "/429", class: model.ClassRateLimited, status: 429, retryAfter: 120 * time.Second},
		{name: "503 retry-after date", url: srv.URL + "/503-date", class: model.ClassRateLimited, status: 503, retryAfter: 90 * time.Second},
		{name: "503 without retry-after", url: srv.URL + "/503", class: model.ClassHTTPStatus, status: 503},
		{name: "500", url: srv.URL + "/500", class: model.ClassHTTPStatus, status: 500},
		{name: "404", url: srv.URL + "/404", class: model.ClassPermanent, status: 404},
		{name: "401", url: srv.URL + "/401", class: model.ClassAuth, status: 401},
		{name: "connection refused", url: refused, class: model.ClassNetwork},
		{name: "unsupported scheme", url: "ftp://example.com/feed", class: model.ClassPermanent},
		{name: "no host", url: "http:///feed", class: model.ClassPermanent},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			resp, err := f.Fetch(t.Context(), Request{Source: "hostile", URL: tt.url})
			elapsed := time.Since(start)
			if err == nil {
				t.Fatalf("Fetch returned %+v, want an error", resp)
			}
			fe, ok := errors.AsType[*FetchError](err)
			if !ok {
				t.Fatalf("error %T %v is not a *FetchError", err, err)
			}
			if fe.Class != tt.class || fe.Status != tt.status || fe.RetryAfter != tt.retryAfter {
				t.Errorf("got class %s status %d retry-after %v, want %s %d %v (err: %v)",
					fe.Class, fe.Status, fe.RetryAfter, tt.class, tt.status, tt.retryAfter, err)
			}
			if !strings.Contains(err.Error(), tt.errHas) || !strings.HasPrefix(err.Error(), "fetch source hostile ") {
				t.Errorf("error %q does not start with the source or lacks %q", err, tt.errHas)
			}
			// Every case is bounded by the per-request timeout; a second of
			// slack covers a loaded machine, and only a hang exceeds it.
			if elapsed > timeout+time.Second {
				t.Errorf("took %v, longer than the %v timeout allows", elapsed, timeout)
			}
		})
	}
}

func TestFetchConditionalGET(t *testing.T) {
	const etag = `"v1"`
	const lastMod = "Sun, 22 Nov 2026 10:00:00 GMT"
	tests := []struct {
		name          string
		sendETag      bool
		sendLastMod   bool
		wantINM, wIMS string
	}{
		{name: "etag and last-modified", sendETag: true, sendLastMod: true, wantINM: etag, wIMS: lastMod},
		{name: "last-modified only", sendLastMod: true, wIMS: lastMod},
		{name: "etag only", sendETag: true, wantINM: etag},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var gotINM, gotIMS []string
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				gotINM = append(gotINM, r.Header.Get("If-None-Match"))
				gotIMS = append(gotIMS, r.Header.Get("If-Modified-Since"))
				if (tt.sendETag && r.Header.Get("If-None-Match") == etag) ||
					(!tt.sendETag && r.Header.Get("If-Modified-Since") == lastMod) {
					w.WriteHeader(http.StatusNotModified)
					return
				}
				if tt.sendETag {
					w.Header().Set("ETag", etag)
				}
				if tt.sendLastMod {
					w.Header().Set("Last-Modified", lastMod)
				}
				_, _ = io.WriteString(w, smallFeed)
			}))
			defer srv.Close()
			f := NewFetcher(FetchOptions{}, nil)
			first, err := f.Fetch(t.Context(), Request{URL: srv.URL})
			if err != nil {
				t.Fatal(err)
			}
			if first.NotModified || string(first.Body) != smallFeed || first.Status != 200 {
				t.Fatalf("first fetch: %+v", first)
			}
			second, err := f.Fetch(t.Context(), Request{URL: srv.URL, ETag: first.ETag, LastModified: first.LastModified})
			if err != nil {
				t.Fatal(err)
			}
			if !second.NotModified || len(second.Body) != 0 || second.Status != 304 {
				t.Fatalf("second fetch: %+v, want NotModified", second)
			}
			if second.ETag != first.ETag || second.LastModified != first.LastModified {
				t.Errorf("validators after 304: %q %q, want %q %q", second.ETag, second.LastModified, first.ETag, first.LastModified)
			}
			if gotINM[0] != "" || gotIMS[0] != "" {
				t.Errorf("first request carried validators %q %q", gotINM[0], gotIMS[0])
			}
			if gotINM[1] != tt.wantINM || gotIMS[1] != tt.wIMS {
				t.Errorf("second request If-None-Match %q If-Modified-Since %q, want %q %q", gotINM[1], gotIMS[1], tt.wantINM, tt.wIMS)
			}
		})
	}
}

func TestFetchRequestShape(t *testing.T) {
	type seen struct {
		method, ua, ae, accept, ct, body string
	}
	var got seen
	mux := http.NewServeMux()
	mux.HandleFunc("/api", func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body) // test server: a short read shows in the assertion
		got = seen{r.Method, r.UserAgent(), r.Header.Get("Accept-Encoding"), r.Header.Get("Accept"), r.Header.Get("Content-Type"), string(b)}
		w.Header().Set("Content-Encoding", "gzip")
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(gzipped(t, []byte(`{"ok":true}`)))
	})
	mux.HandleFunc("/old", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/api", http.StatusTemporaryRedirect)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	f := NewFetcher(FetchOptions{}, nil)
	resp, err := f.Fetch(t.Context(), Request{
		URL: srv.URL + "/old", Method: http.MethodPost, Body: []byte(`{"q":1}`),
		Header: http.Header{"Content-Type": {"application/json"}, "Accept": {"application/json"}, "Accept-Encoding": {"br"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := seen{"POST", "tierwatch/" + Version + " (+https://github.com/tierwatch/tierwatch)", "gzip", "application/json", "application/json", `{"q":1}`}
	if got != want {
		t.Errorf("server saw %+v, want %+v", got, want)
	}
	if string(resp.Body) != `{"ok":true}` || resp.ContentType != "application/json" || resp.FinalURL != srv.URL+"/api" {
		t.Errorf("response %+v (body %q)", resp, resp.Body)
	}
}

func TestFetchRedactsSecrets(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/500", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(500) })
	mux.HandleFunc("/loop", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/loop?"+r.URL.RawQuery, http.StatusFound)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refusedHost := l.Addr().String()
	_ = l.Close() // refuse connections from now on
	host := strings.TrimPrefix(srv.URL, "http://")
	const q = "?api_key=SECRET1&token=SECRET2&page=2&X-Amz-Signature=SECRET3"
	f := NewFetcher(FetchOptions{Timeout: 2 * time.Second}, nil)
	for _, u := range []string{
		"http://user:SECRET0@" + host + "/500" + q,
		"http://user:SECRET0@" + host + "/loop" + q,
		"http://user:SECRET0@" + refusedHost + "/feed" + q,
		"http://user:SECRET0@" + host + "/%zz" + q,
	} {
		_, err := f.Fetch(t.Context(), Request{URL: u})
		if err == nil {
			t.Fatalf("fetch %s: no error", u)
		}
		if msg := err.Error(); strings.Contains(msg, "SECRET") {
			t.Errorf("error leaks a secret: %s", msg)
		}
		var ue *url.Error
		if errors.As(err, &ue) {
			t.Errorf("error chain still holds a *url.Error: %v", err)
		}
	}
}

func TestFetchCallerCancel(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()
	}))
	defer srv.Close()
	ctx, cancel := context.WithCancel(t.Context())
	f := NewFetcher(FetchOptions{}, nil)
	done := make(chan error, 1)
	go func() {
		_, err := f.Fetch(ctx, Request{URL: srv.URL})
		done <- err
	}()
	cancel()
	err := <-done
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want one wrapping context.Canceled", err)
	}
}

func TestFetchFile(t *testing.T) {
	dir := t.TempDir()
	feedPath := filepath.Join(dir, "feed.xml")
	if err := os.WriteFile(feedPath, []byte(smallFeed), 0o600); err != nil {
		t.Fatal(err)
	}
	bigPath := filepath.Join(dir, "big.xml")
	if err := os.WriteFile(bigPath, make([]byte, 2048), 0o600); err != nil {
		t.Fatal(err)
	}
	fileURL := func(p string) string { return (&url.URL{Scheme: "file", Path: p}).String() }
	f := NewFetcher(FetchOptions{MaxBytes: 1024}, nil)

	first, err := f.Fetch(t.Context(), Request{URL: fileURL(feedPath)})
	if err != nil {
		t.Fatal(err)
	}
	if string(first.Body) != smallFeed || first.ETag == "" || first.LastModified == "" || first.NotModified {
		t.Fatalf("first read: %+v", first)
	}
	again, err := f.Fetch(t.Context(), Request{URL: fileURL(feedPath), ETag: first.ETag, LastModified: first.LastModified})
	if err != nil || !again.NotModified || len(again.Body) != 0 {
		t.Fatalf("unchanged file: %+v, %v; want NotModified", again, err)
	}
	later := time.Now().Add(time.Hour)
	if err := os.Chtimes(feedPath, later, later); err != nil {
		t.Fatal(err)
	}
	changed, err := f.Fetch(t.Context(), Request{URL: fileURL(feedPath), ETag: first.ETag, LastModified: first.LastModified})
	if err != nil || changed.NotModified || changed.ETag == first.ETag {
		t.Fatalf("touched file: %+v, %v; want a fresh read", changed, err)
	}

	tests := []struct {
		name  string
		url   string
		class model.ErrorClass
	}{
		{"over cap", fileURL(bigPath), model.ClassTooLarge},
		{"missing", fileURL(filepath.Join(dir, "nope.xml")), model.ClassPermanent},
		{"directory", fileURL(dir), model.ClassPermanent},
		{"remote host", "file://example.com/etc/passwd", model.ClassPermanent},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := f.Fetch(t.Context(), Request{URL: tt.url})
			if got := ErrorClassOf(err); got != tt.class {
				t.Errorf("class %q (err %v), want %q", got, err, tt.class)
			}
		})
	}
}

func TestReadCapped(t *testing.T) {
	cases := []struct {
		name    string
		body    string
		max     int64
		hint    int64
		wantErr bool
	}{
		{"no hint", strings.Repeat("x", 3000), 4000, -1, false},
		{"exact hint", strings.Repeat("x", 3000), 4000, 3000, false},
		{"hint too small", strings.Repeat("x", 3000), 4000, 10, false},
		{"hint above the cap", strings.Repeat("x", 3000), 4000, 1 << 40, false},
		{"body at the cap", strings.Repeat("x", 4000), 4000, 4000, false},
		{"body over the cap, honest hint", strings.Repeat("x", 4001), 4000, 4001, true},
		{"body over the cap, lying hint", strings.Repeat("x", 9000), 4000, 100, true},
		{"empty", "", 4000, 0, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := readCapped(strings.NewReader(tc.body), tc.max, tc.hint)
			if tc.wantErr {
				if !errors.Is(err, errTooLarge) {
					t.Fatalf("err %v, want errTooLarge", err)
				}
				return
			}
			if err != nil || string(got) != tc.body {
				t.Fatalf("got %d bytes, %v; want %d bytes", len(got), err, len(tc.body))
			}
		})
	}
}
