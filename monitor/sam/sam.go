// Package sam polls SAM.gov: the Get Opportunities API v2
// (sam_opportunities: solicitations, notices, award notices) and the
// Contract Awards API v1 (sam_awards, the successor of the FPDS ATOM feed).
//
// Both APIs take the key as the api_key query parameter, so every URL this
// package logs or puts into an error goes through monitor.RedactURL. Both
// count every request against a daily quota (as few as 10 a day for a
// personal key without a role) that renews at midnight UTC: requests are
// spent from the source's daily budget, and a 429 or the gateway's
// "Message throttled out" answer stops the source until midnight UTC
// while other sources go on.
package sam

import (
	"context"
	"encoding/json"
	"errors"
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
)

// Publisher is the publisher of SAM.gov items unless the source names one.
const Publisher = "SAM.gov"

// throttledCode is the WSO2 gateway's "Message throttled out" code that
// api.sam.gov answers once a key's quota is used up.
const throttledCode = "900804"

// errThrottled is the cause of a rate_limited FetchError built from the
// gateway's over-limit body.
var errThrottled = errors.New("SAM.gov quota exceeded (Message throttled out)")

// samDate is the MM/dd/yyyy form both APIs take for dates.
const samDate = "01/02/2006"

// get fetches one page and decodes it into v, turning the gateway's
// over-limit body into a rate_limited error. It reports false for a 204
// (the Contract Awards API's "no data").
func get(ctx context.Context, f *monitor.Fetcher, src config.Source, st *model.SourceState, reqURL string, v interface{ throttled() bool }) (bool, error) {
	req := monitor.Request{Source: src.Name, URL: reqURL, Header: http.Header{"Accept": {"application/json"}}}
	if record.IsFile(reqURL) {
		req.ETag, req.LastModified = st.ETag, st.LastModified
	}
	resp, err := f.Fetch(ctx, req)
	if err != nil {
		return false, err
	}
	if resp.NotModified || resp.Status == http.StatusNoContent || len(strings.TrimSpace(string(resp.Body))) == 0 {
		return false, nil
	}
	if err := json.Unmarshal(resp.Body, v); err != nil {
		return false, &monitor.FetchError{Source: src.Name, URL: monitor.RedactURL(reqURL), Class: model.ClassParse,
			Err: fmt.Errorf("decode response: %w", err)}
	}
	if v.throttled() {
		return false, &monitor.FetchError{Source: src.Name, URL: monitor.RedactURL(reqURL), Class: model.ClassRateLimited,
			Status: resp.Status, Err: errThrottled}
	}
	if record.IsFile(reqURL) {
		st.ETag, st.LastModified = resp.ETag, resp.LastModified
	}
	return true, nil
}

func (t *throttle) throttled() bool {
	return string(t.Code) == throttledCode || strings.EqualFold(string(t.Message), "Message throttled out")
}

// endpoint returns the request URL: src.URL with params added, or the
// file: URL unchanged (sample data is one page).
func endpoint(src config.Source, params url.Values) (string, error) {
	if record.IsFile(src.URL) {
		return src.URL, nil
	}
	u, err := url.Parse(src.URL)
	if err != nil {
		return "", &monitor.FetchError{Source: src.Name, Class: model.ClassPermanent, Err: errors.New("invalid url")}
	}
	q := u.Query()
	for k, vs := range params {
		q[k] = vs
	}
	u.RawQuery = q.Encode()
	return u.String(), nil
}

func one(list []string) string {
	if len(list) == 1 {
		return strings.TrimSpace(list[0])
	}
	return ""
}

func runOptions(log *slog.Logger) record.Options {
	return record.Options{DailyQuota: true, Log: log}
}

// splitPath splits SAM.gov's dotted fullParentPathName
// ("HOMELAND SECURITY, DEPARTMENT OF.US IMMIGRATION AND CUSTOMS ENFORCEMENT.…").
func splitPath(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ".")
}

func dateOf(s record.String) time.Time { return record.ParseDate(string(s)) }
