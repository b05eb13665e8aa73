package ingest

import (
	"fmt"
	"time"

	"github.com/tierwatch/tierwatch/model"
	"github.com/tierwatch/tierwatch/storage"
)

// healthEvent returns the source-health alert that st calls for, if any,
// and sets st.HealthAlerted to match: one "failing" alert once a source has
// failed without a success for longer than failingAfter, and one
// "recovered" alert at its next success after that.
func healthEvent(st *model.SourceState, failingAfter time.Duration, now time.Time) (event, detail string) {
	switch {
	case failingAfter <= 0:
		return "", ""
	case st.ConsecutiveErrors > 0 && !st.HealthAlerted && !st.FailingSince.IsZero() &&
		now.Sub(st.FailingSince) >= failingAfter:
		st.HealthAlerted = true
		return model.AlertSourceDown, fmt.Sprintf("failing since %s (%d errors in a row): %s",
			st.FailingSince.UTC().Format(time.RFC3339), st.ConsecutiveErrors, st.LastError)
	case st.ConsecutiveErrors == 0 && st.HealthAlerted:
		st.HealthAlerted = false
		return model.AlertSourceUp, "polled successfully again"
	}
	return "", ""
}

// enqueueHealth writes the health alert for every default destination.
func (p *Pipeline) enqueueHealth(tx *storage.Tx, rs *ruleset, source, event, detail string, now time.Time) (int, error) {
	n := 0
	for _, dest := range rs.alerts.Route(nil, event) {
		rec := model.OutboxRecord{Dest: dest, Event: event, Source: source, Detail: detail, CreatedAt: now}
		if err := tx.Enqueue(rec); err != nil {
			return n, fmt.Errorf("enqueue %s alert for source %s: %w", event, source, err)
		}
		n++
	}
	return n, nil
}
