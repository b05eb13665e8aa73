package review

// Operator commands through the daemon. bbolt lets one process hold the
// store, so while the daemon runs, `tierwatch sources`, `outbox`, `replay`
// and `export` reach it through these endpoints (see doc.go for the JSON).
// The server consumes the small interfaces below; cmd/tierwatch wires the
// store-backed implementations, and the CLI uses the same ones directly
// when no daemon runs, or a Client (which implements them too) when one
// does.

import (
	"context"
	"errors"
	"time"

	"github.com/tierwatch/tierwatch/model"
)

// opsTimeout bounds a replay or an export through the API, on the server
// (its write deadline) and in the Client; a replay over a year of items
// takes seconds, so this is only a backstop against a hung daemon.
const opsTimeout = 30 * time.Minute

// errNotServed is answered (501, code "unavailable") by an operator
// endpoint whose implementation the server was not given.
var errNotServed = errors.New("not served by this daemon")

// SourceRow is one source as `tierwatch sources --json` prints it and GET
// /api/sources returns it. NextRun is zero for a disabled source or one
// whose schedule does not parse; BudgetLeft is nil without a daily budget.
type SourceRow struct {
	Name       string            `json:"name"`
	Type       string            `json:"type"`
	Schedule   string            `json:"schedule"`
	Disabled   bool              `json:"disabled,omitempty"`
	NextRun    time.Time         `json:"next_run,omitzero"`
	State      model.SourceState `json:"state"`
	BudgetLeft *int              `json:"budget_left,omitempty"`
}

// SourceLister lists the configured sources in config order with their
// stored state. Implementations are safe for concurrent use.
type SourceLister interface {
	Sources(ctx context.Context) ([]SourceRow, error)
}

// ReplayStats summarises a replay: Items read, Matched (items the rules
// matched), candidates Created, and items that Joined existing ones.
type ReplayStats struct {
	Items   int `json:"items"`
	Matched int `json:"matched"`
	Created int `json:"created"`
	Joined  int `json:"joined"`
}

// Replayer runs the current rules over stored items first seen at or
// after since (zero = all); replaying twice changes nothing.
type Replayer interface {
	Replay(ctx context.Context, since time.Time) (ReplayStats, error)
}

// ReplayFunc adapts a function to Replayer.
type ReplayFunc func(ctx context.Context, since time.Time) (ReplayStats, error)

// Replay calls f.
func (f ReplayFunc) Replay(ctx context.Context, since time.Time) (ReplayStats, error) {
	return f(ctx, since)
}

// OutboxAdmin lists and handles outbox records (alerts waiting or dead).
// Errors wrap storage.ErrNotFound for a missing record and ErrConflict for
// a retry of a record that is not dead.
type OutboxAdmin interface {
	// Outbox returns the records in state ("" = all, "pending", "dead").
	Outbox(ctx context.Context, state string) ([]model.OutboxRecord, error)
	// RetryOutbox requeues dead record id, or every dead record when id
	// is "", and returns how many it requeued.
	RetryOutbox(ctx context.Context, id string) (int, error)
	// DropOutbox deletes record id whatever its state.
	DropOutbox(ctx context.Context, id string) error
}
