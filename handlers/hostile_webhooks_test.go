package handlers

// The hostile-input corpus for webhooks: bad bodies and ids sent to
// /api/v1/webhooks, bad forms sent to /admin/webhooks, and what Zoom's
// receiver must refuse beyond zoom_test.go. As everywhere in the corpus
// (hostile_test.go), a refusal is a clear 4xx without Go's error text and
// changes no table.

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"podium/models"
)

// webhookFixture is the corpus fixture with two endpoints. The owner's
// hook, on, has a test event delivered and another being sent; the other
// endpoint, turned off, has a delivered test event of its own.
type webhookFixture struct {
	*fixture
	hook, other int64
	// delivered and sending are the hook's deliveries; othersDelivery the
	// other endpoint's.
	delivered, sending, othersDelivery int64
}

func newWebhookFixture(t *testing.T) *webhookFixture {
	t.Helper()
	fx := newFixture(t)
	env, ctx := fx.env, t.Context()
	add := func(url string) int64 {
		ep, _, err := env.store.CreateWebhookEndpoint(ctx, models.WebhookInput{URL: url, Description: "CRM", Active: true}, fx.ownerID)
		if err != nil {
			t.Fatal(err)
		}
		return ep.ID
	}
	wf := &webhookFixture{fixture: fx, hook: add(hookURL), other: add("https://crm.example.org/in")}
	for _, id := range []int64{wf.hook, wf.other} {
		if _, err := env.store.SendTestWebhook(ctx, id); err != nil {
			t.Fatal(err)
		}
	}
	for _, d := range env.answerWebhooks(t, http.StatusOK, "", 40*time.Millisecond) {
		if d.EndpointID == wf.hook {
			wf.delivered = d.ID
		} else {
			wf.othersDelivery = d.ID
		}
	}
	if _, err := env.store.SendTestWebhook(ctx, wf.hook); err != nil {
		t.Fatal(err)
	}
	claimed, err := env.store.ClaimWebhookDeliveries(ctx, 10, time.Hour)
	if err != nil || len(claimed) != 1 || wf.delivered == 0 || wf.othersDelivery == 0 {
		t.Fatalf("fixture deliveries: claimed %+v (%v), delivered %d and %d", claimed, err, wf.delivered, wf.othersDelivery)
	}
	wf.sending = claimed[0].ID
	if _, err := env.store.UpdateWebhookEndpoint(ctx, wf.other, func(ep *models.WebhookEndpoint) models.WebhookInput {
		return models.WebhookInput{URL: ep.URL, Description: ep.Description, Active: false}
	}); err != nil {
		t.Fatal(err)
	}
	fx.last = nil
	return wf
}

// Messages of models.WebhookInput's rules.
const (
	hookURLMsg   = "Enter the endpoint's address, starting with https:// (or http://)."
	hookDescMsg  = "Keep the description to one line of at most 200 characters."
	hookTypesMsg = "Choose event types among registration.created, registration.promoted"
	unknownField = "This field is unknown or cannot be changed here."
	boolMsg      = "Give true or false."
	arrayMsg     = "Give a JSON array."
)

// hostileHookURLs are endpoint addresses the model refuses, for the API
// and the admin form.
func hostileHookURLs() []struct{ name, url string } {
	return []struct{ name, url string }{
		{"empty", ""},
		{"blank", "   "},
		{"ftp:", "ftp://hooks.example.com/podium"},
		{"javascript:", "javascript:alert(1)"},
		{"data:", "data:text/html,<script>alert(1)</script>"},
		{"file:", "file:///etc/passwd"},
		{"no scheme", "hooks.example.com/podium"},
		{"scheme-relative", "//hooks.example.com/podium"},
		{"no host", "https://"},
		{"no host with a path", "https:///podium"},
		{"only a port", "https://:443/x"},
		{"user and password", "https://user:pass@hooks.example.com/podium"},
		{"user only", "https://user@hooks.example.com/podium"},
		{"a space in the path", "https://hooks.example.com/a b"},
		{"a space in the host", "https://hooks example.com/podium"},
		{"a tab", "https://hooks.example.com/a\tb"},
		{"CR LF", "https://hooks.example.com/podium\r\nX-Injected: 1"},
		{"LF", "https://hooks.example.com/podium\nHost: evil.example.net"},
		{"NUL", "https://hooks.example.com/podium\x00"},
		{"bidi override", "https://hooks.example.com/\u202egpj.exe"},
		{"zero-width space", "https://hooks\u200b.example.com/podium"},
		{"a port that is no number", "https://hooks.example.com:abc/podium"},
		{"an unclosed IPv6 bracket", "https://[::1/podium"},
		{"2001 characters", "https://hooks.example.com/" + strings.Repeat("p", 2001-len("https://hooks.example.com/"))},
	}
}

// hostileHookDescriptions are descriptions the model refuses.
func hostileHookDescriptions() []struct{ name, description string } {
	return []struct{ name, description string }{
		{"201 characters", overlong201},
		{"201 accented characters", strings.Repeat("é", 201)},
		{"two lines", "CRM\nSlack"},
		{"CR", "CRM\rSlack"},
		{"ESC", "\x1b[31mCRM"},
		{"NUL", "CRM\x00"},
		{"bell", "CRM\a"},
		{"bidi override", bidiOverride},
		{"zero-width space", zeroWidth},
		{"line separator", "CRM\u2028Slack"},
	}
}

// hostileHookTypes are subscriptions the model refuses.
func hostileHookTypes() []struct{ name, eventType string } {
	return []struct{ name, eventType string }{
		{"unknown", "registration.made"},
		{"capitals", "REGISTRATION.CREATED"},
		{"a trailing space", "registration.created "},
		{"two joined by a comma", "registration.created,session.updated"},
		{"a LIKE wildcard", "%"},
		{"an underscore wildcard", "registration_created"},
		{"the test event", models.EventWebhookTest},
		{"empty", ""},
		{"SQL", sqlOr},
	}
}

// webhookFieldCases spoil the fields of a create or patch body.
func webhookFieldCases() []apiCase {
	set := func(field string, value any) map[string]any { return map[string]any{field: value} }
	var cases []apiCase
	for _, u := range hostileHookURLs() {
		cases = append(cases, apiCase{name: "url " + u.name, set: set("url", u.url), status: 422, field: "url", msg: hookURLMsg})
	}
	for _, d := range hostileHookDescriptions() {
		cases = append(cases, apiCase{name: "description " + d.name, set: set("description", d.description), status: 422,
			field: "description", msg: hookDescMsg})
	}
	for _, et := range hostileHookTypes() {
		cases = append(cases, apiCase{name: "event type " + et.name, set: set("event_types", []string{et.eventType}), status: 422,
			field: "event_types", msg: hookTypesMsg})
	}
	return append(cases,
		apiCase{name: "url as a number", set: set("url", 42), status: 422, field: "url", msg: typeText},
		apiCase{name: "url as an array", set: set("url", []string{hookURL}), status: 422, field: "url", msg: typeText},
		apiCase{name: "url as an object", set: set("url", map[string]any{"href": hookURL}), status: 422, field: "url", msg: typeText},
		apiCase{name: "url true", set: set("url", true), status: 422, field: "url", msg: typeText},
		apiCase{name: "url null", set: set("url", nil), status: 422, field: "url", msg: nullMsg},
		apiCase{name: "description as a number", set: set("description", 5), status: 422, field: "description", msg: typeText},
		apiCase{name: "description null", set: set("description", nil), status: 422, field: "description", msg: nullMsg},
		apiCase{name: "every type and one more", set: set("event_types", []string{"*", "registration.created"}), status: 422,
			field: "event_types", msg: hookTypesMsg},
		apiCase{name: "a known type and a null", set: set("event_types", []any{"registration.created", nil}), status: 422,
			field: "event_types", msg: hookTypesMsg},
		apiCase{name: "event types as a string", set: set("event_types", "registration.created"), status: 422,
			field: "event_types", msg: arrayMsg},
		apiCase{name: "event types as an object", set: set("event_types", map[string]any{"0": "registration.created"}), status: 422,
			field: "event_types", msg: arrayMsg},
		apiCase{name: "event types true", set: set("event_types", true), status: 422, field: "event_types", msg: arrayMsg},
		apiCase{name: "event types null", set: set("event_types", nil), status: 422, field: "event_types", msg: nullMsg},
		apiCase{name: "event types as numbers", set: set("event_types", []int{1, 2}), status: 422, field: "event_types", msg: typeText},
		apiCase{name: "event types nested", set: set("event_types", [][]string{{"registration.created"}}), status: 422,
			field: "event_types", msg: typeText},
		apiCase{name: "active as a string", set: set("active", "true"), status: 422, field: "active", msg: boolMsg},
		apiCase{name: "active as a number", set: set("active", 1), status: 422, field: "active", msg: boolMsg},
		apiCase{name: "active null", set: set("active", nil), status: 422, field: "active", msg: nullMsg},
		apiCase{name: "the secret", set: set("secret", "whsec_"+strings.Repeat("A", 32)), status: 422, field: "secret", msg: unknownField},
		apiCase{name: "the id", set: set("id", 1), status: 422, field: "id", msg: unknownField},
		apiCase{name: "the account", set: set("account_id", 1), status: 422, field: "account_id", msg: unknownField},
		apiCase{name: "a disabled reason", set: set("disabled_reason", ""), status: 422, field: "disabled_reason", msg: unknownField},
		apiCase{name: "health", set: set("health", map[string]any{"queued": 0}), status: 422, field: "health", msg: unknownField},
		rawBody("the same key twice, the last bad", `{"url": "`+hookURL+`", "url": "javascript:alert(1)"}`, 422, hookURLMsg),
	)
}

// apiWebhookBadIDs are apiBadIDs and an id of 20 digits.
func apiWebhookBadIDs(path string) []apiCase {
	return append(apiBadIDs(path), apiCase{name: "id of 20 digits", path: strings.Replace(path, "%s", "99999999999999999999", 1),
		status: 404})
}

func (wf *webhookFixture) webhookCreateTarget() apiTarget {
	cases := append(webhookFieldCases(),
		rawBody("no url", `{"description": "CRM", "event_types": ["registration.created"]}`, 422, hookURLMsg))
	cases[len(cases)-1].field = "url"
	return apiTarget{name: "API webhook create", method: http.MethodPost, path: "/api/v1/webhooks",
		valid: map[string]any{"url": "https://new.example.org/hooks", "description": "New", "event_types": []string{"registration.created"}},
		cases: append(cases, apiBodyCases()...)}
}

// webhookPatchTarget changes the hook: a valid body would change its
// description, so a case that spoils another field and still succeeds
// shows in the snapshot.
func (wf *webhookFixture) webhookPatchTarget() apiTarget {
	cases := append(webhookFieldCases(), apiWebhookBadIDs(webhookPath("%s", ""))...)
	return apiTarget{name: "API webhook patch", method: http.MethodPatch, path: webhookPath(wf.hook, ""),
		valid: map[string]any{"description": "Changed by the corpus"}, cases: append(cases, apiBodyCases()...)}
}

// webhookIDTarget sends bad ids and queries to every route under
// /webhooks/{id}: each valid request would change the hook or show it.
func (wf *webhookFixture) webhookIDTarget() apiTarget {
	var cases []apiCase
	routes := []struct{ method, suffix string }{
		{http.MethodGet, ""}, {http.MethodDelete, ""}, {http.MethodPost, "/rotate-secret"}, {http.MethodPost, "/test"},
		{http.MethodGet, "/deliveries"}, {http.MethodPost, fmt.Sprintf("/deliveries/%d/replay", wf.delivered)},
	}
	for _, rt := range routes {
		for _, c := range apiWebhookBadIDs(webhookPath("%s", rt.suffix)) {
			c.name, c.method = rt.method+" "+rt.suffix+" "+c.name, rt.method
			cases = append(cases, c)
		}
	}
	for _, c := range apiWebhookBadIDs(webhookPath(wf.hook, "/deliveries/%s/replay")) {
		c.name, c.method = "replay delivery "+c.name, http.MethodPost
		cases = append(cases, c)
	}
	replay := func(name string, endpoint, delivery int64, status int, msg string) apiCase {
		return apiCase{name: name, method: http.MethodPost, path: webhookPath(endpoint, fmt.Sprintf("/deliveries/%d/replay", delivery)),
			status: status, msg: msg}
	}
	cases = append(cases,
		replay("replay another endpoint's delivery", wf.hook, wf.othersDelivery, 404, "There is no delivery with id"),
		replay("replay a delivery through another endpoint", wf.other, wf.delivered, 404, "There is no delivery with id"),
		replay("replay a delivery being sent", wf.hook, wf.sending, 409, "This delivery is being sent right now."),
	)
	for _, q := range []string{"limit=0", "limit=501", "limit=ten", "limit=-1", "cursor=not-a-cursor", "cursor=" + encodeCursor(-5),
		"limit=99999999999999999999"} {
		cases = append(cases, apiCase{name: "deliveries " + q, method: http.MethodGet, path: webhookPath(wf.hook, "/deliveries?"+q),
			status: 400})
	}
	for _, auth := range apiAuthCases() {
		auth.method, auth.path = http.MethodPost, webhookPath(wf.hook, "/rotate-secret")
		cases = append(cases, auth)
	}
	return apiTarget{name: "API webhook routes by id", path: webhookPath(wf.hook, ""), cases: cases}
}

func TestHostileWebhooks_API(t *testing.T) {
	wf := newWebhookFixture(t)
	ran := 0
	for _, target := range []apiTarget{wf.webhookCreateTarget(), wf.webhookPatchTarget(), wf.webhookIDTarget()} {
		t.Run(target.name, func(t *testing.T) {
			for _, tc := range target.cases {
				ran++
				t.Run(tc.name, func(t *testing.T) { wf.runAPICase(t, target, tc) })
			}
		})
	}
	t.Logf("ran %d hostile webhook API cases", ran)
}

// Methods a webhook route does not take: 405 with the methods it does.
func TestHostileWebhooks_MethodsNotAllowed(t *testing.T) {
	wf := newWebhookFixture(t)
	api := wf.env.browser(t)
	api.header.Set("Authorization", "Bearer "+wf.apiSecret)
	replay := fmt.Sprintf("/deliveries/%d/replay", wf.delivered)
	cases := []struct {
		method, path, allow string
		b                   *browser
	}{
		{http.MethodPut, "/api/v1/webhooks", "GET, HEAD, POST", api},
		{http.MethodDelete, "/api/v1/webhooks", "GET, HEAD, POST", api},
		{http.MethodPatch, "/api/v1/webhooks", "GET, HEAD, POST", api},
		{http.MethodPut, webhookPath(wf.hook, ""), "DELETE, GET, HEAD, PATCH", api},
		{http.MethodPost, webhookPath(wf.hook, ""), "DELETE, GET, HEAD, PATCH", api},
		{http.MethodGet, webhookPath(wf.hook, "/rotate-secret"), "POST", api},
		{http.MethodDelete, webhookPath(wf.hook, "/test"), "POST", api},
		{http.MethodPost, webhookPath(wf.hook, "/deliveries"), "GET, HEAD", api},
		{http.MethodGet, webhookPath(wf.hook, replay), "POST", api},
		{http.MethodDelete, webhookPath(wf.hook, replay), "POST", api},
		{http.MethodGet, fmt.Sprintf("/admin/webhooks/%d/delete", wf.hook), "POST", wf.owner},
		{http.MethodGet, fmt.Sprintf("/admin/webhooks/%d/rotate", wf.hook), "POST", wf.owner},
		{http.MethodGet, fmt.Sprintf("/admin/webhooks/%d%s", wf.hook, replay), "POST", wf.owner},
	}
	for _, tc := range cases {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			r := wf.unchangedBy(t, func() response { return tc.b.send(tc.method, tc.path, "application/json", "{}") })
			if strings.HasPrefix(tc.path, "/api/") {
				assertProblemSays(t, r, http.StatusMethodNotAllowed, "That action is not available here.", "")
			} else {
				assertAnswer(t, r, http.StatusMethodNotAllowed, "That action is not available here.")
			}
			if allow := r.header.Get("Allow"); allow != tc.allow {
				t.Fatalf("Allow = %q; want %q", allow, tc.allow)
			}
		})
	}
	t.Logf("ran %d webhook method cases", len(cases))
}

// webhookFormTarget is the admin's "Add an endpoint" form.
func webhookFormTarget() formTarget {
	set := func(field, value string) map[string]string { return map[string]string{field: value} }
	var cases []formCase
	for _, u := range hostileHookURLs() {
		cases = append(cases, formCase{name: "url " + u.name, set: set("url", u.url), status: 422, msg: hookURLMsg})
	}
	for _, d := range hostileHookDescriptions() {
		cases = append(cases, formCase{name: "description " + d.name, set: set("description", d.description), status: 422, msg: hookDescMsg})
	}
	for _, et := range hostileHookTypes() {
		cases = append(cases, formCase{name: "event type " + et.name, set: set("event_types", et.eventType), status: 422, msg: hookTypesMsg})
	}
	cases = append(cases,
		formCase{name: "url with invalid UTF-8", set: set("url", "https://hooks.example.com/\xff"), status: 422, msg: hookURLMsg},
		formCase{name: "description with invalid UTF-8", set: set("description", invalidUTF8), status: 422, msg: hookDescMsg},
		formCase{name: "every type as a star", set: set("event_types", "*"), status: 422, msg: hookTypesMsg},
		formCase{name: "a known type then an unknown one", add: map[string][]string{"event_types": {"registration.made"}},
			status: 422, msg: hookTypesMsg},
		formCase{name: "no url", drop: []string{"url"}, status: 422, msg: hookURLMsg},
		formCase{name: "two url fields, the first javascript:", set: set("url", "javascript:alert(1)"),
			add: map[string][]string{"url": {hookURL}}, status: 422, msg: hookURLMsg},
		formCase{name: "multipart with a javascript: url", set: set("url", "javascript:alert(1)"), send: sendMultipart,
			status: 422, msg: hookURLMsg},
	)
	return formTarget{name: "webhook create", page: "/admin/webhooks", path: "/admin/webhooks",
		valid: map[string]string{"url": "https://new.example.org/hooks", "description": "New", "event_types": "registration.created"},
		cases: append(cases, transportCases()...)}
}

// webhookButtonTargets are the endpoint page's buttons; each valid form
// would change the hook (replay: send its delivered event again).
func (wf *webhookFixture) webhookButtonTargets() []formTarget {
	page := fmt.Sprintf("/admin/webhooks/%d", wf.hook)
	var targets []formTarget
	for _, action := range []string{"test", "rotate", "disable", "delete"} {
		targets = append(targets, formTarget{name: "webhook " + action, page: page, path: page + "/" + action,
			cases: append(badIDs("/admin/webhooks/%s/"+action), transportCases()...)})
	}
	// The other endpoint is off: its enable button would turn it on.
	otherPage := fmt.Sprintf("/admin/webhooks/%d", wf.other)
	targets = append(targets, formTarget{name: "webhook enable", page: otherPage, path: otherPage + "/enable",
		cases: append(badIDs("/admin/webhooks/%s/enable"), transportCases()...)})
	replay := func(endpoint, delivery any) string {
		return fmt.Sprintf("/admin/webhooks/%v/deliveries/%v/replay", endpoint, delivery)
	}
	cases := append(badIDs(replay("%s", wf.delivered)), badIDs(replay(wf.hook, "%s"))...)
	for i := len(cases) / 2; i < len(cases); i++ {
		cases[i].name = "delivery " + cases[i].name
	}
	cases = append(cases,
		formCase{name: "another endpoint's delivery", path: replay(wf.hook, wf.othersDelivery), status: 404},
		formCase{name: "a delivery through another endpoint", path: replay(wf.other, wf.delivered), status: 404},
		formCase{name: "a delivery being sent", path: replay(wf.hook, wf.sending), status: 303, msg: "This delivery is being sent right now."},
	)
	return append(targets, formTarget{name: "webhook replay", page: page, path: replay(wf.hook, wf.delivered),
		cases: append(cases, transportCases()...)})
}

func TestHostileWebhooks_AdminForms(t *testing.T) {
	wf := newWebhookFixture(t)
	ran := 0
	unsigned := formCase{name: "not signed in", send: sendUnsignedAdmin, status: 401, msg: "Your session has ended."}
	for _, target := range append([]formTarget{webhookFormTarget()}, wf.webhookButtonTargets()...) {
		target.admin = true
		target.cases = append(target.cases, unsigned)
		t.Run(target.name, func(t *testing.T) {
			for _, tc := range target.cases {
				ran++
				t.Run(tc.name, func(t *testing.T) { wf.runFormCase(t, target, tc) })
			}
		})
	}
	// The endpoint page itself, with ids that name none.
	for _, id := range []string{"0", "-1", "abc", "99999999999999999999", "999999", "1%20OR%201%3D1"} {
		ran++
		t.Run("page id "+id, func(t *testing.T) {
			r := wf.unchangedBy(t, func() response { return wf.owner.get("/admin/webhooks/" + id) })
			assertAnswer(t, r, http.StatusNotFound, "")
		})
	}
	t.Logf("ran %d hostile webhook admin cases", ran)
}

// newZoomHostileEnv is newHostileEnv with the Zoom webhook on, and a
// registrant of its webinar whom an accepted participant event would mark.
func newZoomHostileEnv(t *testing.T) *hostileEnv {
	t.Helper()
	env := newHostileEnv(t)
	cfg := Config{Store: env.store, BaseURL: "http://localhost:3000", ZoomWebhookSecret: testZoomSecret,
		Logger: slog.New(slog.NewTextHandler(t.Output(), nil))}
	app, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	served, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	env.app, env.loopback = app, serveOnLoopback(t, served)
	p := env.addPanel(t, "zoom", models.Session{ZoomWebinarID: testZoomWebinar})
	env.register(t, p, p.Sessions[0].ID, "ada@example.com")
	env.register(t, p, p.Sessions[0].ID, "bob@example.com")
	return env
}

// zoomHeaders is a request to the Zoom webhook with each header given as
// many times as listed, in order.
func (e *hostileEnv) zoomHeaders(t *testing.T, body string, headers [][2]string) response {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, "/integrations/zoom/webhook", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	for _, h := range headers {
		req.Header.Add(h[0], h[1])
	}
	return e.browser(t).do(req)
}

// zoomRaw writes a request to the loopback copy of the app byte for byte.
func (e *hostileEnv) zoomRaw(t *testing.T, raw string) response {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(e.loopback, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := io.WriteString(conn, raw); err != nil {
		t.Fatal(err)
	}
	return readResponse(t, conn)
}

// hmacHex is the hex HMAC-SHA256 of message under key.
func hmacHex(key, message string) string {
	mac := hmac.New(sha256.New, []byte(key))
	mac.Write([]byte(message))
	return hex.EncodeToString(mac.Sum(nil))
}

// nested is depth opening brackets around inner, and their closings.
func nested(open, inner, closing string, depth int) string {
	return strings.Repeat(open, depth) + inner + strings.Repeat(closing, depth)
}

// zoomCase is one hostile request to the Zoom webhook.
type zoomCase struct {
	name    string
	body    string
	headers [][2]string // nil: signed as Zoom does, now
	raw     string      // a whole request for the loopback listener, instead
	status  int
}

// hostileZoomCases are what zoom_test.go does not send: duplicated
// headers, signatures of other bodies, timestamps far off, deeply nested
// or misshapen JSON and bodies over the limit, signed with the real secret
// where a signature is wanted. join is Ada's join, which the control sends
// as it should be.
func hostileZoomCases(t *testing.T, now int64) (cases []zoomCase, join string) {
	t.Helper()
	ts := strconv.FormatInt(now, 10)
	joinedAt := rfc3339(testNow.Add(7 * 24 * time.Hour))
	join = zoomParticipant(t, "webinar.participant_joined", testZoomWebinar, "ada@example.com", joinedAt, "", 0)
	bobJoin := strings.Replace(join, "ada@example.com", "bob@example.com", 1)
	challenge := `{"payload":{"plainToken":"qgg8vlvZRS6UYooatFL8Aw"},"event_ts":1654503849680,"event":"endpoint.url_validation"}`
	sign := func(timestamp, body string) string { return zoomSignature(testZoomSecret, timestamp, body) }
	signed := func(timestamp, body string) [][2]string {
		return [][2]string{{"x-zm-request-timestamp", timestamp}, {"x-zm-signature", sign(timestamp, body)}}
	}
	at := func(secs int64) string { return strconv.FormatInt(secs, 10) }
	participant := func(object string) string {
		return `{"event":"webinar.participant_joined","event_ts":1795165200000,"payload":{"object":` + object + `}}`
	}
	withID := func(id string) string {
		return participant(`{"id":` + id + `,"participant":{"email":"ada@example.com","join_time":"` + joinedAt + `"}}`)
	}
	request := func(headers string) string {
		return "POST /integrations/zoom/webhook HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n" +
			"x-zm-request-timestamp: " + ts + "\r\nx-zm-signature: " + sign(ts, join) + "\r\n" + headers
	}
	cases = []zoomCase{
		// Duplicated headers: the first is the one read, and it must hold.
		{name: "two signatures, the forged one first", body: join, status: 401, headers: [][2]string{
			{"x-zm-request-timestamp", ts}, {"x-zm-signature", sign(ts, bobJoin)}, {"x-zm-signature", sign(ts, join)}}},
		{name: "two timestamps, the stale one first", body: join, status: 401, headers: [][2]string{
			{"x-zm-request-timestamp", at(now - 3600)}, {"x-zm-request-timestamp", ts}, {"x-zm-signature", sign(ts, join)}}},
		{name: "two timestamps, the signed one second", body: join, status: 401, headers: [][2]string{
			{"x-zm-request-timestamp", at(now + 1)}, {"x-zm-request-timestamp", ts}, {"x-zm-signature", sign(ts, join)}}},
		{name: "a forged and a real signature in one header", body: join, status: 401, headers: [][2]string{
			{"x-zm-request-timestamp", ts}, {"x-zm-signature", sign(ts, bobJoin) + ", " + sign(ts, join)}}},
		{name: "a real and a forged signature in one header", body: join, status: 401, headers: [][2]string{
			{"x-zm-request-timestamp", ts}, {"x-zm-signature", sign(ts, join) + "," + sign(ts, bobJoin)}}},
		{name: "two timestamps in one header", body: join, status: 401, headers: [][2]string{
			{"x-zm-request-timestamp", ts + ", " + ts}, {"x-zm-signature", sign(ts, join)}}},
		// Signatures made for another body.
		{name: "Ada's join signed, Bob's sent", body: bobJoin, headers: signed(ts, join), status: 401},
		{name: "the challenge's signature on a join", body: join, headers: signed(ts, challenge), status: 401},
		{name: "a signed body with a byte order mark added", body: "\ufeff" + join, headers: signed(ts, join), status: 401},
		{name: "a signed body with a NUL added", body: join + "\x00", headers: signed(ts, join), status: 401},
		{name: "a signed body cut by one byte", body: join[:len(join)-1], headers: signed(ts, join), status: 401},
		{name: "the body's HMAC without the v0 and timestamp prefix", body: join, status: 401, headers: [][2]string{
			{"x-zm-request-timestamp", ts}, {"x-zm-signature", "v0=" + hmacHex(testZoomSecret, join)}}},
		{name: "an empty signature after v0=", body: join, headers: [][2]string{{"x-zm-request-timestamp", ts}, {"x-zm-signature", "v0="}},
			status: 401},
		// Timestamps far from now, each properly signed.
		{name: "an hour ahead", body: join, headers: signed(at(now+3600), join), status: 401},
		{name: "in the year 3000", body: join, headers: signed(at(32503680000), join), status: 401},
		{name: "the largest int64", body: join, headers: signed(at(1<<63-1), join), status: 401},
		{name: "the smallest int64", body: join, headers: signed(at(-1<<63), join), status: 401},
		{name: "past int64", body: join, headers: signed("9223372036854775808", join), status: 401},
		{name: "zero", body: join, headers: signed("0", join), status: 401},
		{name: "negative", body: join, headers: signed("-1", join), status: 401},
		{name: "in exponent form", body: join, headers: signed("1.7951652e9", join), status: 401},
		{name: "in hex", body: join, headers: signed(fmt.Sprintf("0x%x", now), join), status: 401},
		// Deep or misshapen JSON, signed.
		{name: "20,000 nested arrays", body: nested("[", "", "]", 20_000), status: 400},
		{name: "10,001 nested objects in the payload", body: `{"event":"webinar.participant_joined","payload":` +
			nested(`{"a":`, "1", "}", 10_001) + "}", status: 400},
		{name: "a challenge token nested 20,000 deep", body: `{"event":"endpoint.url_validation","payload":{"plainToken":` +
			nested("[", `"x"`, "]", 20_000) + "}}", status: 400},
		{name: "a participant nested 5,000 arrays deep", body: participant(`{"id":"` + testZoomWebinar + `","participant":` +
			nested("[", "", "]", 5_000) + "}"), status: 400},
		{name: "an ID that is an array", body: withID(`["` + testZoomWebinar + `"]`), status: 400},
		{name: "an ID that is true", body: withID("true"), status: 400},
		{name: "an ID that is an object nested 5,000 deep", body: withID(nested(`{"id":`, `"`+testZoomWebinar+`"`, "}", 5_000)), status: 400},
		{name: "an ID that is an object holding the webinar", body: withID(`{"id":"` + testZoomWebinar + `"}`), status: 400},
		{name: "an object that is an array", body: participant(`[{"id":"` + testZoomWebinar + `"}]`), status: 400},
		// Over the route's limit, refused from the headers alone.
		{name: "a body over 64 KiB, announced", status: 413, raw: request(fmt.Sprintf("Content-Length: %d\r\n\r\n", bodyLimit+1))},
		{name: "two Content-Length headers", status: 400,
			raw: request(fmt.Sprintf("Content-Length: %d\r\nContent-Length: %d\r\n\r\n%s", len(join), len(join)-1, join))},
		{name: "chunked and a Content-Length", status: 400, raw: request(fmt.Sprintf(
			"Transfer-Encoding: chunked\r\nContent-Length: %d\r\n\r\n%x\r\n%s\r\n0\r\n\r\n", len(join), len(join), join))},
	}
	return cases, join
}

// TestHostileZoom_RefusalsChangeNothing sends hostileZoomCases: each is a
// 4xx without Go's error text and leaves every table as it was, which the
// control at the end shows a signed join would not.
func TestHostileZoom_RefusalsChangeNothing(t *testing.T) {
	env := newZoomHostileEnv(t)
	cases, join := hostileZoomCases(t, env.clock.Now().Unix())
	before := env.snapshot(t)
	last := before
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var r response
			switch {
			case tc.raw != "":
				r = env.zoomRaw(t, tc.raw)
			case tc.headers == nil:
				r = env.zoomSend(t, tc.body)
			default:
				r = env.zoomHeaders(t, tc.body, tc.headers)
			}
			if r.status != tc.status {
				t.Fatalf("status = %d; want %d; body:\n%s", r.status, tc.status, clipBody(r.body))
			}
			assertNoGoErrors(t, r.body)
			if strings.Contains(r.body, "encryptedToken") {
				t.Fatalf("a refused request was answered as a challenge: %s", r.body)
			}
			after := env.snapshot(t)
			assertUnchanged(t, last, after)
			last = after
		})
	}
	// The control: the same join, signed as Zoom does, is recorded.
	assertStatus(t, env.zoomSend(t, join), http.StatusOK)
	if equalSnapshots(before, env.snapshot(t)) {
		t.Fatal("a signed join recorded nothing: the cases above proved nothing")
	}
	t.Logf("ran %d hostile Zoom cases", len(cases))
}
