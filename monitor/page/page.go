// Package page polls HTML pages that have no feed (newsrooms, press
// release lists) and reads entries from them with CSS selectors: the
// source's query.selectors.list selects each entry, and title, link, date
// and summary are evaluated inside it. Links are resolved against the
// page's URL (or its <base href>), the body is decoded from its declared
// charset to UTF-8, and entries are keyed like feed items ("u:" canonical
// link, else "h:" hash of title and date) so a page and a feed of the same
// newsroom yield the same keys.
package page

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/PuerkitoBio/goquery"
	"github.com/andybalholm/cascadia"
	"github.com/tierwatch/tierwatch/config"
	"github.com/tierwatch/tierwatch/model"
	"github.com/tierwatch/tierwatch/monitor"
	"golang.org/x/net/html/charset"
)

// maxEntries bounds the entries read from one page.
const maxEntries = 500

// futureSlack is how far ahead a date may lie before it is distrusted.
const futureSlack = 48 * time.Hour

// Adapter is the page adapter. It is safe for concurrent use.
type Adapter struct{ log *slog.Logger }

// New returns the adapter; a nil log discards.
func New(log *slog.Logger) *Adapter {
	return &Adapter{log: monitor.AdapterLog(log, model.SourcePage)}
}

// Poll fetches the page (conditionally, with the stored validators) and
// returns its entries. A 304 yields no items.
func (a *Adapter) Poll(ctx context.Context, f *monitor.Fetcher, src config.Source, st *model.SourceState, now time.Time) ([]model.Item, error) {
	if err := monitor.Spend(src.DailyBudget, st, now); err != nil {
		return nil, err
	}
	resp, err := f.Fetch(ctx, monitor.Request{Source: src.Name, URL: src.URL, ETag: st.ETag, LastModified: st.LastModified,
		Header: http.Header{"Accept": {"text/html, application/xhtml+xml;q=0.9, */*;q=0.5"}}})
	if err != nil {
		return nil, err
	}
	if resp.NotModified {
		return nil, nil
	}
	items, err := Parse(src, resp.Body, resp.ContentType, pageURL(resp.FinalURL, src.URL), now)
	if err != nil {
		return nil, &monitor.FetchError{Source: src.Name, URL: monitor.RedactURL(src.URL), Class: model.ClassParse, Err: err}
	}
	st.ETag, st.LastModified = resp.ETag, resp.LastModified
	a.log.Debug("page read", "source", src.Name, "items", len(items))
	return items, nil
}

// pageURL is the URL links resolve against: the final URL after
// redirects, or the configured one for file: pages.
func pageURL(final, configured string) string {
	if strings.HasPrefix(final, "http") {
		return final
	}
	return configured
}

// Parse reads the entries of an HTML page fetched from pageURL. Entries
// without a title are skipped. Dates are parsed with the query's
// date_layout, else as RFC 3339 or a plain date, from the date element's
// datetime attribute or its text; a missing or future date gives the
// first-seen time.
func Parse(src config.Source, body []byte, contentType, pageURL string, now time.Time) ([]model.Item, error) {
	q := src.QueryValue()
	sel := q.Selectors
	if sel.List == "" || sel.Title == "" {
		return nil, fmt.Errorf("page source %s: selectors list and title must be set", src.Name)
	}
	for _, c := range []string{sel.List, sel.Title, sel.Link, sel.Date, sel.Summary} {
		// goquery treats a selector that does not compile as matching
		// nothing; say so instead of yielding silently empty polls.
		if c != "" {
			if _, err := cascadia.Compile(c); err != nil {
				return nil, fmt.Errorf("selector %q: %w", c, err)
			}
		}
	}
	doc, err := goquery.NewDocumentFromReader(bytes.NewReader(toUTF8(body, contentType)))
	if err != nil {
		return nil, fmt.Errorf("parse html: %w", err)
	}
	base, _ := url.Parse(pageURL) // nil base: links must be absolute
	if href, ok := doc.Find("base[href]").First().Attr("href"); ok && base != nil {
		if b, err := base.Parse(strings.TrimSpace(href)); err == nil {
			base = b
		}
	}
	publisher := strings.TrimSpace(src.Publisher)
	if publisher == "" {
		publisher = monitor.Domain(pageURL)
	}
	now = now.UTC()
	var items []model.Item
	seen := map[string]bool{}
	var selErr error
	func() {
		defer func() {
			// cascadia panics on some selectors it accepted when compiling
			// lazily; a bad selector is a parse error, never a crash.
			if r := recover(); r != nil {
				selErr = fmt.Errorf("apply selectors: %v", r)
			}
		}()
		doc.Find(sel.List).EachWithBreak(func(i int, s *goquery.Selection) bool {
			it, ok := entry(src, q, s, base, publisher, now)
			if ok && !seen[it.Key] {
				seen[it.Key] = true
				items = append(items, it)
			}
			return len(items) < maxEntries
		})
	}()
	return items, selErr
}

func entry(src config.Source, q config.Query, s *goquery.Selection, base *url.URL, publisher string, now time.Time) (model.Item, bool) {
	sel := q.Selectors
	titleSel := s.Find(sel.Title).First()
	title := monitor.PlainText(strings.Join(strings.Fields(titleSel.Text()), " "), 1000)
	if title == "" {
		return model.Item{}, false
	}
	var href string
	switch {
	case sel.Link != "":
		l := s.Find(sel.Link).First()
		href, _ = l.Attr("href")
	default:
		if h, ok := titleSel.Attr("href"); ok {
			href = h
		} else if h, ok := titleSel.Find("a[href]").First().Attr("href"); ok {
			href = h
		} else {
			href, _ = s.Find("a[href]").First().Attr("href")
		}
	}
	link := resolve(base, href)
	it := model.Item{
		Source:    src.Name,
		Link:      link,
		URL:       monitor.CanonicalURL(link),
		Title:     title,
		Publisher: publisher,
		Tier:      src.Tier,
		FirstSeen: now,
	}
	if sel.Summary != "" {
		it.Summary = monitor.PlainText(strings.Join(strings.Fields(s.Find(sel.Summary).First().Text()), " "), 4000)
	}
	it.Domain = monitor.Domain(it.URL)
	dateText := ""
	var d *goquery.Selection
	if sel.Date != "" {
		d = s.Find(sel.Date).First()
	} else {
		d = s.Find("time").First()
	}
	if v, ok := d.Attr("datetime"); ok && strings.TrimSpace(v) != "" {
		dateText = strings.TrimSpace(v)
	} else {
		dateText = strings.Join(strings.Fields(d.Text()), " ")
	}
	t := parseDate(dateText, q.DateLayout)
	switch {
	case t.IsZero() || t.After(now.Add(futureSlack)):
		it.Published, it.DateSource = now, "first_seen"
	default:
		it.Published, it.DateSource = t.UTC(), "published"
	}
	if it.URL != "" {
		it.Key = "u:" + it.URL
	} else {
		h := sha256.Sum256([]byte(title + "\x00" + dateText))
		it.Key = "h:" + hex.EncodeToString(h[:])
	}
	return it, true
}

// resolve makes href absolute against base; only http(s) results are
// kept (javascript:, mailto: and unparsable links give "").
func resolve(base *url.URL, href string) string {
	href = strings.TrimSpace(href)
	if href == "" {
		return ""
	}
	u, err := url.Parse(href)
	if err != nil {
		return ""
	}
	if base != nil {
		u = base.ResolveReference(u)
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return ""
	}
	return u.String()
}

func parseDate(s, layout string) time.Time {
	if s == "" || len(s) > 100 {
		return time.Time{}
	}
	layouts := []string{time.RFC3339, time.DateOnly, "January 2, 2006", "Jan 2, 2006", "2 January 2006", time.RFC1123Z, time.RFC1123}
	if layout != "" {
		layouts = append([]string{layout}, layouts...)
	}
	for _, l := range layouts {
		if t, err := time.Parse(l, s); err == nil {
			return t
		}
	}
	return time.Time{}
}

// toUTF8 decodes body as feeds are decoded: a body that is valid UTF-8
// is UTF-8 whatever its labels say (mislabelled UTF-8 is common, Latin-1
// text that happens to be valid UTF-8 vanishingly rare); otherwise the charset comes
// from Content-Type, a BOM or <meta charset>, defaulting to windows-1252
// as the WHATWG encoding standard does.
func toUTF8(body []byte, contentType string) []byte {
	if utf8.Valid(body) {
		return body
	}
	enc, _, _ := charset.DetermineEncoding(body, contentType)
	out, err := enc.NewDecoder().Bytes(body)
	if err != nil {
		return bytes.ToValidUTF8(body, []byte("\uFFFD"))
	}
	return out
}
