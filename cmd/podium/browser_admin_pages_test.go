package main

import (
	"fmt"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// The admin's pages on phone and desktop screens and under axe-core, with
// the demo panel, a custom question and a few registrants.

// The demo panel's admin page and its session's.
const (
	demoAdmin        = "/admin/panels/1"
	demoAdminSession = demoAdmin + "/sessions/1"
)

// addQuestionToDemo asks the demo panel's registrants an optional single
// choice question.
func addQuestionToDemo(b *tab) {
	b.t.Helper()
	b.open(demoAdmin+"/questions", 200)
	b.do(
		fill("#field-questions-0-label", "Which area do you work in?"),
		chromedp.SetValue(chromedp.CSS("#field-questions-0-kind"), "single_choice"),
		fill("#field-questions-0-options", "Policy\nEngineering\nResearch"),
	)
	b.submit("form.admin-form", 200, demoAdmin)
	b.expectFlash("Questions saved.")
}

// addRegistrant registers someone for the demo session from its admin page,
// answering the question when the panel has one.
func addRegistrant(b *tab, name, email, organisation, answer string) {
	b.t.Helper()
	b.open(demoAdminSession, 200)
	b.do(
		fill("#field-name", name),
		fill("#field-email", email),
		fill("#field-organisation", organisation),
		chromedp.SetValue(chromedp.CSS(`#add-heading ~ form select[id^="field-q-"]`), answer),
		chromedp.Click(chromedp.CSS("#field-consent")),
	)
	b.submit(`form[action$="/registrants"]`, 200, demoAdminSession)
	b.expectFlash(name)
}

// rescheduleDemo submits the demo session's form an hour later, which with
// registrants leads to the confirmation page.
func rescheduleDemo(b *tab) {
	b.t.Helper()
	b.open(demoAdminSession+"/edit", 200)
	at, err := time.Parse("2006-01-02 15:04", eval[string](b, `document.querySelector("#field-date").value + " " + document.querySelector("#field-time").value`))
	if err != nil {
		b.t.Fatal(err)
	}
	b.typeDateTime("#field-date", "#field-time", at.Add(time.Hour))
	b.submit("form.admin-form", 200, demoAdminSession)
	if h1 := b.text("h1"); h1 != "Send updated invites?" {
		b.t.Fatalf("changing the time led to %q; want the confirmation", h1)
	}
}

func TestBrowser_AdminPagesPassAccessibilityChecks(t *testing.T) {
	axe := newAxe(t)
	base := startAdminPodium(t, true)
	registerDemo(t, base, "ada@example.com")
	b := newBrowser(t, base)
	check := func(page string) {
		t.Helper()
		axe.scan(b, page)
		b.checkOutline(page, true)
		b.checkFocusVisible(page)
	}

	b.open("/admin", 200)
	check("sign-in page")
	b.do(fill("#field-email", adminEmail), fill("#field-password", "not the password"))
	b.submit(`form[action="/admin/login"]`, 401, "/admin/login")
	check("sign-in page with an error")
	b.signIn("/admin")
	check("dashboard")

	b.open("/admin/panels", 200)
	check("panel list")
	b.open(demoAdmin, 200)
	check("panel page")
	b.open("/admin/panels/new", 200)
	b.submit("form.admin-form", 422, "/admin/panels")
	check("panel form with errors")
	b.open(demoAdmin+"/questions", 200)
	check("questions form")
	addQuestionToDemo(b)

	b.open(demoAdminSession, 200)
	b.submit(`form[action$="/registrants"]`, 422, demoAdminSession)
	check("session page with the add form's errors")
	addRegistrant(b, "Grace Hopper", "grace@example.com", "US Navy", "Engineering")
	check("session page with registrants")
	b.open(demoAdminSession+"/edit", 200)
	check("session form")
	rescheduleDemo(b)
	check("reschedule confirmation")
	b.follow(200, demoAdminSession, chromedp.Click(chromedp.CSS(`main button[name=confirm][value=yes]`)))
	check("session page with the fan-out's progress")
	b.open(demoAdmin+"/registrants", 200)
	check("panel registrants")

	b.open("/admin/outbox", 200)
	check("email list")
	b.follow(200, "/admin/outbox/", chromedp.Click(chromedp.CSS(`main table tbody tr th a`)))
	check("email")
	b.open("/admin/accounts", 200)
	check("accounts")
	b.open("/admin/tokens", 200)
	check("API tokens")
	b.do(fill("#field-name", "CRM"))
	b.submit(`form[action="/admin/tokens"]`, 200, "/admin/tokens")
	check("new API token")

	// On a phone, wide tables scroll sideways inside their frame, which a
	// keyboard must be able to reach and scroll: the pages whose tables may
	// have no link or button to take the focus there.
	b.do(viewports[0].emulate())
	for _, path := range []string{"/admin", demoAdminSession, "/admin/outbox", "/admin/accounts", "/admin/tokens"} {
		b.open(path, 200)
		axe.scan(b, "phone "+path)
	}
	rescheduleDemo(b)
	axe.scan(b, "phone reschedule confirmation")
}

func TestBrowser_AdminPagesFitPhoneAndDesktopScreens(t *testing.T) {
	base := startAdminPodium(t, true)
	b := newBrowser(t, base)
	b.open("/admin", 200)
	b.signIn("/admin")
	addQuestionToDemo(b)
	addRegistrant(b, "Grace Hopper", "grace@example.com", "US Navy", "Engineering")
	addRegistrant(b, "Katherine Johnson", "katherine@example.com", "NASA Langley", "Research")
	addRegistrant(b, "Alan Turing", "alan@example.com", "National Physical Laboratory", "Policy")

	for _, vp := range viewports {
		t.Run(vp.name, func(t *testing.T) {
			b := &tab{t: t, ctx: b.ctx, base: base}
			b.do(vp.emulate())
			for _, page := range []struct{ path, name, shot string }{
				{"/admin", "dashboard", "admin-dashboard"},
				{"/admin/panels", "panel list", ""},
				{demoAdmin, "panel page", ""},
				{demoAdmin + "/edit", "panel form", "admin-panel-edit"},
				{demoAdmin + "/questions", "questions form", ""},
				{demoAdminSession, "session page", "admin-session"},
				{demoAdminSession + "/edit", "session form", ""},
				{demoAdmin + "/registrants", "panel registrants", ""},
				{"/admin/outbox", "email list", "admin-outbox"},
				{"/admin/outbox/1", "email", ""},
				{"/admin/accounts", "accounts", ""},
				{"/admin/tokens", "API tokens", ""},
			} {
				b.open(page.path, 200)
				b.noHorizontalScroll(page.name)
				if page.shot != "" {
					b.screenshot(page.shot+"-"+vp.name, false)
				}
			}
			// The session's registrants, with the first one's answers open:
			// on a phone the table itself, below the counts and the search.
			top := "#registrants-heading"
			if vp.phone {
				top = "table.registrants"
			}
			b.open(demoAdminSession, 200)
			b.do(chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`document.querySelector(".answers").open = true;
				document.querySelector(%q).scrollIntoView()`, top)))
			b.screenshot("admin-registrants-"+vp.name, false)
		})
	}
}
