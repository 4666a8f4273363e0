// Package mailer turns one Podium email into MIME and delivers batches of
// them over SMTP. Queueing and retries belong to the outbox; this package
// reports, per message, whether a failure is worth retrying (IsPermanent).
package mailer

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	netmail "net/mail"
	"strings"
	"unicode"

	"github.com/wneessen/go-mail"
)

// Message is one email as Podium's outbox stores it.
type Message struct {
	// MessageID is stable per outbox row and the same on every retry,
	// e.g. "<outbox-42@podium.example>" (the angle brackets are optional).
	MessageID   string
	FromName    string
	FromAddress string
	ToName      string
	ToAddress   string
	Subject     string
	Text        string // required
	HTML        string // optional
	// Calendar is an optional iCalendar object, sent inline and as invite.ics.
	Calendar []byte
	// CalendarMethod is MethodRequest, MethodCancel or MethodPublish, and
	// must equal the METHOD line in Calendar. Required when Calendar is set.
	CalendarMethod string
	// UnsubscribeURL, when set, makes the message bulk mail with a one-click
	// unsubscribe (RFC 2369 List-Unsubscribe, RFC 8058
	// List-Unsubscribe-Post): an https URL that takes a POST.
	UnsubscribeURL string
}

// iTIP methods (RFC 5546) Podium sends.
const (
	MethodRequest = "REQUEST"
	MethodCancel  = "CANCEL"
	MethodPublish = "PUBLISH"
)

// ErrInvalidMessage wraps every reason a Message can never be sent as it
// stands; IsPermanent reports true for it.
var ErrInvalidMessage = errors.New("mailer: invalid message")

// Build validates m and returns it as a go-mail message. Every header value
// goes through go-mail's and net/mail's encoders, so no field can add a
// header line; names and subject are also made one line of text first.
//
// With a calendar the MIME tree is (RFC 6047):
//
//	multipart/mixed
//	├── multipart/alternative
//	│   ├── text/plain; charset=UTF-8
//	│   ├── text/html; charset=UTF-8
//	│   └── text/calendar; method=<METHOD>; charset=UTF-8   (base64, inline)
//	└── application/ics; name="invite.ics"                  (base64, attachment)
//
// Without one it is multipart/alternative of the text and HTML parts (or a
// single text/plain part when HTML is empty).
func Build(m Message) (*mail.Msg, error) {
	if err := m.validate(); err != nil {
		return nil, err
	}
	msg := mail.NewMsg(mail.WithNoDefaultUserAgent())
	msg.FromMailAddress(&netmail.Address{Name: displayName(m.FromName), Address: m.FromAddress})
	msg.ToMailAddress(&netmail.Address{Name: displayName(m.ToName), Address: m.ToAddress})
	msg.Subject(oneLine(m.Subject))
	msg.SetMessageIDWithValue(bareMessageID(m.MessageID))
	msg.SetDate()
	if m.UnsubscribeURL != "" {
		msg.SetGenHeader("List-Unsubscribe", "<"+m.UnsubscribeURL+">")
		msg.SetGenHeader("List-Unsubscribe-Post", "List-Unsubscribe=One-Click")
	}
	addBody(msg, m)
	return msg, nil
}

// WriteTo writes m as it would be sent (RFC 5322, CRLF line ends), for
// example for a mail viewer's "show source".
func WriteTo(w io.Writer, m Message) error {
	msg, err := Build(m)
	if err != nil {
		return err
	}
	if _, err := msg.WriteTo(w); err != nil {
		return fmt.Errorf("mailer: write message %s: %w", m.MessageID, err)
	}
	return nil
}

func addBody(msg *mail.Msg, m Message) {
	msg.SetBodyString(mail.TypeTextPlain, m.Text)
	if m.HTML != "" {
		msg.AddAlternativeString(mail.TypeTextHTML, m.HTML)
	}
	if len(m.Calendar) == 0 {
		return
	}
	// go-mail has no text/calendar type and writes a part's Content-Type as
	// "<type>; charset=<charset>", so the method parameter rides in the type.
	// CalendarMethod is one of three constants (validate), so it is safe here.
	calendarType := mail.ContentType("text/calendar; method=" + m.CalendarMethod)
	// Both parts read m.Calendar where it is, instead of each keeping a copy.
	msg.AddAlternativeWriter(calendarType, func(w io.Writer) (int64, error) {
		n, err := w.Write(m.Calendar)
		return int64(n), err
	}, mail.WithPartEncoding(mail.EncodingB64))
	// Attachments are base64 by default in go-mail.
	msg.AttachReadSeeker("invite.ics", bytes.NewReader(m.Calendar), mail.WithFileContentType("application/ics"))
}

// oneLine collapses runs of whitespace and control characters (CR, LF, tab)
// into single spaces. Encoding alone would keep a line break out of the
// header, but some parsers reject a display name that decodes to one.
func oneLine(s string) string {
	return strings.Join(strings.FieldsFunc(strings.ToValidUTF8(s, "\uFFFD"), func(r rune) bool {
		return unicode.IsSpace(r) || unicode.IsControl(r)
	}), " ")
}

// displayName is oneLine without backslashes: go-mail leaves a backslash
// as it is inside an encoded word, which makes the whole address unreadable
// to mail parsers when the name is not plain ASCII. A backslash has no place
// in a person's name, so it is dropped.
func displayName(s string) string {
	return oneLine(strings.ReplaceAll(s, "\\", ""))
}

func (m Message) validate() error {
	switch {
	case !validMessageID(m.MessageID):
		return invalid("MessageID %q is not <local@domain>", m.MessageID)
	case !validAddress(m.FromAddress):
		return invalid("FromAddress %q is not a bare email address", m.FromAddress)
	case !validAddress(m.ToAddress):
		return invalid("ToAddress %q is not a bare email address", m.ToAddress)
	case m.Text == "":
		return invalid("Text is empty")
	case m.UnsubscribeURL != "" && !validUnsubscribeURL(m.UnsubscribeURL):
		return invalid("UnsubscribeURL %q is not an http(s) URL fit for a header", m.UnsubscribeURL)
	}
	return validateCalendar(m.Calendar, m.CalendarMethod)
}

// validUnsubscribeURL reports whether u can stand between angle brackets in
// List-Unsubscribe: an absolute http(s) URL with nothing a header or the
// brackets would take for its own.
func validUnsubscribeURL(u string) bool {
	return (strings.HasPrefix(u, "https://") || strings.HasPrefix(u, "http://")) &&
		!strings.ContainsFunc(u, func(r rune) bool { return r <= ' ' || r == '<' || r == '>' || r == ',' || r > '~' })
}

func validateCalendar(cal []byte, method string) error {
	if len(cal) == 0 {
		if method != "" {
			return invalid("CalendarMethod %q without Calendar", method)
		}
		return nil
	}
	switch method {
	case MethodRequest, MethodCancel, MethodPublish:
	default:
		return invalid("CalendarMethod %q is not REQUEST, CANCEL or PUBLISH", method)
	}
	// A mismatch makes Outlook reject the invite; a missing METHOD makes it
	// an unsupported calendar message.
	if got := calendarMethod(cal); got != method {
		return invalid("calendar METHOD %q does not match CalendarMethod %q", got, method)
	}
	return nil
}

// calendarMethod returns the value of the first METHOD line in cal.
func calendarMethod(cal []byte) string {
	for line := range bytes.Lines(cal) {
		name, value, ok := bytes.Cut(bytes.TrimRight(line, "\r\n"), []byte(":"))
		if ok && strings.EqualFold(string(name), "METHOD") {
			return string(value)
		}
	}
	return ""
}

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInvalidMessage}, args...)...)
}

// validAddress accepts a bare addr-spec such as "ada@example.com", nothing
// with a display name, angle brackets or line breaks.
func validAddress(addr string) bool {
	a, err := netmail.ParseAddress(addr)
	return err == nil && a.Name == "" && a.Address == addr
}

// validMessageID accepts "<local@domain>" or "local@domain" made of visible
// ASCII without spaces or angle brackets inside.
func validMessageID(id string) bool {
	bare := bareMessageID(id)
	local, domain, ok := strings.Cut(bare, "@")
	if !ok || local == "" || domain == "" || strings.Contains(domain, "@") {
		return false
	}
	for _, r := range bare {
		if r <= ' ' || r > '~' || r == '<' || r == '>' {
			return false
		}
	}
	return true
}

// bareMessageID strips one pair of angle brackets; go-mail adds them back.
func bareMessageID(id string) string {
	if strings.HasPrefix(id, "<") && strings.HasSuffix(id, ">") {
		return id[1 : len(id)-1]
	}
	return id
}
