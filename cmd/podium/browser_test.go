package main

// The browser tests drive Podium through Debian's Chromium with chromedp, the
// way attendees meet it: keyboard, phone and desktop screens, screen-reader
// semantics (axe-core), a publisher's iframe. They need /usr/bin/chromium
// (`apt-get install chromium`) and, for the accessibility scans, axe-core in
// .cache/axe (`npm install --prefix .cache/axe axe-core@4` at the repository
// root); .ci/run installs both. Without them the tests skip, saying how to
// enable them, except under CI=true, where a missing tool fails the run so CI
// never skips them silently.
//
// Screenshots go to .artifacts/screenshots, or to $PODIUM_SCREENSHOTS
// (relative to the repository root): PODIUM_SCREENSHOTS=docs/screenshots
// go test ./cmd/podium -run Browser refreshes the README's.

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

const (
	chromiumPath = "/usr/bin/chromium"
	// axePath is where `npm install --prefix .cache/axe axe-core@4` puts
	// axe-core, relative to the repository root.
	axePath = ".cache/axe/node_modules/axe-core/axe.min.js"
	// demoPath is the demo panel that an empty database gets.
	demoPath = "/panels/keeping-the-lights-on"
	// browserTimeout bounds each browser test, so a hung page fails fast.
	browserTimeout = 40 * time.Second
	// viewerZone is the time zone of the test browsers: not the demo's
	// Europe/London, so the local-time hint has something to show.
	viewerZone = "America/New_York"
)

// requireTool skips the test when a tool it needs is missing, or fails it
// under CI=true.
func requireTool(t *testing.T, path, what, enable string) {
	t.Helper()
	if _, err := os.Stat(path); err == nil {
		return
	}
	msg := fmt.Sprintf("%s not found at %s; to run the browser tests, %s", what, path, enable)
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s (CI=true: browser tests must run in CI, never skip)", msg)
	}
	t.Skip(msg)
}

// repoRoot is the folder of go.mod: go test runs in the package's folder.
func repoRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test's folder")
		}
		dir = parent
	}
}

// tab is one page of a fresh headless Chromium, bound to a running Podium.
type tab struct {
	t    *testing.T
	ctx  context.Context
	base string
}

// newBrowser starts Chromium with a fresh profile, in viewerZone, and
// returns its first tab. The browser stops when the test ends.
func newBrowser(t *testing.T, base string) *tab {
	t.Helper()
	requireTool(t, chromiumPath, "Chromium", "install Debian's package: apt-get install chromium")
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("lang", "en-US"),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 800),
		chromedp.Env("TZ="+viewerZone, "LANG=en_US.UTF-8"),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelBrowser := chromedp.NewContext(allocCtx, chromedp.WithErrorf(logBrowserError))
	t.Cleanup(func() { cancelBrowser(); cancelAlloc() })
	// The first Do starts the browser; it must not carry the timeout, which
	// would stop the browser with it.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start %s: %v", chromiumPath, err)
	}
	ctx, cancel := context.WithTimeout(ctx, browserTimeout)
	t.Cleanup(cancel)
	return &tab{t: t, ctx: ctx, base: base}
}

// logBrowserError logs chromedp's errors, except the one it reports when it
// attaches to a frame's target (the promo card in a publisher's page), whose
// first DOM event comes before it knows the frame: harmless, and noise.
func logBrowserError(format string, args ...any) {
	if msg := fmt.Sprintf(format, args...); !strings.Contains(msg, "when there's no top-level frame") {
		log.Print(msg)
	}
}

// newTab opens another tab of the same browser.
func (b *tab) newTab() *tab {
	b.t.Helper()
	ctx, cancel := chromedp.NewContext(b.ctx)
	b.t.Cleanup(cancel)
	next := &tab{t: b.t, ctx: ctx, base: b.base}
	next.do()
	return next
}

// do runs actions, failing the test on the first error.
func (b *tab) do(actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, actions...); err != nil {
		b.t.Fatalf("browser: %v", err)
	}
}

// eval evaluates a JavaScript expression in the page and decodes its value.
func eval[T any](b *tab, expr string) T {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		b.t.Fatalf("evaluate %.80q: %v", expr, err)
	}
	return v
}

// open loads a path of Podium and checks the status of the answer.
func (b *tab) open(path string, status int) {
	b.t.Helper()
	resp, err := chromedp.Run(b.ctx, chromedp.NavigateResponse(b.base+path))
	if err != nil {
		b.t.Fatalf("open %s: %v", path, err)
	}
	if int(resp.Status) != status {
		b.t.Fatalf("open %s: status %d; want %d", path, resp.Status, status)
	}
}

// follow runs actions that navigate (a key press on a link or a button) and
// checks the status of the page they lead to and where it is.
func (b *tab) follow(status int, pathPrefix string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	resp, err := chromedp.RunResponse(b.ctx, actions...)
	if err != nil {
		b.t.Fatalf("navigate: %v", err)
	}
	path := eval[string](b, `location.pathname`)
	if int(resp.Status) != status || !strings.HasPrefix(path, pathPrefix) {
		b.t.Fatalf("landed on %s with status %d; want %s… with %d", path, resp.Status, pathPrefix, status)
	}
}

// pressEnter presses Enter as a keyboard does: one keydown that carries the
// text (so Chromium makes the keypress itself) and one keyup. chromedp's
// KeyEvent(kb.Enter) sends a separate char event after the keydown, which
// lands on whatever the keydown moved the focus to: a real keyboard's does not.
var pressEnter = chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
	for _, typ := range []input.DispatchKeyEventType{input.DispatchKeyEventTypeKeyDown, input.DispatchKeyEventTypeKeyUp} {
		ev := input.DispatchKeyEventParams{Type: typ, Key: "Enter", Code: "Enter",
			WindowsVirtualKeyCode: 13, NativeVirtualKeyCode: 13}
		if typ == input.DispatchKeyEventTypeKeyDown {
			ev.Text, ev.UnmodifiedText = "\r", "\r"
		}
		if _, err := cdp.Call(ctx, t, input.DispatchKeyEvent, ev); err != nil {
			return err
		}
	}
	return nil
})

// focused describes the focused element, for failure messages.
func (b *tab) focused() string {
	b.t.Helper()
	return eval[string](b, `(e => !e || e === document.body ? "nothing" :
		e.tagName.toLowerCase() + (e.id ? "#" + e.id : "") +
		(e.getAttribute("href") ? "[href=" + e.getAttribute("href") + "]" : "") +
		" " + JSON.stringify((e.innerText || e.value || "").trim().slice(0, 40)))(document.activeElement)`)
}

// isFocused reports whether the focused element matches a CSS selector.
func (b *tab) isFocused(selector string) bool {
	b.t.Helper()
	return eval[bool](b, fmt.Sprintf(`!!document.activeElement && document.activeElement.matches(%q)`, selector))
}

// pressTab presses Tab once and checks where the focus went: the page's tab
// order.
func (b *tab) pressTab(want string) {
	b.t.Helper()
	b.do(chromedp.KeyEvent(kb.Tab))
	if !b.isFocused(want) {
		b.t.Fatalf("Tab moved the focus to %s; want %s", b.focused(), want)
	}
}

// tabTo presses Tab until an element matching the selector has the focus.
func (b *tab) tabTo(want string) {
	b.t.Helper()
	for range 40 {
		b.do(chromedp.KeyEvent(kb.Tab))
		if b.isFocused(want) {
			return
		}
	}
	b.t.Fatalf("40 presses of Tab never reached %s (last: %s)", want, b.focused())
}

// screenshotMu keeps parallel tests from creating the folder at once.
var screenshotMu sync.Mutex

// screenshot saves the window (or the whole page) as name.png in the
// screenshot folder.
func (b *tab) screenshot(name string, fullPage bool) {
	b.t.Helper()
	action := chromedp.CaptureScreenshot()
	if fullPage {
		action = chromedp.FullScreenshot(100)
	}
	png, err := chromedp.Run(b.ctx, action)
	if err != nil {
		b.t.Fatalf("screenshot %s: %v", name, err)
	}
	dir := os.Getenv("PODIUM_SCREENSHOTS")
	if dir == "" {
		dir = filepath.Join(".artifacts", "screenshots")
	}
	if !filepath.IsAbs(dir) {
		dir = filepath.Join(repoRoot(b.t), dir)
	}
	screenshotMu.Lock()
	defer screenshotMu.Unlock()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		b.t.Fatal(err)
	}
}

// register signs up for the demo panel with the mouse-free shortcuts of a
// test that is not about the form, and returns the manage page's path.
func (b *tab) register(name, email string) string {
	b.t.Helper()
	b.open(demoPath, 200)
	b.do(
		chromedp.SendKeys(chromedp.CSS("#field-name"), name),
		chromedp.SendKeys(chromedp.CSS("#field-email"), email),
		chromedp.Click(chromedp.CSS("#field-consent")),
	)
	b.follow(200, "/registrations/", chromedp.Click(chromedp.CSS(`#register button[type=submit]`)))
	return eval[string](b, `location.pathname`)
}
