package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/valyala/fasthttp"
)

// result is one row of the table.
type result struct {
	phase    string
	count    int
	rate     float64 // per second; 0 when not a rate
	p50, p99 time.Duration
	errors   int
	note     string
}

// newClient keeps up to conns connections open to the server. It is
// fasthttp's client, which costs a fraction of net/http's CPU per request:
// the generator shares the machine with the server, and every cycle it
// spends is one the server does not get. It never follows redirects, as the
// 303 after a sign-up is what is measured. Each phase closes its client's
// connections when done: podium's graceful shutdown waits for a connection
// that never sent a request until its read timeout (15 s).
func newClient(conns int) *fasthttp.Client {
	return &fasthttp.Client{
		MaxConnsPerHost:          conns * 2,
		ReadTimeout:              30 * time.Second,
		WriteTimeout:             30 * time.Second,
		MaxIdleConnDuration:      time.Minute,
		NoDefaultUserAgentHeader: true,
	}
}

// targets are the instances a phase spreads its connections over, each
// with its own client: worker w uses instance w % N.
type targets struct {
	bases   []string
	clients []*fasthttp.Client
}

// newTargets makes one client per instance, each keeping up to conns
// connections open to its instance.
func newTargets(bases []string, conns int) *targets {
	t := &targets{bases: bases}
	for range bases {
		t.clients = append(t.clients, newClient(conns))
	}
	return t
}

// at returns instance i % N's base URL and client.
func (t *targets) at(i int) (string, *fasthttp.Client) {
	n := i % len(t.bases)
	return t.bases[n], t.clients[n]
}

func (t *targets) close() {
	for _, c := range t.clients {
		c.CloseIdleConnections()
	}
}

// latencies collects durations from many goroutines.
type latencies struct {
	mu  sync.Mutex
	all []time.Duration
}

func (l *latencies) add(d time.Duration) { l.mu.Lock(); l.all = append(l.all, d); l.mu.Unlock() }

func (l *latencies) percentile(p float64) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.all) == 0 {
		return 0
	}
	slices.Sort(l.all)
	return l.all[min(int(float64(len(l.all))*p), len(l.all)-1)]
}

// hammer runs op from conns goroutines until the duration is over and
// returns how many ran, their latencies and how many failed.
func hammer(ctx context.Context, conns int, d time.Duration, op func(worker, i int) error) (int, *latencies, int, time.Duration) {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	var lat latencies
	var done, failed atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for w := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ctx.Err() == nil; i++ {
				t := time.Now()
				if err := op(w, i); err != nil {
					if ctx.Err() != nil {
						return
					}
					failed.Add(1)
					continue
				}
				lat.add(time.Since(t))
				done.Add(1)
			}
		}()
	}
	wg.Wait()
	return int(done.Load()), &lat, int(failed.Load()), time.Since(start)
}

// getOK fetches a page into buf, reusing its memory, and fails on anything
// but 200. It returns the buffer for the next call.
func getOK(client *fasthttp.Client, u string, buf []byte) ([]byte, error) {
	status, body, err := client.Get(buf[:0], u)
	if err != nil {
		return buf, err
	}
	if status != fasthttp.StatusOK {
		return body, fmt.Errorf("GET %s: %d", u, status)
	}
	return body, nil
}

// attrValue returns the value that follows prefix in a page, up to the
// closing quote, or nil. A substring search, not a regular expression: the
// generator runs beside the server, and a regexp over each 12 KiB page cost
// it more CPU than the request itself.
func attrValue(page []byte, prefix string) []byte {
	_, rest, ok := bytes.Cut(page, []byte(prefix))
	if !ok {
		return nil
	}
	value, _, ok := bytes.Cut(rest, []byte(`"`))
	if !ok || len(value) == 0 {
		return nil
	}
	return value
}

// form is a sign-up form as a browser holds it after loading the page.
type form struct {
	path   string // the form's action, less the instance's base URL
	cookie string // the CSRF cookie, as a Cookie header sends it
	values url.Values
}

// openForm loads a panel page like a first-time visitor and keeps its form.
func openForm(client *fasthttp.Client, base, slug string) (*form, error) {
	req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	req.SetRequestURI(base + "/panels/" + slug)
	if err := client.Do(req, resp); err != nil {
		return nil, err
	}
	body := resp.Body()
	token, session := attrValue(body, `name="_csrf" value="`), attrValue(body, `name="session" value="`)
	cookie := fasthttp.AcquireCookie()
	defer fasthttp.ReleaseCookie(cookie)
	cookie.SetKey("podium_csrf")
	if token == nil || session == nil || !resp.Header.Cookie(cookie) {
		return nil, errors.New("the panel page has no sign-up form")
	}
	return &form{
		path:   "/panels/" + slug + "/register",
		cookie: "podium_csrf=" + string(cookie.Value()),
		values: url.Values{"_csrf": {string(token)}, "session": {string(session)}, "consent": {"yes"}},
	}, nil
}

// submit posts the form for one person to the instance at base, which need
// not be the one that served the form (the CSRF token is signed with the
// site's secret, which every instance reads from the database), and returns
// the status and whether the answer spoke of a locked database.
func (f *form) submit(client *fasthttp.Client, base, name, email string) (int, bool, error) {
	v := url.Values{}
	for k, vs := range f.values {
		v[k] = vs
	}
	v.Set("name", name)
	v.Set("email", email)
	req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	req.SetRequestURI(base + f.path)
	req.Header.SetMethod(fasthttp.MethodPost)
	req.Header.SetContentType("application/x-www-form-urlencoded")
	req.Header.Set("Cookie", f.cookie)
	req.SetBodyString(v.Encode())
	if err := client.Do(req, resp); err != nil {
		return 0, false, err
	}
	return resp.StatusCode(), bytes.Contains(bytes.ToLower(resp.Body()), []byte("locked")), nil
}

// reschedule moves a session as an organizer's tool does, with PATCH
// /api/v1/sessions/{id}, and returns the fan-out the server started.
func reschedule(ctx context.Context, base, token string, sessionID int64, startsAt time.Time) (fanoutID int64, total int, err error) {
	body := fmt.Sprintf(`{"starts_at": %q}`, startsAt.UTC().Format(time.RFC3339))
	req, err := http.NewRequestWithContext(ctx, http.MethodPatch, fmt.Sprintf("%s/api/v1/sessions/%d", base, sessionID),
		strings.NewReader(body))
	if err != nil {
		return 0, 0, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	client := &http.Client{}
	defer client.CloseIdleConnections()
	resp, err := client.Do(req)
	if err != nil {
		return 0, 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		problem, _ := io.ReadAll(resp.Body)
		return 0, 0, fmt.Errorf("PATCH session %d: %d %s", sessionID, resp.StatusCode, problem)
	}
	var answer struct {
		Fanout *struct {
			ID    int64 `json:"id"`
			Total int   `json:"total"`
		} `json:"fanout"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&answer); err != nil {
		return 0, 0, fmt.Errorf("PATCH session %d: %w", sessionID, err)
	}
	if answer.Fanout == nil {
		return 0, 0, fmt.Errorf("PATCH session %d started no fan-out", sessionID)
	}
	return answer.Fanout.ID, answer.Fanout.Total, nil
}
