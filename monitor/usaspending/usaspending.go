// Package usaspending polls USAspending.gov's award search
// (POST /api/v2/search/spending_by_award/) for prime awards or subawards
// last modified in a window, page by page (limit up to 100, page with
// hasNext), and maps each award onto an item keyed
// "award:<generated_internal_id>" whose URL is the award's public page.
// The API takes no key.
package usaspending

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
const Publisher = "USAspending.gov"

// defaultAwardTypes are the contract award type codes (A: BPA call,
// B: purchase order, C: delivery order, D: definitive contract).
var defaultAwardTypes = []string{"A", "B", "C", "D"}

var (
	awardFields = []string{"Award ID", "Recipient Name", "Recipient UEI", "Award Amount", "Description",
		"Contract Award Type", "Award Type", "Awarding Agency", "Awarding Sub Agency", "Start Date",
		"Base Obligation Date", "Last Modified Date", "NAICS", "PSC", "Primary Place of Performance",
		"generated_internal_id"}
	subawardFields = []string{"Sub-Award ID", "Sub-Awardee Name", "Sub-Recipient UEI", "Sub-Award Date",
		"Sub-Award Amount", "Sub-Award Description", "Awarding Agency", "Awarding Sub Agency",
		"Prime Award ID", "Prime Recipient Name", "prime_award_generated_internal_id"}
)

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }

// Adapter is the usaspending adapter. It is safe for concurrent use.
type Adapter struct{ log *slog.Logger }

// New returns the adapter; a nil log discards.
func New(log *slog.Logger) *Adapter {
	return &Adapter{log: monitor.AdapterLog(log, model.SourceUSAspending)}
}

// Poll reads the awards last modified in the source's window.
func (a *Adapter) Poll(ctx context.Context, f *monitor.Fetcher, src config.Source, st *model.SourceState, now time.Time) ([]model.Item, error) {
	q := src.QueryValue()
	limit := q.PageLimit(model.SourceUSAspending)
	return record.Run(ctx, src, st, now, record.Options{Log: a.log}, func(ctx context.Context, w record.Window, cursor string) (record.Page, error) {
		page := 1
		if cursor != "" {
			page, _ = strconv.Atoi(cursor) // cursors are ours
		}
		reqBody, err := json.Marshal(body(q, w, page, limit))
		if err != nil {
			return record.Page{}, fmt.Errorf("encode request of source %s: %w", src.Name, err)
		}
		req := monitor.Request{Source: src.Name, URL: src.URL, Method: http.MethodPost, Body: reqBody,
			Header: http.Header{"Content-Type": {"application/json"}, "Accept": {"application/json"}}}
		file := record.IsFile(src.URL)
		if file {
			req.Method, req.Body = "", nil
			req.ETag, req.LastModified = st.ETag, st.LastModified
		}
		resp, err := f.Fetch(ctx, req)
		if err != nil || resp.NotModified {
			return record.Page{}, err
		}
		var r response
		if err := json.Unmarshal(resp.Body, &r); err != nil {
			return record.Page{}, &monitor.FetchError{Source: src.Name, URL: monitor.RedactURL(src.URL),
				Class: model.ClassParse, Err: fmt.Errorf("decode response: %w", err)}
		}
		if file {
			st.ETag, st.LastModified = resp.ETag, resp.LastModified
		}
		var pg record.Page
		for _, res := range r.Results {
			if it, ok := item(src, res, q.Subawards, now); ok {
				pg.Items = append(pg.Items, it)
			}
		}
		if r.PageMetadata.HasNext && len(r.Results) > 0 {
			pg.Next = strconv.Itoa(page + 1)
		}
		return pg, nil
	})
}

// body is the search request of one page: award type codes (default
// contracts), the window as a last_modified_date time period, recipients
// (vendor names and UEIs), awarding toptier agencies, keywords, NAICS and
// PSC codes, sorted by award id for stable paging.
func body(q config.Query, w record.Window, page, limit int) any {
	types := q.AwardTypeCodes
	if len(types) == 0 {
		types = defaultAwardTypes
	}
	r := request{
		Filters: filters{
			AwardTypeCodes: types,
			TimePeriod: []timePeriod{{StartDate: w.From.Format(time.DateOnly), EndDate: w.To.Format(time.DateOnly),
				DateType: "last_modified_date"}},
			RecipientSearchText: append(append([]string(nil), q.Vendors...), q.UEI...),
			Keywords:            q.Keywords,
			NAICSCodes:          q.NAICS,
			PSCCodes:            q.PSC,
		},
		Fields: awardFields, Page: page, Limit: limit, Sort: "Award ID", Order: "asc",
		SpendingLevel: "awards",
	}
	for _, name := range q.Agencies {
		r.Filters.Agencies = append(r.Filters.Agencies, agency{Type: "awarding", Tier: "toptier", Name: name})
	}
	if q.Subawards {
		r.Fields, r.Sort, r.Subawards, r.SpendingLevel = subawardFields, "Sub-Award ID", true, "subawards"
	}
	return r
}

// item maps one result; results without a stable id are skipped.
func item(src config.Source, res result, subaward bool, now time.Time) (model.Item, bool) {
	if subaward {
		return subawardItem(src, res, now)
	}
	gid := string(res.GeneratedInternalID)
	if gid == "" {
		return model.Item{}, false
	}
	r := &model.Record{
		Kind:               "award",
		AgencyPath:         []string{string(res.AwardingAgency), string(res.AwardingSubAgency)},
		Amount:             string(res.AwardAmount),
		AwardID:            gid,
		NoticeType:         record.FirstNonEmpty(string(res.ContractAwardType), string(res.AwardType)),
		NAICS:              []string{string(res.NAICS.Code)},
		PSC:                []string{string(res.PSC.Code)},
		PlaceOfPerformance: res.PlaceOfPerformance.String(),
		Description:        string(res.Description),
		RecordURL:          "https://www.usaspending.gov/award/" + url.PathEscape(gid),
	}
	if strings.HasPrefix(gid, "CONT_") {
		r.PIID = string(res.AwardID) // for contracts the Award ID is the PIID
	}
	if res.RecipientName != "" || res.RecipientUEI != "" {
		r.Vendors = []model.Vendor{{Name: string(res.RecipientName), UEI: string(res.RecipientUEI)}}
	}
	date := record.ParseDate(record.FirstNonEmpty(string(res.BaseObligationDate), string(res.StartDate), string(res.LastModifiedDate)))
	return record.NewItem(src, Publisher, record.Entry{
		Key:       "award:" + gid,
		Title:     title(r, string(res.AwardID), string(res.RecipientName)),
		Summary:   string(res.Description),
		Published: date,
		Record:    r,
	}, now), true
}

func subawardItem(src config.Source, res result, now time.Time) (model.Item, bool) {
	prime, sub := string(res.PrimeGeneratedID), string(res.SubAwardID)
	if sub == "" || prime == "" {
		return model.Item{}, false
	}
	r := &model.Record{
		Kind:        "subaward",
		AgencyPath:  []string{string(res.AwardingAgency), string(res.AwardingSubAgency)},
		Amount:      string(res.SubAwardAmount),
		AwardID:     prime,
		Description: string(res.SubAwardDescription),
		RecordURL:   "https://www.usaspending.gov/award/" + url.PathEscape(prime),
	}
	if strings.HasPrefix(prime, "CONT_") {
		r.PIID = string(res.PrimeAwardID)
	}
	if res.SubAwardeeName != "" || res.SubRecipientUEI != "" {
		r.Vendors = append(r.Vendors, model.Vendor{Name: string(res.SubAwardeeName), UEI: string(res.SubRecipientUEI)})
	}
	if res.PrimeRecipientName != "" {
		r.Vendors = append(r.Vendors, model.Vendor{Name: string(res.PrimeRecipientName)})
	}
	return record.NewItem(src, Publisher, record.Entry{
		Key:       "subaward:" + prime + ":" + sub,
		Title:     title(r, "subaward "+sub+" under "+string(res.PrimeAwardID), string(res.SubAwardeeName)),
		Summary:   string(res.SubAwardDescription),
		Published: record.ParseDate(string(res.SubAwardDate)),
		Record:    r,
	}, now), true
}

func title(r *model.Record, id, recipient string) string {
	var b strings.Builder
	b.WriteString(record.FirstNonEmpty(recipient, "Unknown recipient"))
	b.WriteString(": ")
	if r.NoticeType != "" {
		b.WriteString(strings.ToLower(r.NoticeType) + " ")
	}
	b.WriteString(id)
	if len(r.AgencyPath) > 0 && r.AgencyPath[len(r.AgencyPath)-1] != "" {
		b.WriteString(" from " + r.AgencyPath[len(r.AgencyPath)-1])
	}
	if r.Amount != "" {
		b.WriteString(" for $" + r.Amount)
	}
	return b.String()
}

func (p *place) String() string {
	if p == nil {
		return ""
	}
	return record.Place(string(p.City), string(p.State), string(p.Zip), string(p.Country))
}
