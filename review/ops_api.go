package review

import (
	"fmt"
	"net/http"
	"path/filepath"
	"time"

	"github.com/tierwatch/tierwatch/model"
	"github.com/tierwatch/tierwatch/timeline"
)

// The operator endpoints (documented in doc.go). They use the same auth as
// the decision API: the unix socket, a bearer token, or a page session
// whose POSTs carry the CSRF token.

// requeuedBody answers the retry endpoints.
type requeuedBody struct {
	Requeued int `json:"requeued"`
}

// droppedBody answers the drop endpoint.
type droppedBody struct {
	Dropped string `json:"dropped"`
}

// exportBody answers POST /api/export: the files written, and the problems
// (candidates skipped, files not marked) as one message, "" when none.
type exportBody struct {
	Written  []timeline.Written `json:"written"`
	Problems string             `json:"problems,omitempty"`
}

func (s *Server) opsRoutes(mux *http.ServeMux, api func(func(http.ResponseWriter, *http.Request, principal)) http.Handler) {
	mux.Handle("GET /api/sources", api(s.listSources))
	mux.Handle("GET /api/outbox", api(s.listOutbox))
	mux.Handle("POST /api/outbox/retry-dead", api(s.retryOutbox))
	mux.Handle("POST /api/outbox/{id}/retry", api(s.retryOutbox))
	mux.Handle("POST /api/outbox/{id}/drop", api(s.dropOutbox))
	mux.Handle("POST /api/replay", api(s.runReplay))
	mux.Handle("POST /api/export", api(s.runExport))
}

// notServed answers 501 for an endpoint without an implementation.
func notServed(w http.ResponseWriter, r *http.Request) {
	writeError(w, http.StatusNotImplemented, "unavailable", fmt.Sprintf("%s: %v", r.URL.Path, errNotServed))
}

// serveOp answers 501 unless served, else runs op and writes its value as
// JSON or its error with the matching status.
func (s *Server) serveOp(w http.ResponseWriter, r *http.Request, served bool, op func() (any, error)) {
	if !served {
		notServed(w, r)
		return
	}
	v, err := op()
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

func (s *Server) listSources(w http.ResponseWriter, r *http.Request, _ principal) {
	s.serveOp(w, r, s.sources != nil, func() (any, error) {
		rows, err := s.sources.Sources(r.Context())
		if rows == nil {
			rows = []SourceRow{}
		}
		return rows, err
	})
}

func (s *Server) listOutbox(w http.ResponseWriter, r *http.Request, _ principal) {
	s.serveOp(w, r, s.outbox != nil, func() (any, error) {
		recs, err := s.outbox.Outbox(r.Context(), r.URL.Query().Get("state"))
		if recs == nil {
			recs = []model.OutboxRecord{}
		}
		return recs, err
	})
}

// retryOutbox serves both retry routes: with {id} one record, without it
// (retry-dead) every dead record.
func (s *Server) retryOutbox(w http.ResponseWriter, r *http.Request, _ principal) {
	s.serveOp(w, r, s.outbox != nil, func() (any, error) {
		n, err := s.outbox.RetryOutbox(r.Context(), r.PathValue("id"))
		return requeuedBody{Requeued: n}, err
	})
}

func (s *Server) dropOutbox(w http.ResponseWriter, r *http.Request, _ principal) {
	s.serveOp(w, r, s.outbox != nil, func() (any, error) {
		id := r.PathValue("id")
		return droppedBody{Dropped: id}, s.outbox.DropOutbox(r.Context(), id)
	})
}

// runReplay runs the daemon's replay. One replay runs at a time; a second
// gets 409 conflict.
func (s *Server) runReplay(w http.ResponseWriter, r *http.Request, _ principal) {
	s.serveOp(w, r, s.replay != nil, func() (any, error) {
		var since time.Time
		if v := r.URL.Query().Get("since"); v != "" {
			t, err := time.Parse(time.DateOnly, v)
			if err != nil {
				return nil, fmt.Errorf("replay since %q: want YYYY-MM-DD: %w", v, ErrInvalid)
			}
			since = t
		}
		if !s.replaying.TryLock() {
			return nil, fmt.Errorf("replay: %w: a replay is already running", ErrConflict)
		}
		defer s.replaying.Unlock()
		extendDeadline(w)
		return s.replay.Replay(r.Context(), since)
	})
}

// runExport exports accepted candidates into dir, which must be absolute:
// the daemon's working directory means nothing to the caller. The daemon
// writes the files as its own user.
func (s *Server) runExport(w http.ResponseWriter, r *http.Request, _ principal) {
	s.serveOp(w, r, true, func() (any, error) {
		dir := r.URL.Query().Get("dir")
		if dir == "" || !filepath.IsAbs(dir) {
			return nil, fmt.Errorf("export to %q: %w: dir must be an absolute path", dir, ErrInvalid)
		}
		extendDeadline(w)
		// Export writes what it can and reports the rest, so its error is
		// a problem in a 200 answer, as the CLI prints it after the files.
		written, err := s.q.Export(r.Context(), filepath.Clean(dir))
		if written == nil {
			written = []timeline.Written{} // [] on the wire, not null
		}
		out := exportBody{Written: written}
		if err != nil {
			out.Problems = err.Error()
		}
		return out, nil
	})
}

// extendDeadline lifts the server's 30s write timeout for a long operation
// to opsTimeout.
func extendDeadline(w http.ResponseWriter) {
	// Not every ResponseWriter supports deadlines (httptest's recorder
	// does not); the server's default then applies.
	_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(opsTimeout))
}
