// Package smtptest runs a real SMTP server (github.com/emersion/go-smtp) on
// 127.0.0.1 for tests. It records every message it accepts and can be
// scripted to refuse messages, to drop connections, to accept connections and
// never answer, and to stop and start again on the same port. It also records
// what it refused and which silent connections the client gave up on.
//
//	srv := smtptest.NewServer(t)
//	srv.FailNext(1, 451, smtptest.AtRcpt)
//	// ... send to srv.Addr() ...
//	got := srv.Messages()
package smtptest

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
)

// Message is one message the server accepted.
type Message struct {
	From string   // envelope sender (MAIL FROM)
	To   []string // envelope recipients (RCPT TO)
	Data []byte   // the message exactly as received: header, blank line, body
	TLS  bool     // whether the session was encrypted (implicit TLS or STARTTLS)
	User string   // the authenticated user name, "" without AUTH
}

// Server is an in-process SMTP server listening on 127.0.0.1. Its methods are
// safe for concurrent use.
type Server struct {
	addr      string
	tlsMode   tlsMode
	serverTLS *tls.Config
	clientTLS *tls.Config
	username  string
	password  string

	mu        sync.Mutex
	smtp      *smtp.Server // nil while stopped
	ln        net.Listener
	served    chan struct{}
	parked    []net.Conn // connections accepted while silent
	silent    bool
	held      int            // connections ever accepted while silent
	abandoned int            // of those, how many the client closed
	watchers  sync.WaitGroup // one per parked connection, reading until it closes
	sessions  int
	messages  []Message
	refused   []Refusal
	next      []fault          // FailNext queue, oldest first
	byRcpt    map[string]fault // FailRecipient rules
}

type tlsMode int

const (
	noTLS tlsMode = iota
	implicitTLS
	startTLS
)

// Option configures a Server at NewServer.
type Option func(*Server)

// WithAuth makes the server offer AUTH PLAIN (also without TLS, since the
// server is on loopback) and refuse MAIL FROM until the client has
// authenticated with this user name and password.
func WithAuth(username, password string) Option {
	return func(s *Server) { s.username, s.password = username, password }
}

// WithImplicitTLS makes the server speak TLS from the first byte, as on port
// 465 (smtps). Clients must trust ClientTLSConfig's roots.
func WithImplicitTLS() Option {
	return func(s *Server) { s.tlsMode = implicitTLS }
}

// WithSTARTTLS makes the server offer STARTTLS, as on port 587. Clients must
// trust ClientTLSConfig's roots.
func WithSTARTTLS() Option {
	return func(s *Server) { s.tlsMode = startTLS }
}

// NewServer starts a server on 127.0.0.1 with a free port and stops it when
// the test ends.
func NewServer(t testing.TB, opts ...Option) *Server {
	t.Helper()
	s := &Server{byRcpt: make(map[string]fault)}
	for _, opt := range opts {
		opt(s)
	}
	if s.tlsMode != noTLS {
		var err error
		if s.serverTLS, s.clientTLS, err = selfSignedTLS(); err != nil {
			t.Fatalf("smtptest: %v", err)
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("smtptest: listen: %v", err)
	}
	s.addr = ln.Addr().String()
	s.serve(ln)
	t.Cleanup(s.Stop)
	return s
}

// Addr returns the server's "127.0.0.1:port" address.
func (s *Server) Addr() string { return s.addr }

// Host returns "127.0.0.1".
func (s *Server) Host() string {
	host, _, _ := net.SplitHostPort(s.addr)
	return host
}

// Port returns the port the server listens on; it stays the same across Stop
// and Start.
func (s *Server) Port() int {
	_, port, _ := net.SplitHostPort(s.addr)
	n, _ := strconv.Atoi(port)
	return n
}

// URL returns "smtp://127.0.0.1:port", or "smtps://..." with
// WithImplicitTLS. It never contains credentials.
func (s *Server) URL() string {
	if s.tlsMode == implicitTLS {
		return "smtps://" + s.addr
	}
	return "smtp://" + s.addr
}

// ClientTLSConfig returns a client TLS configuration that trusts the
// server's self-signed certificate, or nil when the server has no TLS.
func (s *Server) ClientTLSConfig() *tls.Config {
	if s.clientTLS == nil {
		return nil
	}
	return s.clientTLS.Clone()
}

// Messages returns a copy of the messages accepted so far, oldest first.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.messages...)
}

// Sessions returns how many SMTP sessions (connections that got as far as
// EHLO) the server has had, across restarts.
func (s *Server) Sessions() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sessions
}

// Silenced reports how many connections the server has held unanswered
// while silent, across restarts, and how many of those the client has since
// closed: a client that gives up on a hung server shows up in abandoned.
// Connections closed by Stop are not counted as abandoned.
func (s *Server) Silenced() (held, abandoned int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.held, s.abandoned
}

// SetSilent switches silent mode. While silent, the server accepts TCP
// connections and never sends a byte on them, like a hung server; they are
// closed by Stop. Connections accepted before the switch are unaffected.
func (s *Server) SetSilent(silent bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.silent = silent
}

// Stop closes the listener and every connection. Messages are kept. Stop on
// a stopped server does nothing.
func (s *Server) Stop() {
	s.mu.Lock()
	srv, ln, served, parked := s.smtp, s.ln, s.served, s.parked
	s.smtp, s.ln, s.parked = nil, nil, nil
	s.mu.Unlock()
	if srv == nil {
		return
	}
	// go-smtp's Close misses a listener that Serve has not registered yet.
	_ = srv.Close()
	_ = ln.Close()
	<-served
	for _, c := range parked {
		_ = c.Close()
	}
	s.watchers.Wait()
}

// Start listens again on the same port after Stop. Start on a running
// server does nothing.
func (s *Server) Start() error {
	s.mu.Lock()
	running := s.smtp != nil
	s.mu.Unlock()
	if running {
		return nil
	}
	ln, err := net.Listen("tcp", s.addr)
	if err != nil {
		return fmt.Errorf("smtptest: listen again on %s: %w", s.addr, err)
	}
	s.serve(ln)
	return nil
}

func (s *Server) serve(ln net.Listener) {
	srv := smtp.NewServer(smtp.BackendFunc(s.newSession))
	srv.Domain = "smtptest.localhost"
	srv.AllowInsecureAuth = true
	srv.ReadTimeout = 10 * time.Second
	srv.WriteTimeout = 10 * time.Second
	srv.ErrorLog = log.New(io.Discard, "", 0)
	var l net.Listener = &silentListener{Listener: ln, srv: s}
	switch s.tlsMode {
	case startTLS:
		srv.TLSConfig = s.serverTLS
	case implicitTLS:
		l = tls.NewListener(l, s.serverTLS)
	}
	served := make(chan struct{})
	s.mu.Lock()
	s.smtp, s.ln, s.served = srv, ln, served
	s.mu.Unlock()
	go func() {
		defer close(served)
		_ = srv.Serve(l)
	}()
}

// silentListener hands connections to the SMTP server, or parks them
// unanswered while the server is silent.
type silentListener struct {
	net.Listener
	srv *Server
}

func (l *silentListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if !l.srv.park(c) {
			return c, nil
		}
	}
}

// park keeps c unanswered if the server is silent and reports whether it did.
func (s *Server) park(c net.Conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.silent {
		return false
	}
	s.parked = append(s.parked, c)
	s.held++
	s.watchers.Add(1)
	go s.watch(c)
	return true
}

// watch reads a parked connection until it closes, to tell a client that
// gave up (end of stream or reset) from Stop closing it.
func (s *Server) watch(c net.Conn) {
	defer s.watchers.Done()
	_, err := io.Copy(io.Discard, c)
	if errors.Is(err, net.ErrClosed) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.abandoned++
}
