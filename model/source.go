package model

import "time"

// Source types. "feed" (RSS, Atom, JSON Feed) is the default.
const (
	SourceFeed             = "feed"
	SourceSAMOpportunities = "sam_opportunities"
	SourceSAMAwards        = "sam_awards"
	SourceUSAspending      = "usaspending"
	SourceFederalRegister  = "federal_register"
	SourceFPDSAtom         = "fpds_atom"
	SourcePage             = "page"
)

// Tier is a publisher's trust tier: 1 (records, wires, top national outlets),
// 2 (established and investigative outlets), 3 (analysis, opinion, blogs).
// Zero means unknown; callers resolve it to a configured default.
type Tier int

// Valid reports whether t is one of 1, 2 or 3.
func (t Tier) Valid() bool { return t >= 1 && t <= 3 }

// SourceState is what tierwatch remembers about one source between polls.
// It is keyed by the source's configured name.
type SourceState struct {
	Name string `json:"name"`

	// Conditional GET validators from the last 200 response.
	ETag         string `json:"etag,omitempty"`
	LastModified string `json:"last_modified,omitempty"`

	LastAttempt time.Time `json:"last_attempt,omitzero"`
	LastSuccess time.Time `json:"last_success,omitzero"`
	// LastError is the last fetch error's message (secrets redacted) and
	// LastErrorClass its ErrorClass; both are cleared by a success.
	LastError         string     `json:"last_error,omitempty"`
	LastErrorClass    ErrorClass `json:"last_error_class,omitempty"`
	ConsecutiveErrors int        `json:"consecutive_errors,omitempty"`
	// FailingSince is when the current run of errors began (zero when healthy).
	FailingSince time.Time `json:"failing_since,omitzero"`
	// HealthAlerted is set once a "source failing" alert went out for the
	// current run of errors, so it goes out once, and the recovery alert
	// goes out only after it.
	HealthAlerted bool `json:"health_alerted,omitempty"`
	// NextRun is the earliest time the scheduler may poll again; backoff
	// after errors pushes it forward, a success resets it to zero.
	NextRun time.Time `json:"next_run,omitzero"`

	ItemsSeen int64 `json:"items_seen"`

	// Checkpoint is adapter-private resume state (for example the end of the
	// last fully read time window of a procurement API), opaque to others.
	Checkpoint string `json:"checkpoint,omitempty"`

	// Budget counts requests made on BudgetDay (YYYY-MM-DD, UTC) against a
	// source's daily request budget.
	BudgetDay  string `json:"budget_day,omitempty"`
	BudgetUsed int    `json:"budget_used,omitempty"`
}
