// Package record holds what the procurement and register adapters
// (monitor/sam, monitor/usaspending, monitor/fedreg, monitor/fpds) share:
// exact decimal amounts parsed from strings or JSON numbers, lenient JSON
// scalars, date parsing across the layouts those APIs use, item building,
// and the windowed, paged poll with its checkpoint.
//
// Invariants: amounts never pass through floating point; a checkpoint only
// advances past a time window once every page of it was read; a malformed
// field makes the field unknown, never the whole page unreadable.
package record
