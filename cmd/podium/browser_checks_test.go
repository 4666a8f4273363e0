package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// The checks that the browser tests run on pages: layout, accessibility
// (axe-core and the page's outline) and keyboard focus.

// noHorizontalScroll fails when the page is wider than the window.
func (b *tab) noHorizontalScroll(page string) {
	b.t.Helper()
	sizes := eval[[]float64](b, `[document.documentElement.scrollWidth, innerWidth]`)
	if sizes[0] > sizes[1] {
		wide := eval[[]string](b, `[...document.querySelectorAll("body *")]
			.filter(e => e.getBoundingClientRect().right > innerWidth + 0.5)
			.slice(0, 5).map(e => e.tagName.toLowerCase() + "." + e.className)`)
		b.t.Errorf("%s scrolls sideways: %v px wide in a %v px window; too wide: %v", page, sizes[0], sizes[1], wide)
	}
}

// inViewport reports whether the element is wholly inside the window.
func (b *tab) inViewport(selector string) bool {
	b.t.Helper()
	return eval[bool](b, fmt.Sprintf(`(r => r.width > 0 && r.top >= 0 && r.left >= 0 &&
		r.bottom <= innerHeight && r.right <= innerWidth)(document.querySelector(%q).getBoundingClientRect())`, selector))
}

// axeViolation is one rule that failed, as axe-core reports it.
type axeViolation struct {
	ID     string   `json:"id"`
	Impact string   `json:"impact"`
	Help   string   `json:"help"`
	Nodes  []string `json:"nodes"`
}

// axeScanner injects axe-core into pages.
type axeScanner struct {
	source string
}

// newAxe reads axe-core, or skips (fails under CI=true) without it.
func newAxe(t *testing.T) *axeScanner {
	t.Helper()
	path := filepath.Join(repoRoot(t), axePath)
	requireTool(t, path, "axe-core", "install it from the repository root: npm install --prefix .cache/axe axe-core@4")
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return &axeScanner{source: string(src)}
}

// wcagTags are the rules checked: WCAG 2.0 and 2.1, levels A and AA.
var wcagTags = []string{"wcag2a", "wcag2aa", "wcag21a", "wcag21aa"}

// scan runs axe-core on the tab's page and fails the test on any serious or
// critical violation; lesser ones are logged.
func (a *axeScanner) scan(b *tab, page string) {
	b.t.Helper()
	// DevTools evaluation is not subject to the page's CSP, so axe-core
	// needs no exception in Podium's policy.
	if _, err := chromedp.Run(b.ctx, chromedp.Evaluate[chromedp.Void](a.source)); err != nil {
		b.t.Fatalf("inject axe-core into %s: %v", page, err)
	}
	tags, _ := json.Marshal(wcagTags)
	raw := eval[[]byte](b, `axe.run(document, {runOnly: {type: "tag", values: `+string(tags)+`}, resultTypes: ["violations"]})
		.then(r => r.violations.map(v => ({id: v.id, impact: v.impact || "", help: v.help,
			nodes: v.nodes.map(n => n.target.join(" ") + ": " + (n.failureSummary || "").replace(/\s+/g, " "))})))`)
	var violations []axeViolation
	if err := json.Unmarshal(raw, &violations); err != nil {
		b.t.Fatalf("axe-core on %s: %v", page, err)
	}
	for _, v := range violations {
		msg := fmt.Sprintf("%s: axe-core %s (%s): %s\n\t%s", page, v.ID, v.Impact, v.Help, strings.Join(v.Nodes, "\n\t"))
		if v.Impact == "serious" || v.Impact == "critical" {
			b.t.Error(msg)
		} else {
			b.t.Log(msg)
		}
	}
}

// pageOutline is what every page must have for people who navigate by
// landmarks, headings and keyboard.
type pageOutline struct {
	Lang        string   `json:"lang"`
	Title       string   `json:"title"`
	H1          []string `json:"h1"`
	Main        int      `json:"main"`
	Banner      int      `json:"banner"`
	ContentInfo int      `json:"contentinfo"`
}

// checkOutline checks lang, title, one h1 and the landmarks; a full page
// also has a banner, a footer and a skip link that works from the keyboard.
func (b *tab) checkOutline(page string, fullPage bool) {
	b.t.Helper()
	o := eval[pageOutline](b, `({
		lang: document.documentElement.lang, title: document.title,
		h1: [...document.querySelectorAll("h1")].map(h => h.textContent.trim()),
		main: document.querySelectorAll("main").length,
		banner: document.querySelectorAll("body > header").length,
		contentinfo: document.querySelectorAll("body > footer").length})`)
	if o.Lang != "en" || o.Title == "" || len(o.H1) != 1 || o.Main != 1 {
		b.t.Errorf("%s: lang %q, title %q, h1 %q, %d main landmark(s); want en, a title, one h1 and one main", page, o.Lang, o.Title, o.H1, o.Main)
	}
	if !fullPage {
		return
	}
	if o.Banner != 1 || o.ContentInfo != 1 {
		b.t.Errorf("%s: %d banner and %d contentinfo landmarks; want one of each", page, o.Banner, o.ContentInfo)
	}
	b.toTop()
	b.pressTab("a.skip-link[href='#main']")
	if !b.inViewport("a.skip-link") {
		b.t.Errorf("%s: the skip link has the focus but is not on screen", page)
	}
	b.do(pressEnter)
	if !b.isFocused("main#main") {
		b.t.Errorf("%s: the skip link moved the focus to %s; want the main content", page, b.focused())
	}
}

// toTop puts the keyboard back where a fresh page load leaves it, before the
// first control, as after a page that moved the focus itself (the error
// summary takes it on load).
func (b *tab) toTop() {
	b.t.Helper()
	b.do(chromedp.Evaluate[chromedp.Void](`(h => { h.tabIndex = -1; h.focus(); h.blur(); h.removeAttribute("tabindex"); scrollTo(0, 0); })(document.documentElement)`))
}

// checkFocusVisible tabs through the whole page and fails for any control
// that takes the focus without a visible focus indicator.
func (b *tab) checkFocusVisible(page string) {
	b.t.Helper()
	b.toTop()
	b.do(chromedp.Evaluate[chromedp.Void](`document.querySelectorAll("[data-focus-seen]").forEach(e => delete e.dataset.focusSeen)`))
	var seen []string
	for range 100 {
		b.do(chromedp.KeyEvent(kb.Tab))
		// A focused control shows an outline of 2 px or more, or a ring
		// drawn with box-shadow, and is scrolled onto the screen.
		state := eval[[]string](b, `(e => {
			if (!e || e === document.body) return ["", ""];
			// Each control is marked when first reached, so the walk ends
			// when Tab comes round again, even past look-alike links.
			if (e.dataset.focusSeen) return ["", ""];
			e.dataset.focusSeen = "1";
			const s = getComputedStyle(e), r = e.getBoundingClientRect();
			const ring = (s.outlineStyle !== "none" && parseFloat(s.outlineWidth) >= 2) || s.boxShadow !== "none";
			const onScreen = r.bottom > 0 && r.top < innerHeight && r.right > 0 && r.left < innerWidth;
			const name = e.tagName.toLowerCase() + (e.id ? "#" + e.id : "") + (e.getAttribute("href") ? "[href=" + e.getAttribute("href") + "]" : "");
			return [name, ring && onScreen ? "ok" : "outline " + s.outlineStyle + " " + s.outlineWidth + ", on screen " + onScreen];
		})(document.activeElement)`)
		if state[0] == "" {
			break
		}
		seen = append(seen, state[0])
		if state[1] != "ok" {
			b.t.Errorf("%s: %s has the focus but shows no focus indicator (%s)", page, state[0], state[1])
		}
	}
	if len(seen) == 0 {
		b.t.Errorf("%s: Tab reaches no control", page)
	}
}
