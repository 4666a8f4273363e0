package mailer

import (
	"bytes"
	"encoding/base64"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	netmail "net/mail"
	"net/textproto"
	"slices"
	"strings"
	"testing"
	"time"
)

// mimePart is a parsed MIME entity with its body decoded.
type mimePart struct {
	header    textproto.MIMEHeader
	mediaType string
	params    map[string]string
	body      []byte // decoded; empty for multiparts
	parts     []*mimePart
}

// parseMIME parses an entity with Go's own MIME readers, keeping raw
// headers (NextRawPart) so transfer encodings can be checked.
func parseMIME(t *testing.T, header textproto.MIMEHeader, body io.Reader) *mimePart {
	t.Helper()
	mediaType, params, err := mime.ParseMediaType(header.Get("Content-Type"))
	if err != nil {
		t.Fatalf("Content-Type %q: %v", header.Get("Content-Type"), err)
	}
	p := &mimePart{header: header, mediaType: mediaType, params: params}
	if strings.HasPrefix(mediaType, "multipart/") {
		mr := multipart.NewReader(body, params["boundary"])
		for {
			child, err := mr.NextRawPart()
			if err == io.EOF {
				return p
			}
			if err != nil {
				t.Fatalf("%s: next part: %v", mediaType, err)
			}
			p.parts = append(p.parts, parseMIME(t, child.Header, child))
		}
	}
	switch header.Get("Content-Transfer-Encoding") {
	case "base64":
		body = base64.NewDecoder(base64.StdEncoding, body)
	case "quoted-printable":
		body = quotedprintable.NewReader(body)
	}
	if p.body, err = io.ReadAll(body); err != nil {
		t.Fatalf("%s: read body: %v", mediaType, err)
	}
	return p
}

// shape describes the tree, e.g. "multipart/alternative(text/plain text/html)".
func (p *mimePart) shape() string {
	if len(p.parts) == 0 {
		return p.mediaType
	}
	kids := make([]string, len(p.parts))
	for i, c := range p.parts {
		kids[i] = c.shape()
	}
	return p.mediaType + "(" + strings.Join(kids, " ") + ")"
}

// parseRaw parses a whole message into its header and MIME tree.
func parseRaw(t *testing.T, raw []byte) (netmail.Header, *mimePart) {
	t.Helper()
	msg, err := netmail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("net/mail cannot read the message: %v\n%s", err, raw)
	}
	return msg.Header, parseMIME(t, textproto.MIMEHeader(msg.Header), msg.Body)
}

func buildRaw(t *testing.T, m Message) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := WriteTo(&buf, m); err != nil {
		t.Fatalf("WriteTo: %v", err)
	}
	return buf.Bytes()
}

func TestSend_InviteArrivesAsRFC6047Tree(t *testing.T) {
	for _, method := range []string{MethodRequest, MethodCancel, MethodPublish} {
		t.Run(method, func(t *testing.T) {
			srv, s := startServer(t)
			m := testInvite(method)
			if err := sendOne(t, s, m); err != nil {
				t.Fatalf("Send: %v", err)
			}
			got := srv.Messages()
			if len(got) != 1 || got[0].From != m.FromAddress || !slices.Equal(got[0].To, []string{m.ToAddress}) {
				t.Fatalf("server received %+v, want one message from %s to %s", got, m.FromAddress, m.ToAddress)
			}
			header, tree := parseRaw(t, got[0].Data)
			checkHeaders(t, header, m)
			const want = "multipart/mixed(multipart/alternative(text/plain text/html text/calendar) application/ics)"
			if tree.shape() != want {
				t.Fatalf("MIME tree = %s, want %s", tree.shape(), want)
			}
			alt := tree.parts[0]
			checkTextPart(t, alt.parts[0], m.Text)
			checkTextPart(t, alt.parts[1], m.HTML)
			checkCalendarParts(t, alt.parts[2], tree.parts[1], m)
			checkLineLengths(t, got[0].Data)
		})
	}
}

func checkHeaders(t *testing.T, h netmail.Header, m Message) {
	t.Helper()
	if got := h.Get("Message-ID"); got != m.MessageID {
		t.Errorf("Message-ID = %q, want %q", got, m.MessageID)
	}
	if date, err := h.Date(); err != nil || time.Since(date).Abs() > time.Minute {
		t.Errorf("Date = %q (%v), want about now", h.Get("Date"), err)
	}
	subject, err := new(mime.WordDecoder).DecodeHeader(h.Get("Subject"))
	if err != nil || subject != m.Subject {
		t.Errorf("Subject decodes to %q (%v), want %q", subject, err, m.Subject)
	}
	checkAddress(t, h, "From", m.FromName, m.FromAddress)
	checkAddress(t, h, "To", m.ToName, m.ToAddress)
}

func checkAddress(t *testing.T, h netmail.Header, key, name, addr string) {
	t.Helper()
	list, err := h.AddressList(key)
	if err != nil || len(list) != 1 || list[0].Name != name || list[0].Address != addr {
		t.Errorf("%s = %q, parsed as %+v (%v), want one %q <%s>", key, h.Get(key), list, err, name, addr)
	}
}

// checkTextPart compares a text part's body, ignoring that quoted-printable
// turns line ends into CRLF.
func checkTextPart(t *testing.T, p *mimePart, want string) {
	t.Helper()
	if p.params["charset"] != "UTF-8" || strings.ReplaceAll(string(p.body), "\r\n", "\n") != want {
		t.Errorf("%s: charset %q, body %q; want UTF-8, %q", p.mediaType, p.params["charset"], p.body, want)
	}
}

func checkCalendarParts(t *testing.T, inline, attached *mimePart, m Message) {
	t.Helper()
	if got := inline.params["method"]; got != calendarMethod(m.Calendar) || got != m.CalendarMethod {
		t.Errorf("text/calendar method=%q, calendar METHOD %q", got, calendarMethod(m.Calendar))
	}
	if inline.params["charset"] != "UTF-8" {
		t.Errorf("text/calendar charset=%q, want UTF-8", inline.params["charset"])
	}
	if d := inline.header.Get("Content-Disposition"); d != "" {
		t.Errorf("text/calendar has Content-Disposition %q, want none (inline)", d)
	}
	if attached.params["name"] != "invite.ics" {
		t.Errorf("application/ics name=%q, want invite.ics", attached.params["name"])
	}
	disposition, params, err := mime.ParseMediaType(attached.header.Get("Content-Disposition"))
	if err != nil || disposition != "attachment" || params["filename"] != "invite.ics" {
		t.Errorf("application/ics disposition %q %v (%v), want attachment invite.ics", disposition, params, err)
	}
	for _, p := range []*mimePart{inline, attached} {
		if enc := p.header.Get("Content-Transfer-Encoding"); enc != "base64" {
			t.Errorf("%s transfer encoding %q, want base64", p.mediaType, enc)
		}
		if !bytes.Equal(p.body, m.Calendar) {
			t.Errorf("%s body differs from the calendar:\n%s", p.mediaType, p.body)
		}
	}
}

// checkLineLengths enforces SMTP's 998-octet line limit.
func checkLineLengths(t *testing.T, raw []byte) {
	t.Helper()
	for line := range bytes.Lines(raw) {
		if len(line) > 1000 || !bytes.HasSuffix(line, []byte("\r\n")) {
			t.Fatalf("line of %d octets or without CRLF: %.80q", len(line), line)
		}
	}
}

func TestBuild_WithoutCalendar(t *testing.T) {
	textOnly := testMessage(1)
	textOnly.HTML = ""
	tests := []struct {
		name string
		m    Message
		want string
	}{
		{"text and HTML", testMessage(1), "multipart/alternative(text/plain text/html)"},
		{"text only", textOnly, "text/plain"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			header, tree := parseRaw(t, buildRaw(t, tt.m))
			if tree.shape() != tt.want {
				t.Fatalf("MIME tree = %s, want %s", tree.shape(), tt.want)
			}
			checkHeaders(t, header, tt.m)
		})
	}
}

func TestBuild_HeaderInjectionCannotAddHeader(t *testing.T) {
	wantKeys := []string{"Content-Type", "Date", "From", "Message-Id", "Mime-Version", "Subject", "To"}
	for _, evil := range []string{"Eve\r\nBcc: victim@example.com", "Eve\nBcc: victim@example.com", "Eve\rBcc: victim@example.com"} {
		for _, field := range []string{"FromName", "ToName", "Subject"} {
			t.Run(field+"/"+strings.ReplaceAll(evil[3:5], "\r", "CR"), func(t *testing.T) {
				m := testMessage(1)
				setField(&m, field, evil)
				raw := buildRaw(t, m)
				header, _ := parseRaw(t, raw)
				keys := make([]string, 0, len(header))
				for k := range header {
					keys = append(keys, k)
				}
				slices.Sort(keys)
				if !slices.Equal(keys, wantKeys) {
					t.Errorf("header keys = %v, want %v", keys, wantKeys)
				}
				if bytes.Contains(bytes.ToLower(raw), []byte("\nbcc:")) {
					t.Errorf("raw message has a Bcc line:\n%s", raw)
				}
				want := m
				setField(&want, field, "Eve Bcc: victim@example.com")
				checkHeaders(t, header, want) // the text survives, on one line
			})
		}
	}
}

func setField(m *Message, field, value string) {
	switch field {
	case "FromName":
		m.FromName = value
	case "ToName":
		m.ToName = value
	case "Subject":
		m.Subject = value
	}
}

func TestSend_HeaderInjectionAddsNoRecipient(t *testing.T) {
	srv, s := startServer(t)
	m := testMessage(1)
	m.ToName = "Eve\r\nBcc: victim@example.com"
	m.Subject = "Hi\r\nBcc: victim@example.com"
	if err := sendOne(t, s, m); err != nil {
		t.Fatalf("Send: %v", err)
	}
	got := srv.Messages()
	if len(got) != 1 || !slices.Equal(got[0].To, []string{m.ToAddress}) {
		t.Fatalf("envelope recipients %+v, want only %s", got, m.ToAddress)
	}
	if header, _ := parseRaw(t, got[0].Data); header.Get("Bcc") != "" {
		t.Errorf("received a Bcc header: %q", header.Get("Bcc"))
	}
}

func TestBuild_RejectsInvalidMessages(t *testing.T) {
	tests := []struct {
		name   string
		change func(*Message)
	}{
		{"no message ID", func(m *Message) { m.MessageID = "" }},
		{"message ID without @", func(m *Message) { m.MessageID = "<outbox-1>" }},
		{"message ID with space", func(m *Message) { m.MessageID = "<outbox 1@podium.example>" }},
		{"message ID with line break", func(m *Message) { m.MessageID = "<a@b>\r\nBcc: victim@example.com" }},
		{"from with display name", func(m *Message) { m.FromAddress = "Podium <events@podium.example>" }},
		{"to with line break", func(m *Message) { m.ToAddress = "guest@example.com\r\nBcc: victim@example.com" }},
		{"to empty", func(m *Message) { m.ToAddress = "" }},
		{"no text", func(m *Message) { m.Text = "" }},
		{"calendar without method", func(m *Message) { m.CalendarMethod = "" }},
		{"unknown method", func(m *Message) { m.CalendarMethod = "REFRESH" }},
		{"method differs from calendar", func(m *Message) { m.CalendarMethod = MethodCancel }},
		{"calendar without METHOD line", func(m *Message) { m.Calendar = []byte("BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n") }},
		{"method without calendar", func(m *Message) { m.Calendar = nil }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := testInvite(MethodRequest)
			tt.change(&m)
			_, err := Build(m)
			if !errors.Is(err, ErrInvalidMessage) || !IsPermanent(err) {
				t.Fatalf("Build error = %v, want a permanent ErrInvalidMessage", err)
			}
		})
	}
}

func TestBuild_AcceptsMessageIDWithoutBrackets(t *testing.T) {
	m := testMessage(7)
	m.MessageID = "outbox-7@podium.example"
	header, _ := parseRaw(t, buildRaw(t, m))
	if got := header.Get("Message-ID"); got != "<outbox-7@podium.example>" {
		t.Errorf("Message-ID = %q, want <outbox-7@podium.example>", got)
	}
}
