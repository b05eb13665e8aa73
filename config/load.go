package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/tierwatch/tierwatch/model"
	"go.yaml.in/yaml/v3"
)

// MaxFileSize caps a config or rules file; larger is surely a mistake.
const MaxFileSize = 8 << 20

// Options changes how Load reads the environment (tests inject it).
type Options struct {
	LookupEnv func(string) (string, bool) // default os.LookupEnv
}

// Load reads, decodes, resolves and validates the config at path and the
// rules packs it includes. On any problem it returns a Problems error
// listing all of them with file, line and key path; the Config is then nil.
func Load(path string) (*Config, error) { return LoadWith(path, Options{}) }

// LoadWith is Load with options.
func LoadWith(path string, opts Options) (*Config, error) {
	if opts.LookupEnv == nil {
		opts.LookupEnv = os.LookupEnv
	}
	data, err := readCapped(path)
	if err != nil {
		return nil, Problems{{File: path, Msg: err.Error()}}
	}
	cfg, ps := parse(path, data, opts)
	if len(ps) > 0 {
		return nil, ps
	}
	return cfg, nil
}

// Parse decodes and validates config bytes as if read from path, without
// following includes or resolving secrets that need the file system
// relative to path beyond what Load does. It is Load for fuzzing and tests.
func Parse(path string, data []byte, opts Options) (*Config, error) {
	if opts.LookupEnv == nil {
		opts.LookupEnv = func(string) (string, bool) { return "", false }
	}
	cfg, ps := parse(path, data, opts)
	if len(ps) > 0 {
		return nil, ps
	}
	return cfg, nil
}

func readCapped(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, err
	}
	if len(data) > MaxFileSize {
		return nil, fmt.Errorf("larger than %d bytes", MaxFileSize)
	}
	return data, nil
}

// origin remembers where list elements of the merged Watch came from, so a
// problem in rules[7] can be reported at the line of the included file
// that wrote it.
type origin struct {
	file  string
	root  *yaml.Node
	start map[string]int // first merged index of this file's entities/groups/rules
	count map[string]int
}

func parse(path string, data []byte, opts Options) (*Config, Problems) {
	cfg := Defaults()
	cfg.File = path
	baseDir := filepath.Dir(path)
	if abs, err := filepath.Abs(baseDir); err == nil {
		baseDir = abs
	}
	root, ps := decodeStrict(path, data, &cfg)
	if len(ps) > 0 {
		return nil, ps
	}
	origins := []origin{{file: path, root: root, start: map[string]int{}, count: watchCounts(cfg.Watch)}}

	for i, inc := range cfg.Include {
		incPath := inc
		if !filepath.IsAbs(incPath) {
			incPath = filepath.Join(baseDir, incPath)
		}
		incData, err := readCapped(incPath)
		if err != nil {
			ps = append(ps, locate(origins[:1], Problem{Path: fmt.Sprintf("include[%d]", i), Msg: err.Error()}))
			continue
		}
		var w Watch
		incRoot, incPs := decodeStrict(incPath, incData, &w)
		if len(incPs) > 0 {
			ps = append(ps, incPs...)
			continue
		}
		o := origin{file: incPath, root: incRoot, start: watchCounts(cfg.Watch), count: watchCounts(w)}
		cfg.Watch.Append(w)
		origins = append(origins, o)
	}
	if len(ps) > 0 {
		return nil, ps
	}

	cfg.applyDefaults(baseDir)
	var found []Problem
	for i := range cfg.Sources {
		found = append(found, cfg.Sources[i].resolveURL(baseDir, i)...)
	}
	found = append(found, cfg.resolveSecrets(baseDir, opts.LookupEnv)...)
	found = append(found, cfg.Validate()...)
	for _, p := range found {
		ps = append(ps, locate(origins, p))
	}
	if len(ps) > 0 {
		return nil, ps
	}
	return &cfg, nil
}

func watchCounts(w Watch) map[string]int {
	return map[string]int{"entities": len(w.Entities), "groups": len(w.Groups), "rules": len(w.Rules)}
}

var yamlLine = regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`)

// decodeStrict decodes data into v with unknown keys rejected and returns
// the node tree for locating later problems.
func decodeStrict(path string, data []byte, v any) (*yaml.Node, Problems) {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, Problems{yamlProblem(path, err.Error())}
	}
	if len(data) == 0 || root.Kind == 0 {
		return &root, nil // empty file: all defaults
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	err := dec.Decode(v)
	if errors.Is(err, io.EOF) {
		return &root, nil
	}
	if err != nil {
		var te *yaml.TypeError
		if errors.As(err, &te) {
			var ps Problems
			for _, e := range te.Errors {
				ps = append(ps, yamlProblem(path, e))
			}
			return nil, ps
		}
		return nil, Problems{yamlProblem(path, err.Error())}
	}
	return &root, nil
}

func yamlProblem(path, msg string) Problem {
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		n, _ := strconv.Atoi(m[1]) // the regexp matched digits
		return Problem{File: path, Line: n, Msg: m[2]}
	}
	return Problem{File: path, Msg: strings.TrimPrefix(msg, "yaml: ")}
}

func (c *Config) applyDefaults(baseDir string) {
	if c.StateDir != "" && !filepath.IsAbs(c.StateDir) {
		c.StateDir = filepath.Join(baseDir, c.StateDir)
	}
	for i := range c.Sources {
		s := &c.Sources[i]
		if s.Type == "" {
			s.Type = model.SourceFeed
		}
		if s.Schedule == "" {
			s.Schedule = c.Schedule
		}
		if s.URL == "" {
			s.URL = DefaultURL(s.Type)
		}
	}
}

// resolveURL turns relative file: URLs ("file:feeds/a.xml",
// "file://./feeds/a.xml") into absolute ones against the config's folder.
func (s *Source) resolveURL(baseDir string, i int) []Problem {
	u, err := url.Parse(s.URL)
	if err != nil || u.Scheme != "file" {
		return nil // Validate reports bad URLs
	}
	p := u.Opaque
	if p == "" {
		p = u.Host + u.Path
	}
	if p == "" {
		return []Problem{{Path: fmt.Sprintf("sources[%d].url", i), Msg: "file URL has no path"}}
	}
	if !filepath.IsAbs(p) {
		p = filepath.Join(baseDir, p)
	}
	s.URL = (&url.URL{Scheme: "file", Path: p}).String()
	return nil
}

// resolveSecrets resolves every Secret reachable from the config. Sections
// that hold secrets list them here.
func (c *Config) resolveSecrets(baseDir string, lookupEnv func(string) (string, bool)) []Problem {
	var ps []Problem
	for _, s := range c.secrets() {
		if err := s.secret.resolve(baseDir, lookupEnv); err != nil {
			ps = append(ps, Problem{Path: s.path, Msg: err.Error()})
		}
	}
	return ps
}

type namedSecret struct {
	path   string
	secret *Secret
}

// secrets lists the config's secrets with their key paths.
func (c *Config) secrets() []namedSecret {
	out := append(c.Alerts.secretRefs(), c.Review.secretRefs()...)
	for i := range c.Sources {
		if q := c.Sources[i].Query; q != nil && q.APIKey.IsSet() {
			out = append(out, namedSecret{path: fmt.Sprintf("sources[%d].query.api_key", i), secret: &q.APIKey})
		}
	}
	return out
}

// locate finds the file and line of p.Path in the node trees.
func locate(origins []origin, p Problem) Problem {
	if p.File != "" {
		return p
	}
	o := origins[0]
	path := p.Path
	toks := splitPath(path)
	if len(toks) >= 2 {
		if _, isList := o.count[toks[0]]; isList {
			if idx, err := strconv.Atoi(strings.Trim(toks[1], "[]")); err == nil {
				for _, cand := range origins {
					start := cand.start[toks[0]]
					if idx >= start && idx < start+cand.count[toks[0]] {
						o = cand
						toks[1] = "[" + strconv.Itoa(idx-start) + "]"
						break
					}
				}
			}
		}
	}
	p.File = o.file
	p.Line = lineOf(o.root, toks)
	return p
}

// splitPath splits "rules[2].all[0]" into ["rules", "[2]", "all", "[0]"].
func splitPath(path string) []string {
	var toks []string
	for _, part := range strings.Split(path, ".") {
		for part != "" {
			i := strings.IndexByte(part, '[')
			switch {
			case i < 0:
				toks = append(toks, part)
				part = ""
			case i > 0:
				toks = append(toks, part[:i])
				part = part[i:]
			default:
				j := strings.IndexByte(part, ']')
				if j < 0 {
					toks = append(toks, part)
					part = ""
					continue
				}
				toks = append(toks, part[:j+1])
				part = part[j+1:]
			}
		}
	}
	return toks
}

// lineOf walks the node tree along toks and returns the line of the deepest
// node reached (the key's line for mapping keys), 0 if none.
func lineOf(root *yaml.Node, toks []string) int {
	n := root
	if n == nil {
		return 0
	}
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	line := 0
	for _, t := range toks {
		switch {
		case strings.HasPrefix(t, "["):
			idx, err := strconv.Atoi(strings.Trim(t, "[]"))
			if err != nil || n.Kind != yaml.SequenceNode || idx < 0 || idx >= len(n.Content) {
				return line
			}
			n = n.Content[idx]
			line = n.Line
		default:
			if n.Kind != yaml.MappingNode {
				return line
			}
			found := false
			for i := 0; i+1 < len(n.Content); i += 2 {
				if n.Content[i].Value == t {
					line = n.Content[i].Line
					n = n.Content[i+1]
					found = true
					break
				}
			}
			if !found {
				return line
			}
		}
	}
	return line
}
