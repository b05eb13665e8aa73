package timeline

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tierwatch/tierwatch/model"
)

// exportCandidates are the golden candidates plus one per hostile string
// used as a title.
func exportCandidates() []model.Candidate {
	var cs []model.Candidate
	for _, name := range []string{"rekognition", "hostile", "generated-summary"} {
		cs = append(cs, goldenCandidates[name])
	}
	for i, s := range hostile {
		c := goldenCandidates["rekognition"]
		c.ID = ""
		c.Title = "Hostile title " + s
		c.Actors = []string{s, "ICE"}
		c.Tags = []string{s, "hostile"}
		c.Summary = ""
		c.Sources = slices.Clone(c.Sources)
		c.Sources[0].Title = s
		c.Sources[0].Publisher = s
		c.Importance = i % 12
		cs = append(cs, c)
	}
	return cs
}

func TestExportRoundTrip(t *testing.T) {
	dir := t.TempDir()
	cands := exportCandidates()
	written, err := Export(dir, cands, testToday)
	if err != nil {
		t.Fatalf("Export: %v", err)
	}
	if len(written) != len(cands) {
		t.Fatalf("wrote %d files, want %d", len(written), len(cands))
	}
	for i, w := range written {
		c := cands[i]
		if w.CandidateID != c.ID || w.File != w.ID+".md" {
			t.Errorf("written[%d] = %+v, want candidate %q and file <id>.md", i, w, c.ID)
		}
		path := filepath.Join(dir, w.File)
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o644 {
			t.Errorf("%s mode = %v, want 0644", w.File, fi.Mode().Perm())
		}
		got, err := ParseFile(path)
		if err != nil {
			t.Fatalf("ParseFile(%s): %v", w.File, err)
		}
		want := fromCandidate(c, testToday)
		want.ID = w.ID
		if !sameEvent(got, want) {
			t.Errorf("%s parsed back:\ngot  %#v\nwant %#v", w.File, got, want)
		}
	}
	ps, err := Validator{Today: testToday}.ValidateDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if HasErrors(ps) {
		t.Errorf("exported files have problems: %v", ps)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, de := range entries {
		if !strings.HasSuffix(de.Name(), ".md") {
			t.Errorf("left behind %s", de.Name())
		}
	}
}

func TestExportNeverOverwrites(t *testing.T) {
	dir := t.TempDir()
	c := goldenCandidates["rekognition"]
	base := c.ID
	existing := []byte("a researcher's own file\n")
	if err := os.WriteFile(filepath.Join(dir, base+".md"), existing, 0o644); err != nil {
		t.Fatal(err)
	}
	first, err := Export(dir, []model.Candidate{c, c}, testToday)
	if err != nil {
		t.Fatalf("Export: %v", err)
	}
	second, err := Export(dir, []model.Candidate{c}, testToday)
	if err != nil {
		t.Fatalf("Export again: %v", err)
	}
	var ids []string
	for _, w := range append(first, second...) {
		ids = append(ids, w.ID)
		e, err := ParseFile(filepath.Join(dir, w.File))
		if err != nil {
			t.Fatal(err)
		}
		if e.ID != strings.TrimSuffix(w.File, ".md") {
			t.Errorf("%s holds id %q, want its stem", w.File, e.ID)
		}
	}
	if want := []string{base + "-2", base + "-3", base + "-4"}; !slices.Equal(ids, want) {
		t.Errorf("ids = %v, want %v", ids, want)
	}
	got, err := os.ReadFile(filepath.Join(dir, base+".md"))
	if err != nil || string(got) != string(existing) {
		t.Errorf("existing file = %q, %v; want it untouched", got, err)
	}
}

func TestExportErrors(t *testing.T) {
	good := goldenCandidates["rekognition"]
	short := good
	short.ID, short.Title = "2018-06-15--short", "Short"
	badURL := good
	badURL.ID = "2018-06-15--bad-url"
	badURL.Sources = []model.Ref{{URL: "javascript:alert(1)", Title: "x", Publisher: "x", Date: "2018-06-15", Tier: 1}}
	canceled, cancel := context.WithCancel(t.Context())
	cancel()

	cases := []struct {
		name      string
		ctx       context.Context
		dir       string
		cands     []model.Candidate
		wantFiles int
		wantErr   error // errors.Is target; nil means "an *InvalidError"
		wantRule  string
	}{
		{name: "title too short", ctx: t.Context(), cands: []model.Candidate{short, good}, wantFiles: 1, wantRule: RuleTitleLength},
		{name: "source url", ctx: t.Context(), cands: []model.Candidate{badURL, good}, wantFiles: 1, wantRule: RuleSourceURL},
		{name: "canceled", ctx: canceled, cands: []model.Candidate{good}, wantErr: context.Canceled},
		{name: "missing dir", ctx: t.Context(), dir: "absent", cands: []model.Candidate{good}, wantErr: os.ErrNotExist},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if tc.dir != "" {
				dir = filepath.Join(dir, tc.dir)
			}
			x := Exporter{Dir: dir}
			written, err := x.Export(tc.ctx, tc.cands)
			if len(written) != tc.wantFiles {
				t.Errorf("wrote %v, want %d files", written, tc.wantFiles)
			}
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Errorf("err = %v, want %v", err, tc.wantErr)
				}
				return
			}
			var inv *InvalidError
			if !errors.As(err, &inv) {
				t.Fatalf("err = %v, want an *InvalidError", err)
			}
			if !slices.ContainsFunc(inv.Problems, func(p Problem) bool { return p.Rule == tc.wantRule }) {
				t.Errorf("problems = %v, want rule %s", inv.Problems, tc.wantRule)
			}
		})
	}
}

// Export decides "the future" by its own clock when the candidate was last
// seen long ago (or never).
func TestExportFutureNeverConfirmed(t *testing.T) {
	c := goldenCandidates["rekognition"]
	c.LastSeen = c.LastSeen.AddDate(-10, 0, 0)
	c.Date, c.ID = "2025-11-21", "2025-11-21--tomorrow"
	dir := t.TempDir()
	w, err := Export(dir, []model.Candidate{c}, testToday)
	if err != nil || len(w) != 1 {
		t.Fatalf("Export = %v, %v; want one file", w, err)
	}
	e, err := ParseFile(filepath.Join(dir, w[0].File))
	if err != nil {
		t.Fatal(err)
	}
	if e.Status != StatusReported {
		t.Errorf("status = %q, want %q for an event dated after today", e.Status, StatusReported)
	}
}

func TestKnownURLs(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		goodName: goodFile(t),
		// Breaks rules (unquoted dates, field order) but is readable YAML.
		"2019-01-01--loose.md": "---\ndate: 2019-01-01\nid: 2019-01-01--loose\nsources:\n- tier: 1\n  url: https://loose.example/a\n  archive_url: https://web.archive.org/loose\n---\nbody\n",
		// Not YAML at all, yet its url lines are read.
		"2019-01-02--broken.md": "---\ntitle: [unclosed\nsources:\n- url: 'https://broken.example/b'\n---\n",
		"notes.txt":             "---\nsources:\n- url: https://ignored.example/\n---\n",
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := KnownURLs(dir)
	if err != nil {
		t.Fatalf("KnownURLs: %v", err)
	}
	want := []string{
		"https://broken.example/b",
		"https://loose.example/a",
		"https://web.archive.org/loose",
		"https://www.aclu.org/news/amazon-rekognition",
		"https://www.technologyreview.com/2018/10/22/139639/amazon-is-the-invisible-backbone-behind-ices-immigration-crackdown/",
		"https://www.thedailybeast.com/amazon-pitched-ice",
	}
	var keys []string
	for u := range got {
		keys = append(keys, u)
	}
	slices.Sort(keys)
	if !slices.Equal(keys, want) {
		t.Errorf("KnownURLs = %v, want %v", keys, want)
	}
	if _, err := KnownURLs(filepath.Join(dir, "absent")); err == nil {
		t.Error("KnownURLs(absent dir) succeeded, want an error")
	}
}
