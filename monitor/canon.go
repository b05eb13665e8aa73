package monitor

import (
	"net"
	"net/url"
	"slices"
	"strings"
	"unicode/utf8"
)

// trackingParams are query parameters that only track a click and never
// select content, matched case-insensitively. utm_* is matched by prefix.
var trackingParams = map[string]bool{
	"fbclid": true, "gclid": true, "dclid": true, "msclkid": true, "yclid": true,
	"mc_cid": true, "mc_eid": true, "ref": true, "ref_src": true, "ref_url": true,
	"cmpid": true, "ito": true, "smid": true, "smtyp": true, "cmp": true,
	"_hsenc": true, "_hsmi": true, "mkt_tok": true, "igshid": true, "si": true,
	"ocid": true, "ncid": true, "sr_share": true, "guccounter": true,
	"guce_referrer": true, "guce_referrer_sig": true, "soc_src": true, "soc_trk": true,
	"wt.mc_id": true, "__twitter_impression": true, "share": true,
}

func isTrackingParam(name string) bool {
	n := strings.ToLower(name)
	return trackingParams[n] || strings.HasPrefix(n, "utm_") || strings.HasPrefix(n, "__hs")
}

// maxUnwrap bounds how many redirect wrappers CanonicalURL peels off, so a
// hostile link nesting wrappers cannot make it loop for long.
const maxUnwrap = 4

// CanonicalURL returns the canonical form of an absolute http(s) link, used
// to key and group items: scheme and host lowercased, default ports and the
// fragment dropped, tracking parameters (utm_*, fbclid, gclid, mc_cid, ref,
// smid, …) removed, the remaining parameters sorted, an empty path written
// as "/", and google.com/url redirect wrappers (target in url= or q=)
// unwrapped. FeedBurner's feedproxy links do not carry their target;
// Normalise replaces them with the item's feedburner:origLink instead.
// A leading "www." is kept: it is part of the address; Domain strips it.
// It returns "" when raw is not an absolute http or https URL. The result is
// idempotent: CanonicalURL(CanonicalURL(x)) == CanonicalURL(x).
func CanonicalURL(raw string) string {
	u := parseHTTP(raw)
	if u == nil {
		return ""
	}
	for range maxUnwrap {
		inner := unwrapTarget(u)
		if inner == nil {
			break
		}
		u = inner
	}
	u.Scheme = strings.ToLower(u.Scheme)
	host := strings.ToLower(u.Hostname())
	port := u.Port()
	if (u.Scheme == "http" && port == "80") || (u.Scheme == "https" && port == "443") {
		port = ""
	}
	host = strings.TrimRight(host, ".") // all trailing dots: "googl.." must canonicalise in one pass
	if host == "" || !utf8.ValidString(host) {
		return ""
	}
	if port != "" || strings.Contains(host, ":") {
		u.Host = net.JoinHostPort(host, port)
		if port == "" {
			u.Host = "[" + host + "]"
		}
	} else {
		u.Host = host
	}
	u.User = nil
	u.Fragment, u.RawFragment = "", ""
	u.ForceQuery = false
	if u.Path == "" {
		u.Path, u.RawPath = "/", ""
	}
	u.RawQuery = canonicalQuery(u.RawQuery)
	out := u.String()
	if len(out) > maxURL {
		return "" // escaping grew it past what parseHTTP accepts
	}
	return out
}

// maxURL bounds accepted links; real article URLs are far shorter, and the
// bound keeps hostile links out of keys and the store.
const maxURL = 8 << 10

// parseHTTP parses raw as an absolute http(s) URL with a host, or returns nil.
func parseHTTP(raw string) *url.URL {
	raw = strings.TrimSpace(raw)
	if raw == "" || len(raw) > maxURL {
		return nil
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.Opaque != "" {
		return nil
	}
	switch strings.ToLower(u.Scheme) {
	case "http", "https":
		return u
	}
	return nil
}

// unwrapTarget returns the link a redirect wrapper points to, or nil when u
// is not a wrapper. Google's /url endpoint carries the target in url= (or in
// q= for search results); only absolute http(s) targets are accepted.
func unwrapTarget(u *url.URL) *url.URL {
	host := strings.TrimPrefix(strings.ToLower(u.Hostname()), "www.")
	isGoogle := host == "google.com" || strings.HasPrefix(host, "google.") ||
		host == "news.google.com"
	if !isGoogle || u.Path != "/url" {
		return nil
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		// ParseQuery keeps the pairs it could read; a bad pair elsewhere
		// should not stop us using a good url= pair.
		_ = err
	}
	for _, name := range []string{"url", "q"} {
		if t := parseHTTP(q.Get(name)); t != nil {
			return t
		}
	}
	return nil
}

// canonicalQuery drops tracking parameters and sorts the rest by name, then
// value, keeping each pair's original escaping so distinct values stay
// distinct. Empty pairs ("&&") are dropped.
func canonicalQuery(raw string) string {
	if raw == "" {
		return ""
	}
	var kept []string
	for p := range strings.SplitSeq(raw, "&") {
		if p == "" {
			continue
		}
		name, _, _ := strings.Cut(p, "=")
		if dec, err := url.QueryUnescape(name); err == nil {
			name = dec
		}
		if isTrackingParam(name) {
			continue
		}
		// url.Parse lets spaces through in queries; escape them so the
		// result is one token and CanonicalURL stays idempotent.
		kept = append(kept, strings.ReplaceAll(p, " ", "%20"))
	}
	slices.Sort(kept)
	return strings.Join(kept, "&")
}

// Domain returns the host of an absolute URL, lowercased, without a port or
// a leading "www.", or "" when raw has no host.
func Domain(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	h := strings.TrimSuffix(strings.ToLower(u.Hostname()), ".")
	return strings.TrimPrefix(h, "www.")
}
