package handlers

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"podium/models"
)

// apiClient sends API requests with a valid token through app.Test.
type apiClient struct {
	t   *testing.T
	b   *browser
	env *testEnv
}

// apiClient creates an owner and a token for it.
func (e *testEnv) apiClient(t *testing.T) *apiClient {
	t.Helper()
	acc := e.addOwner(t, "api-owner@example.com")
	secret, _, err := e.store.CreateAPIToken(t.Context(), acc.ID, "test")
	if err != nil {
		t.Fatal(err)
	}
	b := e.browser(t)
	b.header.Set("Authorization", "Bearer "+secret)
	return &apiClient{t: t, b: b, env: e}
}

// send sends a raw body with a content type.
func (a *apiClient) send(method, path, contentType, body string) response {
	a.t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	return a.b.do(req)
}

// call sends body as JSON: a string is sent as it is, anything else marshalled.
func (a *apiClient) call(method, path string, body any) response {
	a.t.Helper()
	raw, ok := body.(string)
	if !ok && body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			a.t.Fatal(err)
		}
		raw = string(b)
	}
	return a.send(method, path, "application/json", raw)
}

func (a *apiClient) get(path string) response {
	a.t.Helper()
	return a.send(http.MethodGet, path, "", "")
}

// decodeAs decodes a successful answer, failing on anything but want.
func decodeAs[T any](t *testing.T, r response, want int) T {
	t.Helper()
	assertStatus(t, r, want)
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("Content-Type = %q; want application/json", ct)
	}
	var v T
	if err := json.Unmarshal([]byte(r.body), &v); err != nil {
		t.Fatalf("decode %s: %v", r.body, err)
	}
	return v
}

// assertProblem checks an RFC 9457 answer with the status and returns it.
func assertProblem(t *testing.T, r response, status int) Problem {
	t.Helper()
	assertStatus(t, r, status)
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/problem+json") {
		t.Fatalf("Content-Type = %q; want application/problem+json; body:\n%s", ct, r.body)
	}
	var p Problem
	if err := json.Unmarshal([]byte(r.body), &p); err != nil || p.Status != status || p.Title == "" {
		t.Fatalf("problem = %+v (%v); want status %d with a title; body:\n%s", p, err, status, r.body)
	}
	return p
}

// fieldMessage is the problem's message for a field, "" when it has none.
func fieldMessage(p Problem, field string) string {
	for _, f := range p.Errors {
		if f.Field == field {
			return f.Message
		}
	}
	return ""
}

func TestAPI_RefusesBadBodiesWithProblemsAndStoresNothing(t *testing.T) {
	env := newTestEnv(t)
	api := env.apiClient(t)
	session := func(field string) string {
		return `{"title":"T","sessions":[{"starts_at":"2026-12-03T15:00:00Z","duration_minutes":60,` +
			`"time_zone":"Europe/London","join_url":"https://meet.example.com/x",` + field + `}]}`
	}
	cases := []struct {
		name, contentType, body string
		status                  int
		field, message          string // the field the problem must name, and part of its message
	}{
		{"text content type", "text/plain", `{"title":"T"}`, 415, "", "Content-Type: application/json"},
		{"form content type", "application/x-www-form-urlencoded", "title=T", 415, "", "JSON"},
		{"no content type", "", `{"title":"T"}`, 415, "", "JSON"},
		{"empty body", "application/json", ``, 400, "", "empty"},
		{"cut short", "application/json", `{"title": "T"`, 400, "", "ends too early"},
		{"trailing comma", "application/json", `{"title": "T",}`, 400, "", "not valid JSON"},
		{"not an object", "application/json", `["T"]`, 400, "", "JSON object"},
		{"two objects", "application/json", `{"title":"T"} {"title":"U"}`, 400, "", "one JSON object"},
		{"unknown field", "application/json", `{"title":"T","colour":"red"}`, 422, "colour", "unknown"},
		{"unknown session field", "application/json", session(`"room":"A"`), 422, "room", "unknown"},
		{"title of the wrong type", "application/json", `{"title":5}`, 422, "title", "string"},
		{"capacity as text", "application/json", session(`"capacity":"ten"`), 422, "sessions.capacity", "whole number"},
		{"capacity -1", "application/json", session(`"capacity":-1`), 422, "sessions[0].capacity", "capacity"},
		{"capacity 1e9", "application/json", session(`"capacity":1e9`), 422, "sessions.capacity", "1e9"},
		{"capacity 10^9", "application/json", session(`"capacity":1000000000`), 422, "sessions[0].capacity", "1,000,000"},
		{"capacity 2^63", "application/json", session(`"capacity":9223372036854775808`), 422, "sessions.capacity", "whole number"},
		{"capacity 1.5", "application/json", session(`"capacity":1.5`), 422, "sessions.capacity", "whole number"},
		{"30 February", "application/json", session(`"registration_closes_at":"2026-02-30T10:00:00Z"`), 422,
			"sessions.registration_closes_at", "day out of range"},
		{"no time zone offset", "application/json", strings.Replace(session(`"venue":""`), "15:00:00Z", "15:00:00", 1), 422,
			"sessions.starts_at", "RFC 3339"},
		{"words for a date", "application/json", strings.Replace(session(`"venue":""`), "2026-12-03T15:00:00Z", "next tuesday", 1), 422,
			"sessions.starts_at", "RFC 3339"},
		{"date as a number", "application/json", strings.Replace(session(`"venue":""`), `"2026-12-03T15:00:00Z"`, "20261203", 1), 422,
			"sessions.starts_at", "RFC 3339"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := assertProblem(t, api.send(http.MethodPost, "/api/v1/panels", tc.contentType, tc.body), tc.status)
			text := p.Detail
			if tc.field != "" {
				text = fieldMessage(p, tc.field)
				if text == "" {
					t.Fatalf("problem %+v names no field %q", p, tc.field)
				}
			}
			if !strings.Contains(text, tc.message) {
				t.Fatalf("message %q lacks %q", text, tc.message)
			}
		})
	}
	if n, err := env.store.CountPanels(t.Context()); err != nil || n != 0 {
		t.Fatalf("panels stored = %d (%v); want none", n, err)
	}
}

// The body limit is enforced by the server before any handler, so this goes
// through a real listener. The request announces a body over the limit and
// sends none: the server must answer from the headers alone, which also
// keeps the test free of resets while a client is still writing.
func TestAPI_RefusesABodyOverTheLimit(t *testing.T) {
	env := newTestEnv(t)
	api := env.apiClient(t)
	conn, err := net.Dial("tcp", strings.TrimPrefix(serveOnLoopback(t, env.app), "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_, err = fmt.Fprintf(conn, "POST /api/v1/panels HTTP/1.1\r\nHost: localhost\r\nAuthorization: %s\r\n"+
		"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n{", api.b.header.Get("Authorization"), bodyLimit+1)
	if err != nil {
		t.Fatal(err)
	}
	p := assertProblem(t, readResponse(t, conn), http.StatusRequestEntityTooLarge)
	if !strings.Contains(p.Detail, "too large") {
		t.Fatalf("detail = %q", p.Detail)
	}
	if n, err := env.store.CountPanels(t.Context()); err != nil || n != 0 {
		t.Fatalf("panels stored = %d (%v); want none", n, err)
	}
}

func TestAPI_BadPathsAndParametersAreProblems(t *testing.T) {
	env := newTestEnv(t)
	api := env.apiClient(t)
	cases := []struct {
		path   string
		status int
	}{
		{"/api/v1/panels/999", 404},
		{"/api/v1/panels/abc", 404},
		{"/api/v1/panels/-1", 404},
		{"/api/v1/panels/99999999999999999999", 404},
		{"/api/v1/sessions/999", 404},
		{"/api/v1/sessions/999/registrations", 404},
		{"/api/v1/nowhere", 404},
		{"/api/v1/panels?limit=0", 400},
		{"/api/v1/panels?limit=501", 400},
		{"/api/v1/panels?limit=ten", 400},
		{"/api/v1/panels?cursor=not-a-cursor", 400},
		{"/api/v1/panels?cursor=" + encodeCursor(-5), 400},
	}
	for _, tc := range cases {
		assertProblem(t, api.get(tc.path), tc.status)
	}
	p := assertProblem(t, api.get("/api/v1/panels/999"), 404)
	if !strings.Contains(p.Detail, "no panel with id 999") {
		t.Fatalf("detail = %q; want it to name the panel", p.Detail)
	}
}

func TestAPI_AnswersAreNotCached(t *testing.T) {
	env := newTestEnv(t)
	r := env.apiClient(t).get("/api/v1/panels")
	assertStatus(t, r, http.StatusOK)
	if cc := r.header.Get("Cache-Control"); cc != "no-store" {
		t.Fatalf("Cache-Control = %q; want no-store", cc)
	}
}

// addRegistrants registers n people for a session as an organizer would.
func (e *testEnv) addRegistrants(t *testing.T, sessionID int64, n int) []models.Registration {
	t.Helper()
	regs := make([]models.Registration, n)
	for i := range n {
		res, err := e.store.AddRegistrationByOrganizer(t.Context(), sessionID, models.RegistrationInput{
			Name: fmt.Sprintf("Person %d", i), Email: fmt.Sprintf("person%d@example.com", i), Consent: true,
		}, models.ChannelAdmin)
		if err != nil {
			t.Fatalf("register %d: %v", i, err)
		}
		regs[i] = res.Registration
	}
	return regs
}

// countOutbox counts queued messages of a kind.
func (e *testEnv) countOutbox(t *testing.T, kind models.OutboxKind) int {
	t.Helper()
	msgs, err := e.store.RecentMessages(t.Context(), 0, 10_000)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, m := range msgs {
		if m.Kind == kind {
			n++
		}
	}
	return n
}

// A compressed body is refused before anything inflates it: 64 KiB of gzip
// can hold gigabytes.
func TestCompressedBodies_RefusedBeforeInflating(t *testing.T) {
	env := newTestEnv(t)
	api := env.apiClient(t)
	p := env.addPanel(t, "zipped", models.Session{Capacity: 10})
	var bomb bytes.Buffer
	zw := gzip.NewWriter(&bomb)
	_, _ = zw.Write(bytes.Repeat([]byte(" "), 20<<20))
	_ = zw.Close()
	if bomb.Len() > bodyLimit {
		t.Fatalf("the test's gzip body is %d bytes; want it under the body limit", bomb.Len())
	}
	for _, enc := range []string{"gzip", "gzip, gzip", "br", "deflate"} {
		req := httptest.NewRequest(http.MethodPost, "/api/v1/panels", bytes.NewReader(bomb.Bytes()))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Content-Encoding", enc)
		p := assertProblem(t, api.b.do(req), http.StatusUnsupportedMediaType)
		if !strings.Contains(p.Detail, "uncompressed") {
			t.Fatalf("Content-Encoding %s: detail = %q", enc, p.Detail)
		}
	}
	b, form := openForm(t, env, "zipped", "zip@example.com")
	req := httptest.NewRequest(http.MethodPost, "/panels/zipped/register", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Content-Encoding", "gzip")
	assertStatus(t, b.do(req), http.StatusUnsupportedMediaType)
	if n := len(env.countRegistrations(t, mustSession(t, p, 0))); n != 0 {
		t.Fatalf("a compressed sign-up stored %d registrations", n)
	}
}

// patchAtOnce sends rounds PATCHes of path from one goroutine per body, all
// at once; each body is a format whose %d is the round.
func (a *apiClient) patchAtOnce(path string, rounds int, bodies ...string) {
	a.t.Helper()
	var wg sync.WaitGroup
	for _, body := range bodies {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range rounds {
				req := httptest.NewRequest(http.MethodPatch, path, strings.NewReader(fmt.Sprintf(body, i)))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Authorization", a.b.header.Get("Authorization"))
				resp, err := a.env.app.Test(req, -1)
				if err != nil || resp.StatusCode != http.StatusOK {
					a.t.Errorf("PATCH %s: %v %v", fmt.Sprintf(body, i), resp, err)
					return
				}
				resp.Body.Close()
			}
		}()
	}
	wg.Wait()
}
