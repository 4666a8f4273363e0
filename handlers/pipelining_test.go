package handlers

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"podium/models"
)

// Requests pipelined on one connection, sent in one write, are each
// answered, in order: with fasthttp v1.51.0 and ReduceMemoryUsage only the
// last was answered.
func TestPipelining_EveryRequestInOneWriteIsAnsweredInOrder(t *testing.T) {
	env := newTestEnv(t)
	env.addPanel(t, "piped", models.Session{Capacity: 10})
	addr := strings.TrimPrefix(serveOnLoopback(t, env.app), "http://")
	form := "name=Ada&email=ada%40example.com&consent=on"
	mixed := []struct {
		request string
		status  int
	}{
		{"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", http.StatusOK},
		{"GET /panels/piped HTTP/1.1\r\nHost: x\r\n\r\n", http.StatusOK}, // rendered, then cached
		{"GET /no-such-page HTTP/1.1\r\nHost: x\r\n\r\n", http.StatusNotFound},
		{"POST /panels/piped/register HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n" +
			fmt.Sprintf("Content-Length: %d\r\n\r\n%s", len(form), form), http.StatusForbidden}, // no CSRF token
		{"GET / HTTP/1.1\r\nHost: x\r\n\r\n", http.StatusOK},
		{"GET /panels/piped HTTP/1.1\r\nHost: x\r\n\r\n", http.StatusOK}, // from the cache
	}
	for _, n := range []int{1, 2, 3, 10} {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		var all strings.Builder
		for i := range n {
			all.WriteString(mixed[i%len(mixed)].request)
		}
		if _, err := io.WriteString(conn, all.String()); err != nil {
			t.Fatal(err)
		}
		_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
		r := bufio.NewReader(conn)
		for i := range n {
			resp, err := http.ReadResponse(r, nil)
			if err != nil {
				t.Fatalf("%d requests in one write: response %d: %v", n, i+1, err)
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if want := mixed[i%len(mixed)].status; resp.StatusCode != want {
				t.Fatalf("%d requests in one write: response %d is %d; want %d", n, i+1, resp.StatusCode, want)
			}
		}
		conn.Close()
	}
}
