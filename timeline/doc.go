// Package timeline reads, writes and checks event files of the
// KleptocracyTimeline research timeline, in the strict common form described
// by ../shared/timeline/README.md: one Markdown file per event, named
// "<id>.md", with YAML front matter (id, date, title, importance, status,
// actors, tags, sources, in that order) between "---" lines and the summary
// as the body.
//
// Invariants kept by this package:
//   - Render is deterministic: the same Event gives the same bytes, and
//     Parse(Render(e)) gives e back for any valid UTF-8 text, hostile or not.
//   - Export never overwrites a file: a clash gets a suffixed id ("-2", "-3",
//     …), and the id inside each file equals its file stem.
//   - Validate reports every broken rule with its file and line; problems
//     that are only recommendations are marked Warning.
//
// The package imports only model, the standard library and yaml.v3; it keeps
// no global state and reads the clock only where a caller leaves "now" unset.
package timeline
