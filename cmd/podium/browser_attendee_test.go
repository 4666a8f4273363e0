package main

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/emersion/go-ical"
)

const demoTitle = "Keeping the lights on: resilient public services in a digital winter"

// registerWithKeyboard goes from the home page to the manage page with the
// keyboard alone: Tab, typing, Space and Enter.
// fillFormWithKeyboard goes from the panel page the tab is on to the manage
// page with Tab, typing, Space and Enter: the hero's call to action jumps
// to the form, whose next Tab is its first field. organisation may be empty.
func fillFormWithKeyboard(b *tab, name, email, organisation string) {
	b.t.Helper()
	b.tabTo(`.panel-hero a[href="#register"]`)
	b.do(pressEnter)
	b.pressTab("#field-name")
	b.do(chromedp.KeyEvent(name))
	b.pressTab("#field-email")
	b.do(chromedp.KeyEvent(email))
	if organisation != "" {
		b.pressTab("#field-organisation")
		b.do(chromedp.KeyEvent(organisation))
	}
	b.tabTo("#field-consent")
	b.do(chromedp.KeyEvent(" "))
	if !eval[bool](b, `document.querySelector("#field-consent").checked`) {
		b.t.Fatal("Space did not tick the consent box")
	}
	b.tabTo(`#register button[type=submit]`)
	b.follow(200, "/registrations/", pressEnter)
}

func registerWithKeyboard(b *tab, name, email string) {
	b.t.Helper()
	b.open("/", 200)
	b.tabTo(`a[href="` + demoPath + `"]`)
	b.follow(200, demoPath, pressEnter)

	fillFormWithKeyboard(b, name, email, "Analytical Engines")
	if h1 := eval[string](b, `document.querySelector("h1").textContent`); h1 != "You're registered" {
		b.t.Fatalf("manage page says %q", h1)
	}
}

// cancelWithKeyboard cancels from the manage page with Tab and Enter.
func cancelWithKeyboard(b *tab) {
	b.t.Helper()
	b.tabTo(`form[action$="/cancel"] button`)
	b.follow(200, "/registrations/", pressEnter)
	got := eval[[]string](b, `[document.querySelector("h1").textContent, (document.querySelector("[role=status]") || {}).textContent || ""]`)
	if got[0] != "Your registration is cancelled" || got[1] != "Your registration has been cancelled." {
		b.t.Fatalf("after cancelling: %q", got)
	}
}

func TestBrowser_AttendeeRegistersWithTheKeyboardSeesTheirOwnTimeAndCancels(t *testing.T) {
	b := newBrowser(t, startPodium(t, nil))
	if zone := eval[string](b, `Intl.DateTimeFormat().resolvedOptions().timeZone`); zone != viewerZone {
		t.Fatalf("the browser runs in %q; TZ=%s did not reach it", zone, viewerZone)
	}
	registerWithKeyboard(b, "Ada Lovelace", "ada@example.com")
	checkLocalTimeHint(b)
	downloadInvite(b)
	cancelWithKeyboard(b)
}

// checkLocalTimeHint checks that the manage page shows the session in the
// browser's own zone: the demo session is at 3:00 PM London time, which a
// viewer in New York reads five (or, around the clock changes, four) hours
// earlier.
func checkLocalTimeHint(b *tab) {
	b.t.Helper()
	got := eval[[]string](b, `[document.querySelector("time[data-local-time]").getAttribute("datetime"),
		document.querySelector(".when-time").textContent,
		(h => h.hidden ? "(hidden)" : h.textContent)(document.querySelector(".local-time"))]`)
	start, err := time.Parse(time.RFC3339, got[0])
	if err != nil {
		b.t.Fatalf("datetime %q: %v", got[0], err)
	}
	london, _ := time.LoadLocation("Europe/London")
	newYork, _ := time.LoadLocation(viewerZone)
	if start.In(london).Format("15:04") != "15:00" || !strings.HasPrefix(got[1], "3:00 PM") {
		b.t.Fatalf("the demo session starts at %s (%q); want 3:00 PM London time", start.In(london), got[1])
	}
	local := start.In(newYork)
	want := []string{"Your time:", local.Format("Monday"), local.Format("January 2"), local.Format("3:04 PM"), local.Format("MST")}
	// Chromium separates "10:00" from "AM" with a narrow no-break space.
	hint := strings.NewReplacer("\u202f", " ", "\u00a0", " ").Replace(got[2])
	for _, w := range want {
		if !strings.Contains(hint, w) {
			b.t.Fatalf("local-time hint %q lacks %q (session %s = %s in New York)", hint, w, start, local)
		}
	}
}

// downloadInvite downloads the registrant's .ics with the keyboard and
// checks that the file is their session.
func downloadInvite(b *tab) {
	b.t.Helper()
	dir := b.t.TempDir()
	_, err := chromedp.CallBrowser(b.ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
		Behavior: browser.SetDownloadBehaviorBehaviorAllow, DownloadPath: dir, EventsEnabled: new(true),
	})
	if err != nil {
		b.t.Fatal(err)
	}
	progress := chromedp.BrowserEvents(b.ctx, browser.DownloadProgress)
	b.tabTo(`a[href$="/invite.ics"]`)
	b.do(pressEnter)
	var path string
	for ev, err := range progress {
		if err != nil {
			b.t.Fatalf("download: %v", err)
		}
		if ev.State == browser.DownloadProgressStateCanceled {
			b.t.Fatal("the .ics download was cancelled")
		}
		if ev.State == browser.DownloadProgressStateCompleted {
			path = ev.FilePath
			break
		}
	}
	f, err := os.Open(path)
	if err != nil {
		b.t.Fatalf("downloaded file: %v", err)
	}
	defer f.Close()
	cal, err := ical.NewDecoder(f).Decode()
	if err != nil {
		b.t.Fatalf("the download is not a calendar: %v", err)
	}
	events := cal.Events()
	if len(events) != 1 {
		b.t.Fatalf("the invite has %d events; want 1", len(events))
	}
	start, err := events[0].DateTimeStart(time.UTC)
	want := eval[string](b, `document.querySelector("time[data-local-time]").getAttribute("datetime")`)
	if err != nil || start.Format(time.RFC3339) != want {
		b.t.Fatalf("the invite starts at %v (%v); the page says %s", start, err, want)
	}
	if summary := events[0].Props.Get(ical.PropSummary); summary == nil || summary.Value != demoTitle {
		b.t.Fatalf("invite summary = %v", summary)
	}
}

func TestBrowser_RegistersAndCancelsWithJavaScriptOff(t *testing.T) {
	b := newBrowser(t, startPodium(t, nil))
	if _, err := chromedp.Call(b.ctx, emulation.SetScriptExecutionDisabled,
		emulation.SetScriptExecutionDisabledParams{Value: true}); err != nil {
		t.Fatal(err)
	}
	registerWithKeyboard(b, "Grace Hopper", "grace@example.com")
	// The page's own scripts did not run (the test reads the page through
	// DevTools, which still can): the session is shown in its own zone only.
	if hidden := eval[bool](b, `document.querySelector(".local-time").hidden`); !hidden {
		t.Fatal("the local-time hint was filled in with JavaScript off")
	}
	if when := eval[string](b, `document.querySelector(".when-time").textContent`); !strings.Contains(when, "3:00 PM") {
		t.Fatalf("the session time reads %q", when)
	}
	cancelWithKeyboard(b)
}

func TestBrowser_ValidationErrorsAreAnnouncedNextToTheirFieldsAndFocused(t *testing.T) {
	b := newBrowser(t, startPodium(t, nil))
	b.open(demoPath, 200)
	b.tabTo(`.panel-hero a[href="#register"]`)
	b.do(pressEnter)
	b.tabTo("#field-email")
	b.do(chromedp.KeyEvent("ada@"))
	b.tabTo(`#register button[type=submit]`)
	b.follow(422, demoPath, pressEnter)

	checkErrorSummary(b)

	// From the summary, Enter on the first message puts the focus in its
	// field; the person fixes the form and sends it.
	b.pressTab(`#error-summary a[href="#field-name"]`)
	b.do(pressEnter)
	if !b.isFocused("#field-name") {
		t.Fatalf("the summary link moved the focus to %s; want the name field", b.focused())
	}
	b.do(chromedp.KeyEvent("Ada Lovelace"))
	b.pressTab("#field-email")
	b.do(chromedp.KeyEvent(kb.End), chromedp.KeyEvent("example.com"))
	b.tabTo("#field-consent")
	b.do(chromedp.KeyEvent(" "))
	b.tabTo(`#register button[type=submit]`)
	b.follow(200, "/registrations/", pressEnter)
	if email := eval[string](b, `[...document.querySelectorAll(".details dd")].map(d => d.textContent).join(" ")`); !strings.Contains(email, "ada@example.com") {
		t.Fatalf("manage page details: %q", email)
	}
}

// checkErrorSummary checks a form that came back with errors: the focus is
// on the summary, the title says so, every summary entry links to its field
// and repeats the message shown next to that field, which is tied to it by
// aria-describedby and marked aria-invalid, and what was typed is kept.
func checkErrorSummary(b *tab) {
	b.t.Helper()
	if !b.isFocused("#error-summary") {
		b.t.Fatalf("after a failed submission the focus is on %s; want the error summary", b.focused())
	}
	if title := eval[string](b, `document.title`); !strings.HasPrefix(title, "Error: ") {
		b.t.Errorf("title %q does not say there is an error", title)
	}
	type fieldError struct {
		Link, Summary, Message string
		Invalid, SameField     bool
	}
	// Every message in the summary links to its field, and the same
	// message sits next to that field, tied to it by aria-describedby.
	got := eval[[]fieldError](b, `[...document.querySelectorAll("#error-summary a")].map(a => {
		const input = document.querySelector(a.getAttribute("href"));
		const control = input && (input.matches("input") ? input : input.querySelector("input"));
		const message = control && document.getElementById(control.getAttribute("aria-describedby") || "");
		return {Link: a.getAttribute("href"), Message: message ? message.textContent.trim() : "",
			Summary: a.textContent.trim(), Invalid: !!control && control.getAttribute("aria-invalid") === "true",
			SameField: !!message && message.closest(".field") === control.closest(".field")};
	})`)
	links := map[string]fieldError{}
	for _, fe := range got {
		links[fe.Link] = fe
		if fe.Message == "" || fe.Message != fe.Summary || !fe.Invalid || !fe.SameField {
			b.t.Errorf("summary entry %+v: want the same message next to an aria-invalid field", fe)
		}
	}
	for _, field := range []string{"#field-name", "#field-email", "#field-consent"} {
		if _, ok := links[field]; !ok {
			b.t.Errorf("the error summary has no entry for %s: %+v", field, got)
		}
	}
	if v := eval[string](b, `document.querySelector("#field-email").value`); v != "ada@" {
		b.t.Errorf("the email field lost what was typed: %q", v)
	}
}
