// Package monitor fetches sources, decodes their bodies into feeds and
// normalises feed entries into model.Items.
//
// The pipeline for one source is Fetcher.Fetch (HTTP or file://, with
// conditional GET, gzip, timeouts, a redirect cap and a size cap applied after
// decompression), then ParseFeed (charset detection and clean-up before
// gofeed parses RSS, Atom or JSON Feed), then Normalise (stable item keys,
// canonical URLs, plain text, dates).
//
// Invariants:
//   - Every failure of a fetch or parse is a *FetchError carrying a
//     model.ErrorClass, so callers decide retries from the error alone.
//   - Errors never contain a raw source URL: user info and secret-looking
//     query values are redacted (see RedactURL).
//   - Feed text is untrusted: nothing here panics on hostile input, every
//     body is read through a size cap, and every text field of a
//     normalised item is valid UTF-8 plain text of bounded length.
//   - Nothing keeps global mutable state; a Fetcher is safe for concurrent use.
package monitor
