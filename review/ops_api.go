package review

import (
	"fmt"
	"net/http"
	"path/filepath"
	"time"

	"github.com/tierwatch/tierwatch/model"
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

// exportedFile is one file an export wrote (timeline.Written on the wire).
type exportedFile struct {
	CandidateID string `json:"candidate_id"`
	ID          string `json:"id"`
	File        string `json:"file"`
}

// exportBody answers POST /api/export: the files written, and the problems
// (candidates skipped, files not marked) as one message, "" when none.
type exportBody struct {
	Written  []exportedFile `json:"written"`
	Problems string         `json:"problems,omitempty"`
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

func (s *Server) listSources(w http.ResponseWriter, r *http.Request, _ principal) {
	if s.sources == nil {
		notServed(w, r)
		return
	}
	rows, err := s.sources.Sources(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if rows == nil {
		rows = []SourceRow{}
	}
	writeJSON(w, http.StatusOK, rows)
}

func (s *Server) listOutbox(w http.ResponseWriter, r *http.Request, _ principal) {
	if s.outbox == nil {
		notServed(w, r)
		return
	}
	recs, err := s.outbox.Outbox(r.Context(), r.URL.Query().Get("state"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if recs == nil {
		recs = []model.OutboxRecord{}
	}
	writeJSON(w, http.StatusOK, recs)
}

// retryOutbox serves both retry routes: with {id} one record, without it
// (retry-dead) every dead record.
func (s *Server) retryOutbox(w http.ResponseWriter, r *http.Request, _ principal) {
	if s.outbox == nil {
		notServed(w, r)
		return
	}
	n, err := s.outbox.RetryOutbox(r.Context(), r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, requeuedBody{Requeued: n})
}

func (s *Server) dropOutbox(w http.ResponseWriter, r *http.Request, _ principal) {
	if s.outbox == nil {
		notServed(w, r)
		return
	}
	id := r.PathValue("id")
	if err := s.outbox.DropOutbox(r.Context(), id); err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, droppedBody{Dropped: id})
}

// runReplay runs the daemon's replay. One replay runs at a time; a second
// gets 409 conflict.
func (s *Server) runReplay(w http.ResponseWriter, r *http.Request, _ principal) {
	if s.replay == nil {
		notServed(w, r)
		return
	}
	var since time.Time
	if v := r.URL.Query().Get("since"); v != "" {
		t, err := time.Parse(time.DateOnly, v)
		if err != nil {
			s.fail(w, r, fmt.Errorf("replay since %q: want YYYY-MM-DD: %w", v, ErrInvalid))
			return
		}
		since = t
	}
	if !s.replaying.TryLock() {
		s.fail(w, r, fmt.Errorf("replay: %w: a replay is already running", ErrConflict))
		return
	}
	defer s.replaying.Unlock()
	extendDeadline(w)
	st, err := s.replay.Replay(r.Context(), since)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, st)
}

// runExport exports accepted candidates into dir, which must be absolute:
// the daemon's working directory means nothing to the caller. The daemon
// writes the files as its own user.
func (s *Server) runExport(w http.ResponseWriter, r *http.Request, _ principal) {
	dir := r.URL.Query().Get("dir")
	if dir == "" || !filepath.IsAbs(dir) {
		s.fail(w, r, fmt.Errorf("export to %q: %w: dir must be an absolute path", dir, ErrInvalid))
		return
	}
	extendDeadline(w)
	// Export writes what it can and reports the rest, so its error is a
	// problem in a 200 answer, as the CLI prints it after the files.
	written, err := s.q.Export(r.Context(), filepath.Clean(dir))
	out := exportBody{Written: make([]exportedFile, 0, len(written))}
	for _, wr := range written {
		out.Written = append(out.Written, exportedFile{CandidateID: wr.CandidateID, ID: wr.ID, File: wr.File})
	}
	if err != nil {
		out.Problems = err.Error()
	}
	writeJSON(w, http.StatusOK, out)
}

// extendDeadline lifts the server's 30s write timeout for a long operation
// to opsTimeout.
func extendDeadline(w http.ResponseWriter) {
	// Not every ResponseWriter supports deadlines (httptest's recorder
	// does not); the server's default then applies.
	_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(opsTimeout))
}
