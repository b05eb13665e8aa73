package config

import (
	"fmt"
	"net"
	"path/filepath"
	"time"
)

// Review configures the review page and API that `tierwatch run` serves,
// and where accepted events are exported to and checked against.
type Review struct {
	// Addr is the TCP address of the page and API (host:port); default
	// "127.0.0.1:8765". "" disables the TCP listener. The TCP listener
	// starts only when Token is set: a review API without a token would let
	// any local process (or a web page, through DNS rebinding) decide
	// candidates.
	Addr string `yaml:"addr"`
	// Socket is an optional unix socket path for the same API, created with
	// mode 0600; requests on it need no token (file permissions guard it).
	// A relative path is relative to the config file's directory.
	Socket string `yaml:"socket"`
	// Token authenticates API clients (Authorization: Bearer) and the page's
	// login. Write it as env:NAME, file:/path or cred:NAME.
	Token Secret `yaml:"token"`
	// SessionTTL bounds how long a page login lasts; default 12h.
	SessionTTL time.Duration `yaml:"session_ttl"`
	// TimelineDir is an existing timeline of event files; candidates whose
	// source URLs it already cites are flagged as known. "" disables the
	// check. A relative path is relative to the config file's directory.
	TimelineDir string `yaml:"timeline_dir"`
	// ExportDir is the default directory of `tierwatch export`.
	ExportDir string `yaml:"export_dir"`
}

// DefaultReviewAddr is the default Review.Addr.
const DefaultReviewAddr = "127.0.0.1:8765"

// DefaultReview returns the review section's defaults.
func DefaultReview() Review {
	return Review{Addr: DefaultReviewAddr, SessionTTL: 12 * time.Hour}
}

// Validate checks the review section.
func (r Review) Validate() []Problem {
	var ps []Problem
	add := func(path, format string, args ...any) {
		ps = append(ps, Problem{Path: path, Msg: fmt.Sprintf(format, args...)})
	}
	if r.Addr != "" {
		if _, port, err := net.SplitHostPort(r.Addr); err != nil {
			add("addr", "must be host:port, such as %s: %v", DefaultReviewAddr, err)
		} else if port == "" {
			add("addr", "has no port")
		}
	}
	if r.SessionTTL < time.Minute || r.SessionTTL > 30*24*time.Hour {
		add("session_ttl", "must be between 1m and 720h, not %s", r.SessionTTL)
	}
	return ps
}

// Abs resolves a path of the review section (Socket, TimelineDir,
// ExportDir) against the directory of configFile; "" stays "".
func (r Review) Abs(configFile, p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(filepath.Dir(configFile), p)
}

// secretRefs lists the review section's secrets for the loader.
func (r *Review) secretRefs() []namedSecret {
	if !r.Token.IsSet() {
		return nil
	}
	return []namedSecret{{path: "review.token", secret: &r.Token}}
}
