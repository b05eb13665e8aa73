package record

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestDecimal(t *testing.T) {
	tests := []struct {
		name, in, want string
		bad            bool
	}{
		{"empty is unknown", "", "", false},
		{"null is unknown", "null", "", false},
		{"sam string", "5000000.00", "5000000.00", false},
		{"integer", "800620", "800620", false},
		{"negative", "-4500", "-4500", false},
		{"fpds dollars", "-$4,500.00", "-4500.00", false},
		{"dollar then sign", "$-12.5", "-12.5", false},
		{"accounting", "(4,500)", "-4500", false},
		{"leading zeros", "000123.40", "123.40", false},
		{"negative zero", "-0.00", "0.00", false},
		{"plus", "+7", "7", false},
		{"fraction only", ".5", "0.5", false},
		{"exponent up", "4.34558599901e9", "4345585999.01", false},
		{"exponent down", "12e-3", "0.012", false},
		{"spaces", "  202.39 ", "202.39", false},
		{"words", "N/A", "", true},
		{"two dots", "1.2.3", "", true},
		{"comma in fraction", "1.2,3", "", true},
		{"sign only", "-", "", true},
		{"huge exponent", "1e999", "", true},
		{"too long", strings.Repeat("9", 100), "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Decimal(tt.in)
			if (err != nil) != tt.bad || got != tt.want {
				t.Errorf("Decimal(%q) = %q, %v; want %q, bad=%v", tt.in, got, err, tt.want, tt.bad)
			}
		})
	}
}

func TestJSONScalars(t *testing.T) {
	var v struct {
		S1, S2, S3, S4 String
		A1, A2, A3, A4 Amount
		N1, N2, N3     Int
	}
	in := `{"S1":" x ","S2":42,"S3":null,"S4":{"a":1},
	"A1":"5000000.00","A2":4345585999.01,"A3":null,"A4":"",
	"N1":"5691511","N2":9334,"N3":"many"}`
	if err := json.Unmarshal([]byte(in), &v); err != nil {
		t.Fatal(err)
	}
	checks := []struct{ name, got, want string }{
		{"string trimmed", string(v.S1), "x"},
		{"number as text", string(v.S2), "42"},
		{"null", string(v.S3), ""},
		{"object", string(v.S4), ""},
		{"amount string", string(v.A1), "5000000.00"},
		{"amount number exact", string(v.A2), "4345585999.01"},
		{"amount null", string(v.A3), ""},
		{"amount empty", string(v.A4), ""},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s: got %q, want %q", c.name, c.got, c.want)
		}
	}
	if v.N1 != 5691511 || v.N2 != 9334 || v.N3 != 0 {
		t.Errorf("ints = %d %d %d", v.N1, v.N2, v.N3)
	}
}

func TestParseDate(t *testing.T) {
	tests := []struct{ in, want string }{
		{"2026-02-02", "2026-02-02T00:00:00Z"},
		{"2026-03-02T16:00:00-05:00", "2026-03-02T21:00:00Z"},
		{"2026-02-10T10:00:00+09:00", "2026-02-10T01:00:00Z"},
		{"2020-04-02 07:30:45", "2020-04-02T07:30:45Z"},
		{"2025-02-20 00:00:00.000", "2025-02-20T00:00:00Z"},
		{"2021-09-09 15:45:03.469-04", "2021-09-09T19:45:03.469Z"},
		{"2025-06-11T07:18:02Z", "2025-06-11T07:18:02Z"},
		{"garbage", ""},
		{"", ""},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got := ParseDate(tt.in)
			s := ""
			if !got.IsZero() {
				s = got.UTC().Format("2006-01-02T15:04:05.999Z07:00")
			}
			if s != tt.want {
				t.Errorf("ParseDate(%q) = %q, want %q", tt.in, s, tt.want)
			}
		})
	}
}

func FuzzDecimal(f *testing.F) {
	for _, s := range []string{"5000000.00", "-$4,500", "(1)", "1e-5", "", "4.3e9", "$", "--1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := Decimal(s)
		if err != nil || got == "" {
			return
		}
		// The result is canonical: normalising it again changes nothing.
		again, err := Decimal(got)
		if err != nil || again != got {
			t.Fatalf("Decimal(%q) = %q, then %q, %v", s, got, again, err)
		}
		if strings.ContainsAny(got, ",$+e()") {
			t.Fatalf("Decimal(%q) = %q has foreign characters", s, got)
		}
	})
}
