package usaspending

import "github.com/tierwatch/tierwatch/monitor/record"

// request is the body of POST /api/v2/search/spending_by_award/
// (https://api.usaspending.gov/docs/endpoints, contract
// api_contracts/contracts/v2/search/spending_by_award.md).
type request struct {
	Filters   filters  `json:"filters"`
	Fields    []string `json:"fields"`
	Page      int      `json:"page"`
	Limit     int      `json:"limit"`
	Sort      string   `json:"sort"`
	Order     string   `json:"order"`
	Subawards bool     `json:"subawards"`
	// SpendingLevel supersedes subawards in newer API versions.
	SpendingLevel string `json:"spending_level"`
}

type filters struct {
	AwardTypeCodes      []string     `json:"award_type_codes"`
	TimePeriod          []timePeriod `json:"time_period"`
	RecipientSearchText []string     `json:"recipient_search_text,omitempty"`
	Agencies            []agency     `json:"agencies,omitempty"`
	Keywords            []string     `json:"keywords,omitempty"`
	NAICSCodes          []string     `json:"naics_codes,omitempty"`
	PSCCodes            []string     `json:"psc_codes,omitempty"`
}

type timePeriod struct {
	StartDate string `json:"start_date"`
	EndDate   string `json:"end_date"`
	DateType  string `json:"date_type"`
}

type agency struct {
	Type string `json:"type"`
	Tier string `json:"tier"`
	Name string `json:"name"`
}

// response is the answer; results hold the requested fields by their
// display names.
type response struct {
	Results      []result `json:"results"`
	PageMetadata struct {
		Page    record.Int `json:"page"`
		HasNext bool       `json:"hasNext"`
	} `json:"page_metadata"`
}

type result struct {
	InternalID          record.String `json:"internal_id"`
	GeneratedInternalID record.String `json:"generated_internal_id"`
	AwardID             record.String `json:"Award ID"`
	RecipientName       record.String `json:"Recipient Name"`
	RecipientUEI        record.String `json:"Recipient UEI"`
	AwardAmount         record.Amount `json:"Award Amount"`
	Description         record.String `json:"Description"`
	ContractAwardType   record.String `json:"Contract Award Type"`
	AwardType           record.String `json:"Award Type"`
	AwardingAgency      record.String `json:"Awarding Agency"`
	AwardingSubAgency   record.String `json:"Awarding Sub Agency"`
	StartDate           record.String `json:"Start Date"`
	BaseObligationDate  record.String `json:"Base Obligation Date"`
	LastModifiedDate    record.String `json:"Last Modified Date"`
	NAICS               codeDesc      `json:"NAICS"`
	PSC                 codeDesc      `json:"PSC"`
	PlaceOfPerformance  *place        `json:"Primary Place of Performance"`

	// Subaward fields.
	SubAwardID          record.String `json:"Sub-Award ID"`
	SubAwardeeName      record.String `json:"Sub-Awardee Name"`
	SubRecipientUEI     record.String `json:"Sub-Recipient UEI"`
	SubAwardAmount      record.Amount `json:"Sub-Award Amount"`
	SubAwardDate        record.String `json:"Sub-Award Date"`
	SubAwardDescription record.String `json:"Sub-Award Description"`
	PrimeAwardID        record.String `json:"Prime Award ID"`
	PrimeRecipientName  record.String `json:"Prime Recipient Name"`
	PrimeGeneratedID    record.String `json:"prime_award_generated_internal_id"`
}

// codeDesc is {"code","description"}; older answers give a bare string.
type codeDesc struct {
	Code record.String
}

// UnmarshalJSON accepts an object with "code", or a string; it never
// fails.
func (c *codeDesc) UnmarshalJSON(b []byte) error {
	var obj struct {
		Code record.String `json:"code"`
	}
	if len(b) > 0 && b[0] == '{' {
		_ = jsonUnmarshal(b, &obj) // a malformed object leaves the code empty
		c.Code = obj.Code
		return nil
	}
	return c.Code.UnmarshalJSON(b)
}

type place struct {
	City    record.String `json:"city_name"`
	State   record.String `json:"state_code"`
	Zip     record.String `json:"zip5"`
	Country record.String `json:"country_name"`
}
