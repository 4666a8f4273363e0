package smtptest

import (
	"errors"
	"io"
	"slices"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// session is one SMTP connection's state; go-smtp calls it from that
// connection's goroutine only.
type session struct {
	srv       *Server
	conn      *smtp.Conn
	user      string
	from      string
	to        []string
	tookNext  bool   // this transaction has had its FailNext turn
	dataFault *fault // fault to answer at the end of DATA
}

func (s *Server) newSession(c *smtp.Conn) (smtp.Session, error) {
	s.mu.Lock()
	s.sessions++
	s.mu.Unlock()
	return &session{srv: s, conn: c}, nil
}

// AuthMechanisms offers PLAIN when the server was built WithAuth.
func (ss *session) AuthMechanisms() []string {
	if ss.srv.username == "" {
		return nil
	}
	return []string{sasl.Plain}
}

// Auth checks PLAIN credentials against WithAuth's.
func (ss *session) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, username, password string) error {
		if username != ss.srv.username || password != ss.srv.password {
			return smtp.ErrAuthFailed
		}
		ss.user = username
		return nil
	}), nil
}

// Mail requires AUTH first when the server was built WithAuth.
func (ss *session) Mail(from string, _ *smtp.MailOptions) error {
	if ss.srv.username != "" && ss.user == "" {
		return smtp.ErrAuthRequired
	}
	ss.from = from
	return nil
}

// Rcpt applies a recipient rule, or the FailNext queue once per transaction;
// a fault meant for DATA waits there.
func (ss *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	f := ss.srv.recipientFault(to)
	if f == nil && !ss.tookNext {
		ss.tookNext = true
		f = ss.srv.nextFault()
	}
	if f != nil && f.at == AtRcpt {
		return ss.hit(*f, []string{to})
	}
	if f != nil {
		ss.dataFault = f
	}
	ss.to = append(ss.to, to)
	return nil
}

// Data reads the whole message, then answers a pending fault or records it.
func (ss *session) Data(r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	if ss.dataFault != nil {
		return ss.hit(*ss.dataFault, ss.to)
	}
	_, isTLS := ss.conn.TLSConnectionState()
	ss.srv.record(Message{From: ss.from, To: slices.Clone(ss.to), Data: data, TLS: isTLS, User: ss.user})
	return nil
}

// hit records a fault against the recipients it refuses and answers it: an
// SMTP error reply, or a closed connection.
func (ss *session) hit(f fault, to []string) error {
	ss.srv.refuse(Refusal{From: ss.from, To: slices.Clone(to), Code: f.code, At: f.at})
	if f.code == Hangup {
		_ = ss.conn.Conn().Close()
		return errors.New("smtptest: hung up")
	}
	return f.smtpError()
}

// Reset ends the transaction (after DATA and on RSET).
func (ss *session) Reset() {
	ss.from, ss.to, ss.tookNext, ss.dataFault = "", nil, false, nil
}

func (ss *session) Logout() error { return nil }

func (s *Server) record(m Message) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.messages = append(s.messages, m)
}

func (s *Server) refuse(r Refusal) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.refused = append(s.refused, r)
}
