package review

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"time"

	"github.com/tierwatch/tierwatch/model"
	"github.com/tierwatch/tierwatch/storage"
)

// ErrUnauthorized is returned (wrapped) by Client calls the server refused
// for a missing or wrong token.
var ErrUnauthorized = errors.New("unauthorized")

// maxResponse caps an API response body read by the Client.
const maxResponse = 32 << 20

// callTimeout bounds one API call; replay and export get opsTimeout.
const callTimeout = 30 * time.Second

// errCallTimeout is the cause of a call that ran out of time.
var errCallTimeout = errors.New("review api call timed out")

// Client talks to a running daemon's review API, over TCP with the token or
// over the unix socket. Its methods mirror Queue's, and its errors wrap the
// same sentinels (storage.ErrNotFound, storage.ErrStale, ErrConflict,
// ErrInvalid, ErrNothingToUndo), so callers need not care which they use.
// It is safe for concurrent use.
type Client struct {
	base  string
	token string
	hc    *http.Client
}

// NewClient returns a client for the API at addr (host:port) using token.
func NewClient(addr, token string) *Client {
	return &Client{base: "http://" + addr, token: token, hc: &http.Client{}}
}

// NewSocketClient returns a client for the API on the unix socket path.
func NewSocketClient(path string) *Client {
	tr := &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "unix", path)
	}}
	return &Client{base: "http://unix", hc: &http.Client{Transport: tr}}
}

// Do sends one decision (r.Action is a model.Action* constant).
func (c *Client) Do(ctx context.Context, r Request) (Result, error) {
	body := decisionBody{Version: r.Version, Who: r.Who, Reason: r.Reason, Target: r.Target, Edit: r.Edit}
	if !r.Until.IsZero() {
		body.Until = r.Until.Format(time.RFC3339)
	}
	path := "/api/undo"
	if r.Action != model.ActionUndo {
		path = "/api/candidates/" + url.PathEscape(r.ID) + "/" + url.PathEscape(r.Action)
	}
	var res Result
	if err := c.call(ctx, http.MethodPost, path, body, &res); err != nil {
		return Result{}, fmt.Errorf("%s candidate %s via api: %w", r.Action, r.ID, err)
	}
	return res, nil
}

// Candidates lists candidates with status ("" = all) by score.
func (c *Client) Candidates(ctx context.Context, status string) ([]model.Candidate, error) {
	var out []model.Candidate
	if err := c.call(ctx, http.MethodGet, "/api/candidates?status="+url.QueryEscape(status), nil, &out); err != nil {
		return nil, fmt.Errorf("list candidates via api: %w", err)
	}
	return out, nil
}

// Candidate returns one candidate.
func (c *Client) Candidate(ctx context.Context, id string) (model.Candidate, error) {
	var out model.Candidate
	if err := c.call(ctx, http.MethodGet, "/api/candidates/"+url.PathEscape(id), nil, &out); err != nil {
		return model.Candidate{}, fmt.Errorf("show candidate %s via api: %w", id, err)
	}
	return out, nil
}

// call makes one API call within callTimeout.
func (c *Client) call(ctx context.Context, method, path string, in, out any) error {
	return c.callWithin(ctx, callTimeout, method, path, in, out)
}

// callWithin sends in (nil = no body) as JSON and decodes a 200 answer
// into out; any other status gives an *APIError.
func (c *Client) callWithin(ctx context.Context, d time.Duration, method, path string, in, out any) error {
	ctx, cancel := context.WithTimeoutCause(ctx, d, errCallTimeout)
	defer cancel()
	var body io.Reader
	if in != nil {
		data, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return err
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		var eb errorBody
		if json.Unmarshal(data, &eb) != nil || eb.Error == "" {
			eb.Error = http.StatusText(resp.StatusCode)
		}
		return &APIError{Status: resp.StatusCode, Code: eb.Code, Msg: eb.Error}
	}
	return json.Unmarshal(data, out)
}

// APIError is an error response of the review API. It unwraps to the
// sentinel of its code, so errors.Is works as with a local Queue.
type APIError struct {
	Status int
	Code   string
	Msg    string
}

func (e *APIError) Error() string { return e.Msg }

// Unwrap returns the sentinel matching the error code, or nil.
func (e *APIError) Unwrap() error {
	switch e.Code {
	case "not_found":
		return storage.ErrNotFound
	case "stale":
		return storage.ErrStale
	case "conflict":
		return ErrConflict
	case "nothing_to_undo":
		return ErrNothingToUndo
	case "invalid":
		return ErrInvalid
	case "unauthorized":
		return ErrUnauthorized
	}
	return nil
}
