package review

import (
	"context"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/tierwatch/tierwatch/model"
)

// chromiumPath is Debian's chromium, which .ci/run installs.
const chromiumPath = "/usr/bin/chromium"

// TestBrowserKeyboardQueue logs in with a real headless chromium, works the
// queue by keyboard (accept, reject, snooze, undo), checks the store, and
// checks that a hostile feed title stays inert text.
func TestBrowserKeyboardQueue(t *testing.T) {
	if _, err := os.Stat(chromiumPath); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI=true but %s is missing (.ci/run installs the chromium package): %v", chromiumPath, err)
		}
		t.Skipf("%s not found; install Debian's chromium package to run the browser test", chromiumPath)
	}
	const (
		idC     = "2025-03-02--ice-signs-aws-deal"
		idH     = "2025-03-03--hostile"
		hostile = `<img src=x onerror=alert(1)>`
	)
	e := newAPI(t) // idA (score 5) and idB (score 4)
	h := cand(idH, hostile, 9)
	h.Sources[0].Title = hostile
	seed(t, e.st, cand(idC, "ICE signs AWS deal", 3), h)

	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
	)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	actx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	defer cancelAlloc()
	bctx, cancelBrowser := chromedp.NewContext(actx)
	defer cancelBrowser()

	// Start the tab, then count JavaScript dialogs (an alert would mean
	// the hostile title ran), closing each so the page never blocks.
	if err := chromedp.Do(bctx, chromedp.Navigate(e.srv.URL+"/")); err != nil {
		t.Fatalf("browser: %v", err)
	}
	var dialogs atomic.Int32
	watched := make(chan struct{})
	go func() {
		defer close(watched)
		for _, err := range chromedp.Events(bctx, page.JavascriptDialogOpening) {
			if err != nil {
				return
			}
			dialogs.Add(1)
			// Closing may fail once the tab is gone; the count is what matters.
			_, _ = chromedp.Call(bctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: false})
		}
	}()
	defer func() { cancelBrowser(); <-watched }()

	// waitFor waits until the JavaScript expression is true.
	waitFor := func(expr string) chromedp.Action[chromedp.Void] {
		poll := chromedp.Poll[bool](expr, chromedp.WithPollingTimeout(15*time.Second))
		return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := poll(ctx, tg)
			return err
		})
	}
	waitStatus := func(prefix string) chromedp.Action[chromedp.Void] {
		return waitFor(`document.getElementById("status").textContent.startsWith(` + jsString(prefix) + `)`)
	}
	for i, step := range []chromedp.Action[chromedp.Void]{
		chromedp.WaitVisible(chromedp.ID("token")),
		chromedp.SendKeys(chromedp.ID("token"), testToken),
		chromedp.SendKeys(chromedp.ID("who"), "browser"),
		chromedp.Click(chromedp.ID("login")),
		chromedp.WaitVisible(chromedp.CSS(`body[data-ready="1"] article.card`)),
	} {
		sctx, c := context.WithTimeout(bctx, 15*time.Second)
		err := chromedp.Do(sctx, step)
		c()
		if err != nil {
			html, _ := chromedp.Run(bctx, chromedp.Evaluate[string](`document.documentElement.outerHTML`))
			t.Fatalf("browser login step %d: %v\n%s", i, err, html)
		}
	}
	imgs, err := chromedp.Run(bctx, chromedp.Evaluate[int](`document.querySelectorAll("img").length`))
	if err != nil {
		t.Fatal(err)
	}
	hostileText, err := chromedp.Run(bctx, chromedp.Evaluate[string](`document.querySelector('article[data-id="`+idH+`"] h2').textContent`))
	if err != nil {
		t.Fatal(err)
	}
	err = chromedp.Do(bctx,
		// The hostile card is first (score 9); move to idA and decide.
		chromedp.KeyEvent("j"),
		chromedp.KeyEvent("a"),
		waitStatus("accept "+idA+" done"),
		chromedp.KeyEvent("x"),
		waitStatus("reject "+idB+" done"),
		chromedp.KeyEvent("s"),
		waitStatus("snooze "+idC+" done"),
		// Undo reloads the page (the snoozed card comes back): mark this
		// document so the wait below sees the new one.
		chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := chromedp.Evaluate[bool](`document.body.dataset.stale = "1"; true`)(ctx, tg)
			return err
		}),
		chromedp.KeyEvent("u"),
		chromedp.WaitVisible(chromedp.CSS(`body[data-ready="1"]:not([data-stale]) article.card`)),
	)
	if err != nil {
		t.Fatalf("browser keyboard: %v", err)
	}
	count, err := chromedp.Run(bctx, chromedp.Evaluate[string](`document.getElementById("count").textContent`))
	if err != nil {
		t.Fatal(err)
	}
	if imgs != 0 {
		t.Errorf("%d img elements on the page; the hostile title made one", imgs)
	}
	if hostileText != hostile {
		t.Errorf("hostile title shows as %q, want the literal text", hostileText)
	}
	if n := dialogs.Load(); n != 0 {
		t.Errorf("%d JavaScript dialogs opened", n)
	}
	if count != "2" {
		t.Errorf("pending count after undo = %q, want 2", count)
	}
	want := map[string]string{idA: model.StatusAccepted, idB: model.StatusRejected, idC: model.StatusPending, idH: model.StatusPending}
	for id, status := range want {
		if c := mustGet(t, e.st, id); c.Status != status {
			t.Errorf("%s is %s, want %s", id, c.Status, status)
		}
	}
	ds, err := e.st.Decisions("")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, d := range ds {
		got = append(got, d.Action+":"+d.Who)
	}
	if len(ds) != 4 || ds[0].CandidateID != idA || ds[2].CandidateID != idC || !ds[2].Undone || ds[3].Action != model.ActionUndo {
		t.Errorf("decision log = %v", got)
	}
	for _, d := range ds {
		if d.Who != "browser" {
			t.Errorf("decision by %q, want the login name", d.Who)
		}
	}
}

// jsString quotes s as a JavaScript string literal (s is test-controlled).
func jsString(s string) string {
	out := []byte{'"'}
	for _, r := range []byte(s) {
		if r == '"' || r == '\\' {
			out = append(out, '\\')
		}
		out = append(out, r)
	}
	return string(append(out, '"'))
}
