package timeline

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/tierwatch/tierwatch/model"
	"go.yaml.in/yaml/v3"
)

// maxSuffix bounds the "-2", "-3", … suffixes tried for one id; reaching it
// means something is wrong with the directory, not that it is busy.
const maxSuffix = 1000

// Written is one exported candidate.
type Written struct {
	CandidateID string `json:"candidate_id"` // model.Candidate.ID
	ID          string `json:"id"`           // the event id, equal to File without ".md"
	File        string `json:"file"`         // base name of the file in the export directory
}

// Exporter writes candidates as event files into Dir.
type Exporter struct {
	Dir string
	// Now is the clock for the future-event rule; nil means time.Now.
	Now func() time.Time
}

// Export writes cands into dir with now as "today". See Exporter.Export.
func Export(dir string, cands []model.Candidate, now time.Time) ([]Written, error) {
	x := Exporter{Dir: dir, Now: func() time.Time { return now }}
	return x.Export(context.Background(), cands)
}

// Export writes each candidate as Dir/<id>.md (see FromCandidate and Render)
// and returns what it wrote, in the order of cands, so the caller can mark
// those candidates exported. The caller chooses which candidates to pass
// (accepted, not yet exported).
//
// A file is never overwritten: when <id>.md exists, the ids "<id>-2",
// "<id>-3", … are tried, and the id inside the file always equals its stem.
// Each file is written to a temporary file in Dir, fsynced, made 0644 and
// hard-linked to its name (link fails rather than replaces an existing
// file, unlike rename), then the directory is fsynced.
//
// A candidate whose event would break a rule of the strict form (see
// Validate; warnings do not count) is not written: its error, and any I/O
// error, is joined into the returned error while the other candidates are
// still written. Export stops early, returning what it wrote so far, when
// ctx is done.
func (x *Exporter) Export(ctx context.Context, cands []model.Candidate) ([]Written, error) {
	now := time.Now()
	if x.Now != nil {
		now = x.Now()
	}
	v := Validator{Today: now}
	var (
		out  []Written
		errs []error
	)
	for _, c := range cands {
		if err := ctx.Err(); err != nil {
			errs = append(errs, fmt.Errorf("export candidates: %w", err))
			break
		}
		w, err := x.write(v, fromCandidate(c, now))
		if err != nil {
			errs = append(errs, fmt.Errorf("export candidate %s: %w", c.ID, err))
			continue
		}
		w.CandidateID = c.ID
		out = append(out, w)
	}
	if len(out) > 0 {
		if err := syncDir(x.Dir); err != nil {
			errs = append(errs, fmt.Errorf("export candidates: %w", err))
		}
	}
	return out, errors.Join(errs...)
}

// write stores e under the first free id of e.ID, e.ID-2, e.ID-3, ….
func (x *Exporter) write(v Validator, e Event) (Written, error) {
	base := e.ID
	for n := 1; n <= maxSuffix; n++ {
		e.ID = base
		if n > 1 {
			e.ID = base + "-" + strconv.Itoa(n)
		}
		name := e.ID + ".md"
		path := filepath.Join(x.Dir, name)
		if _, err := os.Lstat(path); err == nil {
			continue
		} else if !errors.Is(err, fs.ErrNotExist) {
			return Written{}, fmt.Errorf("check %s: %w", name, err)
		}
		data, err := Render(e)
		if err != nil {
			return Written{}, err
		}
		if ps := v.Validate(name, data); HasErrors(ps) {
			return Written{}, &InvalidError{Problems: ps}
		}
		err = writeNew(x.Dir, path, data)
		if errors.Is(err, fs.ErrExist) {
			continue // created since the Lstat: take the next suffix
		}
		if err != nil {
			return Written{}, err
		}
		return Written{ID: e.ID, File: name}, nil
	}
	return Written{}, fmt.Errorf("write %s.md: no free suffix up to -%d", base, maxSuffix)
}

// InvalidError is returned (wrapped) by Export for a candidate whose event
// file would break rules of the strict form; Problems lists them all,
// warnings included.
type InvalidError struct {
	Problems []Problem
}

func (e *InvalidError) Error() string {
	var msgs []string
	for _, p := range e.Problems {
		if !p.Warning {
			msgs = append(msgs, p.Rule+": "+p.Msg)
		}
	}
	return "event breaks the timeline rules: " + strings.Join(msgs, "; ")
}

// writeNew writes data to a temporary file beside path, fsyncs it and links
// it to path, failing with fs.ErrExist when path exists.
func writeNew(dir, path string, data []byte) (err error) {
	tmp, err := os.CreateTemp(dir, ".tierwatch-export-*.tmp")
	if err != nil {
		return fmt.Errorf("create temp file: %w", err)
	}
	defer func() {
		// The temp name is only a staging link; the file lives on at path.
		if rerr := os.Remove(tmp.Name()); rerr != nil && err == nil {
			err = fmt.Errorf("remove temp file: %w", rerr)
		}
	}()
	if _, err := tmp.Write(data); err != nil {
		_ = tmp.Close() // the write error is the one to report
		return fmt.Errorf("write temp file: %w", err)
	}
	if err := tmp.Chmod(0o644); err != nil {
		_ = tmp.Close() // the chmod error is the one to report
		return fmt.Errorf("chmod temp file: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		_ = tmp.Close() // the sync error is the one to report
		return fmt.Errorf("sync temp file: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("close temp file: %w", err)
	}
	if err := os.Link(tmp.Name(), path); err != nil {
		return fmt.Errorf("link %s: %w", filepath.Base(path), err)
	}
	return nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("open dir: %w", err)
	}
	defer d.Close() // read-only handle: a close error after Sync changes nothing
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync dir: %w", err)
	}
	return nil
}

// KnownURLs returns the source URLs (url and archive_url, as written)
// cited by the *.md files directly in dir, so that candidates citing them
// can be flagged as known. It is tolerant: a file that breaks rules, or whose
// fields have the wrong types, still gives the URLs it has, and a file whose
// YAML cannot be read gives those of its "url:" lines. It fails only when dir
// or a file cannot be read. Callers canonicalise the URLs before comparing.
func KnownURLs(dir string) (map[string]bool, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("read timeline dir: %w", err)
	}
	known := map[string]bool{}
	for _, de := range entries {
		if !de.Type().IsRegular() || !strings.HasSuffix(de.Name(), ".md") {
			continue
		}
		data, err := os.ReadFile(filepath.Join(dir, de.Name()))
		if err != nil {
			return nil, fmt.Errorf("read timeline file: %w", err)
		}
		for _, u := range fileURLs(data) {
			known[u] = true
		}
	}
	return known, nil
}

// fileURLs pulls source URLs out of one event file, as far as it can.
func fileURLs(data []byte) []string {
	front, _, _, err := split(data)
	if err != nil {
		return nil
	}
	var urls []string
	if root, err := decodeFront(front); err == nil {
		for i := 0; i+1 < len(root.Content); i += 2 {
			if root.Content[i].Value != "sources" {
				continue
			}
			for _, s := range root.Content[i+1].Content {
				for j := 0; s.Kind == yaml.MappingNode && j+1 < len(s.Content); j += 2 {
					k, v := s.Content[j].Value, s.Content[j+1]
					if (k == "url" || k == "archive_url") && v.Kind == yaml.ScalarNode && v.Value != "" {
						urls = append(urls, v.Value)
					}
				}
			}
		}
		return urls
	}
	for line := range bytes.Lines(front) {
		s := strings.TrimSpace(string(line))
		s = strings.TrimSpace(strings.TrimPrefix(s, "- "))
		for _, key := range []string{"url:", "archive_url:"} {
			if v, ok := strings.CutPrefix(s, key); ok {
				if v = strings.Trim(strings.TrimSpace(v), `'"`); v != "" {
					urls = append(urls, v)
				}
			}
		}
	}
	return urls
}
