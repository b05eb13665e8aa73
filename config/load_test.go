package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func env(vars map[string]string) Options {
	return Options{LookupEnv: func(k string) (string, bool) { v, ok := vars[k]; return v, ok }}
}

func TestLoadReportsEveryProblemWithFileLineAndKey(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want []string // substrings, each must appear in the report
	}{
		{
			name: "unknown key",
			yaml: "state_dir: ./d\nsources:\n  - name: a\n    url: https://a.example/feed\n    shedule: \"@hourly\"\n",
			want: []string{"config.yaml:5: field shedule not found"},
		},
		{
			name: "bad schedule and bad tier together",
			yaml: "sources:\n  - name: a\n    url: https://a.example/feed\n  - name: b\n    url: https://b.example/feed\n    schedule: \"every day\"\n    tier: 7\n",
			want: []string{"config.yaml:6: sources[1].schedule: invalid schedule", "config.yaml:7: sources[1].tier: must be 1, 2 or 3"},
		},
		{
			name: "bare CRON_TZ does not panic",
			yaml: "sources:\n  - name: a\n    url: https://a.example/feed\n    schedule: \"CRON_TZ=Europe/Berlin\"\n",
			want: []string{"config.yaml:4: sources[0].schedule: invalid schedule"},
		},
		{
			name: "duplicate names and bad scheme",
			yaml: "sources:\n  - name: a\n    url: https://a.example/feed\n  - name: a\n    url: ftp://a.example/feed\n",
			want: []string{"config.yaml:4: sources[1].name: \"a\" is already", "config.yaml:5: sources[1].url: scheme must be"},
		},
		{
			name: "wrong type",
			yaml: "fetch:\n  timeout: soon\n",
			want: []string{"config.yaml:2:", "soon"},
		},
		{
			name: "bad top-level values",
			yaml: "log_level: loud\nfetch:\n  concurrency: 0\n",
			want: []string{"config.yaml:1: log_level:", "config.yaml:3: fetch.concurrency:"},
		},
		{
			name: "not yaml",
			yaml: "sources: [\n",
			want: []string{"config.yaml:"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := writeFiles(t, map[string]string{"config.yaml": tt.yaml})
			cfg, err := LoadWith(filepath.Join(dir, "config.yaml"), env(nil))
			if err == nil {
				t.Fatalf("Load succeeded: %+v", cfg)
			}
			var ps Problems
			if !errors.As(err, &ps) {
				t.Fatalf("error %T is not Problems", err)
			}
			got := strings.ReplaceAll(err.Error(), dir+string(filepath.Separator), "")
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("report lacks %q:\n%s", w, got)
				}
			}
		})
	}
}

func TestLoadDefaultsAndRelativePaths(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"conf/config.yaml": "state_dir: ../state\nschedule: \"@every 10m\"\nsources:\n  - name: local\n    url: file:feeds/a.xml\n  - name: remote\n    url: https://x.example/rss\n    schedule: \"*/5 * * * *\"\n",
	})
	cfg, err := LoadWith(filepath.Join(dir, "conf/config.yaml"), env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(dir, "state"); cfg.StateDir != want {
		t.Errorf("state_dir %q, want %q", cfg.StateDir, want)
	}
	if want := "file://" + filepath.Join(dir, "conf/feeds/a.xml"); cfg.Sources[0].URL != want {
		t.Errorf("file URL %q, want %q", cfg.Sources[0].URL, want)
	}
	if cfg.Sources[0].Type != "feed" || cfg.Sources[0].Schedule != "@every 10m" {
		t.Errorf("defaults not applied: %+v", cfg.Sources[0])
	}
	if cfg.Sources[1].Schedule != "*/5 * * * *" {
		t.Errorf("own schedule lost: %q", cfg.Sources[1].Schedule)
	}
	if cfg.Fetch.Timeout != 30*time.Second || cfg.Fetch.MaxBytes != 10<<20 {
		t.Errorf("fetch defaults not set: %+v", cfg.Fetch)
	}
}

func TestLoadLocatesProblemsInIncludedPacks(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"config.yaml": "include: [rules/pack.yaml, rules/missing.yaml]\n",
		"rules/pack.yaml": "entities:\n  - id: company:acme\n    name: Acme\n    aliases: [Acme]\n" +
			"rules:\n  - name: acme\n    any: [company:acme]\n  - name: broken\n    any: [company:nope]\n",
	})
	_, err := LoadWith(filepath.Join(dir, "config.yaml"), env(nil))
	if err == nil {
		t.Fatal("Load succeeded")
	}
	got := strings.ReplaceAll(err.Error(), dir+string(filepath.Separator), "")
	for _, w := range []string{"config.yaml:1: include[1]:", "missing.yaml"} {
		if !strings.Contains(got, w) {
			t.Errorf("report lacks %q:\n%s", w, got)
		}
	}

	// With the missing include gone, the bad reference is reported in the
	// pack, at its own line.
	if err := os.WriteFile(filepath.Join(dir, "config.yaml"), []byte("include: [rules/pack.yaml]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = LoadWith(filepath.Join(dir, "config.yaml"), env(nil))
	if err == nil {
		t.Fatal("Load succeeded with a reference to an unknown entity")
	}
	got = strings.ReplaceAll(err.Error(), dir+string(filepath.Separator), "")
	if !strings.Contains(got, "rules/pack.yaml:8: rules[1]") && !strings.Contains(got, "rules/pack.yaml:9: rules[1]") {
		t.Errorf("problem not located in the pack:\n%s", got)
	}
}

func TestSecretsResolveAndNeverPrint(t *testing.T) {
	dir := writeFiles(t, map[string]string{"hook.txt": "https://hooks.example/secret-path\n"})
	tests := []struct {
		ref, want, wantErr string
		env                map[string]string
	}{
		{ref: "env:HOOK", env: map[string]string{"HOOK": "s3cret-env"}, want: "s3cret-env"},
		{ref: "env:HOOK", wantErr: "environment variable HOOK is not set"},
		{ref: "file:hook.txt", want: "https://hooks.example/secret-path"},
		{ref: "file:/nonexistent/x", wantErr: "read secret file"},
		{ref: "cred:hook.txt", env: map[string]string{"CREDENTIALS_DIRECTORY": dir}, want: "https://hooks.example/secret-path"},
		{ref: "cred:hook.txt", wantErr: "CREDENTIALS_DIRECTORY is not set"},
		{ref: "literal-token", want: "literal-token"},
	}
	for _, tt := range tests {
		t.Run(tt.ref, func(t *testing.T) {
			s := Secret{ref: tt.ref}
			lookup := env(tt.env).LookupEnv
			err := s.resolve(dir, lookup)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if s.Value() != tt.want {
				t.Errorf("value %q, want %q", s.Value(), tt.want)
			}
			for _, shown := range []string{s.String(), s.LogValue().String(), fmt.Sprintf("%v %+v %#v", s, s, s)} {
				if strings.Contains(shown, tt.want) {
					t.Errorf("%q shows the secret", shown)
				}
			}
		})
	}
}

func TestSplitPath(t *testing.T) {
	got := strings.Join(splitPath("rules[2].all[0].any[13]"), " ")
	if want := "rules [2] all [0] any [13]"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

// FuzzParse checks that no config text makes the loader panic, and that a
// config it accepts validates clean.
func FuzzParse(f *testing.F) {
	f.Add([]byte("state_dir: ./d\nsources:\n  - name: a\n    url: https://a.example/feed\n"))
	f.Add([]byte("sources:\n  - name: a\n    schedule: \"CRON_TZ=\"\n"))
	f.Add([]byte("rules:\n  - name: r\n    any: [company:x]\n"))
	for _, p := range []string{"../config.example.yaml", "../examples/demo.yaml", "../examples/rules/watch.yaml"} {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := Parse("fuzz.yaml", data, Options{})
		if err == nil {
			if ps := cfg.Validate(); len(ps) > 0 {
				t.Fatalf("accepted config does not validate: %v", Problems(ps))
			}
		}
	})
}

// A source URL that does not parse may carry a key in its query string
// (SAM.gov takes api_key there); the report names the problem, never the URL.
func TestLoadKeepsBadSourceURLOutOfProblems(t *testing.T) {
	tests := []struct{ name, url string }{
		{"bad host", "https://api sam.gov/opportunities/v2/search?api_key=TOPSECRET"},
		{"bad port", "https://api.sam.gov:port/x?api_key=TOPSECRET"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			yaml := "sources:\n  - name: a\n    url: \"" + tt.url + "\"\n"
			dir := writeFiles(t, map[string]string{"config.yaml": yaml})
			_, err := LoadWith(filepath.Join(dir, "config.yaml"), env(nil))
			if err == nil {
				t.Fatal("Load accepted an unparsable url")
			}
			if got := err.Error(); strings.Contains(got, "TOPSECRET") || !strings.Contains(got, "sources[0].url: not a URL") {
				t.Errorf("report %q: want the url problem without the url", got)
			}
		})
	}
}
