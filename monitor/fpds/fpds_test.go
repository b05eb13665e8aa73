package fpds

import (
	"context"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tierwatch/tierwatch/internal/shared"

	"github.com/tierwatch/tierwatch/config"
	"github.com/tierwatch/tierwatch/model"
	"github.com/tierwatch/tierwatch/monitor"
)

var now = time.Date(2026, 2, 3, 15, 0, 0, 0, time.UTC)

// fixture reads a payload from ../shared/fixtures/procurement, skipping
// the test when the shared folder is absent.
func fixture(t testing.TB, name string) []byte {
	return shared.File(t, "fixtures/procurement/"+name)
}

func parse(t *testing.T, name string) []model.Item {
	t.Helper()
	fd, err := decode(fixture(t, name))
	if err != nil {
		t.Fatal(err)
	}
	var items []model.Item
	for _, e := range fd.Entries {
		if it, ok := item(config.Source{Name: "fpds"}, e, now); ok {
			items = append(items, it)
		}
	}
	return items
}

func TestParseFixtures(t *testing.T) {
	tests := []struct {
		name      string
		file      string
		wantItems int
		check     func(t *testing.T, items []model.Item)
	}{
		{"current namespace", "fpds_atom_public_last_mod_date_2020-04-02.xml", 10, func(t *testing.T, items []model.Item) {
			it := items[0]
			r := it.Record
			checks := []struct{ name, got, want string }{
				{"key", it.Key, "piid:9701:0001:0"},
				{"title", it.Title, "New DELIVERY ORDER 0001 awarded to SARAS AMERICA INC. for the amount of $2,501"},
				{"amount", r.Amount, "2501.00"},
				{"solicitation", r.SolicitationNumber, "N0017808R4001"},
				{"agency", strings.Join(r.AgencyPath, "|"), "DEPT OF DEFENSE|DEPT OF THE NAVY|NSWC DAHLGREN"},
				{"vendor", r.Vendors[0].Name, "SARAS AMERICA INC."},
				{"uei", r.Vendors[0].UEI, "J8CPXM4ELEB2"},
				{"type", r.NoticeType, "DELIVERY ORDER"},
				{"description", r.Description, "SEAPORT ENHANCED"},
				{"published", it.Published.Format(time.DateOnly), "2011-06-28"},
				{"publisher", it.Publisher, "FPDS"},
			}
			for _, c := range checks {
				if c.got != c.want {
					t.Errorf("%s: got %q, want %q", c.name, c.got, c.want)
				}
			}
			cages := 0
			for _, it := range items {
				if len(it.Record.Vendors) > 0 && it.Record.Vendors[0].CAGE != "" {
					cages++
				}
			}
			if cages == 0 {
				t.Error("no CAGE code read")
			}
		}},
		{"old namespace with IDV and negative amount", "fpds_atom_public_vendor_name_nuaxis.xml", 10, func(t *testing.T, items []model.Item) {
			var neg, idv bool
			for _, it := range items {
				neg = neg || it.Record.Amount == "-4500.00"
				idv = idv || it.Record.NoticeType == "IDV" || strings.Contains(it.Title, "IDV") || strings.Contains(it.Title, "FSS")
				if !strings.HasPrefix(it.Record.Vendors[0].Name, "NUAXIS") {
					t.Errorf("vendor %q", it.Record.Vendors[0].Name)
				}
			}
			if !neg || !idv {
				t.Errorf("negative amount read %v, IDV read %v", neg, idv)
			}
		}},
		{"ns0 prefixes and empty vendors", "fpds_atom_reserialized_ns0_empty_vendor.xml", 10, func(t *testing.T, items []model.Item) {
			for _, it := range items {
				if len(it.Record.Vendors) > 0 && it.Record.Vendors[0].Name != "" {
					t.Errorf("vendor %q, want none", it.Record.Vendors[0].Name)
				}
				if it.Record.PIID == "" || !strings.HasPrefix(it.Key, "piid:") {
					t.Errorf("key %q", it.Key)
				}
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			items := parse(t, tt.file)
			if len(items) != tt.wantItems {
				t.Fatalf("%d items, want %d", len(items), tt.wantItems)
			}
			tt.check(t, items)
		})
	}
}

var nextRe = regexp.MustCompile(`<ns0:link rel="next"[^>]*/>`)

func TestPollFollowsNext(t *testing.T) {
	p1 := string(fixture(t, "fpds_atom_public_last_mod_date_2020-04-02.xml"))
	p2 := nextRe.ReplaceAllString(string(fixture(t, "fpds_atom_reserialized_ns0_empty_vendor.xml")), "")
	var queries []string
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		queries = append(queries, r.URL.RawQuery)
		if r.URL.Query().Get("start") == "10" {
			w.Write([]byte(p2))
			return
		}
		w.Write([]byte(strings.ReplaceAll(p1, "https://www.fpds.gov", srv.URL)))
	}))
	defer srv.Close()
	src := config.Source{Name: "fpds", URL: srv.URL + "/ezsearch/FEEDS/ATOM", Query: &config.Query{Vendors: []string{"NUAXIS"}}}
	st := &model.SourceState{}
	items, err := New(nil).Poll(context.Background(), monitor.NewFetcher(monitor.FetchOptions{}, nil), src, st, now)
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != 20 || len(queries) != 2 {
		t.Fatalf("%d items in %d requests, want 20 in 2", len(items), len(queries))
	}
	if !strings.Contains(queries[0], "FEEDNAME=PUBLIC") ||
		!strings.Contains(queries[0], "LAST_MOD_DATE%3A%5B2026%2F01%2F27%2C2026%2F02%2F03%5D") ||
		!strings.Contains(queries[0], "VENDOR_NAME%3A%22NUAXIS%22") {
		t.Errorf("first query %q", queries[0])
	}
}

func FuzzDecodeAtom(f *testing.F) {
	f.Add([]byte(`<feed xmlns="http://www.w3.org/2005/Atom"><entry><content><award xmlns="http://www.fpdsng.com/FPDS"><awardID><awardContractID><PIID>X</PIID></awardContractID></awardID><dollarValues><obligatedAmount>-$1</obligatedAmount></dollarValues></award></content></entry></feed>`))
	f.Fuzz(func(t *testing.T, b []byte) {
		fd, err := decode(b)
		if err != nil {
			return
		}
		for _, e := range fd.Entries {
			if it, ok := item(config.Source{Name: "f"}, e, now); ok && !strings.HasPrefix(it.Key, "piid:") {
				t.Fatalf("key %q", it.Key)
			}
		}
	})
}
