package review

import (
	"bytes"
	"cmp"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/tierwatch/tierwatch/model"
)

// The page: a login form, or the pending queue by score as cards. Every
// feed-derived string goes through html/template, which escapes it for its
// context (text, attribute, URL); highlighting splits text into segments
// rendered as text or <mark>text</mark>, never by building HTML strings.

var pageFuncs = template.FuncMap{
	"num": func(f float64) string { return strconv.FormatFloat(f, 'f', 2, 64) },
}

type loginView struct {
	Failed bool
}

type queueView struct {
	CSRF  string
	Who   string
	Cards []card
	IDs   []string // every pending candidate, for the duplicate picker
}

// card is one candidate as the page shows it.
type card struct {
	model.Candidate
	BestURL string
	Sources []sourceView
	Other   []hitView // hits outside source titles
}

type sourceView struct {
	model.Ref
	Link  string // URL when http(s), else ""
	Title []segment
}

type hitView struct {
	Field, Term, Entity, Rule string
	Text                      string
}

// segment is a run of text, highlighted or not.
type segment struct {
	Text string
	Mark bool
}

func (s *Server) render(w http.ResponseWriter, name string, v any) {
	var buf bytes.Buffer
	if err := s.tmpl.ExecuteTemplate(&buf, name, v); err != nil {
		s.log.Error("render review page", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	// A failed write means the client went away.
	_, _ = buf.WriteTo(w)
}

// page serves the login form or the queue.
func (s *Server) page(w http.ResponseWriter, r *http.Request) {
	_, sess, ok := s.sessionOf(r)
	if !ok {
		s.render(w, "login.html", loginView{})
		return
	}
	cands, err := s.q.Candidates(r.Context(), model.StatusPending)
	if err != nil {
		s.log.Error("list candidates for the page", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	v := queueView{CSRF: sess.csrf, Who: sess.who}
	for _, c := range cands {
		v.Cards = append(v.Cards, makeCard(c))
		v.IDs = append(v.IDs, c.ID)
	}
	s.render(w, "queue.html", v)
}

// makeCard prepares a candidate for display: sources by tier, title hits
// highlighted in their source titles, other hits listed.
func makeCard(c model.Candidate) card {
	k := card{Candidate: c}
	refs := slices.Clone(c.Sources)
	slices.SortStableFunc(refs, func(a, b model.Ref) int { return cmp.Compare(tierRank(a.Tier), tierRank(b.Tier)) })
	used := map[[2]int]bool{} // [match, hit] shown in a source title
	for _, ref := range refs {
		sv := sourceView{Ref: ref, Link: safeURL(ref.URL)}
		var spans [][2]int
		for mi, m := range c.Matches {
			if m.ItemKey != ref.ItemKey || (m.Source != "" && ref.Source != "" && m.Source != ref.Source) {
				continue
			}
			for hi, h := range m.Hits {
				if h.Field != "title" {
					continue
				}
				if sp, ok := locate(ref.Title, h); ok {
					spans = append(spans, sp)
					used[[2]int{mi, hi}] = true
				}
			}
		}
		sv.Title = segments(ref.Title, spans)
		if k.BestURL == "" && sv.Link != "" {
			k.BestURL = sv.Link
		}
		k.Sources = append(k.Sources, sv)
	}
	for mi, m := range c.Matches {
		for hi, h := range m.Hits {
			if used[[2]int{mi, hi}] {
				continue
			}
			k.Other = append(k.Other, hitView{Field: h.Field, Term: h.Term, Entity: h.Entity, Rule: m.Rule, Text: h.Text})
		}
	}
	return k
}

// tierRank orders tiers 1, 2, 3, then unknown.
func tierRank(t model.Tier) int {
	if t.Valid() {
		return int(t)
	}
	return 4
}

// locate finds h in text: at its offsets when they still hold its text,
// else at the first occurrence of its text.
func locate(text string, h model.Hit) ([2]int, bool) {
	if h.Text == "" {
		return [2]int{}, false
	}
	if h.Start >= 0 && h.End <= len(text) && h.Start < h.End && text[h.Start:h.End] == h.Text {
		return [2]int{h.Start, h.End}, true
	}
	if i := strings.Index(text, h.Text); i >= 0 {
		return [2]int{i, i + len(h.Text)}, true
	}
	return [2]int{}, false
}

// segments splits text at the spans (merged when they overlap). Spans that
// would cut a UTF-8 sequence are dropped.
func segments(text string, spans [][2]int) []segment {
	slices.SortFunc(spans, func(a, b [2]int) int { return cmp.Compare(a[0], b[0]) })
	var out []segment
	pos := 0
	for _, sp := range spans {
		start, end := max(sp[0], pos), sp[1]
		if end <= start || !boundary(text, start) || !boundary(text, end) {
			continue
		}
		if start > pos {
			out = append(out, segment{Text: text[pos:start]})
		}
		out = append(out, segment{Text: text[start:end], Mark: true})
		pos = end
	}
	if pos < len(text) {
		out = append(out, segment{Text: text[pos:]})
	}
	return out
}

func boundary(s string, i int) bool {
	return i == 0 || i == len(s) || (i > 0 && i < len(s) && utf8.RuneStart(s[i]))
}

// safeURL returns raw when it is an absolute http(s) URL, else "".
func safeURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return ""
	}
	return raw
}
