// Package deps_test enforces tierwatch's import direction (see
// ../shared/STYLE.md): model is the leaf, config imports only model, the
// stages point downstream (config → monitor → rules → storage →
// notify/review), storage imports no other stage, a parent package never
// imports its child, and only cmd wires everything together.
package deps_test

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/tierwatch/tierwatch"

// allowed lists, per package (a trailing "/" covers its subpackages), the
// tierwatch packages it may import directly. A package not listed may
// import nothing of ours.
var allowed = map[string][]string{
	"model":            {},
	"config":           {"model"},
	"monitor":          {"model", "config"},
	"monitor/":         {"model", "config", "monitor", "monitor/record"},
	"rules":            {"model", "config"},
	"storage":          {"model"},
	"timeline":         {"model"},
	"notify":           {"model", "config"},
	"notify/":          {"model", "config", "notify"},
	"review":           {"model", "storage", "timeline"},
	"ingest":           {"model", "config", "rules", "storage"},
	"metrics":          {"model"},
	"sdnotify":         {},
	"deploy":           {},
	"bench":            {"model", "config"},
	"internal/evalset": {"model"},
	"internal/shared":  {},
	"cmd/":             {"*"},
	"rules/internal/":  {"model", "config", "rules"},
}

func rulesFor(pkg string) ([]string, bool) {
	if r, ok := allowed[pkg]; ok {
		return r, true
	}
	for prefix, r := range allowed {
		if strings.HasSuffix(prefix, "/") && strings.HasPrefix(pkg, prefix) {
			return r, true
		}
	}
	return nil, false
}

func TestImportDirection(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}} {{join .Imports " "}}`, "./...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		pkg := strings.TrimPrefix(strings.TrimPrefix(fields[0], module), "/")
		if pkg == "" {
			continue // this test's own package
		}
		may, ok := rulesFor(pkg)
		if !ok {
			t.Errorf("package %s has no import rule here; add one to allowed", pkg)
			continue
		}
		for _, imp := range fields[1:] {
			if !strings.HasPrefix(imp, module+"/") {
				continue
			}
			dep := strings.TrimPrefix(imp, module+"/")
			if strings.HasPrefix(dep, "cmd/") {
				t.Errorf("%s imports %s: nothing imports the binary", pkg, dep)
			}
			if slices.Contains(may, "*") || slices.Contains(may, dep) {
				continue
			}
			t.Errorf("%s imports %s, against the import direction (it may import %v)", pkg, dep, may)
		}
	}
}
