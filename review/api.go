package review

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"

	"github.com/tierwatch/tierwatch/model"
	"github.com/tierwatch/tierwatch/storage"
)

// The JSON API. Every response is JSON; errors are {"error": message,
// "code": one of the codes below} with the matching HTTP status:
//
//	not_found 404  stale 409  conflict 409  nothing_to_undo 409
//	invalid 400    unauthorized 401  forbidden 403  internal 500

// maxBody caps a decision's JSON body; an edited summary is the largest
// field (maxSummary).
const maxBody = 64 << 10

// decisionBody is the JSON body of POST /api/candidates/{id}/{action} and
// POST /api/undo. Until is RFC 3339 or a duration from now ("48h", "3d").
type decisionBody struct {
	Version int    `json:"version"`
	Who     string `json:"who"`
	Reason  string `json:"reason"`
	Until   string `json:"until"`
	Target  string `json:"target"`
	Edit    Edit   `json:"edit"`
}

// actions maps the path's action to a model action.
var actions = map[string]string{
	"accept": model.ActionAccept, "reject": model.ActionReject, "snooze": model.ActionSnooze,
	"dup": model.ActionDuplicate, "duplicate": model.ActionDuplicate, "edit": model.ActionEdit,
}

type errorBody struct {
	Error string `json:"error"`
	Code  string `json:"code"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	// The status is sent; a failed write means the client went away.
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, errorBody{Error: msg, Code: code})
}

// fail maps a Queue error onto its status and code.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	var status int
	var code string
	switch {
	case errors.Is(err, storage.ErrNotFound):
		status, code = http.StatusNotFound, "not_found"
	case errors.Is(err, storage.ErrStale):
		status, code = http.StatusConflict, "stale"
	case errors.Is(err, ErrConflict):
		status, code = http.StatusConflict, "conflict"
	case errors.Is(err, ErrNothingToUndo):
		status, code = http.StatusConflict, "nothing_to_undo"
	case errors.Is(err, ErrInvalid):
		status, code = http.StatusBadRequest, "invalid"
	default:
		s.log.Error("review request failed", "path", r.URL.Path, "err", err)
		status, code = http.StatusInternalServerError, "internal"
	}
	writeError(w, status, code, err.Error())
}

func (s *Server) listCandidates(w http.ResponseWriter, r *http.Request, _ principal) {
	cands, err := s.q.Candidates(r.Context(), r.URL.Query().Get("status"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if cands == nil {
		cands = []model.Candidate{}
	}
	writeJSON(w, http.StatusOK, cands)
}

func (s *Server) showCandidate(w http.ResponseWriter, r *http.Request, _ principal) {
	c, err := s.q.Candidate(r.Context(), r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, c)
}

func (s *Server) listDecisions(w http.ResponseWriter, r *http.Request, _ principal) {
	ds, err := s.q.Decisions(r.Context(), r.URL.Query().Get("candidate"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if ds == nil {
		ds = []model.Decision{}
	}
	writeJSON(w, http.StatusOK, ds)
}

// readBody decodes a decision body strictly; an empty body is all zero.
func readBody(w http.ResponseWriter, r *http.Request) (decisionBody, error) {
	var b decisionBody
	if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(ct, "application/json") {
		return b, errors.Join(ErrInvalid, errors.New("the body must be application/json"))
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&b); err != nil && !errors.Is(err, io.EOF) {
		return b, errors.Join(ErrInvalid, err)
	}
	return b, nil
}

func (s *Server) decideCandidate(w http.ResponseWriter, r *http.Request, p principal) {
	action, ok := actions[r.PathValue("action")]
	if !ok {
		writeError(w, http.StatusNotFound, "not_found", "unknown action "+r.PathValue("action"))
		return
	}
	b, err := readBody(w, r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	req := Request{Action: action, ID: r.PathValue("id"), Version: b.Version, Who: b.Who,
		Reason: b.Reason, Target: b.Target, Edit: b.Edit}
	if req.Who == "" {
		req.Who = p.who
	}
	if action == model.ActionSnooze {
		if req.Until, err = ParseUntil(b.Until, s.now()); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	res, err := s.q.Do(r.Context(), req)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, res)
}

func (s *Server) undo(w http.ResponseWriter, r *http.Request, p principal) {
	b, err := readBody(w, r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	who := b.Who
	if who == "" {
		who = p.who
	}
	res, err := s.q.Undo(r.Context(), who)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, res)
}
