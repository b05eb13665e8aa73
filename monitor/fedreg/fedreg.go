// Package fedreg polls the Federal Register's documents API
// (https://www.federalregister.gov/developers/documentation/api/v1,
// GET /api/v1/documents.json) for documents published in a window,
// following next_page_url to the last page (per_page up to 1000), one item
// per document keyed "fr:<document_number>" whose URL is its html_url. The
// API takes no key.
package fedreg

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/tierwatch/tierwatch/config"
	"github.com/tierwatch/tierwatch/model"
	"github.com/tierwatch/tierwatch/monitor"
	"github.com/tierwatch/tierwatch/monitor/record"
)

// Publisher is the publisher of items unless the source names one.
const Publisher = "Federal Register"

// response is a documents.json answer.
type response struct {
	Count       record.Int    `json:"count"`
	NextPageURL record.String `json:"next_page_url"`
	Results     []document    `json:"results"`
}

type document struct {
	DocumentNumber  record.String `json:"document_number"`
	Title           record.String `json:"title"`
	Type            record.String `json:"type"`
	Abstract        record.String `json:"abstract"`
	HTMLURL         record.String `json:"html_url"`
	PublicationDate record.String `json:"publication_date"`
	Agencies        []struct {
		Name    record.String `json:"name"`
		RawName record.String `json:"raw_name"`
	} `json:"agencies"`
}

// Adapter is the federal_register adapter. It is safe for concurrent use.
type Adapter struct{ log *slog.Logger }

// New returns the adapter; a nil log discards.
func New(log *slog.Logger) *Adapter {
	return &Adapter{log: monitor.AdapterLog(log, model.SourceFederalRegister)}
}

// Poll reads the documents published in the source's window.
func (a *Adapter) Poll(ctx context.Context, f *monitor.Fetcher, src config.Source, st *model.SourceState, now time.Time) ([]model.Item, error) {
	q := src.QueryValue()
	perPage := q.PageLimit(model.SourceFederalRegister)
	return record.Run(ctx, src, st, now, record.Options{Log: a.log}, func(ctx context.Context, w record.Window, cursor string) (record.Page, error) {
		reqURL := cursor
		if reqURL == "" {
			var err error
			if reqURL, err = FirstPage(src.URL, q, w, perPage); err != nil {
				return record.Page{}, &monitor.FetchError{Source: src.Name, Class: model.ClassPermanent, Err: err}
			}
		}
		req := monitor.Request{Source: src.Name, URL: reqURL, Header: http.Header{"Accept": {"application/json"}}}
		file := record.IsFile(reqURL)
		if file {
			req.ETag, req.LastModified = st.ETag, st.LastModified
		}
		resp, err := f.Fetch(ctx, req)
		if err != nil || resp.NotModified {
			return record.Page{}, err
		}
		var r response
		if err := json.Unmarshal(resp.Body, &r); err != nil {
			return record.Page{}, &monitor.FetchError{Source: src.Name, URL: monitor.RedactURL(reqURL),
				Class: model.ClassParse, Err: fmt.Errorf("decode response: %w", err)}
		}
		if file {
			st.ETag, st.LastModified = resp.ETag, resp.LastModified
		}
		var pg record.Page
		for _, d := range r.Results {
			if it, ok := item(src, d, now); ok {
				pg.Items = append(pg.Items, it)
			}
		}
		if next := nextPage(reqURL, string(r.NextPageURL)); next != "" && len(r.Results) > 0 {
			pg.Next = next
		}
		return pg, nil
	})
}

// FirstPage is the URL of the window's first page: conditions[term] (the
// keywords joined with " | ", the API's OR), conditions[agencies][] (agency
// slugs), the publication date range, per_page, and order=oldest so pages
// stay stable while new documents arrive.
func FirstPage(base string, q config.Query, w record.Window, perPage int) (string, error) {
	u, err := url.Parse(base)
	if err != nil {
		return "", fmt.Errorf("parse url: %w", err)
	}
	p := u.Query()
	if len(q.Keywords) > 0 {
		p.Set("conditions[term]", strings.Join(q.Keywords, " | "))
	}
	for _, a := range q.Agencies {
		p.Add("conditions[agencies][]", slug(a))
	}
	p.Set("conditions[publication_date][gte]", w.From.Format(time.DateOnly))
	p.Set("conditions[publication_date][lte]", w.To.Format(time.DateOnly))
	p.Set("per_page", strconv.Itoa(perPage))
	p.Set("order", "oldest")
	u.RawQuery = p.Encode()
	return u.String(), nil
}

// slug turns an agency name into the API's slug ("Homeland Security
// Department" -> "homeland-security-department"); slugs pass unchanged.
func slug(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(strings.TrimSpace(s)) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
			dash = false
		case !dash && b.Len() > 0:
			b.WriteByte('-')
			dash = true
		}
	}
	return strings.TrimSuffix(b.String(), "-")
}

// nextPage accepts a next_page_url only on the host of the current page,
// so a hostile answer cannot send the poller elsewhere.
func nextPage(cur, next string) string {
	if next == "" {
		return ""
	}
	c, err1 := url.Parse(cur)
	n, err2 := url.Parse(next)
	if err1 != nil || err2 != nil || n.Host != c.Host || (n.Scheme != "https" && n.Scheme != "http") {
		return ""
	}
	return n.String()
}

func item(src config.Source, d document, now time.Time) (model.Item, bool) {
	num := string(d.DocumentNumber)
	if num == "" {
		return model.Item{}, false
	}
	r := &model.Record{
		Kind:           "document",
		DocumentNumber: num,
		NoticeType:     string(d.Type),
		Description:    string(d.Abstract),
		RecordURL:      string(d.HTMLURL),
	}
	for _, a := range d.Agencies {
		r.AgencyPath = append(r.AgencyPath, record.FirstNonEmpty(string(a.Name), string(a.RawName)))
	}
	if r.RecordURL == "" {
		r.RecordURL = "https://www.federalregister.gov/d/" + url.PathEscape(num)
	}
	return record.NewItem(src, Publisher, record.Entry{
		Key:       "fr:" + num,
		Title:     string(d.Title),
		Summary:   string(d.Abstract),
		Published: record.ParseDate(string(d.PublicationDate)),
		Record:    r,
	}, now), true
}
