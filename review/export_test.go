package review

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/tierwatch/tierwatch/model"
	"github.com/tierwatch/tierwatch/timeline"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// exportFixture seeds candidates for export: two accepted by a reviewer
// (one with edits), one rejected, one pending.
func exportFixture(t *testing.T) (*Queue, map[string]string) {
	t.Helper()
	st := openStore(t)
	const (
		rek  = "2018-06-15--amazon-pitches-rekognition-to-ice"
		palm = "2019-07-10--palantir-ice-contract-renewed"
		rej  = "2019-07-11--unrelated-amazon-story"
		pend = "2019-07-12--pending-story-about-ice"
	)
	r := cand(rek, "Amazon pitches Rekognition to ICE", 8)
	r.Sources = []model.Ref{
		{URL: "https://www.aclu.org/news/amazon-rekognition", Title: "Amazon: stop selling face surveillance", Publisher: "ACLU", Date: "2018-10-24", Tier: 3},
		{URL: "https://www.thedailybeast.com/amazon-pitched-ice", Title: "Amazon Pitched Its Facial Recognition to ICE", Publisher: "The Daily Beast", Date: "2018-10-23", Tier: 2},
	}
	r.LastSeen = time.Date(2018, 10, 24, 0, 0, 0, 0, time.UTC)
	p := cand(palm, "Palantir ICE contract renewed", 6)
	p.Actors, p.Tags = []string{"Palantir", "ICE"}, []string{"Surveillance", "contracts"}
	seed(t, st, r, p, cand(rej, "Unrelated Amazon story", 2), cand(pend, "Pending story about ICE", 1))
	q := newQueue(st)
	ctx := context.Background()
	steps := []Request{
		{Action: "accept", ID: rek, Who: "alice", Edit: Edit{Title: "Amazon pitches Rekognition facial recognition to ICE", Importance: 9,
			Status: "confirmed", Actors: []string{"ICE", "Amazon", "AWS"}, Tags: []string{"ice", "facial-recognition", "amazon"},
			Summary: "In June 2018 Amazon Web Services officials met ICE representatives in Redwood City to pitch Rekognition, its face recognition service."}},
		{Action: "accept", ID: palm, Who: "bob"},
		{Action: "reject", ID: rej, Who: "bob"},
	}
	for _, s := range steps {
		if _, err := q.Do(ctx, s); err != nil {
			t.Fatalf("%s %s: %v", s.Action, s.ID, err)
		}
	}
	return q, map[string]string{rek: rek + ".md", palm: palm + ".md"}
}

func TestExportGoldenAndRoundTrip(t *testing.T) {
	q, want := exportFixture(t)
	dir := t.TempDir()
	written, err := q.Export(context.Background(), dir)
	if err != nil {
		t.Fatalf("export: %v", err)
	}
	if len(written) != len(want) {
		t.Fatalf("wrote %+v, want %d files", written, len(want))
	}
	for _, w := range written {
		if want[w.CandidateID] != w.File {
			t.Errorf("candidate %s written as %s, want %s", w.CandidateID, w.File, want[w.CandidateID])
		}
		got, err := os.ReadFile(filepath.Join(dir, w.File))
		if err != nil {
			t.Fatal(err)
		}
		golden := filepath.Join("testdata", "export", w.File)
		if *update {
			if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(golden, got, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		wantData, err := os.ReadFile(golden)
		if err != nil {
			t.Fatalf("golden file: %v (run with -update to create it)", err)
		}
		if string(got) != string(wantData) {
			t.Errorf("%s differs from %s:\n--- got\n%s\n--- want\n%s", w.File, golden, got, wantData)
		}

		// Round trip: the file parses back to the event of the candidate.
		ev, err := timeline.ParseFile(filepath.Join(dir, w.File))
		if err != nil {
			t.Fatalf("parse %s: %v", w.File, err)
		}
		c := mustGet(t, q.store, w.CandidateID)
		if c.Exported != w.File {
			t.Errorf("%s marked exported as %q, want %q", c.ID, c.Exported, w.File)
		}
		wantEv := timeline.FromCandidate(c)
		if ev.ID != wantEv.ID || ev.Title != wantEv.Title || ev.Date != wantEv.Date || ev.Importance != wantEv.Importance ||
			ev.Status != wantEv.Status || !slices.Equal(ev.Actors, wantEv.Actors) || !slices.Equal(ev.Tags, wantEv.Tags) ||
			ev.Summary != wantEv.Summary || !slices.Equal(ev.Sources, wantEv.Sources) {
			t.Errorf("round trip of %s:\n got %+v\nwant %+v", w.File, ev, wantEv)
		}
	}
	ps, err := timeline.ValidateDir(dir)
	if err != nil || timeline.HasErrors(ps) {
		t.Errorf("exported files break the timeline rules: %v %v", ps, err)
	}

	// A second export writes nothing.
	again, err := q.Export(context.Background(), dir)
	if err != nil || len(again) != 0 {
		t.Errorf("second export wrote %+v, %v; want nothing", again, err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != len(want) {
		t.Errorf("%d files in the export dir, want %d", len(entries), len(want))
	}
}

func TestExportNeverOverwrites(t *testing.T) {
	q, want := exportFixture(t)
	dir := t.TempDir()
	const existing = "2019-07-10--palantir-ice-contract-renewed.md"
	if err := os.WriteFile(filepath.Join(dir, existing), []byte("someone else's file"), 0o644); err != nil {
		t.Fatal(err)
	}
	written, err := q.Export(context.Background(), dir)
	if err != nil {
		t.Fatalf("export: %v", err)
	}
	if len(written) != len(want) {
		t.Fatalf("wrote %+v", written)
	}
	data, _ := os.ReadFile(filepath.Join(dir, existing))
	if string(data) != "someone else's file" {
		t.Errorf("existing file overwritten")
	}
	for _, w := range written {
		if w.CandidateID == "2019-07-10--palantir-ice-contract-renewed" && w.File != "2019-07-10--palantir-ice-contract-renewed-2.md" {
			t.Errorf("clash written as %s, want the -2 suffix", w.File)
		}
	}
}

func TestFlagKnown(t *testing.T) {
	st := openStore(t)
	seed(t, st, cand(idA, "Amazon wins ICE contract", 5), cand(idB, "ICE expands AWS use", 4))
	q := newQueue(st)
	lower := func(s string) string { return s + "#canon" }
	tests := []struct {
		name      string
		known     map[string]bool
		wantN     int
		wantKnown map[string]bool
	}{
		{"cites idA", map[string]bool{"https://www.reuters.com/" + idA: true}, 1, map[string]bool{idA: true, idB: false}},
		{"unchanged", map[string]bool{"https://www.reuters.com/" + idA: true}, 0, map[string]bool{idA: true, idB: false}},
		{"timeline changed", map[string]bool{"https://blog.example.org/" + idB: true}, 2, map[string]bool{idA: false, idB: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, err := q.FlagKnown(context.Background(), tt.known, lower)
			if err != nil || n != tt.wantN {
				t.Fatalf("FlagKnown = %d, %v; want %d", n, err, tt.wantN)
			}
			for id, want := range tt.wantKnown {
				if got := mustGet(t, st, id).Known; got != want {
					t.Errorf("%s known = %v, want %v", id, got, want)
				}
			}
		})
	}
}
