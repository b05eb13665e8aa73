package timeline

import (
	"testing"
)

// The README's example is the reference of the format: it must validate,
// and parsing then rendering it must give its bytes back exactly.
func TestREADMEExample(t *testing.T) {
	ex := readmeExample(t)
	e, err := Parse(ex)
	if err != nil {
		t.Fatalf("Parse(example): %v", err)
	}
	ps := Validator{Today: testToday}.Validate(e.ID+".md", ex)
	if HasErrors(ps) {
		t.Errorf("example has problems: %v", ps)
	}
	// The example has one source; the README recommends two.
	if len(ps) != 1 || ps[0].Rule != WarnFewSources || !ps[0].Warning {
		t.Errorf("problems = %v, want only the %s warning", ps, WarnFewSources)
	}
	got, err := Render(e)
	if err != nil {
		t.Fatalf("Render: %v", err)
	}
	if string(got) != string(ex) {
		t.Errorf("Render(Parse(example)) differs:\ngot:\n%s\nwant:\n%s", got, ex)
	}
}
