// Package review is where people decide candidates: a Queue of decisions
// over the store (accept with edits, reject, snooze, duplicate, edit, undo),
// the local HTTP API and server-rendered page the daemon serves, a Client
// for that API, and the export of accepted candidates as timeline files.
//
// Invariants:
//   - Every decision is one storage Update: the candidates it changes and
//     its decision record (who, when, what, why, and the candidates as they
//     were) commit together or not at all.
//   - A decision names the version of the candidate it was made on; a
//     stale version fails with an error wrapping storage.ErrStale and
//     changes nothing. Version 0 skips the check (scripts that decide
//     blindly).
//   - Undo restores the Before snapshots of the latest decision not yet
//     undone, and refuses (storage.ErrStale) when a candidate changed since.
//   - Feed-derived text reaches the page only through html/template, and
//     the page runs no inline script, so a restrictive CSP holds.
//   - The TCP listener requires a token; the unix socket (mode 0600) does
//     not, because file permissions guard it.
//
// # Operator API
//
// bbolt lets one process hold the store, so while the daemon runs the
// operator commands (`tierwatch sources`, `outbox`, `replay`, `export`)
// reach it through these endpoints; the CLI prints the same either way.
// They take the same auth as the decision API (the unix socket, a bearer
// token, or a page session whose POSTs carry X-CSRF-Token), answer a wrong
// method with 405, and errors as {"error", "code"} (see api.go; an endpoint
// the daemon was not given answers 501 with code "unavailable"). Field
// names below are stable; new fields may be added.
//
//	GET  /api/sources
//	     [{"name", "type", "schedule", "disabled"?, "next_run"? (RFC 3339),
//	       "state": model.SourceState, "budget_left"?}] in config order;
//	     next_run is the scheduler's next tick, later while backing off.
//	GET  /api/outbox?state=pending|dead (absent = all)
//	     [model.OutboxRecord] sorted by dest, then seq.
//	POST /api/outbox/{id}/retry   requeue one dead record
//	POST /api/outbox/retry-dead   requeue every dead record
//	     {"requeued": n}; 404 not_found for an unknown id, 409 conflict
//	     for a record that is not dead.
//	POST /api/outbox/{id}/drop
//	     {"dropped": id}; 404 not_found for an unknown id.
//	POST /api/replay?since=YYYY-MM-DD (absent = every stored item)
//	     {"items", "matched", "created", "joined"}; runs in the daemon with
//	     its current rules, one at a time (409 conflict while one runs);
//	     400 invalid for a bad date.
//	POST /api/export?dir=/absolute/dir
//	     {"written": [{"candidate_id", "id", "file"}], "problems"?}: the
//	     files written, and what could not be (candidates breaking the
//	     timeline rules, I/O errors) as one message, with status 200 since
//	     the rest was exported. The daemon writes as its own user; a
//	     relative or empty dir is 400 invalid.
//
// Replay and export may run up to 30 minutes; the server lifts its write
// timeout for them and the Client waits as long.
package review
