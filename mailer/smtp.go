package mailer

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/wneessen/go-mail"
	"github.com/wneessen/go-mail/smtp"
)

// Sender delivers messages to one SMTP server. It holds no connection
// between calls and is safe for concurrent use.
type Sender struct {
	cfg       Config
	tlsConfig *tls.Config
	dkim      *DKIM
}

// Option adjusts a Sender.
type Option func(*Sender)

// WithTLSConfig sets the TLS client configuration, for example roots for a
// private CA or a test server. ServerName defaults to Config.Host.
func WithTLSConfig(c *tls.Config) Option {
	return func(s *Sender) { s.tlsConfig = c.Clone() }
}

// WithDKIM signs every message with d.
func WithDKIM(d *DKIM) Option {
	return func(s *Sender) { s.dkim = d }
}

// NewSender returns a Sender for cfg, filling in default timeouts.
func NewSender(cfg Config, opts ...Option) *Sender {
	if cfg.ConnectTimeout <= 0 {
		cfg.ConnectTimeout = DefaultConnectTimeout
	}
	if cfg.CommandTimeout <= 0 {
		cfg.CommandTimeout = DefaultCommandTimeout
	}
	s := &Sender{cfg: cfg, tlsConfig: &tls.Config{}}
	for _, opt := range opts {
		opt(s)
	}
	if s.tlsConfig.ServerName == "" {
		s.tlsConfig.ServerName = cfg.Host
	}
	if s.tlsConfig.MinVersion == 0 {
		s.tlsConfig.MinVersion = tls.VersionTLS12
	}
	return s
}

// Send delivers msgs over one SMTP connection and returns one error slot per
// message, nil where the server accepted it. A refused message does not stop
// the others; once the connection fails (or ctx ends) the remaining messages
// get temporary errors. Use IsPermanent to tell retryable failures apart.
func (s *Sender) Send(ctx context.Context, msgs []Message) []error {
	errs := make([]error, len(msgs))
	built := make([]*mail.Msg, len(msgs))
	pending := 0
	for i, m := range msgs {
		if built[i], errs[i] = Build(m); errs[i] == nil && s.dkim != nil {
			errs[i] = s.dkim.sign(built[i])
		}
		if errs[i] == nil {
			pending++
		}
	}
	if pending == 0 {
		return errs
	}
	c, err := s.dial(ctx)
	if err != nil {
		for i := range errs {
			if errs[i] == nil {
				errs[i] = err
			}
		}
		return errs
	}
	defer c.close()
	for i, msg := range built {
		if errs[i] == nil {
			errs[i] = c.deliver(ctx, msg)
		}
	}
	return errs
}

// dial opens, secures and authenticates one connection.
func (s *Sender) dial(ctx context.Context) (*conn, error) {
	c := &conn{}
	client, err := mail.NewClient(s.cfg.Host, s.clientOptions(s.dialFunc(ctx, c))...)
	if err != nil {
		return nil, fmt.Errorf("mailer: configure SMTP client: %w", err)
	}
	c.client = client
	if c.smtp, err = client.DialToSMTPClientWithContext(ctx); err != nil {
		// go-mail leaves the connection open when EHLO, STARTTLS or AUTH fail.
		c.failed = err
		c.close()
		if ctxErr := ctx.Err(); ctxErr != nil {
			err = ctxErr
		}
		return nil, fmt.Errorf("mailer: connect to %s: %w", s.cfg.addr(), err)
	}
	return c, nil
}

func (s *Sender) clientOptions(dial mail.DialContextFunc) []mail.Option {
	opts := []mail.Option{
		mail.WithPort(s.cfg.Port),
		mail.WithTimeout(s.cfg.CommandTimeout),
		mail.WithTLSPolicy(s.tlsPolicy()),
		mail.WithTLSConfig(s.tlsConfig),
		mail.WithDialContextFunc(dial),
		// The connection is fresh for each batch and a dead one fails the
		// next command anyway: a NOOP before every message would only add
		// a round trip per message.
		mail.WithoutNoop(),
	}
	if s.cfg.Username != "" {
		// go-mail's PLAIN and LOGIN refuse to run without TLS except to
		// localhost; tlsPolicy makes sure TLS is there otherwise.
		opts = append(opts,
			mail.WithUsername(s.cfg.Username),
			mail.WithPassword(s.cfg.Password),
			mail.WithOpportunisticSMTPAuth(mail.SMTPAuthPlain, mail.SMTPAuthLogin))
	}
	return opts
}

// tlsPolicy decides STARTTLS. With implicit TLS the dialer has already
// encrypted the connection, so go-mail must not try STARTTLS on top.
func (s *Sender) tlsPolicy() mail.TLSPolicy {
	switch {
	case s.cfg.ImplicitTLS:
		return mail.NoTLS
	case s.cfg.Username != "" && !s.cfg.isLoopback():
		return mail.TLSMandatory
	default:
		return mail.TLSOpportunistic
	}
}

// dialFunc connects for go-mail. It keeps the raw TCP connection in c so
// that the end of sendCtx closes it, which unblocks any pending command, and
// it does the implicit TLS handshake itself, under the command deadlines.
func (s *Sender) dialFunc(sendCtx context.Context, c *conn) mail.DialContextFunc {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		d := net.Dialer{Timeout: s.cfg.ConnectTimeout}
		raw, err := d.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		c.raw = raw
		c.unwatch = context.AfterFunc(sendCtx, func() { _ = raw.Close() })
		timed := &commandConn{Conn: raw, timeout: s.cfg.CommandTimeout}
		if !s.cfg.ImplicitTLS {
			return timed, nil
		}
		tlsConn := tls.Client(timed, s.tlsConfig)
		hsCtx, cancel := context.WithTimeout(ctx, s.cfg.ConnectTimeout)
		defer cancel()
		if err := tlsConn.HandshakeContext(hsCtx); err != nil {
			return nil, err
		}
		return tlsConn, nil
	}
}

// IsPermanent reports whether err means the message can never be delivered
// as it stands: an SMTP 5xx reply to that message, or an invalid message.
// Network errors, timeouts, 4xx replies and connection-level failures such as
// a refused login are temporary.
func IsPermanent(err error) bool {
	if errors.Is(err, ErrInvalidMessage) {
		return true
	}
	var sendErr *mail.SendError
	if !errors.As(err, &sendErr) || sendErr.IsTemp() {
		return false
	}
	code := sendErr.ErrorCode()
	return code >= 500 && code <= 599
}

// isReply reports whether err carries the server's SMTP reply, which leaves
// the connection usable, as opposed to a network or protocol failure.
func isReply(err error) bool {
	var sendErr *mail.SendError
	return errors.As(err, &sendErr) && sendErr.ErrorCode() != 0
}

// errConnectionLost is the temporary error of messages not attempted because
// the connection failed on an earlier message of the batch.
var errConnectionLost = errors.New("mailer: not sent, the SMTP connection failed on an earlier message of this batch")

// conn is one SMTP session, used for one batch.
type conn struct {
	client  *mail.Client
	smtp    *smtp.Client
	raw     net.Conn    // the TCP connection under any TLS
	unwatch func() bool // stops closing raw when the Send context ends
	failed  error       // set once the connection is unusable
}

// deliver sends one message, or explains why it was not attempted.
func (c *conn) deliver(ctx context.Context, msg *mail.Msg) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("mailer: not sent: %w", err)
	}
	if c.failed != nil {
		// Not c.failed itself: it names the earlier message.
		return errConnectionLost
	}
	err := c.client.SendWithSMTPClient(c.smtp, msg)
	if msg.IsDelivered() {
		// The server took the message; an error can only be the RSET after
		// it, and reporting it would make the outbox send a duplicate.
		if err != nil {
			c.failed = err
		}
		return nil
	}
	if isReply(err) {
		return fmt.Errorf("mailer: %w", err) // the connection is still in step
	}
	c.failed = err
	if ctxErr := ctx.Err(); ctxErr != nil {
		return fmt.Errorf("mailer: interrupted: %w", ctxErr)
	}
	return fmt.Errorf("mailer: %w", err)
}

// close says QUIT on a healthy connection and closes it in any case.
func (c *conn) close() {
	if c.failed == nil && c.smtp != nil {
		_ = c.client.CloseWithSMTPClient(c.smtp)
	}
	if c.unwatch != nil {
		c.unwatch()
	}
	if c.raw != nil {
		_ = c.raw.Close()
	}
}

// commandConn gives every write, and so every SMTP command and the reply
// that follows it, a fresh CommandTimeout.
type commandConn struct {
	net.Conn
	timeout time.Duration
}

// Write extends the deadline, then writes.
func (c *commandConn) Write(p []byte) (int, error) {
	if err := c.Conn.SetDeadline(time.Now().Add(c.timeout)); err != nil {
		return 0, err
	}
	return c.Conn.Write(p)
}
