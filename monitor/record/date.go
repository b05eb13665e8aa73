package record

import (
	"strings"
	"time"
)

// dateLayouts are the date forms the procurement APIs write: RFC 3339
// (SAM.gov deadlines with offsets, contract awards' dateSigned), plain
// dates, FPDS's "2020-04-02 07:30:45" without zone, SAM.gov's
// "2021-09-09 15:45:03.469-04" and the contract awards' "... 00:00:00.000".
var dateLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05",
	"2006-01-02 15:04:05.999999999-07:00",
	"2006-01-02 15:04:05.999999999-07",
	"2006-01-02 15:04:05-07",
	"2006-01-02 15:04:05.999999999",
	"2006-01-02 15:04:05",
	time.DateOnly,
	"01/02/2006",
	"2006/01/02",
}

// ParseDate parses s in any of the layouts above; a time without a zone is
// taken as UTC. It returns the zero time for "" or an unknown form.
func ParseDate(s string) time.Time {
	s = strings.TrimSpace(s)
	if s == "" || len(s) > 64 {
		return time.Time{}
	}
	for _, l := range dateLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t
		}
	}
	return time.Time{}
}
