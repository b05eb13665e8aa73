package rules

import (
	"strings"
	"testing"
)

func TestNormalize(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"case folded", "ICE and AWS", "ice and aws"},
		{"curly apostrophe straightened", "Amazon’s Ring", "amazon's ring"},
		{"curly double quotes", "“No Tech 4 ICE”", `"no tech 4 ice"`},
		{"hyphen and dashes read as space", "ICE-led raids — again–now", "ice led raids again now"},
		{"spaces collapsed and trimmed at start", "  a \t\n b\u00a0c", "a b c"},
		{"nfkc compatibility forms", "ﬁle Ｉｃｅ", "file ice"},
		{"full case folding", "STRASSE Straße", "strasse strasse"},
		{"invalid utf-8 replaced", "a\xffb", "a\ufffdb"},
		{"empty", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Normalize(tt.in); got != tt.want {
				t.Errorf("Normalize(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

// TestNormalizeSpan checks that every normalised byte maps back to the
// original text it came from.
func TestNormalizeSpan(t *testing.T) {
	tests := []struct {
		name, in, word, want string
	}{
		{"ascii", "Amazon pitches ICE", "ice", "ICE"},
		{"after curly quote", "‘Abolish ICE’ movement", "ice", "ICE"},
		{"fullwidth", "Ｉｃｅ age", "ice", "Ｉｃｅ"},
		{"after collapsed spaces", "x   Palantir", "palantir", "Palantir"},
		{"folded sharp s", "Großmarkt", "grossmarkt", "Großmarkt"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			nt := normalize(tt.in, true)
			i := strings.Index(nt.norm, tt.word)
			if i < 0 {
				t.Fatalf("%q not in %q", tt.word, nt.norm)
			}
			s, e := nt.span(i, i+len(tt.word))
			if got := tt.in[s:e]; got != tt.want {
				t.Errorf("span of %q in %q = %q, want %q", tt.word, tt.in, got, tt.want)
			}
		})
	}
}

func TestSlug(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"plain", "Amazon pitches Rekognition to ICE", "amazon-pitches-rekognition-to-ice"},
		{"apostrophes vanish", "ICE’s new contract", "ices-new-contract"},
		{"accents dropped", "Überwachung à la carte", "uberwachung-a-la-carte"},
		{"punctuation runs", "$19.4M -- ICE!!", "19-4m-ice"},
		{"long cut at hyphen", strings.Repeat("word ", 30), strings.TrimSuffix(strings.Repeat("word-", 12), "-")},
		{"nothing left", "¿¡!?", "event"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Slug(tt.in); got != tt.want {
				t.Errorf("Slug(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}
