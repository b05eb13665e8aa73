package timeline

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestSlugify(t *testing.T) {
	cases := []struct {
		name, in, want string
	}{
		{"words", "Amazon pitches Rekognition to ICE", "amazon-pitches-rekognition-to-ice"},
		{"punctuation runs", "ICE: $1.2B -- contract!!", "ice-1-2b-contract"},
		{"apostrophes joined", "ICE's don’t", "ices-dont"},
		{"non-ascii letters dropped", "Zürich 東京 AG", "zrich-ag"},
		{"markup", "<img src=x onerror=alert(1)>", "img-src-x-onerror-alert-1"},
		{"nothing left", "東京 — ¿?", "event"},
		{"empty", "", "event"},
		{"long cut at hyphen", strings.Repeat("abcdefghi ", 12), strings.TrimSuffix(strings.Repeat("abcdefghi-", 8), "-")},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := Slugify(tc.in)
			if got != tc.want {
				t.Errorf("Slugify(%q) = %q, want %q", tc.in, got, tc.want)
			}
			if !tagRe.MatchString(got) || len(got) > maxSlug {
				t.Errorf("Slugify(%q) = %q is not a valid slug of at most %d bytes", tc.in, got, maxSlug)
			}
		})
	}
}

func TestTruncateRunes(t *testing.T) {
	cases := []struct {
		name string
		in   string
		want string // "" means: check only the length bound and the ellipsis
	}{
		{"short kept", "a short title", "a short title"},
		{"exactly max kept", strings.Repeat("é", maxTitle), strings.Repeat("é", maxTitle)},
		{"cut at space", strings.Repeat("word ", 60), ""},
		{"cut without space", strings.Repeat("東", 300), strings.Repeat("東", maxTitle-1) + "…"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := truncateRunes(tc.in, maxTitle)
			if n := utf8.RuneCountInString(got); n > maxTitle {
				t.Errorf("got %d runes, want at most %d", n, maxTitle)
			}
			if tc.want != "" && got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
			if tc.want == "" && (!strings.HasSuffix(got, "word…") || strings.Contains(got, " …")) {
				t.Errorf("got %q, want a cut after a whole word, marked with …", got)
			}
		})
	}
}
