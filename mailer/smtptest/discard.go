package smtptest

import (
	"io"
	"log"
	"net"
	"sync/atomic"

	"github.com/emersion/go-smtp"
)

// Discard is an SMTP server on 127.0.0.1 that accepts every message and
// keeps only counts, for benchmarks that send more mail than memory should
// hold. It needs no testing.TB, so a load generator can run one too.
type Discard struct {
	addr     string
	server   *smtp.Server
	messages atomic.Int64
	bytes    atomic.Int64
}

// StartDiscard starts a Discard server; Close stops it.
func StartDiscard() (*Discard, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	d := &Discard{addr: ln.Addr().String()}
	d.server = smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) {
		return discardSession{d}, nil
	}))
	d.server.Domain = "localhost"
	// A client that stops drops its connection without QUIT, which go-smtp
	// would log in the middle of a benchmark's output.
	d.server.ErrorLog = log.New(io.Discard, "", 0)
	go func() { _ = d.server.Serve(ln) }()
	return d, nil
}

// Addr is the server's host:port.
func (d *Discard) Addr() string { return d.addr }

// Received returns how many messages, and how many bytes of them, the
// server has accepted so far.
func (d *Discard) Received() (messages, bytes int64) { return d.messages.Load(), d.bytes.Load() }

// Close stops the server.
func (d *Discard) Close() error { return d.server.Close() }

type discardSession struct{ d *Discard }

func (discardSession) Mail(string, *smtp.MailOptions) error { return nil }
func (discardSession) Rcpt(string, *smtp.RcptOptions) error { return nil }
func (discardSession) Reset()                               {}
func (discardSession) Logout() error                        { return nil }

func (s discardSession) Data(r io.Reader) error {
	n, err := io.Copy(io.Discard, r)
	if err != nil {
		return err
	}
	s.d.bytes.Add(n)
	s.d.messages.Add(1)
	return nil
}
