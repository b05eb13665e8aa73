// Package fpds polls the legacy FPDS ATOM feed
// (https://www.fpds.gov/ezsearch/FEEDS/ATOM?FEEDNAME=PUBLIC&q=…): contract
// actions last modified in a window, ten entries a page, following the
// rel="next" link. Entries are awards or IDVs in either FPDS namespace.
// Items are keyed "piid:<agency>:<piid>:<modification>", so a contract
// action read here and through SAM.gov's Contract Awards API is one item.
package fpds

import (
	"bytes"
	"context"
	"encoding/xml"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/tierwatch/tierwatch/config"
	"github.com/tierwatch/tierwatch/model"
	"github.com/tierwatch/tierwatch/monitor"
	"github.com/tierwatch/tierwatch/monitor/record"
	"golang.org/x/net/html/charset"
)

// Publisher is the publisher of items unless the source names one.
const Publisher = "FPDS"

// Adapter is the fpds_atom adapter. It is safe for concurrent use.
type Adapter struct{ log *slog.Logger }

// New returns the adapter; a nil log discards.
func New(log *slog.Logger) *Adapter {
	return &Adapter{log: monitor.AdapterLog(log, model.SourceFPDSAtom)}
}

// Poll reads the contract actions last modified in the source's window.
func (a *Adapter) Poll(ctx context.Context, f *monitor.Fetcher, src config.Source, st *model.SourceState, now time.Time) ([]model.Item, error) {
	q := src.QueryValue()
	return record.Run(ctx, src, st, now, record.Options{Log: a.log}, func(ctx context.Context, w record.Window, cursor string) (record.Page, error) {
		reqURL := cursor
		if reqURL == "" {
			var err error
			if reqURL, err = FirstPage(src.URL, q, w); err != nil {
				return record.Page{}, &monitor.FetchError{Source: src.Name, Class: model.ClassPermanent, Err: err}
			}
		}
		req := monitor.Request{Source: src.Name, URL: reqURL, Header: http.Header{"Accept": {"application/atom+xml, application/xml"}}}
		file := record.IsFile(reqURL)
		if file {
			req.ETag, req.LastModified = st.ETag, st.LastModified
		}
		resp, err := f.Fetch(ctx, req)
		if err != nil || resp.NotModified {
			return record.Page{}, err
		}
		fd, err := decode(resp.Body)
		if err != nil {
			return record.Page{}, &monitor.FetchError{Source: src.Name, URL: monitor.RedactURL(reqURL), Class: model.ClassParse, Err: err}
		}
		if file {
			st.ETag, st.LastModified = resp.ETag, resp.LastModified
		}
		var pg record.Page
		for _, e := range fd.Entries {
			if it, ok := item(src, e, now); ok {
				pg.Items = append(pg.Items, it)
			}
		}
		if len(fd.Entries) > 0 {
			pg.Next = nextLink(reqURL, fd.Links)
		}
		return pg, nil
	})
}

// decode parses an ATOM page; XML declarations naming other charsets are
// honoured.
func decode(b []byte) (*feed, error) {
	var fd feed
	d := xml.NewDecoder(bytes.NewReader(b))
	d.CharsetReader = charset.NewReaderLabel
	d.Strict = false // FPDS pages are machine-written, but tolerate stray entities
	if err := d.Decode(&fd); err != nil {
		return nil, fmt.Errorf("decode atom: %w", err)
	}
	return &fd, nil
}

// FirstPage is the URL of the window's first page: FEEDNAME=PUBLIC and a q
// of LAST_MOD_DATE:[YYYY/MM/DD,YYYY/MM/DD] plus the filters the query
// language has: VENDOR_NAME, UEI, DEPARTMENT_FULL_NAME (agencies),
// PRINCIPAL_NAICS_CODE and PRODUCT_OR_SERVICE_CODE, values of one field
// OR-ed by repetition.
func FirstPage(base string, q config.Query, w record.Window) (string, error) {
	u, err := url.Parse(base)
	if err != nil {
		return "", fmt.Errorf("parse url: %w", err)
	}
	terms := []string{"LAST_MOD_DATE:[" + w.From.Format("2006/01/02") + "," + w.To.Format("2006/01/02") + "]"}
	add := func(field string, vs []string) {
		for _, v := range vs {
			if v = strings.TrimSpace(strings.ReplaceAll(v, `"`, "")); v != "" {
				terms = append(terms, field+`:"`+v+`"`)
			}
		}
	}
	add("VENDOR_NAME", q.Vendors)
	add("UEI", q.UEI)
	add("DEPARTMENT_FULL_NAME", q.Agencies)
	add("PRINCIPAL_NAICS_CODE", q.NAICS)
	add("PRODUCT_OR_SERVICE_CODE", q.PSC)
	p := u.Query()
	if p.Get("FEEDNAME") == "" {
		p.Set("FEEDNAME", "PUBLIC")
	}
	p.Set("q", strings.Join(terms, " "))
	u.RawQuery = p.Encode()
	return u.String(), nil
}

// nextLink returns the rel="next" link if it stays on the page's host.
func nextLink(cur string, links []link) string {
	c, err := url.Parse(cur)
	if err != nil {
		return ""
	}
	for _, l := range links {
		if l.Rel != "next" {
			continue
		}
		n, err := url.Parse(strings.TrimSpace(l.Href))
		if err != nil || n.Host != c.Host || (n.Scheme != "https" && n.Scheme != "http") {
			return ""
		}
		return n.String()
	}
	return ""
}

func item(src config.Source, e entry, now time.Time) (model.Item, bool) {
	c, kind := e.Content.Award, "award"
	if c == nil {
		c, kind = e.Content.IDV, "idv"
	}
	if c == nil {
		return model.Item{}, false
	}
	id := c.AwardID.ContractID
	if kind == "idv" {
		id = c.ContractID.IDVID
	}
	piid := strings.TrimSpace(id.PIID)
	if piid == "" {
		return model.Item{}, false
	}
	agency := strings.TrimSpace(id.Agency.Code)
	mod := record.FirstNonEmpty(id.Mod, "0")
	amount, err := record.Decimal(c.Dollars.Obligated)
	if err != nil {
		amount = "" // not an amount: unknown
	}
	r := &model.Record{
		Kind:               "award",
		AgencyPath:         []string{c.Purchaser.Agency.DepartmentName, c.Purchaser.Agency.Name, c.Purchaser.Office.Name},
		Amount:             amount,
		SolicitationNumber: c.ContractData.SolicitationID,
		AwardID:            piid,
		PIID:               piid,
		Modification:       mod,
		NoticeType:         record.FirstNonEmpty(c.ContractData.ActionType.Description, strings.ToUpper(kind)),
		NAICS:              []string{c.Product.NAICS},
		PSC:                []string{c.Product.PSC},
		PlaceOfPerformance: record.Place("", c.Place.Principal.State, c.Place.Zip, c.Place.Principal.Country),
		Description:        c.ContractData.Description,
		RecordURL: "https://www.fpds.gov/ezsearch/search.do?s=FPDS&indexName=awardfull&templateName=1.5.2&q=" +
			url.QueryEscape(piid+" "+agency),
	}
	if v := c.Vendor; v.Header.Name != "" || v.Site.Identifiers.UEI != "" {
		r.Vendors = []model.Vendor{{Name: v.Header.Name, UEI: v.Site.Identifiers.UEI, CAGE: v.Site.Identifiers.CAGE}}
	}
	date := record.ParseDate(c.Dates.Signed)
	if date.IsZero() {
		date = record.ParseDate(record.FirstNonEmpty(c.Transaction.LastModified, e.Modified))
	}
	return record.NewItem(src, Publisher, record.Entry{
		Key:       "piid:" + agency + ":" + piid + ":" + mod,
		Title:     e.Title,
		Summary:   c.ContractData.Description,
		Published: date,
		Record:    r,
	}, now), true
}
