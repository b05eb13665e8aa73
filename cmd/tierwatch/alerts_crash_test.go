package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/tierwatch/tierwatch/notify/notifytest"
	"github.com/tierwatch/tierwatch/storage"
)

// TestAlertSurvivesKillBetweenCommitAndAck kills the daemon while a
// webhook receiver holds the first delivery of an alert unanswered: the
// receiver has processed it, the daemon never learns. After a restart the
// alert is sent again with the same webhook-id, and the deduping receiver
// counts it once.
func TestAlertSurvivesKillBetweenCommitAndAck(t *testing.T) {
	const secret = "crash-test-signing-secret"
	recv := notifytest.NewReceiver(t, secret, notifytest.ReceiverOptions{})
	arrived := make(chan struct{})
	release := make(chan struct{})
	var once sync.Once
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		first := false
		once.Do(func() { first = true })
		if !first {
			recv.ServeHTTP(w, r)
			return
		}
		// The receiver processes the first delivery, then the answer is
		// held until the daemon is dead: the ack is lost.
		recv.ServeHTTP(httptest.NewRecorder(), r)
		close(arrived)
		<-release
	}))
	defer hook.Close()
	defer close(release)

	feed := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/rss+xml")
		fmt.Fprint(w, `<?xml version="1.0"?><rss version="2.0"><channel><title>Wire</title>
<item><title>Palantir wins new ICE contract for case management</title><link>https://wire.example/palantir-ice</link><guid>p1</guid><pubDate>Tue, 20 Aug 2019 09:30:00 GMT</pubDate></item>
</channel></rss>`)
	}))
	defer feed.Close()

	root, _ := filepath.Abs("../..")
	dir := t.TempDir()
	extra := "include: [" + filepath.Join(root, "examples/rules/watch.yaml") + "]\n" +
		"alerts:\n  destinations:\n    - name: hook\n      type: webhook\n      default: true\n      url: " + hook.URL + "/hook\n      secret: " + secret + "\n"
	cfg := writeConfig(t, dir, extra, feed.URL+"/rss")

	d := startDaemon(t, cfg)
	select {
	case <-arrived:
	case err := <-d.done:
		t.Fatalf("daemon exited before delivering: %v\n%s", err, d.stderr.String())
	}
	if err := d.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-d.done
	if n := len(recv.Deliveries()); n != 1 {
		t.Fatalf("receiver processed %d deliveries before the kill, want 1", n)
	}

	d = startDaemon(t, cfg)
	d.waitLog(t, `"outbox_id"`)
	d.waitLog(t, "delivered")
	d.stop(t)

	if got := recv.Deliveries(); len(got) != 1 || got[0].Type != "candidate.created" {
		t.Errorf("receiver recorded %+v, want one candidate.created", got)
	}
	if recv.Duplicates() < 1 {
		t.Errorf("the alert was not sent again after the restart (duplicates %d)", recv.Duplicates())
	}
	if rej := recv.Rejected(); len(rej) > 0 {
		t.Errorf("receiver rejected deliveries: %v", rej)
	}
	st, err := storage.Open(filepath.Join(dir, "state"), storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	pending, dead, err := st.OutboxStats()
	if err != nil || pending != 0 || dead != 0 {
		t.Errorf("outbox after delivery: %d pending, %d dead (%v), want none", pending, dead, err)
	}
	if strings.Contains(d.stderr.String(), secret) || strings.Contains(d.stderr.String(), hook.URL) {
		t.Error("the daemon logged the webhook URL or its secret")
	}
}
