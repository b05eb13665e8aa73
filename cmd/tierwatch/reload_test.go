package main

import (
	"os"
	"strings"
	"syscall"
	"testing"
)

func TestReloadOnSIGHUP(t *testing.T) {
	srv := newFeedServer(t, 2)
	dir := t.TempDir()
	cfg := writeConfig(t, dir, "", srv.URL+"/first")
	d := startDaemon(t, cfg)
	defer d.stop(t)
	d.waitLog(t, `"source polled","stage":"poll","source":"feed-0"`)

	// A valid config with a second source: it is scheduled and polled,
	// and the first source's state is kept.
	writeConfig(t, dir, "", srv.URL+"/first", srv.URL+"/second")
	if err := d.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	d.waitLog(t, `"msg":"config reloaded"`)
	d.waitLog(t, `"source polled","stage":"poll","source":"feed-1"`)
	if n := strings.Count(d.stderr.String(), `"source polled","stage":"poll","source":"feed-0"`); n != 1 {
		t.Errorf("feed-0 polled %d times; a reload must not poll a source again before its tick", n)
	}

	// A config with problems is rejected whole; the daemon keeps running
	// the old one and says why.
	if err := os.WriteFile(cfg, []byte("sources:\n  - name: x\n    url: ftp://nope\n    bogus: 1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := d.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	d.waitLog(t, `"msg":"reload rejected, keeping the running config"`)
	if !strings.Contains(d.stderr.String(), "field bogus not found") {
		t.Errorf("the rejection does not list the problem:\n%s", lastLines(d.stderr.String(), 5))
	}
	select {
	case err := <-d.done:
		t.Fatalf("daemon exited after a bad reload: %v", err)
	default:
	}
}
