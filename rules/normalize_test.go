package rules

import (
	"fmt"
	"slices"
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

// sameNormText reports how a's normalised text or map differs from b's,
// comparing the span of every normalised byte; "" when they agree.
func sameNormText(a, b normText) string {
	if a.norm != b.norm {
		return fmt.Sprintf("norm %q, want %q", a.norm, b.norm)
	}
	for i := range len(a.norm) {
		as, ae := a.span(i, i+1)
		bs, be := b.span(i, i+1)
		if as != bs || ae != be {
			return fmt.Sprintf("byte %d of %q maps to [%d,%d), want [%d,%d)", i, a.norm, as, ae, bs, be)
		}
	}
	as, ae := a.span(0, len(a.norm))
	bs, be := b.span(0, len(b.norm))
	if as != bs || ae != be {
		return fmt.Sprintf("whole text maps to [%d,%d), want [%d,%d)", as, ae, bs, be)
	}
	return ""
}

// TestNormalizeASCII checks the ASCII fast path against the general one,
// folded and case-kept, on every ASCII byte and the runs that collapse.
func TestNormalizeASCII(t *testing.T) {
	var every strings.Builder
	for c := range 128 {
		every.WriteByte(byte(c))
	}
	tests := []struct{ name, in string }{
		{"every ascii byte", every.String()},
		{"every ascii byte reversed", reverse(every.String())},
		{"headline", "Amazon Web Services wins $50M ICE contract, DHS says"},
		{"leading and repeated separators", " \t-- ICE-led  raids\x7f\x00end -"},
		{"only separators", " - \n\t "},
		{"single letter", "I"},
		{"empty", ""},
	}
	for _, tt := range tests {
		for _, fold := range []bool{true, false} {
			t.Run(fmt.Sprintf("%s/fold=%t", tt.name, fold), func(t *testing.T) {
				if !isASCII(tt.in) {
					t.Fatalf("test input %q is not ASCII", tt.in)
				}
				if d := sameNormText(normalizeASCII(tt.in, fold), normalizeUnicode(tt.in, fold)); d != "" {
					t.Error(d)
				}
			})
		}
	}
	if isASCII("Amazon’s") {
		t.Error(`isASCII("Amazon’s") = true, want false`)
	}
}

func reverse(s string) string {
	b := []byte(s)
	slices.Reverse(b)
	return string(b)
}

// FuzzNormalizeASCII checks that the ASCII fast path and the general path
// agree on any ASCII text.
func FuzzNormalizeASCII(f *testing.F) {
	for _, s := range []string{"ICE-led", "  a \t b", "Amazon's AWS", "\x00\x7f-", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !isASCII(s) {
			return
		}
		for _, fold := range []bool{true, false} {
			if d := sameNormText(normalizeASCII(s, fold), normalizeUnicode(s, fold)); d != "" {
				t.Fatalf("fold %t, input %q: %s", fold, s, d)
			}
		}
	})
}
