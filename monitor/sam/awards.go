package sam

import (
	"context"
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

// Awards is the sam_awards adapter (Contract Awards API v1). It is safe
// for concurrent use.
type Awards struct{ log *slog.Logger }

// NewAwards returns the adapter; a nil log discards.
func NewAwards(log *slog.Logger) *Awards {
	return &Awards{log: monitor.AdapterLog(log, model.SourceSAMAwards)}
}

// Poll reads the contract actions last modified in the source's window,
// page by page (limit up to 100; offset is a page index per the API
// documentation; a 204 means no data), one item per action keyed
// "piid:<agency>:<piid>:<modification>".
func (a *Awards) Poll(ctx context.Context, f *monitor.Fetcher, src config.Source, st *model.SourceState, now time.Time) ([]model.Item, error) {
	q := src.QueryValue()
	limit := q.PageLimit(model.SourceSAMAwards)
	return record.Run(ctx, src, st, now, runOptions(a.log), func(ctx context.Context, w record.Window, cursor string) (record.Page, error) {
		page, _ := strconv.Atoi(cursor) // "" is 0; cursors are ours
		reqURL, err := endpoint(src, AwardParams(q, w, limit, page))
		if err != nil {
			return record.Page{}, err
		}
		var resp awardsResponse
		ok, err := get(ctx, f, src, st, reqURL, &resp)
		if err != nil || !ok {
			return record.Page{}, err
		}
		var pg record.Page
		for _, c := range resp.AwardSummary {
			if it, ok := awardItem(src, c, now); ok {
				pg.Items = append(pg.Items, it)
			}
		}
		if len(resp.AwardSummary) >= limit && int64(page+1)*int64(limit) < int64(resp.TotalRecords) {
			pg.Next = strconv.Itoa(page + 1)
		}
		return pg, nil
	})
}

// AwardParams is the query of one page: the key, lastModifiedDate as
// [MM/DD/YYYY,MM/DD/YYYY], limit, offset (page index), and the filters the
// API takes: awardeeUniqueEntityId, naicsCode and productOrServiceCode with
// values joined by "~" (OR), awardeeLegalBusinessName and
// contractingDepartmentName with one value. The key is included: callers
// must redact the URL before showing it.
func AwardParams(q config.Query, w record.Window, limit, page int) url.Values {
	p := url.Values{}
	if q.APIKey.IsSet() {
		p.Set("api_key", q.APIKey.Value())
	}
	p.Set("lastModifiedDate", "["+w.From.Format(samDate)+","+w.To.Format(samDate)+"]")
	p.Set("limit", strconv.Itoa(limit))
	p.Set("offset", strconv.Itoa(page))
	orList := func(k string, vs []string) {
		var clean []string
		for _, v := range vs {
			// The API rejects & | { } ^ \ in values, and ~ is its OR.
			if v = strings.TrimSpace(v); v != "" && !strings.ContainsAny(v, "&|{}^\\~") {
				clean = append(clean, v)
			}
		}
		if len(clean) > 0 && len(clean) <= 100 {
			p.Set(k, strings.Join(clean, "~"))
		}
	}
	orList("awardeeUniqueEntityId", q.UEI)
	orList("naicsCode", q.NAICS)
	orList("productOrServiceCode", q.PSC)
	if len(q.UEI) == 0 {
		orList("awardeeLegalBusinessName", []string{one(q.Vendors)})
	}
	orList("contractingDepartmentName", []string{one(q.Agencies)})
	return p
}

func awardItem(src config.Source, c contractAward, now time.Time) (model.Item, bool) {
	id := c.ContractID
	piid := string(id.PIID)
	if piid == "" {
		return model.Item{}, false
	}
	agency := string(id.Subtier.Code)
	mod := record.FirstNonEmpty(string(id.ModificationNumber), "0")
	org := c.CoreData.FederalOrganization.ContractingInformation
	d := c.AwardDetails
	hdr := d.AwardeeData.AwardeeHeader
	uei := d.AwardeeData.AwardeeUEIInformation
	pop := c.CoreData.PrincipalPlaceOfPerformance
	psi := c.CoreData.ProductOrServiceInformation
	var naics []string
	for _, n := range psi.PrincipalNAICS {
		naics = append(naics, string(n.Code))
	}
	r := &model.Record{
		Kind:               "award",
		AgencyPath:         []string{string(org.ContractingDepartment.Name), string(org.ContractingSubtier.Name), string(org.ContractingOffice.Name)},
		Amount:             string(d.Dollars.ActionObligation),
		SolicitationNumber: record.FirstNonEmpty(string(c.CoreData.SolicitationID), string(d.CompetitionInformation.SolicitationID)),
		AwardID:            piid,
		PIID:               piid,
		Modification:       mod,
		NoticeType:         string(c.CoreData.AwardOrIDVType.Name),
		NAICS:              naics,
		PSC:                []string{string(psi.ProductOrService.Code)},
		PlaceOfPerformance: record.Place(string(pop.City.Name), record.FirstNonEmpty(string(pop.State.Code), string(pop.State.Name)),
			string(pop.ZipCode), record.FirstNonEmpty(string(pop.Country.Name), string(pop.Country.Code))),
		Description: string(d.ProductOrServiceInformation.DescriptionOfContractRequirement),
		// The API has no public page per action; SAM.gov's search finds the PIID.
		RecordURL: "https://sam.gov/search/?index=_all&keywords=" + url.QueryEscape(piid),
	}
	if name := record.FirstNonEmpty(string(hdr.AwardeeName), string(hdr.LegalBusinessName)); name != "" || uei.UniqueEntityID != "" {
		r.Vendors = []model.Vendor{{Name: name, UEI: string(uei.UniqueEntityID), CAGE: string(uei.CageCode)}}
	}
	title := record.FirstNonEmpty(string(c.CoreData.AwardOrIDVType.Name), "Award") + " " + piid
	if mod != "0" {
		title += " modification " + mod
	}
	if len(r.Vendors) > 0 && r.Vendors[0].Name != "" {
		title += " to " + r.Vendors[0].Name
	}
	if r.Amount != "" {
		title += " for $" + r.Amount
	}
	published := dateOf(d.TransactionData.LastModifiedDate)
	if signed := dateOf(d.Dates.DateSigned); !signed.IsZero() {
		published = signed
	}
	return record.NewItem(src, Publisher, record.Entry{
		Key:       "piid:" + agency + ":" + piid + ":" + mod,
		Title:     title,
		Summary:   summary(r),
		Published: published,
		Record:    r,
	}, now), true
}
