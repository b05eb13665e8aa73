package rules

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

type occ struct{ id, start, end int }

func naiveFind(patterns []string, s string) []occ {
	var out []occ
	for end := 1; end <= len(s); end++ {
		for id, p := range patterns {
			if len(p) <= end && s[end-len(p):end] == p {
				out = append(out, occ{id, end - len(p), end})
			}
		}
	}
	return out
}

// TestAutomatonAgainstNaive compares every reported occurrence with a
// brute-force search over small alphabets, where overlaps and shared
// suffixes are common.
func TestAutomatonAgainstNaive(t *testing.T) {
	tests := []struct {
		name     string
		patterns []string
		text     string
	}{
		{"classic", []string{"he", "she", "his", "hers"}, "ushers and his hershey"},
		{"nested suffixes", []string{"a", "aa", "aaa"}, "aaaa"},
		{"duplicates keep ids", []string{"ice", "ice", "ce"}, "nice ice"},
		{"multibyte", []string{"straße", "ß", "é"}, "große straße café"},
	}
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 20 {
		var ps []string
		for range 1 + r.IntN(8) {
			ps = append(ps, randString(r, 1+r.IntN(4)))
		}
		tests = append(tests, struct {
			name     string
			patterns []string
			text     string
		}{name: "random-" + string(rune('a'+i)), patterns: ps, text: randString(r, 60)})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := buildAutomaton(tt.patterns)
			var got []occ
			a.scan(tt.text, func(id int32, s, e int) { got = append(got, occ{int(id), s, e}) })
			want := naiveFind(tt.patterns, tt.text)
			cmp := func(x, y occ) int {
				if x.end != y.end {
					return x.end - y.end
				}
				return x.id - y.id
			}
			slices.SortFunc(got, cmp)
			slices.SortFunc(want, cmp)
			if !slices.Equal(got, want) {
				t.Errorf("patterns %q in %q:\n got %v\nwant %v", tt.patterns, tt.text, got, want)
			}
		})
	}
}

func randString(r *rand.Rand, n int) string {
	var b strings.Builder
	for range n {
		b.WriteByte("abc "[r.IntN(4)])
	}
	return b.String()
}
