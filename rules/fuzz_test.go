package rules

import (
	"bytes"
	"testing"
	"unicode/utf8"

	"github.com/tierwatch/tierwatch/config"
	"github.com/tierwatch/tierwatch/model"
	"go.yaml.in/yaml/v3"
)

// FuzzMatch runs arbitrary text through the matcher: it must not panic,
// and every hit's offsets must lie in its field and cover its Text.
func FuzzMatch(f *testing.F) {
	for _, s := range []string{"Amazon’s ICE deal", "ICE-cold", "\xff\xfeICE", "ﬁ Ｉｃｅ straße", "", "'s 's '"} {
		f.Add(s, s)
	}
	m, err := NewMatcher(testWatch())
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, title, summary string) {
		it := model.Item{Title: title, Summary: summary}
		for _, mt := range m.Match(&it) {
			for _, h := range mt.Hits {
				src := map[string]string{"title": title, "summary": summary}[h.Field]
				if h.Start < 0 || h.End > len(src) || h.Start > h.End || src[h.Start:h.End] != h.Text {
					t.Fatalf("hit %+v out of field %q", h, src)
				}
			}
		}
		if n := Normalize(title); !utf8.ValidString(n) {
			t.Fatalf("Normalize(%q) = %q is not valid UTF-8", title, n)
		}
	})
}

// FuzzWatch decodes arbitrary YAML as a rules pack, strictly, and compiles
// whatever validates: neither step may panic, and a pack that validates
// must compile.
func FuzzWatch(f *testing.F) {
	f.Add([]byte("entities:\n- id: agency:ice\n  cased: [ICE]\nrules:\n- name: r\n  all: [agency:ice]\n"))
	f.Add([]byte("rules:\n- name: r\n  any:\n  - any: [social media]\n    with: [monitor*]\n    near: 3\n"))
	f.Add([]byte("groups:\n- id: a:b\n  members: [a:b]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		var w config.Watch
		dec := yaml.NewDecoder(bytes.NewReader(data))
		dec.KnownFields(true)
		if err := dec.Decode(&w); err != nil {
			return
		}
		if len(w.Validate()) > 0 {
			return
		}
		m, err := NewMatcher(w)
		if err != nil {
			t.Fatalf("valid watch does not compile: %v", err)
		}
		m.Match(&model.Item{Title: string(data)})
	})
}
