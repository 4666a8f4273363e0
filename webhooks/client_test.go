package webhooks

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"
)

const refusedPrivate = "refused: the address is on a private network"

func TestPublic(t *testing.T) {
	tests := []struct {
		addr string
		want bool
	}{
		{"127.0.0.1", false},
		{"127.8.9.10", false},
		{"::1", false},
		{"10.0.0.1", false},
		{"10.255.255.255", false},
		{"172.16.0.1", false},
		{"172.31.255.254", false},
		{"192.168.1.1", false},
		{"169.254.169.254", false}, // cloud metadata
		{"fd00:ec2::254", false},   // AWS metadata over IPv6
		{"fe80::1", false},
		{"100.64.0.1", false}, // carrier-grade NAT
		{"0.0.0.0", false},
		{"0.1.2.3", false},
		{"::", false},
		{"::ffff:127.0.0.1", false},
		{"::ffff:10.0.0.1", false},
		{"::ffff:100.64.0.1", false},
		{"::ffff:0.0.0.0", false},
		{"64:ff9b::a00:1", false}, // NAT64 of 10.0.0.1
		{"224.0.0.1", false},
		{"ff02::1", false},
		{"198.18.0.1", false},
		{"255.255.255.255", false},
		{"8.8.8.8", true},
		{"1.1.1.1", true},
		{"172.32.0.1", true},
		{"100.128.0.1", true},
		{"2606:4700:4700::1111", true},
		{"::ffff:8.8.8.8", true},
	}
	for _, tt := range tests {
		if got := Public(netip.MustParseAddr(tt.addr)); got != tt.want {
			t.Errorf("Public(%s) = %v; want %v", tt.addr, got, tt.want)
		}
	}
	if Public(netip.Addr{}) {
		t.Error("Public(zero Addr) = true; want false")
	}
}

// TestRefusePrivate checks the dialer's Control on resolved addresses: a
// public one is let through, which no test can dial.
func TestRefusePrivate(t *testing.T) {
	tests := []struct {
		network, address string
		refused          bool
	}{
		{"tcp4", "8.8.8.8:443", false},
		{"tcp6", "[2606:4700:4700::1111]:443", false},
		{"tcp4", "127.0.0.1:8080", true},
		{"tcp6", "[::1]:8080", true},
		{"tcp4", "169.254.169.254:80", true},
		{"tcp6", "[fd00:ec2::254]:80", true},
		{"tcp6", "[::ffff:127.0.0.1]:80", true},
		{"tcp4", "not an address", true},
	}
	for _, tt := range tests {
		err := refusePrivate(tt.network, tt.address, nil)
		if refused := errors.Is(err, errPrivateAddress); refused != tt.refused || (!refused && err != nil) {
			t.Errorf("refusePrivate(%s, %q) = %v; want refused %v", tt.network, tt.address, err, tt.refused)
		}
	}
}

// timeoutError is a net.Error that timed out.
type timeoutError struct{}

func (timeoutError) Error() string   { return "i/o timeout at 10.1.2.3:443" }
func (timeoutError) Timeout() bool   { return true }
func (timeoutError) Temporary() bool { return true }

func TestDescribe(t *testing.T) {
	dial := func(err error) error {
		return &url.Error{Op: "Post", URL: "http://10.1.2.3/hook", Err: &net.OpError{Op: "dial", Net: "tcp", Err: err}}
	}
	tests := []struct {
		err  error
		want string
	}{
		{dial(errPrivateAddress), "refused: the address is on a private network (PODIUM_WEBHOOK_ALLOW_PRIVATE=true allows it)"},
		{fmt.Errorf("post: %w", context.DeadlineExceeded), "timed out: no answer in time"},
		{&url.Error{Op: "Post", URL: "http://10.1.2.3/", Err: timeoutError{}}, "timed out: no answer in time"},
		{dial(&net.DNSError{Err: "no such host", Name: "nowhere.invalid", IsNotFound: true}), "the host name does not resolve"},
		{dial(os.NewSyscallError("connect", syscall.ECONNREFUSED)), "connection refused"},
		{dial(os.NewSyscallError("read", syscall.ECONNRESET)), "connection reset"},
		{&url.Error{Op: "Post", URL: "https://x/", Err: &tls.CertificateVerificationError{Err: errors.New("unknown authority")}},
			"the TLS certificate was not accepted"},
		{errors.New("dial tcp 10.1.2.3:443: something odd"), "could not connect"},
	}
	for _, tt := range tests {
		got := describe(tt.err)
		if got != tt.want {
			t.Errorf("describe(%v) = %q; want %q", tt.err, got, tt.want)
		}
		if strings.Contains(got, "10.1.2.3") {
			t.Errorf("describe(%v) leaks the address: %q", tt.err, got)
		}
	}
}

func TestDeliver_RedirectNotFollowed(t *testing.T) {
	for _, code := range []int{301, 302, 303, 307, 308} {
		t.Run(fmt.Sprint(code), func(t *testing.T) {
			env := newTestEnv(t)
			target := newReceiver(t, nil)
			rcv := newReceiver(t, func(_ int, w http.ResponseWriter, r *http.Request) {
				http.Redirect(w, r, target.URL+"/elsewhere", code)
			})
			ep, _ := env.endpoint(t, rcv.URL)
			env.testEvent(t, ep.ID)

			deliver(t, env.worker(NewClient(true)), 1)
			if n := len(target.requests()); n != 0 {
				t.Errorf("the redirect's target got %d requests; want none", n)
			}
			rcv.only(t)
			a := env.onlyAttempt(t, ep.ID)
			if a.StatusCode != code || !strings.Contains(a.Error, "redirect, not followed") {
				t.Errorf("attempt %d %q; want %d and \"…redirect, not followed\"", a.StatusCode, a.Error, code)
			}
			if a.DeliveryStatus != "queued" {
				t.Errorf("delivery %q; want queued for a retry", a.DeliveryStatus)
			}
		})
	}
}

func TestDeliver_RedirectToPrivateAddressNotFollowed(t *testing.T) {
	const metadata = "http://169.254.169.254/latest/meta-data/"
	// The client that refuses private addresses does not follow a public
	// receiver's redirect either: CheckRedirect stops every hop.
	client := NewClient(false)
	next, err := http.NewRequest(http.MethodPost, metadata, nil)
	if err != nil {
		t.Fatal(err)
	}
	first, _ := http.NewRequest(http.MethodPost, "https://receiver.example/hook", nil)
	if err := client.CheckRedirect(next, []*http.Request{first}); !errors.Is(err, http.ErrUseLastResponse) {
		t.Errorf("CheckRedirect to the metadata address = %v; want http.ErrUseLastResponse", err)
	}

	// End to end: the answer is recorded as it came, nothing is dialled.
	env := newTestEnv(t)
	rcv := newReceiver(t, func(_ int, w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, metadata, http.StatusTemporaryRedirect)
	})
	ep, _ := env.endpoint(t, rcv.URL)
	env.testEvent(t, ep.ID)
	start := time.Now()
	deliver(t, env.worker(NewClient(true)), 1)
	if a := env.onlyAttempt(t, ep.ID); a.StatusCode != http.StatusTemporaryRedirect || !strings.Contains(a.Error, "not followed") {
		t.Errorf("attempt %d %q (after %v); want 307, not followed", a.StatusCode, a.Error, time.Since(start))
	}
}

func TestDeliver_TimeoutDescribed(t *testing.T) {
	env := newTestEnv(t)
	rcv := newReceiver(t, func(_ int, w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
		w.WriteHeader(http.StatusNoContent)
	})
	ep, _ := env.endpoint(t, rcv.URL)
	env.testEvent(t, ep.ID)
	client := NewClient(true)
	client.Timeout = 200 * time.Millisecond

	start := time.Now()
	deliver(t, env.worker(client), 1)
	if took := time.Since(start); took > 4*time.Second {
		t.Errorf("the batch took %v; the client should give up after 200ms", took)
	}
	a := env.onlyAttempt(t, ep.ID)
	if a.StatusCode != 0 || a.Error != "timed out: no answer in time" {
		t.Errorf("attempt %d %q; want 0 and \"timed out: no answer in time\"", a.StatusCode, a.Error)
	}
	if a.DeliveryStatus != "queued" {
		t.Errorf("delivery %q; want queued for a retry", a.DeliveryStatus)
	}
}

func TestDeliver_PrivateAddressesRefused(t *testing.T) {
	env := newTestEnv(t)
	rcv := newReceiver(t, nil)
	port := rcv.Listener.Addr().(*net.TCPAddr).Port
	ln6, err := net.Listen("tcp6", "[::1]:0")
	if err != nil {
		t.Fatalf("no IPv6 loopback: %v", err)
	}
	rcv6 := serveReceiver(t, nil, func(h http.Handler) *httptest.Server {
		s := httptest.NewUnstartedServer(h)
		s.Listener.Close()
		s.Listener = ln6
		s.Start()
		return s
	})
	port6 := ln6.Addr().(*net.TCPAddr).Port

	urls := []string{
		fmt.Sprintf("http://127.0.0.1:%d/hook", port),
		fmt.Sprintf("http://localhost:%d/hook", port), // a name that resolves to loopback
		fmt.Sprintf("http://[::1]:%d/hook", port6),
		fmt.Sprintf("http://[::ffff:127.0.0.1]:%d/hook", port),
		fmt.Sprintf("http://0.0.0.0:%d/hook", port),
		"http://169.254.169.254/latest/meta-data/",
		"http://10.0.0.1/hook",
	}
	ids := make([]int64, len(urls))
	for i, u := range urls {
		ep, _ := env.endpoint(t, u)
		ids[i] = ep.ID
		env.testEvent(t, ep.ID)
	}

	start := time.Now()
	deliver(t, env.worker(NewClient(false)), len(urls))
	// Refused before connecting: no dial timeout is waited for.
	if took := time.Since(start); took > 4*time.Second {
		t.Errorf("the batch took %v; refusals should not wait to connect", took)
	}
	for i, u := range urls {
		a := env.onlyAttempt(t, ids[i])
		if a.StatusCode != 0 || !strings.HasPrefix(a.Error, refusedPrivate) {
			t.Errorf("%s: attempt %d %q; want refused as private", u, a.StatusCode, a.Error)
		}
	}
	if n, n6 := len(rcv.requests()), len(rcv6.requests()); n+n6 != 0 {
		t.Errorf("the loopback receivers got %d and %d requests; want none", n, n6)
	}
}

func TestDeliver_TLS(t *testing.T) {
	env := newTestEnv(t)
	rcv := serveReceiver(t, nil, httptest.NewTLSServer)
	ep, secret := env.endpoint(t, rcv.URL)
	env.testEvent(t, ep.ID)

	// A certificate the client does not trust.
	deliver(t, env.worker(NewClient(true)), 1)
	if a := env.onlyAttempt(t, ep.ID); a.StatusCode != 0 || a.Error != "the TLS certificate was not accepted" {
		t.Errorf("attempt %d %q; want the certificate refused", a.StatusCode, a.Error)
	}
	if n := len(rcv.requests()); n != 0 {
		t.Fatalf("receiver got %d requests over an untrusted connection", n)
	}

	// Trusted, the retry goes through.
	client := NewClient(true)
	roots := x509.NewCertPool()
	roots.AddCert(rcv.Certificate())
	client.Transport.(*http.Transport).TLSClientConfig.RootCAs = roots
	env.clock.Add(6 * time.Second)
	deliver(t, env.worker(client), 1)
	if err := verify(t, secret, rcv.only(t)); err != nil {
		t.Errorf("signature over TLS: %v", err)
	}
}

func TestDeliver_ConnectionRefusedDescribed(t *testing.T) {
	env := newTestEnv(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + ln.Addr().String() + "/hook"
	ln.Close()
	ep, _ := env.endpoint(t, closed)
	env.testEvent(t, ep.ID)
	deliver(t, env.worker(NewClient(true)), 1)
	if a := env.onlyAttempt(t, ep.ID); a.StatusCode != 0 || a.Error != "connection refused" {
		t.Errorf("attempt %d %q; want \"connection refused\"", a.StatusCode, a.Error)
	}
}
