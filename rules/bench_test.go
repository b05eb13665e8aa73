package rules

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/tierwatch/tierwatch/config"
	"github.com/tierwatch/tierwatch/model"
)

const benchText = `Amazon employees demanded that the company stop providing cloud services to
Palantir and other contractors that work with Immigration and Customs Enforcement. The letter said
workers refuse to contribute to tools that violate human rights, as ICE expands detention and the
Department of Homeland Security moves its biometric database to Amazon Web Services. Police in Oregon
used Rekognition for facial recognition, while license plate readers fed data to federal agents. `

// benchWatch builds a watch with n distinct terms spread over n/10 rules
// (ten keywords per rule, two clauses of five).
func benchWatch(n int) config.Watch {
	r := rand.New(rand.NewPCG(7, uint64(n)))
	word := func() string {
		var b strings.Builder
		for range 4 + r.IntN(7) {
			b.WriteByte(byte('a' + r.IntN(26)))
		}
		return b.String()
	}
	var w config.Watch
	seen := map[string]bool{}
	for i := 0; i < n/10; i++ {
		var terms []string
		for len(terms) < 10 {
			t := word()
			if r.IntN(3) == 0 {
				t += " " + word()
			}
			if !seen[t] {
				seen[t] = true
				terms = append(terms, t)
			}
		}
		w.Rules = append(w.Rules, config.Rule{
			Name: fmt.Sprintf("r%d", i),
			All:  []config.Clause{{Any: terms[:5]}, {Any: terms[5:]}},
		})
	}
	// one rule that fires on the text, so matching does its full work
	w.Rules[0].All = []config.Clause{{Any: []string{"amazon", "palantir"}}, {Any: []string{"immigration and customs enforcement", "detention"}}}
	return w
}

// BenchmarkMatch measures Matcher.Match throughput over normalised text
// (64 KiB in the content field) with 10, 1,000 and 10,000 terms.
func BenchmarkMatch(b *testing.B) {
	text := Normalize(strings.Repeat(benchText, 64<<10/len(benchText)+1))[:64<<10]
	for _, n := range []int{10, 1000, 10000} {
		m, err := NewMatcher(benchWatch(n))
		if err != nil {
			b.Fatal(err)
		}
		it := &model.Item{Content: text}
		b.Run(fmt.Sprintf("terms=%d", n), func(b *testing.B) {
			b.SetBytes(int64(len(text)))
			b.ReportAllocs()
			for b.Loop() {
				if len(m.Match(it)) == 0 {
					b.Fatal("no match")
				}
			}
		})
	}
}

// BenchmarkScan measures the automaton alone over the same text.
func BenchmarkScan(b *testing.B) {
	text := Normalize(strings.Repeat(benchText, 64<<10/len(benchText)+1))[:64<<10]
	for _, n := range []int{10, 1000, 10000} {
		m, err := NewMatcher(benchWatch(n))
		if err != nil {
			b.Fatal(err)
		}
		b.Run(fmt.Sprintf("terms=%d", n), func(b *testing.B) {
			b.SetBytes(int64(len(text)))
			hits := 0
			for b.Loop() {
				m.ac.scan(text, func(int32, int, int) { hits++ })
			}
			if hits == 0 {
				b.Fatal("no hits")
			}
		})
	}
}

// BenchmarkNormalize measures normalize over ASCII text (the common case,
// through the fast path) and the same text through the general path.
func BenchmarkNormalize(b *testing.B) {
	text := strings.Repeat(benchText, 8<<10/len(benchText)+1)[:8<<10]
	for _, tc := range []struct {
		name string
		f    func(string, bool) normText
	}{{"ascii", normalize}, {"general", normalizeUnicode}} {
		b.Run(tc.name, func(b *testing.B) {
			b.SetBytes(int64(len(text)))
			b.ReportAllocs()
			for b.Loop() {
				if nt := tc.f(text, true); len(nt.norm) == 0 {
					b.Fatal("empty")
				}
			}
		})
	}
}
