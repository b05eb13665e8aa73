package sam

import "github.com/tierwatch/tierwatch/monitor/record"

// Wire types of the SAM.gov APIs. Scalars use record.String, record.Int
// and record.Amount because the APIs write numbers as strings in some
// records and numbers in others, and null where others write "".

// oppResponse is a Get Opportunities v2 answer
// (https://open.gsa.gov/api/get-opportunities-public-api/).
type oppResponse struct {
	TotalRecords      record.Int    `json:"totalRecords"`
	Limit             record.Int    `json:"limit"`
	Offset            record.Int    `json:"offset"`
	OpportunitiesData []opportunity `json:"opportunitiesData"`
	throttle
}

// throttle is the API gateway's over-limit answer, which SAM.gov sends
// with status 429 (and which a proxy may relay as 200):
// {"code":"900804","message":"Message throttled out","description":"You
// have exceeded your quota. …","nextAccessTime":"2026-May-23 00:00:00+0000 UTC"}.
type throttle struct {
	Code           record.String `json:"code"`
	Message        record.String `json:"message"`
	NextAccessTime record.String `json:"nextAccessTime"`
}

type opportunity struct {
	NoticeID           record.String `json:"noticeId"`
	Title              record.String `json:"title"`
	SolicitationNumber record.String `json:"solicitationNumber"`
	FullParentPathName record.String `json:"fullParentPathName"`
	// Department, SubTier and Office are the deprecated spelling of the
	// path, still in the documentation's examples.
	Department         record.String   `json:"department"`
	SubTier            record.String   `json:"subTier"`
	Office             record.String   `json:"office"`
	PostedDate         record.String   `json:"postedDate"`
	Type               record.String   `json:"type"`
	BaseType           record.String   `json:"baseType"`
	ResponseDeadLine   record.String   `json:"responseDeadLine"`
	NAICSCode          record.String   `json:"naicsCode"`
	NAICSCodes         []record.String `json:"naicsCodes"`
	ClassificationCode record.String   `json:"classificationCode"`
	Award              *oppAward       `json:"award"`
	PlaceOfPerformance *location       `json:"placeOfPerformance"`
	UILink             record.String   `json:"uiLink"`
	TypeOfSetAside     record.String   `json:"typeOfSetAsideDescription"`
}

type oppAward struct {
	Date    record.String `json:"date"`
	Number  record.String `json:"number"`
	Amount  record.Amount `json:"amount"`
	Awardee *struct {
		Name     record.String `json:"name"`
		UEISAM   record.String `json:"ueiSAM"`
		CageCode record.String `json:"cageCode"`
	} `json:"awardee"`
}

// location is SAM.gov's address: city, state and country as {code, name}.
type location struct {
	City    codeName      `json:"city"`
	State   codeName      `json:"state"`
	Zip     record.String `json:"zip"`
	Country codeName      `json:"country"`
}

type codeName struct {
	Code record.String `json:"code"`
	Name record.String `json:"name"`
}

func (l *location) String() string {
	if l == nil {
		return ""
	}
	return record.Place(string(l.City.Name),
		record.FirstNonEmpty(string(l.State.Code), string(l.State.Name)), string(l.Zip),
		record.FirstNonEmpty(string(l.Country.Name), string(l.Country.Code)))
}

// awardsResponse is a Contract Awards v1 answer
// (https://open.gsa.gov/api/contract-awards/): every number is a string.
type awardsResponse struct {
	AwardSummary []contractAward `json:"awardSummary"`
	TotalRecords record.Int      `json:"totalRecords"`
	Limit        record.Int      `json:"limit"`
	Offset       record.Int      `json:"offset"`
	throttle
}

type contractAward struct {
	ContractID struct {
		Subtier            codeName      `json:"subtier"`
		PIID               record.String `json:"piid"`
		ModificationNumber record.String `json:"modificationNumber"`
		ReferencedIDVPIID  record.String `json:"referencedIDVPiid"`
	} `json:"contractId"`
	CoreData struct {
		SolicitationID      record.String `json:"solicitationId"`
		AwardOrIDVType      codeName      `json:"awardOrIDVType"`
		FederalOrganization struct {
			ContractingInformation struct {
				ContractingDepartment codeName `json:"contractingDepartment"`
				ContractingSubtier    codeName `json:"contractingSubtier"`
				ContractingOffice     codeName `json:"contractingOffice"`
			} `json:"contractingInformation"`
		} `json:"federalOrganization"`
		PrincipalPlaceOfPerformance struct {
			City    codeName      `json:"city"`
			State   codeName      `json:"state"`
			ZipCode record.String `json:"zipCode"`
			Country codeName      `json:"country"`
		} `json:"principalPlaceOfPerformance"`
		ProductOrServiceInformation struct {
			ProductOrService codeName   `json:"productOrService"`
			PrincipalNAICS   []codeName `json:"principalNaics"`
		} `json:"productOrServiceInformation"`
	} `json:"coreData"`
	AwardDetails struct {
		Dates struct {
			DateSigned record.String `json:"dateSigned"`
		} `json:"dates"`
		Dollars struct {
			ActionObligation record.Amount `json:"actionObligation"`
		} `json:"dollars"`
		TotalContractDollars struct {
			TotalActionObligation record.Amount `json:"totalActionObligation"`
		} `json:"totalContractDollars"`
		ProductOrServiceInformation struct {
			DescriptionOfContractRequirement record.String `json:"descriptionOfContractRequirement"`
		} `json:"productOrServiceInformation"`
		CompetitionInformation struct {
			SolicitationID record.String `json:"solicitationId"`
		} `json:"competitionInformation"`
		AwardeeData struct {
			AwardeeHeader struct {
				AwardeeName       record.String `json:"awardeeName"`
				LegalBusinessName record.String `json:"legalBusinessName"`
			} `json:"awardeeHeader"`
			AwardeeUEIInformation struct {
				UniqueEntityID record.String `json:"uniqueEntityId"`
				CageCode       record.String `json:"cageCode"`
			} `json:"awardeeUEIInformation"`
		} `json:"awardeeData"`
		TransactionData struct {
			LastModifiedDate record.String `json:"lastModifiedDate"`
		} `json:"transactionData"`
	} `json:"awardDetails"`
}
