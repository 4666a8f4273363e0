package handlers

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
)

// formTarget is an HTML form and the hostile submissions of it.
type formTarget struct {
	name string
	// page is what a browser loads first, which gives it the CSRF cookie
	// and the token.
	page string
	// path is where the form posts.
	path string
	// valid is a submission that would succeed; each case spoils it.
	valid map[string]string
	// admin forms are sent by the signed-in owner, the others by a new visitor.
	admin bool
	cases []formCase
}

// sending is how a case's form travels.
type sending int

const (
	sendForm            sending = iota // urlencoded, with the page's CSRF token
	sendMultipart                      // multipart/form-data, with the token
	sendNoToken                        // no _csrf field
	sendForeignToken                   // the live token of another browser
	sendMadeUpToken                    // cookie and field agree on a token the server never issued
	sendJSON                           // the fields as a JSON object
	sendText                           // the urlencoded fields as text/plain
	sendOversize                       // a Content-Length over the 64 KiB limit
	sendBrokenMultipart                // a multipart body cut short
	sendUnsignedAdmin                  // as a visitor who is not signed in
)

// formCase is one hostile submission.
type formCase struct {
	name string
	// path replaces the target's path (a bad id, a bad token).
	path string
	set  map[string]string
	drop []string
	// add appends values after the form's own: duplicate fields.
	add  map[string][]string
	send sending
	// status is the answer wanted; a 303 is an action refused with a
	// message for the next page.
	status int
	// msg must be in the answer (or the 303's flash); "" means the status's
	// usual message (defaultMessages).
	msg string
}

// transportCases spoil how any form is sent rather than what it holds: the
// CSRF check, the content type, the body limit and the multipart framing.
func transportCases() []formCase {
	return []formCase{
		{name: "no CSRF token", send: sendNoToken, status: 403},
		{name: "CSRF token of another browser", send: sendForeignToken, status: 403},
		{name: "stale CSRF token", send: sendMadeUpToken, status: 403},
		{name: "JSON body", send: sendJSON, status: 403},
		{name: "text/plain body", send: sendText, status: 403},
		{name: "body over 64 KiB", send: sendOversize, status: 413},
		// The CSRF check cannot read a token out of a broken body.
		{name: "broken multipart body", send: sendBrokenMultipart, status: 403, msg: "This form has expired"},
	}
}

func TestHostileInput_Forms(t *testing.T) {
	fx := newFixture(t)
	ran := 0
	for _, target := range formTargets() {
		t.Run(target.name, func(t *testing.T) {
			for _, tc := range target.cases {
				ran++
				t.Run(tc.name, func(t *testing.T) { fx.runFormCase(t, target, tc) })
			}
		})
	}
	t.Logf("ran %d hostile form cases", ran)
}

// runFormCase sends a spoiled form and checks the answer and that no table
// changed.
func (fx *fixture) runFormCase(t *testing.T, target formTarget, tc formCase) {
	r := fx.unchangedBy(t, func() response { return fx.sendFormCase(t, target, tc) })
	if tc.status == http.StatusSeeOther {
		assertStatus(t, r, http.StatusSeeOther)
		if loc := r.header.Get("Location"); !strings.HasPrefix(loc, "/admin") {
			t.Fatalf("Location = %q; want a page of the admin", loc)
		}
		if flash := flashMessage(fx.owner); !strings.HasPrefix(flash, "error:") || !strings.Contains(flash, tc.msg) {
			t.Fatalf("flash = %q; want an error saying %q", flash, tc.msg)
		}
		return
	}
	assertAnswer(t, r, tc.status, tc.msg)
}

// sendFormCase loads the form like a browser (an admin form once per
// target) and sends it spoiled as the case says.
func (fx *fixture) sendFormCase(t *testing.T, target formTarget, tc formCase) response {
	t.Helper()
	b := fx.env.browser(t)
	b.header.Set("X-Forwarded-For", fx.env.nextClient())
	var token string
	switch {
	case tc.send == sendUnsignedAdmin:
		token = csrfFrom(t, b, "/admin/login")
	case target.admin:
		// The owner loaded the form once; its token serves every case.
		b.cookies = fx.owner.cookies
		if fx.ownerTokens[target.name] == "" {
			fx.ownerTokens[target.name] = csrfFrom(t, b, fx.expand(target.page))
		}
		token = fx.ownerTokens[target.name]
	default:
		token = csrfFrom(t, b, fx.expand(target.page))
	}
	form := url.Values{"_csrf": {token}}
	for k, v := range target.valid {
		form.Set(fx.expand(k), fx.expand(v))
	}
	for k, v := range tc.set {
		form.Set(fx.expand(k), fx.expand(v))
	}
	for _, k := range tc.drop {
		form.Del(fx.expand(k))
	}
	for k, vs := range tc.add {
		for _, v := range vs {
			form.Add(fx.expand(k), fx.expand(v))
		}
	}
	return fx.sendForm(t, b, fx.expand(cmpOr(tc.path, target.path)), form, tc.send)
}

// csrfFrom loads a page like a browser and returns its form's CSRF token.
func csrfFrom(t *testing.T, b *browser, path string) string {
	t.Helper()
	page := b.get(path)
	assertStatus(t, page, http.StatusOK)
	return formFields(t, page.body).Get("_csrf")
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// sendForm sends form to path the way the case says.
func (fx *fixture) sendForm(t *testing.T, b *browser, path string, form url.Values, how sending) response {
	t.Helper()
	switch how {
	case sendNoToken:
		form.Del("_csrf")
	case sendForeignToken:
		form.Set("_csrf", csrfFrom(t, fx.env.browser(t), "/panels/"+fx.panel.Slug))
	case sendMadeUpToken:
		stale := &browser{t: t, app: b.app, cookies: maps.Clone(b.cookies), header: b.header.Clone()}
		stale.cookies["podium_csrf"] = "d6a0c6a4-0c8e-4d1b-9c61-000000000000"
		form.Set("_csrf", stale.cookies["podium_csrf"])
		return stale.post(path, form)
	case sendUnsignedAdmin:
		return b.post(path, form)
	case sendMultipart:
		var body bytes.Buffer
		w := multipart.NewWriter(&body)
		for _, k := range slices.Sorted(maps.Keys(form)) {
			for _, v := range form[k] {
				_ = w.WriteField(k, v)
			}
		}
		_ = w.Close()
		return b.send(http.MethodPost, path, w.FormDataContentType(), body.String())
	case sendJSON:
		fields := map[string]string{}
		for k := range form {
			fields[k] = form.Get(k)
		}
		raw, _ := json.Marshal(fields)
		return b.send(http.MethodPost, path, "application/json", string(raw))
	case sendText:
		return b.send(http.MethodPost, path, "text/plain; charset=utf-8", form.Encode())
	case sendOversize:
		return fx.env.oversize(t, http.MethodPost, path, "application/x-www-form-urlencoded", b)
	case sendBrokenMultipart:
		return fx.env.overTheWire(t, http.MethodPost, path, "multipart/form-data; boundary=x",
			len(brokenMultipart), brokenMultipart, b)
	}
	return b.post(path, form)
}

// send sends a raw body with a content type.
func (b *browser) send(method, path, contentType, body string) response {
	b.t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	return b.do(req)
}

// oversize announces a body one byte over the limit and sends none: the
// server must refuse it from the headers alone, before any handler.
func (e *hostileEnv) oversize(t *testing.T, method, path, contentType string, b *browser) response {
	t.Helper()
	return e.overTheWire(t, method, path, contentType, bodyLimit+1, "", b)
}

// overTheWire sends a request as raw bytes to the loopback copy of the app
// (the same store), for what only a real listener checks: the body limit
// and the framing of multipart bodies. length is the Content-Length sent.
func (e *hostileEnv) overTheWire(t *testing.T, method, path, contentType string, length int, body string, b *browser) response {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(e.loopback, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var head strings.Builder
	fmt.Fprintf(&head, "%s %s HTTP/1.1\r\nHost: localhost\r\nContent-Type: %s\r\nContent-Length: %d\r\n",
		method, path, contentType, length)
	for k := range b.header {
		fmt.Fprintf(&head, "%s: %s\r\n", k, b.header.Get(k))
	}
	for _, name := range slices.Sorted(maps.Keys(b.cookies)) {
		fmt.Fprintf(&head, "Cookie: %s=%s\r\n", name, b.cookies[name])
	}
	head.WriteString("\r\n")
	if _, err := io.WriteString(conn, head.String()+body); err != nil {
		t.Fatal(err)
	}
	return readResponse(t, conn)
}

// brokenMultipart is a multipart body whose closing boundary never comes.
const brokenMultipart = "--x\r\nContent-Disposition: form-data; name=\"_csrf\"\r\n\r\nabc\r\n--x"
