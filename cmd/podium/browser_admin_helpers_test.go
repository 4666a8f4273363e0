package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"
)

// What the admin's browser tests share: an owner account, signing in, forms
// filled and submitted, and reading pages and downloads.

const (
	adminEmail    = "olive@example.com"
	adminPassword = "a long enough passphrase"
)

// startAdminPodium starts Podium with an owner account; demo says whether
// the empty database gets the demo panel.
func startAdminPodium(t *testing.T, demo bool) string {
	t.Helper()
	return startPodium(t, map[string]string{
		"PODIUM_ADMIN_EMAIL": adminEmail, "PODIUM_ADMIN_PASSWORD": adminPassword,
		"PODIUM_DEMO": strconv.FormatBool(demo),
	})
}

// signIn fills in the sign-in form the tab is on and lands on next.
func (b *tab) signIn(next string) {
	b.t.Helper()
	b.do(
		fill("#field-email", adminEmail),
		fill("#field-password", adminPassword),
	)
	b.follow(200, next, chromedp.Click(chromedp.CSS(`main form[action="/admin/login"] button[type=submit]`)))
	if path := eval[string](b, `location.pathname`); path != next {
		b.t.Fatalf("signing in led to %s; want %s", path, next)
	}
}

// expectSignInPage checks that the tab shows the sign-in form, asked for
// from next.
func (b *tab) expectSignInPage(next string) {
	b.t.Helper()
	got := eval[[]string](b, `[location.pathname, new URLSearchParams(location.search).get("next") || "",
		document.querySelector("h1").textContent]`)
	if got[0] != "/admin/login" || got[1] != next || got[2] != "Sign in to Podium" {
		b.t.Fatalf("at %s (next %q, h1 %q); want the sign-in page with next=%s", got[0], got[1], got[2], next)
	}
}

// text is the trimmed text of the first element matching a selector, or ""
// when there is none.
func (b *tab) text(selector string) string {
	b.t.Helper()
	return eval[string](b, fmt.Sprintf(`(e => e ? e.textContent.replace(/\s+/g, " ").trim() : "")(document.querySelector(%q))`, selector))
}

// expectFlash checks the message an action left at the top of the page.
func (b *tab) expectFlash(prefix string) {
	b.t.Helper()
	if flash := b.text("main .flash"); !strings.HasPrefix(flash, prefix) {
		b.t.Fatalf("flash message %q; want %q…", flash, prefix)
	}
}

// submit presses the submit button of the main form matching a selector and
// checks where it leads.
func (b *tab) submit(form string, status int, pathPrefix string) {
	b.t.Helper()
	b.follow(status, pathPrefix, chromedp.Click(chromedp.CSS("main "+form+" button[type=submit]")))
}

// fill empties a field, puts the focus in it and enters text in one go, as
// pasting does: the page sees the input events of typing, without a round
// trip per key.
func fill(selector, text string) chromedp.Action[chromedp.Void] {
	return chromedp.Steps(
		chromedp.Focus(chromedp.CSS(selector)),
		chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`document.querySelector(%q).value = ""`, selector)),
		chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
			_, err := cdp.Call(ctx, t, input.InsertText, input.InsertTextParams{Text: text})
			return err
		}),
	)
}

// typeDateTime types a date and a clock time into date and time inputs as a
// person does, in the en-US order of the browser's fields (month, day, year;
// hour, minute, AM/PM), and checks what the inputs then hold.
func (b *tab) typeDateTime(dateInput, timeInput string, at time.Time) {
	b.t.Helper()
	b.do(
		chromedp.SendKeys(chromedp.CSS(dateInput), at.Format("01022006")),
		chromedp.SendKeys(chromedp.CSS(timeInput), at.Format("0304PM")),
	)
	got := eval[[]string](b, fmt.Sprintf(`[document.querySelector(%q).value, document.querySelector(%q).value]`, dateInput, timeInput))
	if got[0] != at.Format("2006-01-02") || got[1] != at.Format("15:04") {
		b.t.Fatalf("typing %s into the date and time fields left %q and %q", at.Format("01/02/2006 03:04 PM"), got[0], got[1])
	}
}

// pathID is the number after prefix in the tab's path ("/admin/panels/" → 3).
func (b *tab) pathID(prefix string) int64 {
	b.t.Helper()
	path := eval[string](b, `location.pathname`)
	rest, _ := strings.CutPrefix(path, prefix)
	digits, _, _ := strings.Cut(rest, "/")
	id, err := strconv.ParseInt(digits, 10, 64)
	if !strings.HasPrefix(path, prefix) || err != nil {
		b.t.Fatalf("path %s has no id after %s", path, prefix)
	}
	return id
}

// fetched is a response read by the page's own fetch, with its cookies.
type fetched struct {
	Status      int    `json:"status"`
	URL         string `json:"url"`
	Type        string `json:"type"`
	Disposition string `json:"disposition"`
	Body        string `json:"body"`
}

// fetch reads a URL from the page as its scripts would, with the browser's
// cookies; the body keeps a byte order mark.
func (b *tab) fetch(url string) fetched {
	b.t.Helper()
	return eval[fetched](b, fmt.Sprintf(`fetch(%q, {credentials: "same-origin"}).then(async r => ({
		status: r.status, url: r.url, type: r.headers.get("Content-Type") || "",
		disposition: r.headers.get("Content-Disposition") || "",
		body: new TextDecoder("utf-8", {ignoreBOM: true}).decode(await r.arrayBuffer())}))`, url))
}

// privateTab opens a tab in a browser context of its own, which shares no
// cookies with b: another person on another computer.
func (b *tab) privateTab() *tab {
	b.t.Helper()
	ctx, cancel := chromedp.NewContext(b.ctx, chromedp.WithNewBrowserContext())
	b.t.Cleanup(cancel)
	other := &tab{t: b.t, ctx: ctx, base: b.base}
	other.do()
	return other
}
