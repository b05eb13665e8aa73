package rules

import (
	"strings"
)

// stopwords are English function words and headline filler that say
// nothing about which event a title reports.
var stopwords = map[string]bool{}

func init() {
	for _, w := range strings.Fields(`a an the and or but of to in on at for by with from as into over
		after before about against than this that these those it its is are was were be been being has
		have had will would can could may might should says say said new not no how why what who when
		where which amid via up out off us u.s just more most`) {
		stopwords[w] = true
	}
}

// titleTokens returns the set of content words of a title: normalised
// words without stopwords, a trailing "'s" or plural "s" removed.
func titleTokens(title string) map[string]bool {
	set := map[string]bool{}
	for _, w := range strings.FieldsFunc(Normalize(title), func(r rune) bool { return !isWord(r) && r != '\'' }) {
		w = strings.Trim(w, "'")
		w = stem(strings.TrimSuffix(w, "'s"))
		if w == "" || stopwords[w] {
			continue
		}
		set[w] = true
	}
	return set
}

// stem strips the commonest English inflections so "protested",
// "protests" and "protest" agree: a plural "s", "ed" and "ing" on words
// long enough to keep a stem of four letters.
func stem(w string) string {
	switch {
	case len(w) > 6 && strings.HasSuffix(w, "ing"):
		return w[:len(w)-3]
	case len(w) > 5 && strings.HasSuffix(w, "ed"):
		return w[:len(w)-2]
	case len(w) > 3 && strings.HasSuffix(w, "s") && !strings.HasSuffix(w, "ss"):
		return w[:len(w)-1]
	}
	return w
}

// titleSimilarity is the token-set overlap coefficient of two titles,
// |A∩B| / min(|A|,|B|), counted only when they share at least two content
// words; so a short headline contained in a longer one scores 1, and
// unrelated titles sharing one name score 0.
func titleSimilarity(a, b map[string]bool) float64 {
	if len(a) == 0 || len(b) == 0 {
		return 0
	}
	if len(b) < len(a) {
		a, b = b, a
	}
	n := 0
	for w := range a {
		if b[w] {
			n++
		}
	}
	if n < 2 {
		return 0
	}
	return float64(n) / float64(len(a))
}
