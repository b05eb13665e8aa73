// Package notify delivers alerts from the persistent outbox to Slack
// channels and signed webhooks, at least once and in order per destination.
//
// Records are written to the outbox by the store transaction that creates or
// changes a candidate; the Dispatcher reads due records, sends them through
// a Notifier (peers live in subpackages: notify/slack, notify/webhook) and
// records the result in a second, separate transaction, so no storage
// transaction is ever held across HTTP. A crash between the send and the
// result means the record is sent again: receivers dedupe on the record ID.
//
// Invariants: for each destination only its lowest-sequence pending record
// is in flight; a failed record blocks the ones behind it until it is
// delivered or dead-lettered. Destination URLs and signing secrets are
// secrets: they never appear in errors or logs (see Redact).
package notify
