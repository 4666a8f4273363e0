package smtptest_test

import (
	"errors"
	"net"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"podium/mailer/smtptest"
)

// send delivers a one-line message over a plain connection.
func send(srv *smtptest.Server, to string, auth sasl.Client) error {
	c, err := smtp.Dial(srv.Addr())
	if err != nil {
		return err
	}
	return deliver(c, to, auth)
}

// deliver sends a one-line message on c with go-smtp's client and quits.
func deliver(c *smtp.Client, to string, auth sasl.Client) error {
	defer c.Close()
	if auth != nil {
		if err := c.Auth(auth); err != nil {
			return err
		}
	}
	body := strings.NewReader("Subject: hi\r\n\r\nhello\r\n")
	if err := c.SendMail("from@example.com", []string{to}, body); err != nil {
		return err
	}
	return c.Quit()
}

// replyCode returns the SMTP reply code in err, or 0.
func replyCode(err error) int {
	var smtpErr *smtp.SMTPError
	if errors.As(err, &smtpErr) {
		return smtpErr.Code
	}
	return 0
}

func TestServer_RecordsMessages(t *testing.T) {
	srv := smtptest.NewServer(t)
	if err := send(srv, "to@example.com", nil); err != nil {
		t.Fatal(err)
	}
	got := srv.Messages()
	if len(got) != 1 || got[0].From != "from@example.com" || got[0].To[0] != "to@example.com" ||
		!strings.Contains(string(got[0].Data), "hello") {
		t.Fatalf("Messages() = %+v", got)
	}
	if srv.Sessions() != 1 || !strings.HasPrefix(srv.URL(), "smtp://127.0.0.1:") {
		t.Errorf("Sessions() = %d, URL() = %q", srv.Sessions(), srv.URL())
	}
}

func TestServer_FailNextIsUsedUpInOrder(t *testing.T) {
	srv := smtptest.NewServer(t)
	srv.FailNext(1, 451, smtptest.AtRcpt)
	srv.FailNext(1, 554, smtptest.AtData)
	for _, want := range []int{451, 554, 0} {
		if got := replyCode(send(srv, "to@example.com", nil)); got != want {
			t.Errorf("reply code %d, want %d", got, want)
		}
	}
	if n := len(srv.Messages()); n != 1 {
		t.Errorf("accepted %d messages, want 1", n)
	}
}

func TestServer_FailRecipientAndHangup(t *testing.T) {
	srv := smtptest.NewServer(t)
	srv.FailRecipient("bounce@example.com", 550, smtptest.AtRcpt)
	srv.FailRecipient("drop@example.com", smtptest.Hangup, smtptest.AtData)
	if got := replyCode(send(srv, "Bounce@example.com", nil)); got != 550 {
		t.Errorf("reply code %d for bounce@, want 550", got)
	}
	if err := send(srv, "drop@example.com", nil); err == nil || replyCode(err) != 0 {
		t.Errorf("error %v for drop@, want a connection error", err)
	}
	if err := send(srv, "ok@example.com", nil); err != nil {
		t.Errorf("other recipients: %v", err)
	}
}

func TestServer_StopAndStartOnSamePort(t *testing.T) {
	srv := smtptest.NewServer(t)
	port := srv.Port()
	srv.Stop()
	if err := send(srv, "to@example.com", nil); err == nil {
		t.Fatal("send to a stopped server succeeded")
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	if err := send(srv, "to@example.com", nil); err != nil || srv.Port() != port {
		t.Fatalf("after Start: %v, port %d (was %d)", err, srv.Port(), port)
	}
}

func TestServer_SilentAcceptsAndNeverAnswers(t *testing.T) {
	srv := smtptest.NewServer(t)
	srv.SetSilent(true)
	conn, err := net.Dial("tcp", srv.Addr())
	if err != nil {
		t.Fatalf("silent server refused the connection: %v", err)
	}
	defer conn.Close()
	_ = conn.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
	var ne net.Error
	if n, err := conn.Read(make([]byte, 1)); !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("read %d bytes, %v; want a timeout", n, err)
	}
	srv.SetSilent(false)
	if err := send(srv, "to@example.com", nil); err != nil {
		t.Fatalf("after SetSilent(false): %v", err)
	}
}

func TestServer_Auth(t *testing.T) {
	srv := smtptest.NewServer(t, smtptest.WithAuth("user", "pass"))
	if err := send(srv, "to@example.com", nil); err == nil {
		t.Error("send without AUTH succeeded")
	}
	if got := replyCode(send(srv, "to@example.com", sasl.NewPlainClient("", "user", "wrong"))); got != 535 {
		t.Errorf("wrong password: reply code %d, want 535", got)
	}
	if err := send(srv, "to@example.com", sasl.NewPlainClient("", "user", "pass")); err != nil {
		t.Fatal(err)
	}
	if got := srv.Messages(); len(got) != 1 || got[0].User != "user" {
		t.Errorf("Messages() = %+v, want one from user", got)
	}
}

func TestServer_TLS(t *testing.T) {
	implicit := smtptest.NewServer(t, smtptest.WithImplicitTLS())
	c, err := smtp.DialTLS(implicit.Addr(), implicit.ClientTLSConfig())
	if err != nil {
		t.Fatal(err)
	}
	if err := deliver(c, "to@example.com", nil); err != nil {
		t.Fatal(err)
	}
	starttls := smtptest.NewServer(t, smtptest.WithSTARTTLS())
	if c, err = smtp.DialStartTLS(starttls.Addr(), starttls.ClientTLSConfig()); err != nil {
		t.Fatal(err)
	}
	if err := deliver(c, "to@example.com", nil); err != nil {
		t.Fatal(err)
	}
	for _, srv := range []*smtptest.Server{implicit, starttls} {
		if got := srv.Messages(); len(got) != 1 || !got[0].TLS {
			t.Errorf("%s: Messages() = %+v, want one over TLS", srv.URL(), got)
		}
	}
	if !strings.HasPrefix(implicit.URL(), "smtps://") {
		t.Errorf("URL() = %q, want smtps://", implicit.URL())
	}
}

func TestServer_RefusedRecordsEachScriptedFault(t *testing.T) {
	srv := smtptest.NewServer(t)
	srv.FailNext(1, 451, smtptest.AtRcpt)
	srv.FailRecipient("bounce@example.com", 554, smtptest.AtData)
	_ = send(srv, "first@example.com", nil)
	_ = send(srv, "bounce@example.com", nil)
	if err := send(srv, "ok@example.com", nil); err != nil {
		t.Fatal(err)
	}
	want := []smtptest.Refusal{
		{From: "from@example.com", To: []string{"first@example.com"}, Code: 451, At: smtptest.AtRcpt},
		{From: "from@example.com", To: []string{"bounce@example.com"}, Code: 554, At: smtptest.AtData},
	}
	if got := srv.Refused(); !reflect.DeepEqual(got, want) {
		t.Fatalf("Refused() = %+v, want %+v", got, want)
	}
}

func TestServer_SilencedCountsConnectionsTheClientAbandons(t *testing.T) {
	srv := smtptest.NewServer(t)
	srv.SetSilent(true)
	gaveUp, err := net.Dial("tcp", srv.Addr())
	if err != nil {
		t.Fatal(err)
	}
	kept, err := net.Dial("tcp", srv.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer kept.Close()
	waitSilenced(t, srv, 2, 0)
	gaveUp.Close()
	waitSilenced(t, srv, 2, 1)
	srv.Stop() // closes kept from the server's side: not abandoned
	if held, abandoned := srv.Silenced(); held != 2 || abandoned != 1 {
		t.Fatalf("after Stop: Silenced() = %d, %d; want 2, 1", held, abandoned)
	}
}

// waitSilenced waits until Silenced reports held and abandoned.
func waitSilenced(t *testing.T, srv *smtptest.Server, held, abandoned int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		h, a := srv.Silenced()
		if h == held && a == abandoned {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("Silenced() = %d, %d; want %d, %d", h, a, held, abandoned)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestDiscard_CountsMessagesAndBytes(t *testing.T) {
	sink, err := smtptest.StartDiscard()
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	for _, to := range []string{"a@example.com", "b@example.com"} {
		c, err := smtp.Dial(sink.Addr())
		if err != nil {
			t.Fatal(err)
		}
		if err := deliver(c, to, nil); err != nil {
			t.Fatal(err)
		}
	}
	// deliver's message, as the server reads it after dot-unstuffing.
	want := int64(2 * len("Subject: hi\r\n\r\nhello\r\n"))
	if messages, bytes := sink.Received(); messages != 2 || bytes != want {
		t.Errorf("Received() = %d messages, %d bytes; want 2, %d", messages, bytes, want)
	}
}
