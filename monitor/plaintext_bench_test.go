package monitor

import (
	"strings"
	"testing"
)

// BenchmarkPlainText: a feed summary with markup, mostly ASCII with some
// typographic punctuation, as most real feed text is.
func BenchmarkPlainText(b *testing.B) {
	s := strings.Repeat("<p>Amazon Web Services won a $50 million contract from U.S. Immigration and Customs Enforcement — the agency’s largest cloud deal, records show.</p>\n", 20)
	b.SetBytes(int64(len(s)))
	for b.Loop() {
		PlainText(s, 1<<20)
	}
}
