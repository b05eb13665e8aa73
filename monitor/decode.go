package monitor

import (
	"bytes"
	"errors"
	"fmt"
	"mime"
	"unicode/utf8"

	"github.com/mmcdole/gofeed"
	"github.com/tierwatch/tierwatch/model"
	"golang.org/x/net/html/charset"
	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/unicode"
)

// ParseFeed decodes a fetched body into a feed (RSS 0.9x–2.0, RSS 1.0/RDF,
// Atom or JSON Feed). contentType is the response's Content-Type, possibly
// empty. Failures are *FetchError with Class parse and no Source or URL:
// callers that know the source set those fields.
//
// Before gofeed sees the body, ParseFeed makes it UTF-8 so gofeed never
// converts it a second time (gofeed converts any XML whose declaration names
// another encoding, through encoding/xml's CharsetReader):
//   - a UTF-8 BOM is stripped, a UTF-16 BOM decides the encoding, and
//     leading whitespace is removed;
//   - a body that is valid UTF-8 and not pure ASCII is taken as UTF-8 whatever
//     the labels claim (publishers often mislabel UTF-8 as ISO-8859-1, and
//     Latin-1 text that happens to be valid UTF-8 is vanishingly rare);
//   - otherwise the charset comes from Content-Type, then the XML
//     declaration (RFC 7303 §8 order), ignoring labels that claim UTF-8 for
//     a body that is not;
//   - with no usable label, a body that is mostly valid UTF-8 keeps UTF-8
//     with its bad bytes replaced by U+FFFD, and anything else is read as
//     windows-1252 (the WHATWG reading of undeclared Latin-1);
//   - the XML declaration is then rewritten to say UTF-8, and NUL and the
//     other characters XML forbids (C0 controls but tab, CR, LF; U+FFFE,
//     U+FFFF) are removed.
//
// gofeed's scan of item HTML for a first <img> is turned off: tierwatch
// does not use images and the scan parses every item's HTML again.
func ParseFeed(body []byte, contentType string) (*gofeed.Feed, error) {
	b, err := toUTF8(body, contentType)
	if err != nil {
		return nil, &FetchError{Class: model.ClassParse, Err: err}
	}
	p := gofeed.NewParser()
	p.RSSTranslator = &gofeed.DefaultRSSTranslator{DisableContentImageScan: true}
	feed, err := p.Parse(bytes.NewReader(b))
	if err != nil {
		return nil, &FetchError{Class: model.ClassParse, Err: fmt.Errorf("parse feed: %w", err)}
	}
	return feed, nil
}

var (
	errEmptyBody = errors.New("empty body")
	bomUTF8      = []byte{0xEF, 0xBB, 0xBF}
)

// toUTF8 returns body as clean UTF-8 following ParseFeed's rules. It returns
// body itself when nothing needs changing.
func toUTF8(body []byte, contentType string) ([]byte, error) {
	b := body
	converted := false
	switch {
	case bytes.HasPrefix(b, bomUTF8):
		b = b[len(bomUTF8):]
	case bytes.HasPrefix(b, []byte{0xFE, 0xFF}), bytes.HasPrefix(b, []byte{0xFF, 0xFE}):
		dec := unicode.UTF16(unicode.BigEndian, unicode.ExpectBOM).NewDecoder()
		out, err := dec.Bytes(b)
		if err != nil {
			return nil, fmt.Errorf("decode utf-16: %w", err)
		}
		b, converted = out, true
	}
	b = trimLeadingSpace(b)
	if len(b) == 0 {
		return nil, errEmptyBody
	}
	isXML := b[0] == '<'
	var declLabel string
	if isXML {
		declLabel = xmlDeclEncoding(b)
	}
	if !converted {
		var err error
		b, converted, err = decodeCharset(b, contentLabel(contentType), declLabel)
		if err != nil {
			return nil, err
		}
	}
	if isXML && declLabel != "" && !isUTF8Label(declLabel) {
		b = rewriteDeclEncoding(b)
	}
	return stripIllegal(b), nil
}

// decodeCharset converts b to UTF-8 given the Content-Type and XML
// declaration labels (either may be empty). converted reports whether b was
// transcoded.
func decodeCharset(b []byte, ctLabel, declLabel string) (out []byte, converted bool, err error) {
	ascii := isASCII(b)
	if !ascii && utf8.Valid(b) {
		return b, false, nil
	}
	var enc encoding.Encoding
	for _, l := range []string{ctLabel, declLabel} {
		if l == "" || isUTF8Label(l) {
			continue
		}
		if e, name := charset.Lookup(l); e != nil && name != "utf-8" {
			enc = e
			break
		}
	}
	if ascii && !isStateful(ctLabel) && !isStateful(declLabel) {
		// ASCII reads the same in every ASCII-compatible charset.
		return b, false, nil
	}
	if enc == nil {
		if mostlyUTF8(b) {
			return bytes.ToValidUTF8(b, []byte("\uFFFD")), true, nil
		}
		enc = charmap.Windows1252
	}
	out, err = enc.NewDecoder().Bytes(b)
	if err != nil {
		return nil, false, fmt.Errorf("decode charset: %w", err)
	}
	return out, true, nil
}

// isStateful reports whether label names a 7-bit encoding whose ASCII bytes
// do not all mean ASCII (ISO-2022-JP switches charsets with escapes).
// UTF-16 without a BOM is not supported.
func isStateful(label string) bool {
	if label == "" {
		return false
	}
	_, name := charset.Lookup(label)
	return name == "iso-2022-jp"
}

func isUTF8Label(l string) bool {
	_, name := charset.Lookup(l)
	return name == "utf-8"
}

func isASCII(b []byte) bool {
	for _, c := range b {
		if c >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// mostlyUTF8 reports whether the non-ASCII bytes of b mostly form valid
// multi-byte UTF-8 sequences: a UTF-8 document with a few stray bytes, not a
// single-byte charset.
func mostlyUTF8(b []byte) bool {
	valid, invalid := 0, 0
	for len(b) > 0 {
		if b[0] < utf8.RuneSelf {
			b = b[1:]
			continue
		}
		r, size := utf8.DecodeRune(b)
		if r == utf8.RuneError && size == 1 {
			invalid++
		} else {
			valid++
		}
		b = b[size:]
	}
	return valid > invalid
}

func contentLabel(contentType string) string {
	if contentType == "" {
		return ""
	}
	_, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		return "" // a malformed header tells us nothing reliable
	}
	return params["charset"]
}

func trimLeadingSpace(b []byte) []byte {
	for len(b) > 0 && (b[0] <= ' ') {
		b = b[1:]
	}
	return b
}

// xmlDeclEnd returns the offset of the "?>" closing a leading XML
// declaration, or -1.
func xmlDeclEnd(b []byte) int {
	if !bytes.HasPrefix(b, []byte("<?xml")) || len(b) < 6 || (b[5] != ' ' && b[5] != '\t' && b[5] != '\r' && b[5] != '\n') {
		return -1
	}
	head := b[:min(len(b), 512)]
	return bytes.Index(head, []byte("?>"))
}

// xmlDeclEncoding returns the value of the encoding pseudo-attribute of a
// leading XML declaration, or "".
func xmlDeclEncoding(b []byte) string {
	start, end := declEncodingSpan(b)
	if start < 0 {
		return ""
	}
	return string(b[start:end])
}

// declEncodingSpan returns the byte span of the encoding value in a leading
// XML declaration, or -1, -1.
func declEncodingSpan(b []byte) (int, int) {
	end := xmlDeclEnd(b)
	if end < 0 {
		return -1, -1
	}
	decl := b[:end]
	i := bytes.Index(decl, []byte("encoding"))
	if i < 0 {
		return -1, -1
	}
	j := i + len("encoding")
	for j < len(decl) && (decl[j] == ' ' || decl[j] == '\t' || decl[j] == '\r' || decl[j] == '\n') {
		j++
	}
	if j >= len(decl) || decl[j] != '=' {
		return -1, -1
	}
	j++
	for j < len(decl) && (decl[j] == ' ' || decl[j] == '\t' || decl[j] == '\r' || decl[j] == '\n') {
		j++
	}
	if j >= len(decl) || (decl[j] != '"' && decl[j] != '\'') {
		return -1, -1
	}
	q := decl[j]
	k := bytes.IndexByte(decl[j+1:], q)
	if k < 0 {
		return -1, -1
	}
	return j + 1, j + 1 + k
}

// rewriteDeclEncoding returns b with its declared encoding replaced by
// UTF-8, in a new slice.
func rewriteDeclEncoding(b []byte) []byte {
	start, end := declEncodingSpan(b)
	if start < 0 {
		return b
	}
	out := make([]byte, 0, len(b)-(end-start)+5)
	out = append(out, b[:start]...)
	out = append(out, "UTF-8"...)
	return append(out, b[end:]...)
}

// stripIllegal removes the characters XML 1.0 forbids (C0 controls other
// than tab, LF and CR; U+FFFE and U+FFFF), copying only when it finds one.
// b must be valid UTF-8 or close to it; other bytes are left alone.
func stripIllegal(b []byte) []byte {
	first := -1
	for i := 0; i < len(b); i++ {
		if illegalAt(b, i) > 0 {
			first = i
			break
		}
	}
	if first < 0 {
		return b
	}
	out := make([]byte, first, len(b))
	copy(out, b[:first])
	for i := first; i < len(b); {
		if n := illegalAt(b, i); n > 0 {
			i += n
			continue
		}
		out = append(out, b[i])
		i++
	}
	return out
}

// illegalAt returns the length of a forbidden character starting at b[i], or 0.
func illegalAt(b []byte, i int) int {
	c := b[i]
	if c < 0x20 {
		if c == '\t' || c == '\n' || c == '\r' {
			return 0
		}
		return 1
	}
	if c == 0xEF && i+2 < len(b) && b[i+1] == 0xBF && (b[i+2] == 0xBE || b[i+2] == 0xBF) {
		return 3
	}
	return 0
}
