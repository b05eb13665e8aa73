// Package bench measures tierwatch's polling pipeline against the floor set
// by parsing the bytes it receives, on generated feeds served from an
// in-process loopback server.
//
// A Generator writes N feeds of M RSS items of realistic news text, a small
// share of which match the shipped rules pack (Amazon/AWS with ICE,
// Palantir with DHS, facial recognition with police, …) so candidates are
// made. A Server serves them with ETags, answers If-None-Match with 304, and
// can change a fraction of its feeds between cycles. Floor fetches and
// parses the same bytes with gofeed at the same concurrency and does
// nothing else. Measure records wall time, CPU time (getrusage), peak RSS,
// bytes allocated and item rates around any function; Run and Soak drive
// the cycles a Pipeline (the real one, wired by cmd/tierwatch) performs.
//
// Invariants: generation is deterministic for a given seed, feed and
// version, so the floor and the pipeline parse identical bytes; bodies are
// generated per request rather than held in memory, so the harness adds
// little to the peak RSS it reports. bench imports config and model of
// tierwatch's packages and gofeed; it never imports a pipeline stage, which
// cmd hands it through the Pipeline interface.
package bench
