package sdnotify

import (
	"net"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// listen opens a unixgram socket like systemd's notify socket and returns
// its address and a function that reads one datagram.
func listen(t *testing.T, name string) (string, func() string) {
	t.Helper()
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: name, Net: "unixgram"})
	if err != nil {
		t.Fatalf("listen %s: %v", name, err)
	}
	t.Cleanup(func() { conn.Close() })
	return name, func() string {
		t.Helper()
		// A deadline, not a sleep: the datagram is already queued when
		// Notify returns, so this only bounds a broken test.
		if err := conn.SetReadDeadline(time.Now().Add(10 * time.Second)); err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 4096)
		n, err := conn.Read(buf)
		if err != nil {
			t.Fatalf("read datagram: %v", err)
		}
		return string(buf[:n])
	}
}

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestMessages(t *testing.T) {
	addr, read := listen(t, filepath.Join(t.TempDir(), "notify.sock"))
	n, err := FromEnv(env(map[string]string{"NOTIFY_SOCKET": addr}))
	if err != nil {
		t.Fatal(err)
	}
	n.monotonic = func() (uint64, error) { return 123456789, nil }
	tests := []struct {
		name string
		send func() error
		want string
	}{
		{"ready", func() error { return n.Ready("") }, "READY=1"},
		{"ready with status", func() error { return n.Ready("polling 3 sources") }, "READY=1\nSTATUS=polling 3 sources"},
		{"watchdog", n.Watchdog, "WATCHDOG=1"},
		{"reloading", func() error { return n.Reloading("") }, "RELOADING=1\nMONOTONIC_USEC=123456789"},
		{"stopping", func() error { return n.Stopping("bye") }, "STOPPING=1\nSTATUS=bye"},
		{"status newline flattened", func() error { return n.Status("a\nREADY=1") }, "STATUS=a READY=1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.send(); err != nil {
				t.Fatal(err)
			}
			if got := read(); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestAbstractSocket(t *testing.T) {
	name := "@tierwatch-sdnotify-test-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	addr, read := listen(t, name)
	n, err := FromEnv(env(map[string]string{"NOTIFY_SOCKET": addr}))
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Ready(""); err != nil {
		t.Fatal(err)
	}
	if got := read(); got != "READY=1" {
		t.Errorf("got %q, want READY=1", got)
	}
}

func TestRealMonotonicClock(t *testing.T) {
	addr, read := listen(t, filepath.Join(t.TempDir(), "n.sock"))
	n, err := FromEnv(env(map[string]string{"NOTIFY_SOCKET": addr}))
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Reloading(""); err != nil {
		t.Fatal(err)
	}
	got := read()
	v, ok := strings.CutPrefix(got, "RELOADING=1\nMONOTONIC_USEC=")
	if !ok {
		t.Fatalf("got %q, want RELOADING=1 and MONOTONIC_USEC", got)
	}
	if us, err := strconv.ParseUint(v, 10, 64); err != nil || us == 0 {
		t.Errorf("MONOTONIC_USEC=%q is not a positive integer", v)
	}
}

func TestDisabled(t *testing.T) {
	var nilN *Notifier
	for name, n := range map[string]*Notifier{"unset": mustFromEnv(t, ""), "nil": nilN, "zero": {}} {
		t.Run(name, func(t *testing.T) {
			if n.IsEnabled() {
				t.Fatal("IsEnabled = true, want false")
			}
			for _, err := range []error{n.Ready("x"), n.Watchdog(), n.Reloading(""), n.Stopping(""), n.Status("s")} {
				if err != nil {
					t.Errorf("got %v, want nil from a disabled notifier", err)
				}
			}
		})
	}
}

func mustFromEnv(t *testing.T, sock string) *Notifier {
	t.Helper()
	n, err := FromEnv(env(map[string]string{"NOTIFY_SOCKET": sock}))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestFromEnvErrors(t *testing.T) {
	if _, err := FromEnv(env(map[string]string{"NOTIFY_SOCKET": "vsock:2:1234"})); err == nil {
		t.Error("vsock address accepted, want an error")
	}
	// A socket nobody listens on: the error surfaces, no panic.
	n := mustFromEnv(t, filepath.Join(t.TempDir(), "absent.sock"))
	if err := n.Ready(""); err == nil || !strings.HasPrefix(err.Error(), "notify systemd: ") {
		t.Errorf("got %v, want a notify systemd error", err)
	}
}

func TestWatchdogInterval(t *testing.T) {
	tests := []struct {
		name   string
		usec   string
		pid    string
		want   time.Duration
		wantOK bool
	}{
		{"unset", "", "", 0, false},
		{"set, any pid", "30000000", "", 30 * time.Second, true},
		{"set, our pid", "2000000", "42", 2 * time.Second, true},
		{"set, other pid", "2000000", "43", 0, false},
		{"bad pid", "2000000", "x", 0, false},
		{"zero", "0", "", 0, false},
		{"negative", "-5", "", 0, false},
		{"garbage", "30s", "", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := WatchdogInterval(env(map[string]string{"WATCHDOG_USEC": tt.usec, "WATCHDOG_PID": tt.pid}), 42)
			if got != tt.want || ok != tt.wantOK {
				t.Errorf("got %v, %v; want %v, %v", got, ok, tt.want, tt.wantOK)
			}
		})
	}
}
