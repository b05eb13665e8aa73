package rules

import (
	"slices"
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

// titleTokens returns the content words of a title, sorted and without
// duplicates: normalised words without stopwords, a trailing "'s" or
// plural "s" removed.
func titleTokens(title string) []string {
	var set []string
	for _, w := range strings.FieldsFunc(Normalize(title), func(r rune) bool { return !isWord(r) && r != '\'' }) {
		w = strings.Trim(w, "'")
		w = stem(strings.TrimSuffix(w, "'s"))
		if w == "" || stopwords[w] {
			continue
		}
		set = append(set, w)
	}
	slices.Sort(set)
	return slices.Compact(set)
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

// titleSimilarity is the token-set overlap coefficient of two titles
// (token sets as titleTokens returns them), |A∩B| / min(|A|,|B|), counted
// only when they share at least two content words; so a short headline
// contained in a longer one scores 1, and unrelated titles sharing one name
// score 0.
func titleSimilarity(a, b []string) float64 {
	if len(a) == 0 || len(b) == 0 {
		return 0
	}
	n := overlap(a, b)
	if n < 2 {
		return 0
	}
	return float64(n) / float64(min(len(a), len(b)))
}

// overlap returns |A∩B| of two sorted sets.
func overlap(a, b []string) int {
	n := 0
	for len(a) > 0 && len(b) > 0 {
		switch {
		case a[0] == b[0]:
			n++
			a, b = a[1:], b[1:]
		case a[0] < b[0]:
			a = a[1:]
		default:
			b = b[1:]
		}
	}
	return n
}

// union returns the sorted set A∪B of two sorted sets, appended to dst.
func union(dst, a, b []string) []string {
	for len(a) > 0 && len(b) > 0 {
		switch {
		case a[0] == b[0]:
			dst = append(dst, a[0])
			a, b = a[1:], b[1:]
		case a[0] < b[0]:
			dst = append(dst, a[0])
			a = a[1:]
		default:
			dst = append(dst, b[0])
			b = b[1:]
		}
	}
	dst = append(dst, a...)
	return append(dst, b...)
}
