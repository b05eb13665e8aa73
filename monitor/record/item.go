package record

import (
	"strings"
	"time"

	"github.com/tierwatch/tierwatch/config"
	"github.com/tierwatch/tierwatch/model"
	"github.com/tierwatch/tierwatch/monitor"
)

// Text limits for record items, in bytes.
const (
	maxTitle   = 1000
	maxSummary = 4000
	maxField   = 2000
)

// futureSlack is how far ahead of now a record's date may lie before it is
// treated as wrong and replaced by the first-seen time.
const futureSlack = 48 * time.Hour

// Entry is one record ready to become an item.
type Entry struct {
	Key       string // stable: "notice:…", "award:…", "piid:…", "fr:…"
	Title     string
	Summary   string
	Published time.Time // zero when the record has no usable date
	Record    *model.Record
}

// NewItem builds the item of e for source src: text made plain and
// bounded, record fields trimmed, URL the record's public page, the
// publisher src.Publisher or else publisher, tier src.Tier or else 1
// (procurement records are primary sources). A date that is missing or
// more than two days ahead of now is replaced by now ("first_seen").
func NewItem(src config.Source, publisher string, e Entry, now time.Time) model.Item {
	now = now.UTC()
	it := model.Item{
		Key:       e.Key,
		Source:    src.Name,
		Title:     monitor.PlainText(e.Title, maxTitle),
		Summary:   monitor.PlainText(e.Summary, maxSummary),
		Publisher: publisher,
		Tier:      1,
		FirstSeen: now,
		Record:    e.Record,
	}
	if p := strings.TrimSpace(src.Publisher); p != "" {
		it.Publisher = p
	}
	if src.Tier.Valid() {
		it.Tier = src.Tier
	}
	if r := e.Record; r != nil {
		cleanRecord(r)
		it.Link = r.RecordURL
		it.URL = monitor.CanonicalURL(r.RecordURL)
		it.Domain = monitor.Domain(it.URL)
	}
	switch p := e.Published; {
	case p.IsZero() || p.Year() < 1970 || p.After(now.Add(futureSlack)):
		it.Published, it.DateSource = now, "first_seen"
	default:
		it.Published, it.DateSource = p.UTC(), "published"
	}
	if it.Title == "" {
		it.Title = it.Key
	}
	return it
}

// cleanRecord trims and bounds the record's text so hostile payloads
// cannot smuggle markup or megabytes into the store.
func cleanRecord(r *model.Record) {
	f := func(s string) string { return monitor.PlainText(s, maxField) }
	var path []string
	for _, a := range r.AgencyPath {
		if a = f(a); a != "" && (len(path) == 0 || path[len(path)-1] != a) {
			path = append(path, a)
		}
	}
	r.AgencyPath = path
	var vs []model.Vendor
	for _, v := range r.Vendors {
		v = model.Vendor{Name: f(v.Name), UEI: f(v.UEI), CAGE: f(v.CAGE)}
		if v != (model.Vendor{}) {
			vs = append(vs, v)
		}
	}
	r.Vendors = vs
	for _, p := range []*string{&r.NoticeID, &r.SolicitationNumber, &r.AwardID, &r.PIID,
		&r.Modification, &r.DocumentNumber, &r.NoticeType, &r.PlaceOfPerformance, &r.RecordURL} {
		*p = f(*p)
	}
	r.Description = monitor.PlainText(r.Description, maxSummary)
	r.NAICS = codes(r.NAICS)
	r.PSC = codes(r.PSC)
	if !strings.HasPrefix(r.RecordURL, "https://") && !strings.HasPrefix(r.RecordURL, "http://") {
		r.RecordURL = ""
	}
}

// codes trims, drops empties and duplicates.
func codes(in []string) []string {
	var out []string
	for _, c := range in {
		c = monitor.PlainText(c, 32)
		if c == "" {
			continue
		}
		dup := false
		for _, o := range out {
			dup = dup || o == c
		}
		if !dup {
			out = append(out, c)
		}
	}
	return out
}

// Place joins the non-empty parts of an address ("REDONDO BEACH, CA
// 90278, UNITED STATES").
func Place(city, state, zip, country string) string {
	var parts []string
	cs := strings.TrimSpace(state)
	if z := strings.TrimSpace(zip); z != "" {
		cs = strings.TrimSpace(cs + " " + z)
	}
	for _, p := range []string{strings.TrimSpace(city), cs, strings.TrimSpace(country)} {
		if p != "" {
			parts = append(parts, p)
		}
	}
	return strings.Join(parts, ", ")
}

// FirstNonEmpty returns the first argument that is not blank, trimmed.
func FirstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s = strings.TrimSpace(s); s != "" {
			return s
		}
	}
	return ""
}
