package rules

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"
)

// Normalize returns the matching form of s: NFKC, Unicode full case folding,
// curly quotes and apostrophes made straight, hyphens, dashes, control
// characters and every kind of space read as one ASCII space (runs
// collapsed, no leading space). Terms and aliases are normalised the same
// way, so "Amazon’s" contains the word "amazon" followed by "'s", and
// "ICE-led" the words "ice" and "led". Invalid UTF-8 becomes U+FFFD.
func Normalize(s string) string { return normalize(s, true).norm }

// normText is a field's normalised form with a map back to the field: the
// bytes of norm[i] came from src[start[i]:end[i]] (one NFKC segment), so a
// hit norm[a:b] is src[start[a]:end[b-1]]. For ASCII text (ascii true)
// end is nil, as every kept byte is its own segment, and start is built
// by the first span: most fields never have a hit, and a 4-byte index per
// byte of every field was most of what matching allocated.
type normText struct {
	src   string
	norm  string
	ascii bool
	start []int32
	end   []int32
}

// span maps a normalised byte range back to the original text.
func (t *normText) span(a, b int) (int, int) {
	if b <= a || a < 0 || b > len(t.norm) {
		return 0, 0
	}
	if t.ascii {
		if t.start == nil {
			t.start = asciiStarts(t.src, len(t.norm))
		}
		return int(t.start[a]), int(t.start[b-1]) + 1
	}
	return int(t.start[a]), int(t.end[b-1])
}

// asciiStarts replays normalizeASCII's walk over src and returns where
// each of the n bytes it keeps came from.
func asciiStarts(src string, n int) []int32 {
	start := make([]int32, 0, n)
	lastSpace := true
	for i := 0; i < len(src); i++ {
		if c := src[i]; c == '-' || c <= ' ' || c == 0x7f {
			if lastSpace {
				continue
			}
			lastSpace = true
		} else {
			lastSpace = false
		}
		start = append(start, int32(i))
	}
	return start
}

// normalize builds the normalised form of s; with fold false letter case is
// kept (the view case-sensitive terms are checked against).
func normalize(s string, fold bool) normText {
	if isASCII(s) {
		return normalizeASCII(s, fold)
	}
	return normalizeUnicode(s, fold)
}

// isASCII reports whether s is all 7-bit bytes.
func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// normalizeASCII is normalize for ASCII text, which most feed text is:
// NFKC leaves ASCII unchanged and norm.Iter returns it one byte per
// segment, so this does what normalizeUnicode's one-byte branch does for
// every byte, without the iterator, the case folder or the end map.
// FuzzNormalizeASCII checks that both agree.
func normalizeASCII(s string, fold bool) normText {
	t := normText{src: s, ascii: true}
	var b strings.Builder
	b.Grow(len(s))
	lastSpace := true // suppresses leading spaces
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '-' || c <= ' ' || c == 0x7f:
			if lastSpace {
				continue
			}
			c = ' '
			lastSpace = true
		case fold && 'A' <= c && c <= 'Z':
			c += 'a' - 'A'
			lastSpace = false
		default:
			lastSpace = false
		}
		b.WriteByte(c) // asciiStarts must keep the same bytes
	}
	t.norm = b.String()
	return t
}

// normalizeUnicode is normalize for any text.
func normalizeUnicode(s string, fold bool) normText {
	t := normText{src: s}
	var b strings.Builder
	b.Grow(len(s))
	t.start = make([]int32, 0, len(s))
	t.end = make([]int32, 0, len(s))
	var caser cases.Caser
	if fold {
		caser = cases.Fold()
	}
	emit := func(str string, from, to int) {
		for i := 0; i < len(str); i++ {
			b.WriteByte(str[i])
			t.start = append(t.start, int32(from))
			t.end = append(t.end, int32(to))
		}
	}
	lastSpace := true // suppresses leading spaces
	var it norm.Iter
	it.InitString(norm.NFKC, s)
	for !it.Done() {
		from := it.Pos()
		seg := it.Next()
		to := it.Pos()
		if len(seg) == 1 && seg[0] < utf8.RuneSelf {
			c := seg[0]
			switch {
			case c == '-' || c <= ' ' || c == 0x7f:
				if !lastSpace {
					emit(" ", from, to)
					lastSpace = true
				}
				continue
			case fold && 'A' <= c && c <= 'Z':
				c += 'a' - 'A'
			}
			b.WriteByte(c)
			t.start = append(t.start, int32(from))
			t.end = append(t.end, int32(to))
			lastSpace = false
			continue
		}
		var mapped strings.Builder
		for _, r := range string(seg) {
			switch {
			case isQuote1(r):
				mapped.WriteByte('\'')
			case isQuote2(r):
				mapped.WriteByte('"')
			case isDash(r) || unicode.IsSpace(r) || unicode.IsControl(r):
				mapped.WriteByte(' ')
			default:
				mapped.WriteRune(r) // utf8.RuneError for invalid bytes
			}
		}
		out := mapped.String()
		if fold {
			out = caser.String(out)
		}
		for len(out) > 0 {
			i := strings.IndexByte(out, ' ')
			if i < 0 {
				emit(out, from, to)
				lastSpace = false
				break
			}
			if i > 0 {
				emit(out[:i], from, to)
				lastSpace = false
			}
			if !lastSpace {
				emit(" ", from, to)
				lastSpace = true
			}
			out = out[i+1:]
		}
	}
	t.norm = b.String()
	return t
}

func isQuote1(r rune) bool {
	switch r {
	case '‘', '’', '‚', '‛', '′', '`', '´', 'ʼ':
		return true
	}
	return false
}

func isQuote2(r rune) bool {
	switch r {
	case '“', '”', '„', '‟', '″', '«', '»':
		return true
	}
	return false
}

func isDash(r rune) bool {
	switch r {
	case '‐', '‑', '‒', '–', '—', '―', '−', '﹘', '﹣', '－':
		return true
	}
	return false
}

// isWord reports whether r is part of a word: letters, digits and marks.
func isWord(r rune) bool {
	return r < utf8.RuneSelf && ('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9') ||
		r >= utf8.RuneSelf && (unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r))
}

// boundaryBefore reports whether position i of s starts a word (or is not
// inside one).
func boundaryBefore(s string, i int) bool {
	if i <= 0 {
		return true
	}
	r, _ := utf8.DecodeLastRuneInString(s[:i])
	return !isWord(r)
}

// boundaryAfter reports whether position i of s ends a word.
func boundaryAfter(s string, i int) bool {
	if i >= len(s) {
		return true
	}
	r, _ := utf8.DecodeRuneInString(s[i:])
	return !isWord(r)
}

// wordStarts returns the start offsets of the words of the normalised
// text s, in order; wordAt turns an offset into a word number. An
// apostrophe inside a word continues it, so "amazon's" is one word.
func wordStarts(s string) []int {
	var starts []int
	in := false
	for i, r := range s {
		w := isWord(r) || in && r == '\''
		if w && !in {
			starts = append(starts, i)
		}
		in = w
	}
	return starts
}

// wordAt returns the number of the word containing or following offset p.
func wordAt(starts []int, p int) int {
	lo, hi := 0, len(starts)
	for lo < hi {
		m := (lo + hi) / 2
		if starts[m] <= p {
			lo = m + 1
		} else {
			hi = m
		}
	}
	if lo == 0 {
		return 0
	}
	return lo - 1
}
