package bench

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
)

// Server serves a Generator's feeds over loopback HTTP at /f/<n>. Every
// 200 carries an ETag naming the feed's version; a request whose
// If-None-Match equals it gets 304 and no body. Bodies are generated per
// request into pooled buffers, so serving 10,000 feeds holds no corpus in
// memory. A Server is safe for concurrent use.
//
// On Linux the whole of 127.0.0.0/8 is loopback, so the server listens on
// up to Hosts addresses (127.0.0.1, 127.0.0.2, …) and spreads feeds over
// them, as real feeds are spread over many hosts: a client's per-host
// connection limits then behave as they do in production. Where only
// 127.0.0.1 exists it uses that one address.
type Server struct {
	gen      *Generator
	servers  []*httptest.Server
	versions []atomic.Int32
	bufs     sync.Pool

	ok, notModified atomic.Int64
	bytes           atomic.Int64
}

// NewServer starts a server for feeds 0 … feeds-1, all at version 0, on up
// to hosts loopback addresses (default 1). The caller must Close it.
func NewServer(gen *Generator, feeds, hosts int) (*Server, error) {
	if feeds < 1 {
		return nil, errors.New("start bench server: need at least one feed")
	}
	s := &Server{gen: gen, versions: make([]atomic.Int32, feeds)}
	s.bufs.New = func() any { b := make([]byte, 0, 64<<10); return &b }
	for i := range max(hosts, 1) {
		ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.%d:0", i+1))
		if err != nil {
			if i == 0 {
				return nil, fmt.Errorf("start bench server: %w", err)
			}
			break // this system has fewer loopback addresses; use what we have
		}
		hs := &httptest.Server{Listener: ln, Config: &http.Server{Handler: s}}
		hs.Start()
		s.servers = append(s.servers, hs)
	}
	return s, nil
}

// Close stops every listener and waits for requests in flight.
func (s *Server) Close() {
	for _, hs := range s.servers {
		hs.Close()
	}
}

// Hosts returns how many loopback addresses the server listens on.
func (s *Server) Hosts() int { return len(s.servers) }

// Feeds returns the number of feeds served.
func (s *Server) Feeds() int { return len(s.versions) }

// URL returns the URL of feed n.
func (s *Server) URL(n int) string {
	return s.servers[n%len(s.servers)].URL + "/f/" + strconv.Itoa(n)
}

// URLs returns the URLs of all feeds, in feed order.
func (s *Server) URLs() []string {
	out := make([]string, len(s.versions))
	for i := range out {
		out[i] = s.URL(i)
	}
	return out
}

// Version returns feed n's current version.
func (s *Server) Version(n int) int { return int(s.versions[n].Load()) }

// Change moves round(frac × feeds) distinct feeds, chosen by seed, to their
// next version, and returns their numbers in ascending order of choice.
func (s *Server) Change(frac float64, seed uint64) []int {
	n := int(frac*float64(len(s.versions)) + 0.5)
	n = min(max(n, 0), len(s.versions))
	perm := rand.New(rand.NewPCG(seed, 0xc4a9)).Perm(len(s.versions))[:n]
	for _, f := range perm {
		s.versions[f].Add(1)
	}
	return perm
}

// Counts returns the 200 and 304 responses and body bytes served so far.
func (s *Server) Counts() (ok, notModified, bytes int64) {
	return s.ok.Load(), s.notModified.Load(), s.bytes.Load()
}

func etag(feed, v int) string { return `"` + strconv.Itoa(feed) + "-" + strconv.Itoa(v) + `"` }

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rest, ok := strings.CutPrefix(r.URL.Path, "/f/")
	n, err := strconv.Atoi(rest)
	if !ok || err != nil || n < 0 || n >= len(s.versions) {
		http.NotFound(w, r)
		return
	}
	v := int(s.versions[n].Load())
	tag := etag(n, v)
	w.Header().Set("ETag", tag)
	if r.Header.Get("If-None-Match") == tag {
		s.notModified.Add(1)
		w.WriteHeader(http.StatusNotModified)
		return
	}
	bp := s.bufs.Get().(*[]byte)
	body := s.gen.AppendFeed((*bp)[:0], n, v)
	w.Header().Set("Content-Type", "application/rss+xml; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	// A write error means the client went away; nothing to do about it.
	_, _ = w.Write(body)
	s.ok.Add(1)
	s.bytes.Add(int64(len(body)))
	*bp = body
	s.bufs.Put(bp)
}
