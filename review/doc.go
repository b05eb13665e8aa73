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
package review
