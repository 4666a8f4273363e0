package main

import (
	"context"
	"fmt"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
)

// viewport is a screen the public pages must work on.
type viewport struct {
	name          string
	width, height int64
	phone         bool
}

var viewports = []viewport{
	{name: "phone", width: 360, height: 740, phone: true},
	{name: "desktop", width: 1280, height: 800},
}

func (v viewport) emulate() chromedp.Action[chromedp.Void] {
	if v.phone {
		return chromedp.EmulateViewport(v.width, v.height, chromedp.EmulateMobile, chromedp.EmulateTouch)
	}
	return chromedp.EmulateViewport(v.width, v.height)
}

func TestBrowser_PublicPagesFitPhoneAndDesktopScreens(t *testing.T) {
	base := startPodium(t, nil)
	b := newBrowser(t, base)
	for _, vp := range viewports {
		t.Run(vp.name, func(t *testing.T) {
			b := &tab{t: t, ctx: b.ctx, base: base}
			b.do(vp.emulate())

			b.open("/", 200)
			b.noHorizontalScroll("home")
			b.screenshot("home-"+vp.name, false)

			// The call to action is on the first screen, without scrolling.
			b.open(demoPath, 200)
			b.noHorizontalScroll("panel page")
			if !b.inViewport(`.panel-hero a[href="#register"]`) {
				t.Errorf("the Reserve button is not on the first screen of the panel page")
			}
			b.screenshot("panel-"+vp.name, false)

			// Following it is the one scroll to the form: its button is then
			// on screen too.
			b.do(chromedp.Click(chromedp.CSS(`.panel-hero a[href="#register"]`)))
			if !b.inViewport(`#register button[type=submit]`) {
				t.Errorf("after the Reserve button's jump, the form's submit button is off screen")
			}

			b.follow(422, demoPath, chromedp.Click(chromedp.CSS(`#register button[type=submit]`)))
			b.noHorizontalScroll("form with errors")
			if !b.inViewport("#error-summary h3") {
				t.Errorf("the error summary is not on screen after a failed submission")
			}
			b.screenshot("form-errors-"+vp.name, false)

			manage := b.register("Ada Lovelace", fmt.Sprintf("ada-%s@example.com", vp.name))
			b.noHorizontalScroll("manage page")
			b.screenshot("manage-"+vp.name, true)
			if !vp.phone {
				checkPrintedManagePage(b)
			}

			b.follow(200, manage, chromedp.Click(chromedp.CSS(`form[action$="/cancel"] button`)))
			b.noHorizontalScroll("cancelled manage page")

			b.open("/nowhere", 404)
			b.noHorizontalScroll("404 page")
		})
	}
	// The promo card, at its default size and squeezed into a narrow column.
	for _, width := range []int64{560, 300} {
		b.do(chromedp.EmulateViewport(width, 440))
		b.open(demoPath+"/embed", 200)
		b.noHorizontalScroll("promo card")
		if width == 560 {
			b.screenshot("embed-card", false)
		}
	}
}

// checkPrintedManagePage checks that a printed manage page keeps the
// registration and drops what paper cannot use: site header and footer,
// calendar links and the cancel form.
func checkPrintedManagePage(b *tab) {
	b.t.Helper()
	print := func(media string) chromedp.Action[chromedp.Void] {
		return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
			_, err := cdp.Call(ctx, t, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Media: media})
			return err
		})
	}
	b.do(print("print"))
	defer b.do(print(""))
	shown := eval[map[string]bool](b, `Object.fromEntries([".site-header", ".site-footer", ".calendar-links",
		"form[action$='/cancel']", ".manage h1", ".when", ".details"].map(s =>
		[s, (e => !!e && e.getClientRects().length > 0)(document.querySelector(s))]))`)
	for sel, want := range map[string]bool{".site-header": false, ".site-footer": false, ".calendar-links": false,
		"form[action$='/cancel']": false, ".manage h1": true, ".when": true, ".details": true} {
		if shown[sel] != want {
			b.t.Errorf("printed manage page: %s shown = %v; want %v", sel, shown[sel], want)
		}
	}
	b.screenshot("manage-print", true)
}

func TestBrowser_PublicPagesPassAccessibilityChecks(t *testing.T) {
	axe := newAxe(t)
	b := newBrowser(t, startPodium(t, nil))
	check := func(page string, fullPage bool) {
		t.Helper()
		axe.scan(b, page)
		b.checkOutline(page, fullPage)
		b.checkFocusVisible(page)
	}

	b.open("/", 200)
	check("home", true)
	b.open(demoPath, 200)
	check("panel page", true)
	b.follow(422, demoPath, chromedp.Click(chromedp.CSS(`#register button[type=submit]`)))
	check("panel page with errors", true)
	manage := b.register("Ada Lovelace", "ada@example.com")
	check("manage page", true)
	b.follow(200, manage, chromedp.Click(chromedp.CSS(`form[action$="/cancel"] button`)))
	check("cancelled manage page", true)
	b.open("/nowhere", 404)
	check("404 page", true)
	// The card lives in a publisher's page, which has its own header and
	// skip link: it has a main landmark and a heading, and nothing to skip.
	b.open(demoPath+"/embed", 200)
	check("promo card", false)
}
