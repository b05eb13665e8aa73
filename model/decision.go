package model

import "time"

// Decision actions.
const (
	ActionAccept    = "accept"
	ActionReject    = "reject"
	ActionSnooze    = "snooze"
	ActionDuplicate = "duplicate"
	ActionEdit      = "edit"
	ActionUndo      = "undo"
)

// Decision is one reviewer action on a candidate, kept in an append-only log.
type Decision struct {
	Seq         uint64    `json:"seq"`
	CandidateID string    `json:"candidate_id"`
	Action      string    `json:"action"`
	Who         string    `json:"who"`
	At          time.Time `json:"at"`
	Reason      string    `json:"reason,omitempty"`
	// Target is the candidate a duplicate was merged into.
	Target string `json:"target,omitempty"`
	// Before holds the candidates as they were, so undo can restore them
	// (the decided one first, then a merge target).
	Before []Candidate `json:"before,omitempty"`
	Undone bool        `json:"undone,omitempty"`
}
