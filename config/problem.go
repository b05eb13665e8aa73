package config

import (
	"fmt"
	"strings"
)

// Problem is one thing wrong with a configuration: the key path that holds
// it ("sources[2].schedule") and what is wrong. The loader adds the file and
// line where the key was written.
type Problem struct {
	Path string
	Msg  string

	File string // set by the loader
	Line int    // set by the loader; 0 when unknown
}

func (p Problem) String() string {
	var b strings.Builder
	if p.File != "" {
		b.WriteString(p.File)
		if p.Line > 0 {
			fmt.Fprintf(&b, ":%d", p.Line)
		}
		b.WriteString(": ")
	}
	if p.Path != "" {
		b.WriteString(p.Path)
		b.WriteString(": ")
	}
	b.WriteString(p.Msg)
	return b.String()
}

// Problems is every problem found in one load, reported together so an
// operator fixes them in one pass.
type Problems []Problem

func (ps Problems) Error() string {
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

// prefix returns ps with each path prefixed by p ("sources[2]" + ".schedule").
func prefix(p string, ps []Problem) []Problem {
	out := make([]Problem, len(ps))
	for i, q := range ps {
		q.Path = joinPath(p, q.Path)
		out[i] = q
	}
	return out
}

func joinPath(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "":
		return a
	case strings.HasPrefix(b, "["):
		return a + b
	}
	return a + "." + b
}
