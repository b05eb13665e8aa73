package timeline

import (
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/tierwatch/tierwatch/model"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

var seen = time.Date(2025, 11, 19, 9, 30, 0, 0, time.UTC)

// goldenCandidates are the candidates behind testdata/*.md.
var goldenCandidates = map[string]model.Candidate{
	"rekognition": {
		ID: "2018-06-15--amazon-pitches-rekognition-to-ice", Date: "2018-06-15",
		Title: "Amazon pitches Rekognition facial recognition to ICE", Importance: 9,
		EventStatus: "confirmed", LastSeen: seen,
		Actors: []string{"ICE", "Amazon", "AWS", "Amazon"},
		Tags:   []string{"ICE", "Facial Recognition", "amazon"},
		Sources: []model.Ref{
			{URL: "https://www.thedailybeast.com/amazon-pitched-ice", Title: "Amazon Pitched Its Facial Recognition to ICE", Publisher: "The Daily Beast", Date: "2018-10-23", Tier: 2},
			{URL: "https://www.technologyreview.com/2018/10/22/139639/amazon-is-the-invisible-backbone-behind-ices-immigration-crackdown/", Title: "Amazon is the invisible backbone of ICE's immigration crackdown", Publisher: "MIT Technology Review", Date: "2018-10-22", Tier: 1},
			{URL: "https://www.aclu.org/news/amazon-rekognition", Title: "Amazon: stop selling face surveillance", Publisher: "ACLU", Date: "2018-10-24", Tier: 3},
		},
		Summary: "In June 2018 Amazon Web Services officials met ICE representatives in Redwood City to pitch Rekognition, its face recognition service.\r\n\r\nThe meeting came to light through records obtained by Project on Government Oversight.",
	},
	"hostile": {
		ID: "2025-03-02--ice-awards-contract", Date: "2025-03-02",
		Title:      "ICE: \"surveillance\" contract #2 <img src=x onerror=alert(1)>\nawarded to Palantir",
		Importance: 7, EventStatus: "alleged", LastSeen: seen,
		Actors: []string{"- Palantir", "ICE", "yes", "Zürich AG"},
		Tags:   []string{"surveillance", "palantir", "procurement"},
		Sources: []model.Ref{
			{URL: "https://sam.gov/opp/abc/view", Title: "no", Publisher: "SAM.gov", Date: "2025-03-02", Tier: 1},
			{URL: "https://example.org/'quoted'?a=1#frag", Title: "'Quoted' title: with colon # and hash", Publisher: "@blogger", Date: "2025-03-03", Tier: 0},
		},
		Summary: "ICE awarded a contract.\n---\nThe line above must not end the front matter; <b>markup</b> stays as the reviewer wrote it.",
	},
	"generated-summary": {
		ID: "not an id", Date: "2030-01-01", Title: "Future procurement notice: ICE detention services",
		Importance: 0, EventStatus: "confirmed", LastSeen: seen,
		Actors:  []string{"ICE"},
		Tags:    []string{"Detention"},
		Sources: []model.Ref{{URL: "https://sam.gov/opp/xyz/view", Title: "Detention <script>alert(1)</script> & services", Publisher: "SAM.gov", Date: "2025-11-18", Tier: 1}},
	},
}

func TestGolden(t *testing.T) {
	for name, c := range goldenCandidates {
		t.Run(name, func(t *testing.T) {
			e := FromCandidate(c)
			got, err := Render(e)
			if err != nil {
				t.Fatalf("Render: %v", err)
			}
			path := filepath.Join("testdata", name+".md")
			if *update {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("read golden (run with -update to create): %v", err)
			}
			if string(got) != string(want) {
				t.Errorf("Render differs from %s:\ngot:\n%s\nwant:\n%s", path, got, want)
			}
			// The golden file validates under its own id as file name.
			if ps := (Validator{Today: testToday}).Validate(e.ID+".md", want); HasErrors(ps) {
				t.Errorf("golden %s has problems: %v", path, ps)
			}
			back, err := Parse(want)
			if err != nil {
				t.Fatalf("Parse golden: %v", err)
			}
			if !sameEvent(back, e) {
				t.Errorf("Parse(golden) = %#v, want %#v", back, e)
			}
		})
	}
}

func TestFromCandidate(t *testing.T) {
	e := FromCandidate(goldenCandidates["rekognition"])
	checks := []struct {
		name      string
		got, want any
	}{
		{"actors sorted and deduped", e.Actors, []string{"AWS", "Amazon", "ICE"}},
		{"tags lowercase-hyphenated", e.Tags, []string{"amazon", "facial-recognition", "ice"}},
		{"sources by tier", []int{e.Sources[0].Tier, e.Sources[1].Tier, e.Sources[2].Tier}, []int{1, 2, 3}},
		{"summary CRLF normalised", strings.Contains(e.Summary, "\r"), false},
		{"status kept", e.Status, "confirmed"},
		{"id from candidate", e.ID, "2018-06-15--amazon-pitches-rekognition-to-ice"},
	}
	gen := FromCandidate(goldenCandidates["generated-summary"])
	checks = append(checks, []struct {
		name      string
		got, want any
	}{
		{"future event not confirmed", gen.Status, "reported"},
		{"id regenerated from title", gen.ID, "2030-01-01--future-procurement-notice-ice-detention-services"},
		{"importance clamped", gen.Importance, 1},
		{"generated summary long enough", len([]rune(gen.Summary)) >= minBody, true},
		{"generated summary escapes markup", strings.Contains(gen.Summary, "<script>"), false},
		{"unknown tier is 3", FromCandidate(goldenCandidates["hostile"]).Sources[1].Tier, 3},
		{"title made one line", strings.Contains(FromCandidate(goldenCandidates["hostile"]).Title, "\n"), false},
	}...)
	for _, c := range checks {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("%s: got %#v, want %#v", c.name, c.got, c.want)
		}
	}
}

func TestFromCandidateEditedDate(t *testing.T) {
	c := goldenCandidates["rekognition"]
	c.Date = "2018-06-14" // the reviewer corrected the date on accept
	if got, want := FromCandidate(c).ID, "2018-06-14--amazon-pitches-rekognition-to-ice"; got != want {
		t.Errorf("ID = %q, want %q (the id's date follows the event date)", got, want)
	}
}

// hostile strings a feed may put in any text field.
var hostile = []string{
	"<img src=x onerror=alert(1)>",
	"ICE: the contract",
	`He said "no" and 'yes'`,
	"# not a comment",
	"- not a list item",
	"line one\nline two\r\nline three",
	"tab\there and NUL\x00 and bell\a",
	"Zürich — «quotes» 東京 🚨",
	"yes", "No", "on", "null", "~", "123", "0x1F", "1:20", "1_000", "2018-06-15", ".inf", "=", "<<",
	"---", "...", "--- x", "key: value # comment", "[flow]", "{map: 1}", "&anchor", "*alias", "!tag", "|", ">", "%directive", "@at", "`tick`",
	" leading and trailing ", "trailing colon:", "?", "", "\u2028sep\u2029", "\ufeffbom",
	strings.Repeat("long title words ", 30) + "\n" + strings.Repeat("x", 300),
}

// Render then Parse gives the same event for every hostile string in every
// text field.
func TestRenderParseRoundTripHostile(t *testing.T) {
	for _, s := range hostile {
		t.Run(s, func(t *testing.T) {
			e := Event{
				ID: s, Date: s, Title: s, Importance: 5, Status: s,
				Actors:  []string{s, "x"},
				Tags:    []string{s},
				Sources: []Source{{URL: s, Title: s, Publisher: s, Date: s, Tier: 2, ArchiveURL: s}},
				Summary: strings.TrimSpace(s),
			}
			data, err := Render(e)
			if err != nil {
				t.Fatalf("Render: %v", err)
			}
			got, err := Parse(data)
			if err != nil {
				t.Fatalf("Parse: %v\n%s", err, data)
			}
			if !sameEvent(got, e) {
				t.Errorf("round trip:\ngot  %#v\nwant %#v\nfile:\n%s", got, e, data)
			}
		})
	}
}

func TestRenderInvalidUTF8(t *testing.T) {
	if _, err := Render(Event{Title: "bad \xff byte"}); err == nil {
		t.Error("Render accepted invalid UTF-8, want an error")
	}
}

// sameEvent compares events treating nil and empty lists alike.
func sameEvent(a, b Event) bool {
	norm := func(e Event) Event {
		if len(e.Actors) == 0 {
			e.Actors = nil
		}
		if len(e.Tags) == 0 {
			e.Tags = nil
		}
		if len(e.Sources) == 0 {
			e.Sources = nil
		}
		return e
	}
	return reflect.DeepEqual(norm(a), norm(b))
}
