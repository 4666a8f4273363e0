// Package webhooks delivers Podium's outgoing webhooks: it claims due
// deliveries from the store, signs them by the Standard Webhooks
// specification, POSTs them through an SSRF-safe HTTP client and records
// each attempt.
package webhooks

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"net/http"
	"net/netip"
	"syscall"
	"time"
)

// Timeout is how long a receiver has to answer.
const Timeout = 10 * time.Second

// errPrivateAddress is a target refused because it is on a private network.
var errPrivateAddress = errors.New("webhooks: private address")

// NewClient is the HTTP client deliveries go through: it never follows a
// redirect, uses no proxy from the environment, gives up after Timeout and,
// unless allowPrivate, refuses to connect to loopback, private, link-local,
// shared and cloud metadata addresses. The check runs on the address each
// connection actually dials, after DNS resolution, so a host name that
// resolves to 127.0.0.1 is refused too.
func NewClient(allowPrivate bool) *http.Client {
	dialer := &net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}
	if !allowPrivate {
		dialer.Control = refusePrivate
	}
	transport := &http.Transport{
		Proxy:                 nil,
		DialContext:           dialer.DialContext,
		TLSHandshakeTimeout:   5 * time.Second,
		ResponseHeaderTimeout: Timeout,
		MaxIdleConns:          256,
		MaxIdleConnsPerHost:   64,
		IdleConnTimeout:       90 * time.Second,
		TLSClientConfig:       &tls.Config{MinVersion: tls.VersionTLS12},
		ForceAttemptHTTP2:     true,
	}
	return &http.Client{
		Transport: transport,
		Timeout:   Timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

// refusePrivate is the dialer's Control: it sees the resolved address.
func refusePrivate(_, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return errPrivateAddress
	}
	if !Public(ap.Addr()) {
		return errPrivateAddress
	}
	return nil
}

// nonPublic are ranges no webhook may reach by default beyond those
// netip classifies: "this network", shared address space (carrier NAT),
// benchmarking, and the IPv6 discard and NAT64 prefixes (global and local
// use) that can wrap private IPv4 addresses.
var nonPublic = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),
	netip.MustParsePrefix("100.64.0.0/10"),
	netip.MustParsePrefix("192.0.0.0/24"),
	netip.MustParsePrefix("198.18.0.0/15"),
	netip.MustParsePrefix("240.0.0.0/4"),
	netip.MustParsePrefix("64:ff9b::/96"),
	netip.MustParsePrefix("64:ff9b:1::/48"),
	netip.MustParsePrefix("100::/64"),
}

// Public reports whether addr is on the public internet: not loopback,
// private (including fc00::/7, where cloud metadata's IPv6 lives),
// link-local (169.254.169.254, the usual metadata address), multicast,
// unspecified or one of nonPublic.
func Public(addr netip.Addr) bool {
	addr = addr.Unmap()
	if !addr.IsValid() || addr.IsLoopback() || addr.IsPrivate() || addr.IsLinkLocalUnicast() ||
		addr.IsLinkLocalMulticast() || addr.IsInterfaceLocalMulticast() || addr.IsMulticast() || addr.IsUnspecified() {
		return false
	}
	for _, p := range nonPublic {
		if p.Contains(addr) {
			return false
		}
	}
	return true
}

// describe turns a failed request into words for the delivery log: never
// Go's error text, which can carry addresses and internals.
func describe(err error) string {
	var dnsErr *net.DNSError
	var netErr net.Error
	switch {
	case errors.Is(err, errPrivateAddress):
		return "refused: the address is on a private network (PODIUM_WEBHOOK_ALLOW_PRIVATE=true allows it)"
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &netErr) && netErr.Timeout():
		return "timed out: no answer in time"
	case errors.As(err, &dnsErr):
		return "the host name does not resolve"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.Is(err, syscall.ECONNRESET):
		return "connection reset"
	}
	var tlsErr *tls.CertificateVerificationError
	if errors.As(err, &tlsErr) {
		return "the TLS certificate was not accepted"
	}
	return "could not connect"
}
