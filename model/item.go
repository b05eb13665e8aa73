package model

import "time"

// Item is one normalised entry of a source: a feed item, a procurement
// record or an entry of a plain web page. Text fields are plain text (no
// markup, entities decoded, valid UTF-8).
type Item struct {
	// Key identifies the item within its source and is stable across polls:
	// "g:" GUID, "u:" canonical URL, or "h:" hash of title and date, chosen by
	// the normaliser. The store's seen set is keyed by Source + Key.
	Key    string `json:"key"`
	Source string `json:"source"`

	GUID string `json:"guid,omitempty"`
	// URL is the canonical link: tracking parameters removed, redirect
	// wrappers unwrapped. Link is the link as the source gave it.
	URL  string `json:"url"`
	Link string `json:"link,omitempty"`

	Title   string `json:"title"`
	Summary string `json:"summary,omitempty"`
	Content string `json:"content,omitempty"`

	// Publisher is the canonical publisher name and Domain the host of URL
	// without "www."; Tier is resolved from the tier table (or the source's
	// override) before matching.
	Publisher string `json:"publisher,omitempty"`
	Domain    string `json:"domain,omitempty"`
	Tier      Tier   `json:"tier,omitempty"`

	// Published is the item's own date: published, else updated, else
	// FirstSeen; a date in the future is clamped to FirstSeen.
	// DateSource says which: "published", "updated" or "first_seen".
	Published  time.Time `json:"published"`
	DateSource string    `json:"date_source,omitempty"`
	FirstSeen  time.Time `json:"first_seen"`

	// Record holds structured fields of procurement and register records;
	// nil for news.
	Record *Record `json:"record,omitempty"`
}

// Record is the structured part of a procurement or Federal Register item.
// Empty strings mean unknown.
type Record struct {
	Kind string `json:"kind"` // "opportunity", "award", "subaward", "document"

	AgencyPath []string `json:"agency_path,omitempty"` // department first, then subtier, office
	Vendors    []Vendor `json:"vendors,omitempty"`

	// Amount is an exact decimal as the source wrote it, normalised to
	// digits with an optional leading "-" and "." (no thousands separators);
	// "" means unknown (the source had "" or null).
	Amount string `json:"amount,omitempty"`

	NoticeID           string `json:"notice_id,omitempty"`
	SolicitationNumber string `json:"solicitation_number,omitempty"`
	AwardID            string `json:"award_id,omitempty"` // PIID, FAIN or generated_internal_id
	PIID               string `json:"piid,omitempty"`
	Modification       string `json:"modification,omitempty"`
	DocumentNumber     string `json:"document_number,omitempty"`
	NoticeType         string `json:"notice_type,omitempty"`

	NAICS []string `json:"naics,omitempty"`
	PSC   []string `json:"psc,omitempty"`

	ResponseDeadline   time.Time `json:"response_deadline,omitzero"`
	PlaceOfPerformance string    `json:"place_of_performance,omitempty"`
	Description        string    `json:"description,omitempty"`
	// RecordURL is the public page of the record (SAM.gov uiLink, the
	// usaspending.gov award page, the Federal Register html_url).
	RecordURL string `json:"record_url,omitempty"`
}

// Vendor is a company named by a procurement record.
type Vendor struct {
	Name string `json:"name"`
	UEI  string `json:"uei,omitempty"`
	CAGE string `json:"cage,omitempty"`
}

// Identifiers returns the procurement identifiers that tie records of one
// event together (solicitation, notice, PIID, award and document ids), each
// prefixed with its kind, in a fixed order. It returns nil for a nil record.
func (r *Record) Identifiers() []string {
	if r == nil {
		return nil
	}
	var ids []string
	add := func(kind, v string) {
		if v != "" {
			ids = append(ids, kind+":"+v)
		}
	}
	add("solicitation", r.SolicitationNumber)
	add("notice", r.NoticeID)
	add("piid", r.PIID)
	add("award", r.AwardID)
	add("document", r.DocumentNumber)
	return ids
}
