package slack

import (
	"net/url"

	"github.com/tierwatch/tierwatch/notify"
	"strings"
	"unicode/utf8"
)

// Feed text is untrusted. Slack's formatting guide asks for exactly three
// escapes in text: & → &amp;, < → &lt;, > → &gt;. That alone disarms
// "<https://evil|click>" links and "<!channel>"/"<!here>" mentions. Bare
// "@channel"/"@here" words are broken with a zero-width joiner in case a
// workspace parses names. Control characters other than newline and tab are
// dropped.
var escaper = strings.NewReplacer(
	"&", "&amp;", "<", "&lt;", ">", "&gt;",
	"@channel", "@\u2060channel", "@here", "@\u2060here", "@everyone", "@\u2060everyone",
)

// plainEscaper disarms the same syntax in plain_text, where Slack shows
// text verbatim but "&lt;" would show as typed: angle brackets become
// look-alike single guillemets and broadcast words are broken.
var plainEscaper = strings.NewReplacer(
	"<", "‹", ">", "›",
	"@channel", "@\u2060channel", "@here", "@\u2060here", "@everyone", "@\u2060everyone",
)

// plainText makes untrusted text safe for a plain_text object, cut to n
// characters.
func plainText(s string, n int) string {
	return notify.Truncate(plainEscaper.Replace(oneLine(clean(s))), n)
}

// escape makes untrusted text safe for mrkdwn.
func escape(s string) string { return escaper.Replace(clean(s)) }

// clean drops invalid UTF-8 and control characters and keeps plain_text
// readable; plain_text needs no escaping (Slack shows it verbatim).
func clean(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	return strings.Map(func(r rune) rune {
		if r == '\n' || r == '\t' {
			return r
		}
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return -1
		}
		return r
	}, s)
}

// oneLine folds whitespace runs (newlines included) into single spaces.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// cut shortens s to at most n characters at a rune boundary, ending in "…"
// when cut, and never leaves half a link or half an "&amp;"-style entity
// at the end.
func cut(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	out := []rune(s)[:n-1]
	// Drop a trailing link the cut left open: escape turns every "<" of the
	// text into "&lt;", so a "<" after the last ">" opens a link, and an
	// open one would show its raw URL.
	for i := len(out) - 1; i >= 0 && out[i] != '>'; i-- {
		if out[i] == '<' {
			out = out[:i]
			break
		}
	}
	// Drop a trailing partial entity: "&am" would render as text.
	for i := len(out) - 1; i >= 0 && i >= len(out)-6; i-- {
		if out[i] == ';' {
			break
		}
		if out[i] == '&' {
			out = out[:i]
			break
		}
	}
	return string(out) + "…"
}

// safeURL returns u escaped for use inside <u|label> or as a button url,
// or "" when it is not an absolute http(s) URL or is too long. Characters
// that would end a Slack link early are percent-encoded.
func safeURL(u string) string {
	p, err := url.Parse(strings.TrimSpace(u))
	if err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
		return ""
	}
	s := p.String() // re-encodes spaces, quotes, control bytes
	s = strings.NewReplacer("|", "%7C", "<", "%3C", ">", "%3E").Replace(s)
	if len(s) > maxURL {
		return ""
	}
	return s
}

// link renders <url|label> with the label escaped, or the bare escaped
// label when url is unsafe or the link would be longer than budget
// characters: a length cut inside a link would leave its "<" open and show
// the raw URL. & in the URL is escaped as Slack asks.
func link(u, label string, budget int) string {
	if su := safeURL(u); su != "" {
		l := "<" + strings.ReplaceAll(su, "&", "&amp;") + "|" + strings.ReplaceAll(label, "|", "¦") + ">"
		if utf8.RuneCountInString(l) <= budget {
			return l
		}
	}
	return label
}
