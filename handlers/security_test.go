package handlers

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// rawExchange writes raw to a new connection and reads one response, and
// whether the server closed the connection after it.
func rawExchange(t *testing.T, addr, raw string) (*http.Response, string, bool) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := io.WriteString(conn, raw); err != nil {
		t.Fatal(err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	r := bufio.NewReader(conn)
	resp, err := http.ReadResponse(r, nil)
	if err != nil {
		t.Fatalf("no response to %q: %v", raw[:min(len(raw), 60)], err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	_ = conn.SetReadDeadline(time.Now().Add(time.Second))
	_, err = r.ReadByte()
	return resp, string(body), errors.Is(err, io.EOF)
}

// Malformed requests (refused by fasthttp before routing, or by Podium's own
// framing check) get a 4xx with every security header and a safe body, and
// those whose length is ambiguous close the connection.
func TestMalformedRequests_AnsweredWithSecurityHeadersAndFramingRefusedAndClosed(t *testing.T) {
	env := newTestEnv(t, func(c *Config) { c.BaseURL = "https://events.example.org"; c.HSTSIncludeSubdomains = true })
	addr := strings.TrimPrefix(serveOnLoopback(t, env.app), "http://")
	chunk := "0\r\n\r\n"
	cases := []struct {
		name, raw string
		status    int
		closes    bool
	}{
		{"Content-Length and Transfer-Encoding", "POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n" + chunk, 400, true},
		{"Transfer-Encoding: xchunked", "POST /healthz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: xchunked\r\n\r\n" + chunk, 400, true},
		{"Transfer-Encoding: chunked, identity", "POST /healthz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, identity\r\n\r\n" + chunk, 400, true},
		{"a tab before chunked", "POST /healthz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding:\tchunked\r\n\r\n" + chunk, 400, true},
		{"two Transfer-Encoding headers", "POST /healthz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n" + chunk, 400, true},
		{"a malformed Content-Length", "POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n", 400, true},
		{"a URL too long", "GET /" + strings.Repeat("a", 20000) + " HTTP/1.1\r\nHost: x\r\n\r\n", 431, false},
		{"a body too large", "POST /panels/x/register HTTP/1.1\r\nHost: x\r\nContent-Length: 10000000\r\n\r\n" + strings.Repeat("a", 1000), 413, true},
	}
	for _, c := range cases {
		resp, body, closed := rawExchange(t, addr, c.raw)
		if resp.StatusCode != c.status {
			t.Errorf("%s: %d; want %d", c.name, resp.StatusCode, c.status)
		}
		if c.closes && !closed {
			t.Errorf("%s: the connection stayed open; want it closed", c.name)
		}
		for _, h := range []string{"Content-Security-Policy", "X-Content-Type-Options", "X-Frame-Options", "Referrer-Policy", "Permissions-Policy"} {
			if resp.Header.Get(h) == "" {
				t.Errorf("%s: no %s", c.name, h)
			}
		}
		if got := resp.Header.Get("Strict-Transport-Security"); got != "max-age=31536000; includeSubDomains" {
			t.Errorf("%s: HSTS %q; want a year with includeSubDomains", c.name, got)
		}
		for _, leak := range []string{"fasthttp", "cannot", "error when", "unexpected"} {
			if strings.Contains(strings.ToLower(body), leak) {
				t.Errorf("%s: the body tells the parser's error (%q):\n%s", c.name, leak, body)
			}
		}
	}
	// A well-formed chunked request is still taken.
	resp, _, _ := rawExchange(t, addr, "GET /healthz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"+chunk)
	if resp.StatusCode != http.StatusOK {
		t.Errorf("a well-formed chunked request: %d; want 200", resp.StatusCode)
	}
}

// HSTS follows PODIUM_BASE_URL, never what a client says its scheme was.
func TestHSTS_FromTheBaseURLNotFromXForwardedProto(t *testing.T) {
	for base, want := range map[string]string{
		"https://events.example.org": "max-age=31536000",
		"http://localhost:3000":      "",
	} {
		env := newTestEnv(t, func(c *Config) { c.BaseURL = base })
		for _, path := range []string{"/", "/no-such-page", "/healthz"} {
			req := httptest.NewRequest(http.MethodGet, path, nil)
			req.Header.Set("X-Forwarded-Proto", "https")
			resp, err := env.app.Test(req, -1)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if got := resp.Header.Get("Strict-Transport-Security"); got != want {
				t.Errorf("base %s, GET %s with X-Forwarded-Proto: https: HSTS %q; want %q", base, path, got, want)
			}
		}
	}
}

func TestContainsFold(t *testing.T) {
	for s, want := range map[string]bool{
		"Host: x\r\nTransfer-Encoding: chunked": true, "host: x\r\ntransfer-encoding: x": true,
		"TRANSFER-ENCODING: chunked": true, "Host: x\r\nContent-Length: 3": false, "Transfer-Encodin": false, "": false,
	} {
		if got := containsFold([]byte(s), transferEncoding); got != want {
			t.Errorf("containsFold(%q) = %v; want %v", s, got, want)
		}
	}
}
