package review

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/tierwatch/tierwatch/model"
	"github.com/tierwatch/tierwatch/storage"
	"github.com/tierwatch/tierwatch/timeline"
)

// Export writes every accepted candidate not yet exported into dir as a
// timeline event file (see timeline.Exporter: never overwrites, suffixes
// clashing ids) and records each file name in the candidate's Exported
// field, so a second Export writes nothing. It returns what it wrote.
// Candidates that break the timeline rules are skipped and named in the
// joined error while the others are still exported.
//
// A crash between writing a file and marking its candidate leaves the file
// unmarked; the next Export then writes the event again under a suffixed
// id, which --validate does not flag, so check for such twins after a
// crash.
func (q *Queue) Export(ctx context.Context, dir string) ([]timeline.Written, error) {
	cands, err := q.Candidates(ctx, model.StatusAccepted)
	if err != nil {
		return nil, fmt.Errorf("export to %s: %w", dir, err)
	}
	var todo []model.Candidate
	for _, c := range cands {
		if c.Exported == "" {
			todo = append(todo, c)
		}
	}
	x := timeline.Exporter{Dir: dir, Now: q.now}
	written, xerr := x.Export(ctx, todo)
	var errs []error
	if xerr != nil {
		errs = append(errs, xerr)
	}
	for _, w := range written {
		now := q.now().UTC()
		_, err := q.store.UpdateCandidate(w.CandidateID, 0, func(_ *storage.Tx, c *model.Candidate) error {
			c.Exported = w.File
			c.AddHistory(model.HistoryEntry{At: now, Kind: "exported", Detail: w.File})
			return nil
		})
		if err != nil {
			errs = append(errs, fmt.Errorf("mark %s exported as %s: %w", w.CandidateID, w.File, err))
		}
	}
	if len(errs) > 0 {
		return written, fmt.Errorf("export to %s: %w", dir, errors.Join(errs...))
	}
	return written, nil
}

// FlagKnown sets Known on each open candidate that cites a URL of known (an
// existing timeline's sources, see timeline.KnownURLs) and clears it on
// those that no longer do. canon canonicalises URLs on both sides (nil =
// compare as written). It returns how many candidates changed. A candidate
// changed concurrently is left for the next call.
func (q *Queue) FlagKnown(ctx context.Context, known map[string]bool, canon func(string) string) (int, error) {
	if canon == nil {
		canon = func(s string) string { return s }
	}
	set := make(map[string]bool, len(known))
	for u := range known {
		set[canon(u)] = true
	}
	n := 0
	for _, status := range []string{model.StatusPending, model.StatusSnoozed} {
		cands, err := q.Candidates(ctx, status)
		if err != nil {
			return n, fmt.Errorf("flag known candidates: %w", err)
		}
		for _, c := range cands {
			isKnown := false
			for _, s := range c.Sources {
				if set[canon(s.URL)] {
					isKnown = true
					break
				}
			}
			if isKnown == c.Known {
				continue
			}
			if err := ctx.Err(); err != nil {
				return n, fmt.Errorf("flag known candidates: %w", err)
			}
			_, err := q.store.UpdateCandidate(c.ID, c.Version, func(_ *storage.Tx, c *model.Candidate) error {
				c.Known = isKnown
				return nil
			})
			switch {
			case errors.Is(err, storage.ErrStale), errors.Is(err, storage.ErrNotFound):
				continue // changed meanwhile: the next call sees it
			case err != nil:
				return n, fmt.Errorf("flag known candidates: %w", err)
			}
			n++
		}
	}
	return n, nil
}

// Now returns the Queue's clock reading (for callers parsing relative
// snooze times the same way the Queue judges them).
func (q *Queue) Now() time.Time { return q.now() }
