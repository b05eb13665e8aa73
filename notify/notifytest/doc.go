// Package notifytest holds fakes and peers for testing alert delivery: an
// in-memory outbox with the store's ordering rules, a manual clock, a
// recording notifier, and httptest receivers that behave like a Slack
// incoming webhook and like a webhook receiver that verifies Standard
// Webhooks and GitHub-style signatures and dedupes on webhook-id.
//
// Everything here is safe for concurrent use and keeps no global state.
package notifytest
