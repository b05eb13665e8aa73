package notifytest

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"unicode/utf8"
)

// SlackReply is one scripted answer of a SlackServer.
type SlackReply struct {
	Status     int
	Body       string
	RetryAfter string
}

// SlackServer behaves like a Slack incoming webhook: it answers 200 "ok"
// to a valid message, 400 "invalid_payload" to one that is not JSON,
// 400 "no_text" when text is missing, 400 "invalid_blocks" when a block
// breaks a Block Kit limit (see CheckSlackMessage), and plays Script first,
// one reply per request (e.g. 429 with Retry-After, 404 "no_service").
type SlackServer struct {
	URL string

	mu       sync.Mutex // guards the fields below
	script   []SlackReply
	requests int
	accepted [][]byte
}

// NewSlackServer starts a SlackServer, closed when t ends. Its URL has the
// shape of a real hook URL, whose path is the secret.
func NewSlackServer(t testing.TB, script ...SlackReply) *SlackServer {
	s := &SlackServer{script: script}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	s.URL = srv.URL + "/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX"
	return s
}

// ServeHTTP implements http.Handler.
func (s *SlackServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests++
	if len(s.script) > 0 {
		rep := s.script[0]
		s.script = s.script[1:]
		if rep.RetryAfter != "" {
			w.Header().Set("Retry-After", rep.RetryAfter)
		}
		w.WriteHeader(rep.Status)
		io.WriteString(w, rep.Body) //nolint:errcheck // the client may be gone; nothing to do
		return
	}
	var code string
	switch err := CheckSlackMessage(body); {
	case err == nil:
	case errors.Is(err, errNoText):
		code = "no_text"
	case errors.Is(err, errNotJSON):
		code = "invalid_payload"
	default:
		code = "invalid_blocks"
	}
	if err != nil || r.Method != http.MethodPost {
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, code) //nolint:errcheck // as above
		return
	}
	s.accepted = append(s.accepted, body)
	io.WriteString(w, "ok") //nolint:errcheck // as above
}

// Messages returns the accepted message bodies in order.
func (s *SlackServer) Messages() [][]byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([][]byte(nil), s.accepted...)
}

// Requests returns how many requests arrived.
func (s *SlackServer) Requests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests
}

var (
	errNotJSON = errors.New("not a JSON object")
	errNoText  = errors.New("text is missing")
)

// Slack's documented limits (docs.slack.dev, Block Kit reference: blocks,
// composition objects and elements; chat.postMessage for text).
const (
	limitText      = 40000
	limitBlocks    = 50
	limitHeader    = 150
	limitSection   = 3000
	limitField     = 2000
	limitFields    = 10
	limitContext   = 10
	limitActions   = 25
	limitButton    = 75
	limitButtonURL = 3000
)

// CheckSlackMessage returns why body is not a message Slack would accept
// within its limits, or nil. Lengths are counted in characters (runes).
func CheckSlackMessage(body []byte) error {
	var m struct {
		Text   *string           `json:"text"`
		Blocks []json.RawMessage `json:"blocks"`
	}
	if !utf8.Valid(body) {
		return fmt.Errorf("%w: invalid UTF-8", errNotJSON)
	}
	if err := json.Unmarshal(body, &m); err != nil {
		return fmt.Errorf("%w: %v", errNotJSON, err)
	}
	if m.Text == nil || *m.Text == "" {
		return errNoText
	}
	if n := utf8.RuneCountInString(*m.Text); n > limitText {
		return fmt.Errorf("text has %d characters, limit %d", n, limitText)
	}
	if len(m.Blocks) > limitBlocks {
		return fmt.Errorf("%d blocks, limit %d", len(m.Blocks), limitBlocks)
	}
	for i, raw := range m.Blocks {
		if err := checkBlock(raw); err != nil {
			return fmt.Errorf("blocks[%d]: %w", i, err)
		}
	}
	return nil
}

type textObj struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

func checkText(what string, t *textObj, kinds string, limit int) error {
	if t == nil || t.Text == "" {
		return fmt.Errorf("%s: empty text", what)
	}
	if (kinds == "plain_text" && t.Type != "plain_text") || (t.Type != "plain_text" && t.Type != "mrkdwn") {
		return fmt.Errorf("%s: text type %q", what, t.Type)
	}
	if n := utf8.RuneCountInString(t.Text); n > limit {
		return fmt.Errorf("%s: %d characters, limit %d", what, n, limit)
	}
	return nil
}

func checkBlock(raw json.RawMessage) error {
	var b struct {
		Type     string            `json:"type"`
		Text     *textObj          `json:"text"`
		Fields   []textObj         `json:"fields"`
		Elements []json.RawMessage `json:"elements"`
	}
	if err := json.Unmarshal(raw, &b); err != nil {
		return err
	}
	switch b.Type {
	case "header":
		return checkText("header", b.Text, "plain_text", limitHeader)
	case "section":
		if b.Text == nil && len(b.Fields) == 0 {
			return errors.New("section without text or fields")
		}
		if b.Text != nil {
			if err := checkText("section", b.Text, "", limitSection); err != nil {
				return err
			}
		}
		if len(b.Fields) > limitFields {
			return fmt.Errorf("%d fields, limit %d", len(b.Fields), limitFields)
		}
		for i := range b.Fields {
			if err := checkText(fmt.Sprintf("fields[%d]", i), &b.Fields[i], "", limitField); err != nil {
				return err
			}
		}
	case "context":
		if len(b.Elements) == 0 || len(b.Elements) > limitContext {
			return fmt.Errorf("context has %d elements, want 1-%d", len(b.Elements), limitContext)
		}
		for i, e := range b.Elements {
			var t textObj
			if err := json.Unmarshal(e, &t); err != nil {
				return err
			}
			if err := checkText(fmt.Sprintf("elements[%d]", i), &t, "", limitSection); err != nil {
				return err
			}
		}
	case "actions":
		if len(b.Elements) == 0 || len(b.Elements) > limitActions {
			return fmt.Errorf("actions has %d elements, want 1-%d", len(b.Elements), limitActions)
		}
		for i, e := range b.Elements {
			var btn struct {
				Type     string   `json:"type"`
				Text     *textObj `json:"text"`
				URL      string   `json:"url"`
				ActionID string   `json:"action_id"`
			}
			if err := json.Unmarshal(e, &btn); err != nil {
				return err
			}
			if btn.Type != "button" || btn.ActionID == "" {
				return fmt.Errorf("elements[%d]: not a button with an action_id", i)
			}
			if err := checkText(fmt.Sprintf("elements[%d]", i), btn.Text, "plain_text", limitButton); err != nil {
				return err
			}
			if n := utf8.RuneCountInString(btn.URL); n > limitButtonURL {
				return fmt.Errorf("elements[%d]: url has %d characters, limit %d", i, n, limitButtonURL)
			}
			if u, err := url.Parse(btn.URL); btn.URL != "" && (err != nil || (u.Scheme != "http" && u.Scheme != "https")) {
				return fmt.Errorf("elements[%d]: url is not http(s)", i)
			}
		}
	case "divider":
	default:
		return fmt.Errorf("unknown block type %q", b.Type)
	}
	return nil
}
