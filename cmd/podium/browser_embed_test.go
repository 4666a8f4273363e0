package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/target"
	"github.com/chromedp/chromedp"
)

// publisher serves, from its own loopback origin, an article page that
// embeds whatever HTML it is given.
type publisher struct {
	origin string
	embed  string
}

func startPublisher(t *testing.T) *publisher {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &publisher{origin: "http://" + ln.Addr().String()}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!doctype html><html lang="en"><title>Local news</title><main><h1>Council outages</h1>
<p>Our reporter's article, with the panel's promo card below.</p>%s</main></html>`, p.embed)
	}), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return p
}

// startBehindProxy runs Podium behind a reverse proxy whose address is its
// public base URL, as in production, so that the absolute links of oEmbed
// answers and promo cards lead to a server that answers.
func startBehindProxy(t *testing.T, env map[string]string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	public := "http://" + ln.Addr().String()
	var backend atomic.Pointer[url.URL]
	proxy := &httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) {
		r.SetURL(backend.Load())
		r.Out.Host = r.In.Host
	}}
	srv := &http.Server{Handler: proxy, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	env["PODIUM_BASE_URL"] = public
	u, err := url.Parse(startPodium(t, env))
	if err != nil {
		t.Fatal(err)
	}
	backend.Store(u)
	return public
}

// oembedHTML asks Podium's oEmbed endpoint for a page's embed code, as a
// CMS does when an author pastes the panel's link.
func oembedHTML(t *testing.T, base, pageURL string) string {
	t.Helper()
	resp, err := http.Get(base + "/oembed?" + url.Values{"url": {pageURL}, "format": {"json"}}.Encode())
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var answer struct {
		Type, HTML string
	}
	if err := json.Unmarshal(body, &answer); err != nil || resp.StatusCode != http.StatusOK || answer.Type != "rich" {
		t.Fatalf("oEmbed for %s: %d %s", pageURL, resp.StatusCode, body)
	}
	return answer.HTML
}

// frame finds the tab's iframe that was asked to load src and returns a
// context in it. Chromium runs a frame from another origin as a target of
// its own, so the frame is reached through the browser's targets; a lazy
// frame (loading="lazy", as in the oEmbed snippet) may come after the page's
// load event, so it is waited for.
func (b *tab) frame(src string) (*tab, bool) {
	b.t.Helper()
	page := chromedp.FromContext(b.ctx).Target.TargetID
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		infos, err := chromedp.Targets(b.ctx)
		if err != nil {
			b.t.Fatal(err)
		}
		for _, info := range infos {
			if info.Type != "iframe" || info.URL != src || (info.ParentID != "" && info.ParentID != page) {
				continue
			}
			// Detach, never close, when done: closing the frame's target
			// would close the publisher's page with it.
			ctx, cancel := chromedp.NewContext(b.ctx, chromedp.WithTargetID(info.TargetID), chromedp.WithDetachOnCancel())
			b.t.Cleanup(cancel)
			f := &tab{t: b.t, ctx: ctx, base: b.base}
			f.do(chromedp.WaitReady(chromedp.CSS("body")))
			return f, true
		}
	}
	return nil, false
}

// cardFrame returns the publisher page's frame of the card when it shows the
// card, and false when Chromium refused to load it there ("refused to
// connect") or there is no such frame.
func cardFrame(b *tab, src string) (*tab, bool) {
	b.t.Helper()
	f, ok := b.frame(src)
	if !ok {
		return nil, false
	}
	state := eval[[]string](f, `[document.URL, (h => h ? h.textContent : "")(document.querySelector(".embed-card h1"))]`)
	return f, state[0] == src && state[1] == demoTitle
}

func TestBrowser_PromoCardWorksInsideAListedPublishersPageOnly(t *testing.T) {
	listed, unlisted := startPublisher(t), startPublisher(t)
	base := startBehindProxy(t, map[string]string{"PODIUM_EMBED_ORIGINS": listed.origin})
	card := base + demoPath + "/embed"
	snippet := oembedHTML(t, base, base+demoPath)
	listed.embed, unlisted.embed = snippet, snippet
	b := newBrowser(t, base)

	b.do(chromedp.Navigate(listed.origin + "/"))
	f, ok := cardFrame(b, card)
	if !ok {
		t.Fatalf("the listed publisher's page does not show the card from %s", card)
	}
	// The card fits its frame, and its button opens the registration in a
	// new tab with no way back to the publisher's window.
	fits := eval[[]float64](f, `[document.documentElement.scrollWidth, innerWidth, document.documentElement.scrollHeight, innerHeight]`)
	if fits[0] > fits[1] || fits[2] > fits[3] {
		t.Errorf("the card needs %v×%v px in a %v×%v frame", fits[0], fits[2], fits[1], fits[3])
	}
	link := eval[map[string]string](f, `(a => ({text: a.textContent, target: a.target, rel: a.rel, href: a.href}))(document.querySelector(".embed-card a.button"))`)
	if !strings.HasPrefix(link["text"], "Reserve your FREE place") || link["target"] != "_blank" ||
		!strings.Contains(link["rel"], "noopener") || link["href"] != base+demoPath+"?utm_source=embed" {
		t.Fatalf("the card's button: %v", link)
	}
	checkOpensRegistration(b, f, base+demoPath+"?utm_source=embed")

	// Another site cannot frame the card, and no site can frame the rest.
	other := b.newTab()
	other.do(chromedp.Navigate(unlisted.origin + "/"))
	if _, ok := cardFrame(other, card); ok {
		t.Error("a publisher that is not listed in PODIUM_EMBED_ORIGINS framed the card")
	}
	if !eval[bool](other, `!!document.querySelector("iframe")`) {
		t.Fatal("the unlisted publisher's page has no iframe to check")
	}
	listed.embed = strings.Replace(snippet, card, base+demoPath, 1)
	page := b.newTab()
	page.do(chromedp.Navigate(listed.origin + "/"))
	if f, ok := page.frame(base + demoPath); ok && eval[string](f, `document.URL`) == base+demoPath {
		t.Error("the listed publisher could frame the panel page itself, not only the card")
	}
}

func TestRun_RefusesBadEmbedOrigins(t *testing.T) {
	// Cancelled, so that a regression that accepted the setting would
	// stop at once instead of serving.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for _, origins := range []string{"news.example.com", "https://news.example.com/articles", "https://a.example; script-src *"} {
		args := []string{"podium", "--addr", "127.0.0.1:0", "--db", filepath.Join(t.TempDir(), "podium.db")}
		err := run(ctx, args, func(k string) string {
			return map[string]string{"PODIUM_EMBED_ORIGINS": origins}[k]
		}, strings.NewReader(""), io.Discard)
		if err == nil || !strings.Contains(err.Error(), "PODIUM_EMBED_ORIGINS") {
			t.Errorf("PODIUM_EMBED_ORIGINS=%q: run returned %v; want an error naming the setting", origins, err)
		}
	}
}

// checkOpensRegistration clicks the card's button in its frame and checks
// that the registration page opens in a new tab that cannot reach the
// publisher's window.
func checkOpensRegistration(b, frame *tab, want string) {
	b.t.Helper()
	opened := chromedp.WaitNewTarget(b.ctx, func(info *target.Info) bool {
		return info.Type == "page" && info.URL == want
	})
	frame.do(chromedp.Click(chromedp.CSS(".embed-card a.button")))
	select {
	case id := <-opened:
		ctx, cancel := chromedp.NewContext(b.ctx, chromedp.WithTargetID(id))
		defer cancel()
		reg := &tab{t: b.t, ctx: ctx, base: b.base}
		reg.do(chromedp.WaitVisible(chromedp.CSS("#register form")))
		if eval[bool](reg, `window.opener !== null`) {
			b.t.Error("the registration tab can reach the publisher's window (window.opener)")
		}
	case <-b.ctx.Done():
		b.t.Fatal("the card's button opened no new tab")
	}
}
