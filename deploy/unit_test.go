package deploy

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

const unitFile = "tierwatch.service"

// installedBinary is the ExecStart path in the shipped unit.
const installedBinary = "/usr/local/bin/tierwatch"

// TestUnitVerifies runs systemd-analyze verify on the unit with ExecStart
// pointing at a freshly built binary (verify checks that the command is
// executable). verify exits 0 on unknown keys and bad values and only
// warns, so any output at all fails the test.
func TestUnitVerifies(t *testing.T) {
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("systemd-analyze not found; CI must install Debian's systemd package")
		}
		t.Skip("systemd-analyze not found (apt-get install systemd); skipping unit verification")
	}
	unit, err := os.ReadFile(unitFile)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(unit), "ExecStart="+installedBinary+" ") {
		t.Fatalf("unit's ExecStart does not start with %s", installedBinary)
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "tierwatch")
	if out, err := exec.Command("go", "build", "-o", bin, "../cmd/tierwatch").CombinedOutput(); err != nil {
		t.Fatalf("build tierwatch: %v\n%s", err, out)
	}
	copyPath := filepath.Join(dir, unitFile)
	if err := os.WriteFile(copyPath, []byte(strings.ReplaceAll(string(unit), installedBinary, bin)), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(analyze, "verify", copyPath).CombinedOutput()
	if err != nil || len(strings.TrimSpace(string(out))) > 0 {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
}

// TestUnitSettings checks the settings the service contract depends on;
// verify accepts a unit without any of them.
func TestUnitSettings(t *testing.T) {
	f, err := os.Open(unitFile)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	got := map[string][]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if k, v, ok := strings.Cut(line, "="); ok && !strings.HasPrefix(line, "#") {
			got[k] = append(got[k], v)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		key, want string
	}{
		{"Type", "notify"}, // not notify-reload: systemd < 253 lacks it
		{"ExecReload", "/bin/kill -HUP $MAINPID"},
		{"Restart", "on-failure"},
		{"WatchdogSec", "2min"},
		{"DynamicUser", "yes"},
		{"StateDirectory", "tierwatch"},
		{"StateDirectoryMode", "0700"},
		{"UMask", "0077"},
		{"ProtectSystem", "strict"},
		{"NoNewPrivileges", "yes"},
		{"CapabilityBoundingSet", ""},
		{"RestrictAddressFamilies", "AF_INET AF_INET6 AF_UNIX"},
		{"SystemCallFilter", "@system-service"},
		{"LoadCredential", "review-token:/etc/tierwatch/credentials/review-token"},
	}
	for _, tt := range tests {
		t.Run(tt.key, func(t *testing.T) {
			vals, ok := got[tt.key]
			if !ok {
				t.Fatalf("%s is not set", tt.key)
			}
			for _, v := range vals {
				if v == tt.want {
					return
				}
			}
			t.Errorf("%s = %q, want %q among them", tt.key, vals, tt.want)
		})
	}
}
