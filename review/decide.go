package review

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/tierwatch/tierwatch/model"
	"github.com/tierwatch/tierwatch/storage"
	"github.com/tierwatch/tierwatch/timeline"
)

// Sentinel errors. Unknown candidates give storage.ErrNotFound and stale
// versions storage.ErrStale, both wrapped.
var (
	// ErrInvalid is returned (wrapped, with the reason) when a request's
	// input is malformed: a bad date, importance, status, time or name.
	ErrInvalid = errors.New("invalid request")
	// ErrConflict is returned (wrapped) when the candidate's state does not
	// allow the decision: deciding a candidate that is already decided,
	// merging into a duplicate, undoing an exported accept.
	ErrConflict = errors.New("conflict")
	// ErrNothingToUndo is returned by Undo when every decision is undone.
	ErrNothingToUndo = errors.New("nothing to undo")
)

// Limits from the timeline README's front matter table: the exported title
// must have 10 to 200 characters and importance 1 to 10.
const (
	minTitle, maxTitle = 10, 200
	maxWho             = 64
	maxReason          = 1000
	maxSummary         = 20000
	maxListEntry       = 200
)

// eventStatuses are the timeline's event statuses (timeline README).
var eventStatuses = []string{
	timeline.StatusConfirmed, timeline.StatusReported, timeline.StatusDeveloping,
	timeline.StatusAlleged, timeline.StatusDisputed,
}

var dateRe = regexp.MustCompile(`^[0-9]{4}-[0-9]{2}-[0-9]{2}$`)

// Edit is a reviewer's change to a candidate's event fields. Zero fields
// (empty strings, importance 0, nil lists) leave the field unchanged; an
// empty non-nil list clears it.
type Edit struct {
	Title      string   `json:"title,omitempty"`
	Date       string   `json:"date,omitempty"`       // YYYY-MM-DD
	Importance int      `json:"importance,omitempty"` // 1 to 10
	Status     string   `json:"status,omitempty"`     // a timeline status: confirmed, reported, developing, alleged, disputed
	Actors     []string `json:"actors"`
	Tags       []string `json:"tags"`
	Summary    string   `json:"summary,omitempty"`
}

// IsZero reports whether e changes nothing.
func (e Edit) IsZero() bool {
	return e.Title == "" && e.Date == "" && e.Importance == 0 && e.Status == "" &&
		e.Actors == nil && e.Tags == nil && e.Summary == ""
}

// Request is one decision, as the CLI, the API and Queue.Do take it.
type Request struct {
	Action  string    `json:"action"` // a model.Action* constant
	ID      string    `json:"id,omitempty"`
	Version int       `json:"version,omitempty"` // 0 skips the stale check
	Who     string    `json:"who"`
	Reason  string    `json:"reason,omitempty"`
	Until   time.Time `json:"until,omitzero"`   // snooze
	Target  string    `json:"target,omitempty"` // duplicate
	Edit    Edit      `json:"edit"`             // accept, edit
}

// Result is what a decision did: its record and the candidates as saved
// (the decided one first, then a merge target).
type Result struct {
	Decision   model.Decision    `json:"decision"`
	Candidates []model.Candidate `json:"candidates"`
}

// Queue makes decisions on the candidates of a store. It is safe for
// concurrent use; the store serialises the decisions.
type Queue struct {
	store *storage.Store
	now   func() time.Time
	log   *slog.Logger
}

// NewQueue returns a Queue over store. now is the clock for decision times
// and snooze checks (nil = time.Now); log may be nil.
func NewQueue(store *storage.Store, now func() time.Time, log *slog.Logger) *Queue {
	if now == nil {
		now = time.Now
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Queue{store: store, now: now, log: log.With("stage", "review")}
}

// Do dispatches r to the method of its action.
func (q *Queue) Do(ctx context.Context, r Request) (Result, error) {
	switch r.Action {
	case model.ActionAccept:
		return q.Accept(ctx, r.ID, r.Version, r.Who, r.Edit)
	case model.ActionReject:
		return q.Reject(ctx, r.ID, r.Version, r.Who, r.Reason)
	case model.ActionSnooze:
		return q.Snooze(ctx, r.ID, r.Version, r.Who, r.Until, r.Reason)
	case model.ActionDuplicate:
		return q.Duplicate(ctx, r.ID, r.Version, r.Who, r.Target)
	case model.ActionEdit:
		return q.Edit(ctx, r.ID, r.Version, r.Who, r.Edit)
	case model.ActionUndo:
		return q.Undo(ctx, r.Who)
	}
	return Result{}, fmt.Errorf("decide %q: %w: unknown action", r.Action, ErrInvalid)
}

// Accept accepts an open (pending or snoozed) candidate, applying e first.
func (q *Queue) Accept(ctx context.Context, id string, version int, who string, e Edit) (Result, error) {
	return q.decide(ctx, model.ActionAccept, id, version, who, func(_ *storage.Tx, c *model.Candidate, d *model.Decision) ([]*model.Candidate, error) {
		if err := requireOpen(c); err != nil {
			return nil, err
		}
		changed, err := applyEdit(c, e)
		if err != nil {
			return nil, err
		}
		d.Reason = describeEdit(changed)
		c.Status, c.SnoozeUntil = model.StatusAccepted, time.Time{}
		return nil, nil
	})
}

// Reject rejects an open candidate; reason is recorded (it may be empty).
func (q *Queue) Reject(ctx context.Context, id string, version int, who, reason string) (Result, error) {
	return q.decide(ctx, model.ActionReject, id, version, who, func(_ *storage.Tx, c *model.Candidate, d *model.Decision) ([]*model.Candidate, error) {
		if err := requireOpen(c); err != nil {
			return nil, err
		}
		if err := checkText("reason", reason, maxReason); err != nil {
			return nil, err
		}
		d.Reason = strings.TrimSpace(reason)
		c.Status, c.SnoozeUntil = model.StatusRejected, time.Time{}
		return nil, nil
	})
}

// Snooze hides an open candidate until until, which must be in the future;
// the daemon's waker (storage.WakeSnoozed) brings it back as pending.
func (q *Queue) Snooze(ctx context.Context, id string, version int, who string, until time.Time, reason string) (Result, error) {
	return q.decide(ctx, model.ActionSnooze, id, version, who, func(_ *storage.Tx, c *model.Candidate, d *model.Decision) ([]*model.Candidate, error) {
		if err := requireOpen(c); err != nil {
			return nil, err
		}
		if !until.After(d.At) {
			return nil, fmt.Errorf("%w: snooze until %s is not in the future", ErrInvalid, until.Format(time.RFC3339))
		}
		if err := checkText("reason", reason, maxReason); err != nil {
			return nil, err
		}
		d.Reason = strings.TrimSpace("until " + until.UTC().Format(time.RFC3339) + " " + reason)
		c.Status, c.SnoozeUntil = model.StatusSnoozed, until.UTC()
		return nil, nil
	})
}

// Duplicate marks an open candidate as a duplicate of target: its sources,
// matches, grouping keys, rules, actors and tags move to target (sources
// deduplicated by URL), so later items about the event join target. The
// target must exist, differ from id and be neither rejected nor itself a
// duplicate. Scores are not recomputed; the target keeps its score.
func (q *Queue) Duplicate(ctx context.Context, id string, version int, who, target string) (Result, error) {
	return q.decide(ctx, model.ActionDuplicate, id, version, who, func(tx *storage.Tx, c *model.Candidate, d *model.Decision) ([]*model.Candidate, error) {
		if err := requireOpen(c); err != nil {
			return nil, err
		}
		if target == "" || target == c.ID {
			return nil, fmt.Errorf("%w: a duplicate needs another candidate as target", ErrInvalid)
		}
		t, err := tx.Candidate(target)
		if err != nil {
			return nil, err
		}
		if t.Status == model.StatusDuplicate || t.Status == model.StatusRejected {
			return nil, fmt.Errorf("%w: target %s is %s", ErrConflict, t.ID, t.Status)
		}
		d.Target = t.ID
		d.Before = append(d.Before, *t.Clone())
		merge(t, c, d.At)
		c.Status, c.SnoozeUntil, c.DuplicateOf = model.StatusDuplicate, time.Time{}, t.ID
		c.Sources, c.Matches, c.Keys = nil, nil, nil
		return []*model.Candidate{t}, nil
	})
}

// Edit changes the event fields of a pending, snoozed or accepted
// candidate without deciding it.
func (q *Queue) Edit(ctx context.Context, id string, version int, who string, e Edit) (Result, error) {
	return q.decide(ctx, model.ActionEdit, id, version, who, func(_ *storage.Tx, c *model.Candidate, d *model.Decision) ([]*model.Candidate, error) {
		if !c.IsOpen() && c.Status != model.StatusAccepted {
			return nil, fmt.Errorf("%w: candidate %s is %s", ErrConflict, c.ID, c.Status)
		}
		if e.IsZero() {
			return nil, fmt.Errorf("%w: the edit changes nothing", ErrInvalid)
		}
		changed, err := applyEdit(c, e)
		if err != nil {
			return nil, err
		}
		d.Reason = describeEdit(changed)
		return nil, nil
	})
}

// decideFunc changes c for one decision, fills d's Reason and Target, and
// returns any other candidates it changed (each already in d.Before).
type decideFunc func(tx *storage.Tx, c *model.Candidate, d *model.Decision) ([]*model.Candidate, error)

// decide runs fn on candidate id in one Update, saves every candidate it
// changed and appends the decision with their Before snapshots.
func (q *Queue) decide(ctx context.Context, action, id string, version int, who string, fn decideFunc) (Result, error) {
	var res Result
	err := q.run(ctx, who, func(tx *storage.Tx, now time.Time) error {
		c, err := tx.Candidate(id)
		if err != nil {
			return err
		}
		if version != 0 && version != c.Version {
			return fmt.Errorf("%w: you decided on version %d, the candidate is at version %d (it changed since you loaded it; reload and decide again)",
				storage.ErrStale, version, c.Version)
		}
		d := model.Decision{CandidateID: c.ID, Action: action, Who: who, At: now, Before: []model.Candidate{*c.Clone()}}
		others, err := fn(tx, c, &d)
		if err != nil {
			return err
		}
		detail := action + " by " + who
		if d.Target != "" {
			detail += " into " + d.Target
		}
		changed := append([]*model.Candidate{c}, others...)
		// The decided candidate is saved first so a duplicate releases its
		// grouping keys before the target claims them.
		for _, x := range changed {
			x.AddHistory(model.HistoryEntry{At: now, Kind: "decision", Detail: detail})
			if err := tx.PutCandidate(x); err != nil {
				return err
			}
			res.Candidates = append(res.Candidates, *x)
		}
		res.Decision, err = tx.AppendDecision(d)
		return err
	})
	if err != nil {
		return Result{}, fmt.Errorf("%s candidate %s: %w", action, id, err)
	}
	q.log.Info("decision", "candidate_id", id, "action", action, "who", who, "seq", res.Decision.Seq)
	return res, nil
}

// run checks who and ctx, then runs fn in one store Update.
func (q *Queue) run(ctx context.Context, who string, fn func(tx *storage.Tx, now time.Time) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := checkWho(who); err != nil {
		return err
	}
	now := q.now().UTC()
	return q.store.Update(func(tx *storage.Tx) error { return fn(tx, now) })
}

// Undo undoes the latest decision not yet undone: the candidates it changed
// get their Before snapshots back (with a new Version) and the decision is
// marked Undone. An undo record (action "undo", its Reason naming the
// undone decision) is appended already marked Undone, so it is never undone
// itself and a second Undo goes one decision further back. Undo refuses,
// changing nothing, when a candidate changed after the decision
// (storage.ErrStale) or an accepted candidate was exported (ErrConflict).
func (q *Queue) Undo(ctx context.Context, who string) (Result, error) {
	var res Result
	err := q.run(ctx, who, func(tx *storage.Tx, now time.Time) error {
		last, err := tx.LastDecision("")
		if err != nil {
			return err
		}
		if last == nil {
			return ErrNothingToUndo
		}
		// Restore in reverse order: a merge target gives back the keys it
		// took before the duplicate claims them again.
		restored := make([]model.Candidate, len(last.Before))
		for i := len(last.Before) - 1; i >= 0; i-- {
			b := last.Before[i]
			cur, err := tx.Candidate(b.ID)
			if err != nil {
				return err
			}
			if cur.Exported != "" && b.Exported == "" {
				return fmt.Errorf("%w: candidate %s was exported as %s; edit or remove that file instead", ErrConflict, b.ID, cur.Exported)
			}
			if cur.Version != b.Version+1 {
				return fmt.Errorf("%w: candidate %s changed after the %s #%d (now version %d, the decision left version %d)",
					storage.ErrStale, b.ID, last.Action, last.Seq, cur.Version, b.Version+1)
			}
			b.Version = cur.Version
			b.AddHistory(model.HistoryEntry{At: now, Kind: "decision",
				Detail: fmt.Sprintf("undo %s #%d by %s", last.Action, last.Seq, who)})
			if err := tx.PutCandidate(&b); err != nil {
				return err
			}
			restored[i] = b
		}
		last.Undone = true
		if err := tx.PutDecision(*last); err != nil {
			return err
		}
		res.Candidates = restored
		res.Decision, err = tx.AppendDecision(model.Decision{
			CandidateID: last.CandidateID, Action: model.ActionUndo, Who: who, At: now,
			Reason: fmt.Sprintf("undo %s #%d", last.Action, last.Seq), Target: last.Target, Undone: true,
		})
		return err
	})
	if err != nil {
		return Result{}, fmt.Errorf("undo last decision: %w", err)
	}
	q.log.Info("decision", "candidate_id", res.Decision.CandidateID, "action", model.ActionUndo, "who", who, "seq", res.Decision.Seq)
	return res, nil
}

// Candidates returns the candidates with status ("" = all) by score.
func (q *Queue) Candidates(ctx context.Context, status string) ([]model.Candidate, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return q.store.Candidates(status)
}

// Candidate returns one candidate or an error wrapping storage.ErrNotFound.
func (q *Queue) Candidate(ctx context.Context, id string) (model.Candidate, error) {
	if err := ctx.Err(); err != nil {
		return model.Candidate{}, err
	}
	return q.store.Candidate(id)
}

// Decisions returns the decisions on candidateID ("" = all) in order.
func (q *Queue) Decisions(ctx context.Context, candidateID string) ([]model.Decision, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return q.store.Decisions(candidateID)
}

func requireOpen(c *model.Candidate) error {
	if !c.IsOpen() {
		return fmt.Errorf("%w: candidate %s is already %s", ErrConflict, c.ID, c.Status)
	}
	return nil
}

// applyEdit validates e and applies it to c, returning the changed fields'
// names. Nothing is applied when any field is invalid.
func applyEdit(c *model.Candidate, e Edit) ([]string, error) {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	title := strings.TrimSpace(e.Title)
	if n := utf8.RuneCountInString(title); title != "" && (n < minTitle || n > maxTitle) {
		bad("title must have %d to %d characters, not %d", minTitle, maxTitle, n)
	}
	if err := checkText("title", title, maxTitle*4); err != nil {
		errs = append(errs, err)
	}
	if e.Date != "" && !validDate(e.Date) {
		bad("date must be a real day written YYYY-MM-DD, not %q", e.Date)
	}
	if e.Importance != 0 && (e.Importance < 1 || e.Importance > 10) {
		bad("importance must be 1 to 10, not %d", e.Importance)
	}
	if e.Status != "" && !slices.Contains(eventStatuses, e.Status) {
		bad("status must be one of %s, not %q", strings.Join(eventStatuses, ", "), e.Status)
	}
	actors, err := cleanList("actors", e.Actors)
	if err != nil {
		errs = append(errs, err)
	}
	tags, err := cleanList("tags", e.Tags)
	if err != nil {
		errs = append(errs, err)
	}
	if !utf8.ValidString(e.Summary) || len(e.Summary) > maxSummary {
		bad("summary must be valid UTF-8 of at most %d bytes", maxSummary)
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("%w: %w", ErrInvalid, errors.Join(errs...))
	}
	var changed []string
	set := func(name string, ok bool, apply func()) {
		if ok {
			apply()
			changed = append(changed, name)
		}
	}
	set("title", title != "", func() { c.Title = title })
	set("date", e.Date != "", func() { c.Date = e.Date })
	set("importance", e.Importance != 0, func() { c.Importance = e.Importance })
	set("status", e.Status != "", func() { c.EventStatus = e.Status })
	set("actors", e.Actors != nil, func() { c.Actors = actors })
	set("tags", e.Tags != nil, func() { c.Tags = tags })
	set("summary", strings.TrimSpace(e.Summary) != "", func() { c.Summary = strings.TrimSpace(e.Summary) })
	return changed, nil
}

func describeEdit(changed []string) string {
	if len(changed) == 0 {
		return ""
	}
	return "edited " + strings.Join(changed, ", ")
}

func validDate(s string) bool {
	if !dateRe.MatchString(s) {
		return false
	}
	_, err := time.Parse("2006-01-02", s)
	return err == nil
}

// cleanList trims entries, drops empty ones and duplicates, keeping order.
// A nil list stays nil (no change); an empty one becomes empty non-nil.
func cleanList(name string, in []string) ([]string, error) {
	if in == nil {
		return nil, nil
	}
	out := []string{}
	for _, s := range in {
		s = strings.TrimSpace(s)
		if s == "" || slices.Contains(out, s) {
			continue
		}
		if err := checkText(name, s, maxListEntry); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

// checkText refuses invalid UTF-8, control characters and overlong text.
func checkText(name, s string, maxLen int) error {
	if len(s) > maxLen {
		return fmt.Errorf("%w: %s is longer than %d bytes", ErrInvalid, name, maxLen)
	}
	if !utf8.ValidString(s) || strings.ContainsFunc(s, func(r rune) bool { return unicode.IsControl(r) && r != '\n' && r != '\t' }) {
		return fmt.Errorf("%w: %s holds invalid UTF-8 or control characters", ErrInvalid, name)
	}
	return nil
}

func checkWho(who string) error {
	if strings.TrimSpace(who) == "" {
		return fmt.Errorf("%w: who must name the reviewer", ErrInvalid)
	}
	if strings.ContainsAny(who, "\n\t") {
		return fmt.Errorf("%w: who holds control characters", ErrInvalid)
	}
	return checkText("who", who, maxWho)
}

// merge moves dup's sources, matches, keys, rules, routes, actors and tags
// into t, skipping sources whose URL t already has.
func merge(t, dup *model.Candidate, now time.Time) {
	for _, s := range dup.Sources {
		if !slices.ContainsFunc(t.Sources, func(r model.Ref) bool { return r.URL == s.URL }) {
			t.Sources = append(t.Sources, s)
		}
	}
	t.Matches = append(t.Matches, dup.Matches...)
	t.Keys = union(t.Keys, dup.Keys)
	t.Rules = union(t.Rules, dup.Rules)
	t.Routes = union(t.Routes, dup.Routes)
	t.Actors = union(t.Actors, dup.Actors)
	t.Tags = union(t.Tags, dup.Tags)
	if dup.FirstSeen.Before(t.FirstSeen) {
		t.FirstSeen = dup.FirstSeen
	}
	if dup.LastSeen.After(t.LastSeen) {
		t.LastSeen = dup.LastSeen
	}
	t.Known = t.Known || dup.Known
	t.AddHistory(model.HistoryEntry{At: now, Kind: "merged", Detail: dup.ID})
}

func union(a, b []string) []string {
	for _, s := range b {
		if !slices.Contains(a, s) {
			a = append(a, s)
		}
	}
	return a
}

// ParseUntil reads a snooze time: RFC 3339, a Go duration from now ("48h",
// "90m") or a number of days ("3d").
func ParseUntil(s string, now time.Time) (time.Time, error) {
	s = strings.TrimSpace(s)
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if n, ok := strings.CutSuffix(s, "d"); ok {
		var days int
		if _, err := fmt.Sscanf(n, "%d", &days); err == nil && days > 0 && days <= 3650 && fmt.Sprint(days) == n {
			return now.AddDate(0, 0, days), nil
		}
	}
	if d, err := time.ParseDuration(s); err == nil && d > 0 {
		return now.Add(d), nil
	}
	return time.Time{}, fmt.Errorf("%w: until %q is neither RFC 3339 nor a positive duration such as 48h or 3d", ErrInvalid, s)
}
