// Package rules decides which items matter and which report the same
// event: it matches items against watch rules, resolves publisher tiers,
// scores candidates and groups items into them. It is pure: no I/O, no
// clock (callers pass now), no global mutable state; it imports only model
// and config of tierwatch's packages.
//
// # Matching
//
// Text is compared in its normalised form (see Normalize). NewMatcher
// compiles every alias, exclusion and keyword of every rule into one
// Aho-Corasick automaton, so Matcher.Match scans each field once whatever
// the number of rules, then evaluates only the rules whose terms were
// found. Hits report byte offsets into the item's own field text.
//
// # Score
//
// A candidate's score (see Score) is 5 × W × T × C × R, capped at 10:
// W the largest rule weight among its matches, T the trust in its best
// source (tier 1: 1, tier 2: 0.75, tier 3 or unknown: 0.5), C corroboration
// (1 + 0.25 per further independent publisher, at most 2) and R recency
// (halving every 14 days from the candidate's date, at least 0.25).
// Importance is the score rounded into 1..10.
//
// # Grouping
//
// Grouper puts an item into the candidate that shares its canonical URL
// or a procurement identifier, else into the open candidate whose title is
// most similar (token-set overlap coefficient of content words, at least
// config.Candidates.TitleSimilarity, sources dated within the window),
// else into a new candidate.
package rules
