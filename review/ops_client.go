package review

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/tierwatch/tierwatch/model"
	"github.com/tierwatch/tierwatch/timeline"
)

// The Client's operator calls. Client implements SourceLister, OutboxAdmin
// and Replayer, so the CLI runs one code path whether it holds the store or
// talks to the daemon.

// Sources returns the daemon's sources with their state and next run.
func (c *Client) Sources(ctx context.Context) ([]SourceRow, error) {
	var out []SourceRow
	if err := c.call(ctx, http.MethodGet, "/api/sources", nil, &out); err != nil {
		return nil, fmt.Errorf("list sources via api: %w", err)
	}
	return out, nil
}

// Outbox returns the outbox records in state ("" = all).
func (c *Client) Outbox(ctx context.Context, state string) ([]model.OutboxRecord, error) {
	var out []model.OutboxRecord
	if err := c.call(ctx, http.MethodGet, "/api/outbox?state="+url.QueryEscape(state), nil, &out); err != nil {
		return nil, fmt.Errorf("list outbox %q via api: %w", state, err)
	}
	return out, nil
}

// RetryOutbox requeues dead record id, or every dead record when id is "".
func (c *Client) RetryOutbox(ctx context.Context, id string) (int, error) {
	path := "/api/outbox/retry-dead"
	if id != "" {
		path = "/api/outbox/" + url.PathEscape(id) + "/retry"
	}
	var out requeuedBody
	if err := c.call(ctx, http.MethodPost, path, nil, &out); err != nil {
		return 0, fmt.Errorf("retry outbox record %q via api: %w", id, err)
	}
	return out.Requeued, nil
}

// DropOutbox deletes record id whatever its state.
func (c *Client) DropOutbox(ctx context.Context, id string) error {
	var out droppedBody
	if err := c.call(ctx, http.MethodPost, "/api/outbox/"+url.PathEscape(id)+"/drop", nil, &out); err != nil {
		return fmt.Errorf("drop outbox record %s via api: %w", id, err)
	}
	return nil
}

// Replay runs the current rules over the items the daemon stored since
// (zero = all), in the daemon, and waits for it up to opsTimeout.
func (c *Client) Replay(ctx context.Context, since time.Time) (ReplayStats, error) {
	path := "/api/replay"
	if !since.IsZero() {
		path += "?since=" + since.Format(time.DateOnly)
	}
	var out ReplayStats
	if err := c.callWithin(ctx, opsTimeout, http.MethodPost, path, nil, &out); err != nil {
		return ReplayStats{}, fmt.Errorf("replay via api: %w", err)
	}
	return out, nil
}

// Export has the daemon export accepted candidates into dir, an absolute
// path the daemon's user can write. Like Queue.Export it returns what was
// written together with the problems met, as an error.
func (c *Client) Export(ctx context.Context, dir string) ([]timeline.Written, error) {
	var out exportBody
	if err := c.callWithin(ctx, opsTimeout, http.MethodPost, "/api/export?dir="+url.QueryEscape(dir), nil, &out); err != nil {
		return nil, fmt.Errorf("export to %s via api: %w", dir, err)
	}
	if out.Problems != "" {
		// The daemon's message is already "export to DIR: …", as a
		// local export would say it.
		return out.Written, errors.New(out.Problems)
	}
	return out.Written, nil
}
