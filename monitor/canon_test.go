package monitor

import (
	"net/url"
	"strings"
	"testing"
)

func TestCanonicalURL(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"lowercase scheme and host", "HTTPS://WWW.Example.COM/Path/A", "https://www.example.com/Path/A"},
		{"fragment dropped", "https://example.com/a#comments", "https://example.com/a"},
		{"utm dropped", "https://example.com/a?utm_source=rss&utm_medium=feed&utm_campaign=x", "https://example.com/a"},
		{"trackers dropped and rest sorted", "https://example.com/a?z=1&fbclid=x&gclid=y&a=2&mc_cid=1&mc_eid=2&ref=tw&cmpid=3&ito=4&smid=5",
			"https://example.com/a?a=2&z=1"},
		{"tracker names case-insensitive", "https://example.com/a?UTM_Source=x&id=7", "https://example.com/a?id=7"},
		{"meaningful params kept", "http://techcrunch.com/?p=446154", "http://techcrunch.com/?p=446154"},
		{"default ports dropped", "http://example.com:80/a", "http://example.com/a"},
		{"https default port dropped", "https://example.com:443/a", "https://example.com/a"},
		{"other port kept", "https://example.com:8443/a", "https://example.com:8443/a"},
		{"empty path", "https://example.com", "https://example.com/"},
		{"trailing dot host", "https://example.com./a", "https://example.com/a"},
		{"userinfo dropped", "https://u:p@example.com/a", "https://example.com/a"},
		{"google url= wrapper", "https://www.google.com/url?rct=j&sa=t&url=https://investorplace.com/2019/07/slack/&ct=ga&usg=AF",
			"https://investorplace.com/2019/07/slack/"},
		{"google q= wrapper", "https://www.google.com/url?q=https://example.org/story%3Futm_source%3Dx%26id%3D3&sa=D",
			"https://example.org/story?id=3"},
		{"nested wrappers", "https://google.com/url?url=" + url.QueryEscape("https://www.google.com/url?url=https://example.net/x"),
			"https://example.net/x"},
		{"google wrapper with non-http target kept", "https://www.google.com/url?url=javascript:alert(1)",
			"https://www.google.com/url?url=javascript:alert(1)"},
		{"google search not a wrapper", "https://www.google.com/search?q=https://x.test/", "https://www.google.com/search?q=https://x.test/"},
		{"empty pairs dropped", "https://example.com/a?&&b=1&", "https://example.com/a?b=1"},
		{"only trackers leaves no question mark", "https://example.com/a?utm_source=x", "https://example.com/a"},
		{"ipv6 host", "http://[::1]:80/a", "http://[::1]/a"},
		{"ipv6 host with port", "http://[::1]:8080/a", "http://[::1]:8080/a"},
		{"relative", "/news/1", ""},
		{"mailto", "mailto:a@example.com", ""},
		{"javascript", "javascript:alert(1)", ""},
		{"ftp", "ftp://example.com/a", ""},
		{"garbage", "http://[::1%zz", ""},
		{"empty", "  ", ""},
		{"spaces trimmed", "  https://example.com/a  ", "https://example.com/a"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := CanonicalURL(tt.in)
			if got != tt.want {
				t.Errorf("CanonicalURL(%q) = %q, want %q", tt.in, got, tt.want)
			}
			if again := CanonicalURL(got); got != "" && again != got {
				t.Errorf("not idempotent: %q -> %q", got, again)
			}
		})
	}
}

func TestDomain(t *testing.T) {
	tests := []struct{ in, want string }{
		{"https://www.reuters.com/a", "reuters.com"},
		{"https://WWW.Example.com:8443/", "example.com"},
		{"https://www1.folha.uol.com.br/x", "www1.folha.uol.com.br"},
		{"not a url", ""},
		{"", ""},
	}
	for _, tt := range tests {
		if got := Domain(tt.in); got != tt.want {
			t.Errorf("Domain(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func FuzzCanonicalURL(f *testing.F) {
	for _, s := range []string{
		"https://www.google.com/url?rct=j&sa=t&url=https://investorplace.com/a/&ct=ga",
		"HTTP://Example.com:80/a?b=2&a=1&utm_source=x#f",
		"http://[::1]:80/", "https://u:p@x.test/?q=%zz", "//x.test/a", "https://x.test/%2F?a=%26",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		got := CanonicalURL(raw)
		if got == "" {
			return
		}
		if again := CanonicalURL(got); again != got {
			t.Fatalf("not idempotent: %q -> %q -> %q", raw, got, again)
		}
		u, err := url.Parse(got)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Fragment != "" || u.User != nil {
			t.Fatalf("CanonicalURL(%q) = %q is not a clean absolute http(s) URL (err %v)", raw, got, err)
		}
		if strings.Contains(strings.ToLower(u.RawQuery), "utm_") {
			for p := range strings.SplitSeq(u.RawQuery, "&") {
				name, _, _ := strings.Cut(p, "=")
				if dec, err := url.QueryUnescape(name); err == nil && isTrackingParam(dec) {
					t.Fatalf("tracking parameter survived in %q", got)
				}
			}
		}
	})
}
