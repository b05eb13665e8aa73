package model

import "time"

// Alert events that put a candidate into the outbox.
const (
	AlertCreated     = "candidate.created"
	AlertScoreRaised = "candidate.score_threshold"
	AlertFirstTier1  = "candidate.tier1_source"
	AlertSourceDown  = "source.failing"
	AlertSourceUp    = "source.recovered"
)

// Outbox record states.
const (
	OutboxPending   = "pending"
	OutboxDelivered = "delivered"
	OutboxDead      = "dead"
)

// OutboxRecord is one alert for one destination. It is written in the same
// store transaction as the change that caused it and deleted or marked
// delivered only after the destination accepted it (at-least-once).
type OutboxRecord struct {
	// ID is unique and stable across retries; webhooks send it as webhook-id
	// so receivers can dedupe.
	ID          string    `json:"id"`
	Seq         uint64    `json:"seq"` // per-destination order
	Dest        string    `json:"dest"`
	Event       string    `json:"event"`
	CandidateID string    `json:"candidate_id,omitempty"`
	Source      string    `json:"source,omitempty"` // for source health alerts
	Detail      string    `json:"detail,omitempty"`
	CreatedAt   time.Time `json:"created_at"`

	State       string    `json:"state"`
	Attempts    int       `json:"attempts"`
	NextAttempt time.Time `json:"next_attempt,omitzero"`
	LastError   string    `json:"last_error,omitempty"`
	DeliveredAt time.Time `json:"delivered_at,omitzero"`
}
