package smtptest

import (
	"fmt"
	"strings"

	"github.com/emersion/go-smtp"
)

// Stage names the point of an SMTP transaction where a scripted fault hits.
type Stage int

const (
	// AtRcpt answers the RCPT TO command.
	AtRcpt Stage = iota
	// AtData answers the end of the message body, after DATA.
	AtData
)

// Hangup, used as a code, closes the connection without answering.
const Hangup = 0

// Refusal is one scripted fault the server answered: a message it refused
// with a 4xx or 5xx reply, or hung up on.
type Refusal struct {
	From string
	// To is the refused recipient for a fault AtRcpt, and every recipient
	// of the message for a fault AtData.
	To   []string
	Code int // the reply code, or Hangup
	At   Stage
}

// Refused returns the faults the server has answered so far, oldest first.
func (s *Server) Refused() []Refusal {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Refusal(nil), s.refused...)
}

// fault is one scripted answer.
type fault struct {
	code int // 400–599, or Hangup
	at   Stage
}

// FailNext makes the next n messages fail at stage at: the server answers
// code (400–599) or, with Hangup, closes the connection without answering.
// Each message (mail transaction) uses up one failure, whatever its number of
// recipients. Later calls queue behind earlier ones.
func (s *Server) FailNext(n, code int, at Stage) {
	f := newFault(code, at)
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.next = append(s.next, f)
	}
}

// FailRecipient makes every message to addr fail at stage at, answering code
// (400–599) or, with Hangup, closing the connection. It takes precedence over
// FailNext and does not use up its queue.
func (s *Server) FailRecipient(addr string, code int, at Stage) {
	f := newFault(code, at)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.byRcpt[strings.ToLower(addr)] = f
}

func newFault(code int, at Stage) fault {
	if code != Hangup && (code < 400 || code > 599) {
		panic(fmt.Sprintf("smtptest: fault code %d is neither 4xx, 5xx nor Hangup", code))
	}
	return fault{code: code, at: at}
}

// recipientFault returns the FailRecipient rule for rcpt, or nil.
func (s *Server) recipientFault(rcpt string) *fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	if f, ok := s.byRcpt[strings.ToLower(rcpt)]; ok {
		return &f
	}
	return nil
}

// nextFault uses up and returns the oldest FailNext entry, or nil.
func (s *Server) nextFault() *fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.next) == 0 {
		return nil
	}
	f := s.next[0]
	s.next = s.next[1:]
	return &f
}

// smtpError is the reply for a 4xx or 5xx fault.
func (f fault) smtpError() *smtp.SMTPError {
	return &smtp.SMTPError{
		Code:         f.code,
		EnhancedCode: smtp.EnhancedCodeNotSet,
		Message:      fmt.Sprintf("smtptest: scripted %d", f.code),
	}
}
