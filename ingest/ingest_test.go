package ingest

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/tierwatch/tierwatch/config"
	"github.com/tierwatch/tierwatch/model"
	"github.com/tierwatch/tierwatch/storage"
)

const pack = `
entities:
  - {id: company:palantir, name: Palantir, aliases: [Palantir]}
  - {id: company:acme, name: Acme, aliases: [Acme]}
  - {id: agency:ice, name: ICE, aliases: [Immigration and Customs Enforcement], cased: [ICE]}
rules:
  - name: palantir-ice
    all: [company:palantir, agency:ice]
    tags: [palantir]
`

func testConfig(t *testing.T, extra string) *config.Config {
	t.Helper()
	data := "state_dir: " + t.TempDir() + "\n" + pack + extra + `
alerts:
  destinations:
    - {name: hook, type: webhook, url: "https://hooks.example/x", secret: "s3cret", default: true}
`
	cfg, err := config.Parse(t.TempDir()+"/config.yaml", []byte(data), config.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func setup(t *testing.T, cfg *config.Config, now *time.Time) (*Pipeline, *storage.Store) {
	t.Helper()
	st, err := storage.Open(t.TempDir(), storage.Options{Now: func() time.Time { return *now }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := st.Check(); err != nil {
			t.Errorf("store check: %v", err)
		}
		st.Close()
	})
	p, err := New(st, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	p.SetClock(func() time.Time { return *now })
	return p, st
}

func item(src, key, title, url string, day int) model.Item {
	d := time.Date(2019, 8, day, 12, 0, 0, 0, time.UTC)
	return model.Item{Source: src, Key: key, Title: title, URL: url, Publisher: src, Published: d, FirstSeen: d}
}

func TestIngestGroupsAndEnqueuesInOneCommit(t *testing.T) {
	now := time.Date(2019, 8, 21, 0, 0, 0, 0, time.UTC)
	p, st := setup(t, testConfig(t, ""), &now)
	ctx := context.Background()
	srcA := config.Source{Name: "wire", Tier: 1}
	srcB := config.Source{Name: "blog", Tier: 3}

	a := []model.Item{
		item("wire", "g:1", "Palantir wins new ICE contract for case management", "https://wire.example/p1", 20),
		item("wire", "g:2", "Ice storm hits Texas", "https://wire.example/storm", 20),
	}
	stats, err := p.IngestStats(ctx, srcA, model.SourceState{Name: "wire"}, a)
	if err != nil {
		t.Fatal(err)
	}
	if stats.New != 2 || stats.Created != 1 || stats.Alerts != 1 || stats.Matched["palantir-ice"] != 1 {
		t.Fatalf("first ingest stats %+v", stats)
	}
	// The same item again is not new and changes nothing.
	if stats, err = p.IngestStats(ctx, srcA, model.SourceState{Name: "wire", ItemsSeen: 2}, a); err != nil || stats.New != 0 || stats.Alerts != 0 {
		t.Fatalf("second ingest: %+v %v", stats, err)
	}
	// Another publisher reporting the same event joins the candidate.
	b := []model.Item{item("blog", "g:9", "Palantir wins new ICE contract for case management software", "https://blog.example/palantir", 21)}
	if stats, err = p.IngestStats(ctx, srcB, model.SourceState{Name: "blog"}, b); err != nil || stats.Joined != 1 || stats.Created != 0 {
		t.Fatalf("joining ingest: %+v %v", stats, err)
	}

	cands, err := st.Candidates("")
	if err != nil || len(cands) != 1 {
		t.Fatalf("candidates %v %v, want one", cands, err)
	}
	c := cands[0]
	if len(c.Sources) != 2 || c.Sources[0].Tier != 1 || c.BestTier() != 1 || c.Publishers() != 2 {
		t.Errorf("candidate sources %+v", c.Sources)
	}
	for _, m := range c.Matches {
		if m.ItemKey == "" || m.Source == "" {
			t.Errorf("match %+v does not name its item", m)
		}
	}
	recs, err := st.Outbox("")
	if err != nil || len(recs) != 1 || recs[0].Event != model.AlertCreated || recs[0].CandidateID != c.ID || recs[0].Dest != "hook" {
		t.Errorf("outbox %+v %v, want one created alert for %s", recs, err, c.ID)
	}
	state, _ := st.SourceState("wire")
	if state.ItemsSeen != 2 {
		t.Errorf("items seen %d, want 2", state.ItemsSeen)
	}
}

func TestSourceHealthAlertsOnceEachWay(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	cfg := testConfig(t, "service:\n  source_failing_after: 1h\n")
	p, st := setup(t, cfg, &now)
	ctx := context.Background()
	src := config.Source{Name: "flaky"}
	failing := model.SourceState{Name: "flaky", ConsecutiveErrors: 1, FailingSince: now, LastError: "boom"}

	events := func() []string {
		recs, err := st.Outbox("")
		if err != nil {
			t.Fatal(err)
		}
		var evs []string
		for _, r := range recs {
			evs = append(evs, r.Event)
		}
		return evs
	}
	steps := []struct {
		name    string
		advance time.Duration
		errors  int // 0 = a success
		want    int // outbox records after the step
	}{
		{"first error", 0, 1, 0},
		{"still under the threshold", 59 * time.Minute, 2, 0},
		{"past the threshold", 2 * time.Minute, 3, 1},
		{"still failing: no second alert", time.Hour, 4, 1},
		{"recovered", time.Hour, 0, 2},
		{"healthy: nothing more", time.Hour, 0, 2},
	}
	start := now
	for _, s := range steps {
		now = now.Add(s.advance)
		state, err := st.SourceState("flaky")
		if err != nil {
			t.Fatal(err)
		}
		state.ConsecutiveErrors = s.errors
		if s.errors > 0 {
			state.FailingSince, state.LastError = start, failing.LastError
		} else {
			state.FailingSince, state.LastError = time.Time{}, ""
		}
		if _, err := p.Ingest(ctx, src, state, nil); err != nil {
			t.Fatal(err)
		}
		if got := events(); len(got) != s.want {
			t.Fatalf("%s: outbox %v, want %d records", s.name, got, s.want)
		}
	}
	if got := events(); got[0] != model.AlertSourceDown || got[1] != model.AlertSourceUp {
		t.Errorf("events %v, want failing then recovered", got)
	}
}

func TestReplayAddsNewRuleMatchesOnce(t *testing.T) {
	now := time.Date(2019, 9, 1, 0, 0, 0, 0, time.UTC)
	p, st := setup(t, testConfig(t, ""), &now)
	ctx := context.Background()
	items := []model.Item{
		item("wire", "g:1", "Palantir wins new ICE contract", "https://wire.example/p1", 20),
		item("wire", "g:2", "Acme wins new ICE contract", "https://wire.example/a1", 21),
		// No link: replay cannot find its candidate by URL, only the
		// grouper can tell that nothing changed.
		item("wire", "h:3", "Palantir and ICE sign a data deal", "", 22),
	}
	if _, err := p.Ingest(ctx, config.Source{Name: "wire"}, model.SourceState{Name: "wire"}, items); err != nil {
		t.Fatal(err)
	}
	if cs, _ := st.Candidates(""); len(cs) != 1 {
		t.Fatalf("%d candidates before the new rule, want 1 (both Palantir items)", len(cs))
	}

	// A new rule finds the Acme item; replaying twice adds it once and
	// leaves the Palantir candidate as it was.
	cfg := testConfig(t, "  - name: acme-ice\n    all: [company:acme, agency:ice]\n")
	if err := p.Reload(cfg); err != nil {
		t.Fatal(err)
	}
	for run := 1; run <= 2; run++ {
		stats, err := p.Replay(ctx, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		wantCreated := 1
		if run == 2 {
			wantCreated = 0
		}
		if stats.Items != 3 || stats.Created != wantCreated || stats.Joined != 0 {
			t.Errorf("replay %d: %+v, want 3 items read, %d created and none joined", run, stats, wantCreated)
		}
	}
	cs, err := st.Candidates("")
	if err != nil || len(cs) != 2 {
		t.Fatalf("candidates after replay %d (%v), want 2", len(cs), err)
	}
	for _, c := range cs {
		if want := len(c.Sources); len(c.Matches) != want {
			t.Errorf("candidate %s has %d matches for %d sources after two replays, want one each", c.ID, len(c.Matches), want)
		}
	}
}
