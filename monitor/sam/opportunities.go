package sam

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/tierwatch/tierwatch/config"
	"github.com/tierwatch/tierwatch/model"
	"github.com/tierwatch/tierwatch/monitor"
	"github.com/tierwatch/tierwatch/monitor/record"
)

// maxOppSpan is the widest postedFrom–postedTo range the Get
// Opportunities API accepts ("at most a year apart").
const maxOppSpan = 364 * 24 * time.Hour

// Opportunities is the sam_opportunities adapter. It is safe for
// concurrent use.
type Opportunities struct{ log *slog.Logger }

// NewOpportunities returns the adapter; a nil log discards.
func NewOpportunities(log *slog.Logger) *Opportunities {
	return &Opportunities{log: monitor.AdapterLog(log, model.SourceSAMOpportunities)}
}

// Poll reads the notices posted in the source's current window, page by
// page (limit up to 1000, offset counting records), and returns one item
// per notice keyed "notice:<noticeId>".
func (o *Opportunities) Poll(ctx context.Context, f *monitor.Fetcher, src config.Source, st *model.SourceState, now time.Time) ([]model.Item, error) {
	q := src.QueryValue()
	limit := q.PageLimit(model.SourceSAMOpportunities)
	opts := runOptions(o.log)
	opts.MaxSpan = maxOppSpan
	return record.Run(ctx, src, st, now, opts, func(ctx context.Context, w record.Window, cursor string) (record.Page, error) {
		offset, _ := strconv.Atoi(cursor) // "" is 0; cursors are ours
		p := OpportunityParams(q, w, limit, offset)
		reqURL, err := endpoint(src, p)
		if err != nil {
			return record.Page{}, err
		}
		var resp oppResponse
		ok, err := get(ctx, f, src, st, reqURL, &resp)
		if err != nil || !ok {
			return record.Page{}, err
		}
		var pg record.Page
		for _, n := range resp.OpportunitiesData {
			if it, ok := opportunityItem(src, n, now); ok {
				pg.Items = append(pg.Items, it)
			}
		}
		next := offset + len(resp.OpportunitiesData)
		if len(resp.OpportunitiesData) > 0 && int64(next) < int64(resp.TotalRecords) {
			pg.Next = strconv.Itoa(next)
		}
		return pg, nil
	})
}

// OpportunityParams is the query of one page: the key, the posted-date
// window (MM/dd/yyyy), limit and offset, the notice types (ptype, comma
// separated) and the filters the API takes one value of: organizationName,
// ncode (NAICS), ccode (PSC) and title (keyword). With several values of a
// filter the API is not asked and the rules decide. The key is included:
// callers must redact the URL before showing it.
func OpportunityParams(q config.Query, w record.Window, limit, offset int) url.Values {
	p := url.Values{}
	if q.APIKey.IsSet() {
		p.Set("api_key", q.APIKey.Value())
	}
	p.Set("postedFrom", w.From.Format(samDate))
	p.Set("postedTo", w.To.Format(samDate))
	p.Set("limit", strconv.Itoa(limit))
	p.Set("offset", strconv.Itoa(offset))
	if len(q.NoticeTypes) > 0 {
		p.Set("ptype", strings.Join(q.NoticeTypes, ","))
	}
	for k, v := range map[string]string{
		"organizationName": one(q.Agencies), "ncode": one(q.NAICS),
		"ccode": one(q.PSC), "title": one(q.Keywords),
	} {
		if v != "" {
			p.Set(k, v)
		}
	}
	return p
}

// opportunityItem maps one notice; notices without a noticeId have no
// stable key and are skipped.
func opportunityItem(src config.Source, n opportunity, now time.Time) (model.Item, bool) {
	id := string(n.NoticeID)
	if id == "" {
		return model.Item{}, false
	}
	path := splitPath(string(n.FullParentPathName))
	if len(path) == 0 {
		path = []string{string(n.Department), string(n.SubTier), string(n.Office)}
	}
	naics := []string{string(n.NAICSCode)}
	for _, c := range n.NAICSCodes {
		naics = append(naics, string(c))
	}
	r := &model.Record{
		Kind:               "opportunity",
		AgencyPath:         path,
		NoticeID:           id,
		SolicitationNumber: string(n.SolicitationNumber),
		NoticeType:         string(n.Type),
		NAICS:              naics,
		PSC:                []string{string(n.ClassificationCode)},
		ResponseDeadline:   dateOf(n.ResponseDeadLine),
		PlaceOfPerformance: n.PlaceOfPerformance.String(),
		RecordURL:          string(n.UILink),
	}
	if r.RecordURL == "" {
		r.RecordURL = "https://sam.gov/opp/" + url.PathEscape(id) + "/view"
	}
	if a := n.Award; a != nil {
		r.PIID = string(a.Number)
		r.AwardID = string(a.Number)
		r.Amount = string(a.Amount)
		if aw := a.Awardee; aw != nil {
			r.Vendors = []model.Vendor{{Name: string(aw.Name), UEI: string(aw.UEISAM), CAGE: string(aw.CageCode)}}
		}
	}
	return record.NewItem(src, Publisher, record.Entry{
		Key:       "notice:" + id,
		Title:     string(n.Title),
		Summary:   summary(r),
		Published: dateOf(n.PostedDate),
		Record:    r,
	}, now), true
}

// summary describes a record in one line for reviewers and rules.
func summary(r *model.Record) string {
	var b strings.Builder
	b.WriteString(record.FirstNonEmpty(r.NoticeType, r.Kind))
	if len(r.AgencyPath) > 0 {
		fmt.Fprintf(&b, " by %s", strings.Join(r.AgencyPath, " / "))
	}
	if r.SolicitationNumber != "" {
		fmt.Fprintf(&b, ", solicitation %s", strings.TrimSpace(r.SolicitationNumber))
	}
	if r.PIID != "" {
		fmt.Fprintf(&b, ", award %s", r.PIID)
	}
	if len(r.Vendors) > 0 && strings.TrimSpace(r.Vendors[0].Name) != "" {
		fmt.Fprintf(&b, " to %s", strings.TrimSpace(r.Vendors[0].Name))
	}
	if r.Amount != "" {
		fmt.Fprintf(&b, " for $%s", r.Amount)
	}
	if !r.ResponseDeadline.IsZero() {
		fmt.Fprintf(&b, "; responses due %s", r.ResponseDeadline.UTC().Format(time.DateOnly))
	}
	return b.String()
}
