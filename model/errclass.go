package model

// ErrorClass says what kind of failure an error is, and so how a caller
// should retry it. Monitor and notify each classify their own errors into
// these classes; the class travels inside the error (see monitor.FetchError,
// notify.DeliveryError), not in a separate flag.
type ErrorClass string

const (
	ClassNetwork     ErrorClass = "network"      // connection refused, reset, DNS: retry with backoff
	ClassTimeout     ErrorClass = "timeout"      // connect or total deadline: retry with backoff
	ClassHTTPStatus  ErrorClass = "http_status"  // a 5xx or unexpected status: retry with backoff
	ClassRateLimited ErrorClass = "rate_limited" // 429 or 503 with Retry-After, or a quota: wait as told
	ClassTooLarge    ErrorClass = "too_large"    // body over the size cap: retry later, likely fails again
	ClassParse       ErrorClass = "parse"        // body is not a feed or record we can read
	ClassAuth        ErrorClass = "auth"         // 401/403: needs an operator, retried slowly
	ClassPermanent   ErrorClass = "permanent"    // other 4xx, bad URL: needs an operator, retried slowly
	ClassStorage     ErrorClass = "storage"      // the local store refused a write (disk full, …)
)
