package timeline

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

const goodName = "2018-06-15--amazon-pitches-rekognition-to-ice.md"

func goodFile(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "rekognition.md"))
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// TestValidateRules breaks one rule per case and checks that exactly that
// rule is reported (and, where given, on which line).
func TestValidateRules(t *testing.T) {
	good := goodFile(t)
	if ps := (Validator{Today: testToday}).Validate(goodName, []byte(good)); len(ps) != 0 {
		t.Fatalf("the good file has problems: %v", ps)
	}
	long := strings.Repeat("x", 201)
	cases := []struct {
		name     string
		file     string // default goodName
		old, new string // replaced once in the good file
		today    time.Time
		rule     string
		warning  bool
		line     int // 0: not checked
	}{
		{name: "name not id", file: "2018-06-15--other.md", rule: RuleFileName},
		{name: "name not .md", file: "2018-06-15--amazon-pitches-rekognition-to-ice.txt", rule: RuleFileName},
		{name: "no opening delimiter", old: "---\nid:", new: "id:", rule: RuleFrontMatter, line: 1},
		{name: "no closing delimiter", old: "tier: 3\n---\n", new: "tier: 3\n", rule: RuleFrontMatter},
		{name: "yaml syntax", old: "importance: 9", new: "importance: [9", rule: RuleFrontMatter},
		{name: "front matter not a map", old: "id: 2018-06-15--amazon-pitches-rekognition-to-ice\ndate: '2018-06-15'\ntitle: Amazon pitches Rekognition facial recognition to ICE\nimportance: 9\nstatus: confirmed\nactors:\n- AWS\n- Amazon\n- ICE\ntags:\n- amazon\n- facial-recognition\n- ice\nsources:\n", new: "- just\n- a list\n- of:\n", rule: RuleFrontMatter},
		{name: "missing field", old: "status: confirmed\n", new: "", rule: RuleFieldMissing},
		{name: "field order", old: "date: '2018-06-15'\ntitle: Amazon pitches Rekognition facial recognition to ICE\n", new: "title: Amazon pitches Rekognition facial recognition to ICE\ndate: '2018-06-15'\n", rule: RuleFieldOrder, line: 4},
		{name: "duplicate field", old: "status: confirmed\n", new: "status: confirmed\nstatus: reported\n", rule: RuleFieldDuplicate, line: 7},
		{name: "title not a string", old: "title: Amazon pitches Rekognition facial recognition to ICE", new: "title: 12345678901", rule: RuleFieldType, line: 4},
		{name: "importance not an integer", old: "importance: 9", new: "importance: high", rule: RuleFieldType, line: 5},
		{name: "actors not a list", old: "actors:\n- AWS\n- Amazon\n- ICE\n", new: "actors: AWS\n", rule: RuleFieldType},
		{name: "id form", file: "2018-06-15--Amazon_Rekognition.md", old: "id: 2018-06-15--amazon-pitches-rekognition-to-ice", new: "id: 2018-06-15--Amazon_Rekognition", rule: RuleIDForm, line: 2},
		{name: "id date", file: "2018-06-16--amazon-pitches-rekognition-to-ice.md", old: "id: 2018-06-15", new: "id: 2018-06-16", rule: RuleIDDate, line: 2},
		{name: "date unquoted", old: "date: '2018-06-15'", new: "date: 2018-06-15", rule: RuleDateQuoted, line: 3},
		{name: "date invalid", old: "date: '2018-06-15'", new: "date: '2018-02-30'", rule: RuleDateValid, line: 3},
		{name: "title short", old: "title: Amazon pitches Rekognition facial recognition to ICE", new: "title: Short", rule: RuleTitleLength, line: 4},
		{name: "title long", old: "title: Amazon pitches Rekognition facial recognition to ICE", new: "title: " + long, rule: RuleTitleLength},
		{name: "importance high", old: "importance: 9", new: "importance: 11", rule: RuleImportance, line: 5},
		{name: "importance zero", old: "importance: 9", new: "importance: 0", rule: RuleImportance},
		{name: "status unknown", old: "status: confirmed", new: "status: rumoured", rule: RuleStatus, line: 6},
		{name: "future confirmed", today: time.Date(2018, 6, 14, 23, 0, 0, 0, time.UTC), rule: RuleStatusFuture, line: 6},
		{name: "flow list", old: "actors:\n- AWS\n- Amazon\n- ICE\n", new: "actors: [AWS, Amazon, ICE]\n", rule: RuleListBlock},
		{name: "actors unsorted", old: "- AWS\n- Amazon\n", new: "- Amazon\n- AWS\n", rule: RuleListSorted, line: 9},
		{name: "tags unsorted", old: "- amazon\n- facial-recognition\n", new: "- facial-recognition\n- amazon\n", rule: RuleListSorted},
		{name: "tag form", old: "- facial-recognition", new: "- facial--recognition", rule: RuleTagForm, line: 13},
		{name: "sources unsorted", old: "  tier: 1", new: "  tier: 2", rule: RuleSourcesSorted},
		{name: "source key missing", old: "  publisher: ACLU\n", new: "", rule: RuleSourceKeys},
		{name: "source key order", old: "  title: Amazon Pitched Its Facial Recognition to ICE\n  publisher: The Daily Beast\n", new: "  publisher: The Daily Beast\n  title: Amazon Pitched Its Facial Recognition to ICE\n", rule: RuleSourceKeys},
		{name: "source url scheme", old: "url: https://www.aclu.org/news/amazon-rekognition", new: "url: javascript:alert(1)", rule: RuleSourceURL},
		{name: "archive url", old: "  tier: 3\n", new: "  tier: 3\n  archive_url: ftp://archive.org/x\n", rule: RuleSourceURL},
		{name: "source date unquoted", old: "date: '2018-10-24'", new: "date: 2018-10-24", rule: RuleSourceDate},
		{name: "source date form", old: "date: '2018-10-24'", new: "date: '24/10/2018'", rule: RuleSourceDate},
		{name: "source tier", old: "tier: 3", new: "tier: 4", rule: RuleSourceTier},
		{name: "body short", old: "In June 2018 Amazon Web Services officials met ICE representatives in Redwood City to pitch Rekognition, its face recognition service.\n\nThe meeting came to light through records obtained by Project on Government Oversight.\n", new: "Too short.\n", rule: RuleBodyLength, line: 32},
		{name: "few actors", old: "- AWS\n- Amazon\n", new: "", rule: WarnFewActors, warning: true},
		{name: "few tags", old: "- amazon\n- facial-recognition\n", new: "", rule: WarnFewTags, warning: true},
		{name: "few sources", old: "- url: https://www.thedailybeast.com/amazon-pitched-ice\n  title: Amazon Pitched Its Facial Recognition to ICE\n  publisher: The Daily Beast\n  date: '2018-10-23'\n  tier: 2\n- url: https://www.aclu.org/news/amazon-rekognition\n  title: 'Amazon: stop selling face surveillance'\n  publisher: ACLU\n  date: '2018-10-24'\n  tier: 3\n", new: "", rule: WarnFewSources, warning: true},
		{name: "unknown field", old: "---\nIn June", new: "notes: extra\n---\nIn June", rule: WarnFieldExtra, warning: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			data := good
			if tc.old != "" {
				if !strings.Contains(good, tc.old) {
					t.Fatalf("test bug: %q is not in the good file", tc.old)
				}
				data = strings.Replace(good, tc.old, tc.new, 1)
			}
			file := cmpOr(tc.file, goodName)
			today := tc.today
			if today.IsZero() {
				today = testToday
			}
			ps := Validator{Today: today}.Validate(file, []byte(data))
			var rules []string
			for _, p := range ps {
				if !slices.Contains(rules, p.Rule) {
					rules = append(rules, p.Rule)
				}
			}
			if !slices.Equal(rules, []string{tc.rule}) {
				t.Fatalf("rules = %v, want only %s; problems: %v", rules, tc.rule, ps)
			}
			if got := HasErrors(ps); got == tc.warning {
				t.Errorf("HasErrors = %v, want %v", got, !tc.warning)
			}
			for _, p := range ps {
				if p.Warning != tc.warning || p.File != file {
					t.Errorf("problem %v: Warning = %v, File = %q; want %v, %q", p, p.Warning, p.File, tc.warning, file)
				}
				if tc.line != 0 && p.Line != tc.line {
					t.Errorf("problem %v: line %d, want %d", p, p.Line, tc.line)
				}
			}
		})
	}
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func TestValidateDir(t *testing.T) {
	dir := t.TempDir()
	good := goodFile(t)
	files := map[string]string{
		goodName:               good,
		"2018-06-15--other.md": good,                   // file-name
		"notes.txt":            "not an event file",    // ignored: not .md
		"2018-01-01--x.md":     "no front matter here", // front-matter
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(dir, "sub.md"), 0o755); err != nil {
		t.Fatal(err)
	}
	ps, err := Validator{Today: testToday}.ValidateDir(dir)
	if err != nil {
		t.Fatalf("ValidateDir: %v", err)
	}
	var got []string
	for _, p := range ps {
		got = append(got, p.File+" "+p.Rule)
	}
	want := []string{"2018-01-01--x.md " + RuleFrontMatter, "2018-06-15--other.md " + RuleFileName}
	if !slices.Equal(got, want) {
		t.Errorf("problems = %v, want %v", got, want)
	}
	if _, err := ValidateDir(filepath.Join(dir, "absent")); err == nil {
		t.Error("ValidateDir(absent dir) succeeded, want an error")
	}
}

func TestProblemString(t *testing.T) {
	cases := []struct {
		name string
		p    Problem
		want string
	}{
		{"error", Problem{File: "a.md", Line: 3, Rule: RuleDateQuoted, Msg: "m"}, "a.md:3: date-quoted: m"},
		{"warning", Problem{File: "a.md", Line: 9, Rule: WarnFewTags, Msg: "m", Warning: true}, "a.md:9: warning: tags-few: m"},
	}
	for _, tc := range cases {
		if got := tc.p.String(); got != tc.want {
			t.Errorf("%s: String() = %q, want %q", tc.name, got, tc.want)
		}
	}
}
