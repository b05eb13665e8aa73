package fpds

import "encoding/xml"

// Wire types of the FPDS ATOM feed. Tags name local names only, so
// encoding/xml matches them in any namespace: the current
// https://www.fpds.gov/FPDS, the old http://www.fpdsng.com/FPDS, and Atom
// elements whatever their prefix (ns0: after ElementTree re-serialised).

type feed struct {
	XMLName xml.Name `xml:"feed"`
	Links   []link   `xml:"link"`
	Entries []entry  `xml:"entry"`
}

type link struct {
	Rel  string `xml:"rel,attr"`
	Href string `xml:"href,attr"`
}

type entry struct {
	Title    string `xml:"title"`
	Modified string `xml:"modified"`
	Content  struct {
		Award *contract `xml:"award"`
		IDV   *contract `xml:"IDV"`
	} `xml:"content"`
}

// contract holds the fields tierwatch reads of an award or IDV; the two
// differ only in where the PIID lives.
type contract struct {
	AwardID struct {
		ContractID ids `xml:"awardContractID"`
	} `xml:"awardID"`
	ContractID struct {
		IDVID ids `xml:"IDVID"`
	} `xml:"contractID"`
	Dates struct {
		Signed string `xml:"signedDate"`
	} `xml:"relevantContractDates"`
	Dollars struct {
		Obligated string `xml:"obligatedAmount"`
	} `xml:"dollarValues"`
	Purchaser struct {
		Agency named `xml:"contractingOfficeAgencyID"`
		Office named `xml:"contractingOfficeID"`
	} `xml:"purchaserInformation"`
	ContractData struct {
		ActionType     named  `xml:"contractActionType"`
		SolicitationID string `xml:"solicitationID"`
		Description    string `xml:"descriptionOfContractRequirement"`
	} `xml:"contractData"`
	Product struct {
		PSC   string `xml:"productOrServiceCode"`
		NAICS string `xml:"principalNAICSCode"`
	} `xml:"productOrServiceInformation"`
	Place struct {
		Principal struct {
			State   string `xml:"stateCode"`
			Country string `xml:"countryCode"`
		} `xml:"principalPlaceOfPerformance"`
		Zip string `xml:"placeOfPerformanceZIPCode"`
	} `xml:"placeOfPerformance"`
	Vendor struct {
		Header struct {
			Name string `xml:"vendorName"`
		} `xml:"vendorHeader"`
		Site struct {
			Identifiers struct {
				UEI  string `xml:"vendorUEIInformation>UEI"`
				CAGE string `xml:"cageCode"`
			} `xml:"entityIdentifiers"`
		} `xml:"vendorSiteDetails"`
	} `xml:"vendor"`
	Transaction struct {
		LastModified string `xml:"lastModifiedDate"`
	} `xml:"transactionInformation"`
}

type ids struct {
	Agency named  `xml:"agencyID"`
	PIID   string `xml:"PIID"`
	Mod    string `xml:"modNumber"`
}

// named is an element whose text is a code and whose attributes name it.
type named struct {
	Code           string `xml:",chardata"`
	Name           string `xml:"name,attr"`
	Description    string `xml:"description,attr"`
	DepartmentName string `xml:"departmentName,attr"`
}
