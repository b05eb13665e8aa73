// Package model holds tierwatch's domain types: sources and their state,
// normalised items, rule matches, candidate events, outbox records and review
// decisions, with their pure methods.
//
// It is the leaf of the import graph: it imports only the standard library,
// and every other tierwatch package may import it. Nothing here does I/O,
// reads a clock or keeps global state; callers pass times in.
package model
