package mailer

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/wneessen/go-mail"

	"podium/mailer/smtptest"
)

func TestParseURL(t *testing.T) {
	good := []struct {
		raw  string
		want Config
	}{
		{"smtp://mail.example.com", Config{Host: "mail.example.com", Port: 587}},
		{"smtp://127.0.0.1:1025", Config{Host: "127.0.0.1", Port: 1025}},
		{"SMTP://user:s3cr3t-pw@mail.example.com:587/", Config{Host: "mail.example.com", Port: 587, Username: "user", Password: "s3cr3t-pw"}},
		{"smtps://user%40example.com:s3cr3t%2Fp%40ss@mail.example.com", Config{Host: "mail.example.com", Port: 465, Username: "user@example.com", Password: "s3cr3t/p@ss", ImplicitTLS: true}},
		{"smtps://[::1]:2465", Config{Host: "::1", Port: 2465, ImplicitTLS: true}},
	}
	for _, tt := range good {
		got, err := ParseURL(tt.raw)
		if err != nil || got != tt.want {
			t.Errorf("ParseURL(%q) = %+v, %v; want %+v", tt.raw, got, err, tt.want)
		}
	}
	bad := []string{
		"",
		"mail.example.com:587",
		"http://user:s3cr3t-pw@mail.example.com",
		"smtp:user:s3cr3t-pw@mail.example.com",
		"smtp://user:s3cr3t-pw@",
		"smtp://user:s3cr3t-pw@mail.example.com:0",
		"smtp://user:s3cr3t-pw@mail.example.com:70000",
		"smtp://user:s3cr3t-pw@mail.example.com:port",
		"smtp://user:s3cr3t/pw@mail.example.com:587",
		"smtp://user:s3cr3t%zzpw@mail.example.com",
		"smtp://user:s3cr3t-pw@mail.example.com/inbox",
		"smtp://user:s3cr3t-pw@mail.example.com?tls=off",
		"smtp://user:s3cr3t-pw@mail.example.com#frag",
		"smtp://user@mail.example.com",
		"smtp://:s3cr3t-pw@mail.example.com",
		"smtp://user:s3cr3t-pw@mail example.com",
	}
	for _, raw := range bad {
		_, err := ParseURL(raw)
		if err == nil {
			t.Errorf("ParseURL(%q) succeeded, want an error", raw)
			continue
		}
		if strings.Contains(err.Error(), "s3c") || strings.Contains(err.Error(), "pw") {
			t.Errorf("ParseURL(%q) error repeats the password: %v", raw, err)
		}
	}
}

func TestConfig_StringHidesPassword(t *testing.T) {
	cfg := Config{Host: "mail.example.com", Port: 465, Username: "user", Password: "s3cr3t", ImplicitTLS: true}
	if got, want := cfg.String(), "smtps://user@mail.example.com:465"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
}

func TestSender_TLSPolicy(t *testing.T) {
	tests := []struct {
		url  string
		want mail.TLSPolicy
	}{
		{"smtps://user:pw@mail.example.com", mail.NoTLS}, // TLS done by our dialer
		{"smtp://user:pw@mail.example.com", mail.TLSMandatory},
		{"smtp://user:pw@localhost:1025", mail.TLSOpportunistic},
		{"smtp://user:pw@127.0.0.1:1025", mail.TLSOpportunistic},
		{"smtp://user:pw@[::1]:1025", mail.TLSOpportunistic},
		{"smtp://mail.example.com", mail.TLSOpportunistic},
	}
	for _, tt := range tests {
		cfg, err := ParseURL(tt.url)
		if err != nil {
			t.Fatal(err)
		}
		if got := NewSender(cfg).tlsPolicy(); got != tt.want {
			t.Errorf("%s: TLS policy %v, want %v", tt.url, got, tt.want)
		}
	}
}

func TestSend_FailureClassification(t *testing.T) {
	tests := []struct {
		code      int
		at        smtptest.Stage
		permanent bool
	}{
		{451, smtptest.AtRcpt, false},
		{550, smtptest.AtRcpt, true},
		{452, smtptest.AtData, false},
		{554, smtptest.AtData, true},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%d/stage%d", tt.code, tt.at), func(t *testing.T) {
			srv, s := startServer(t)
			srv.FailNext(1, tt.code, tt.at)
			err := sendOne(t, s, testMessage(1))
			if err == nil || IsPermanent(err) != tt.permanent {
				t.Fatalf("error %v, IsPermanent %v; want an error with IsPermanent %v", err, IsPermanent(err), tt.permanent)
			}
			if n := len(srv.Messages()); n != 0 {
				t.Errorf("server accepted %d messages, want 0", n)
			}
			if err := sendOne(t, s, testMessage(2)); err != nil {
				t.Errorf("next send after the scripted failure: %v", err)
			}
		})
	}
}

func TestSend_ServerDownIsTemporary(t *testing.T) {
	srv, s := startServer(t)
	srv.Stop()
	err := sendOne(t, s, testMessage(1))
	if err == nil || IsPermanent(err) {
		t.Fatalf("error %v, IsPermanent %v; want a temporary error", err, IsPermanent(err))
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	if err := sendOne(t, s, testMessage(2)); err != nil {
		t.Fatalf("send after restart on the same port: %v", err)
	}
}

func TestSend_SilentServerTimesOut(t *testing.T) {
	srv := smtptest.NewServer(t)
	srv.SetSilent(true)
	s := senderFor(t, srv, srv.URL(), 300*time.Millisecond)
	start := time.Now()
	err := sendOne(t, s, testMessage(1))
	if elapsed := time.Since(start); elapsed > 2*time.Second {
		t.Errorf("Send took %v with a 300ms timeout", elapsed)
	}
	if err == nil || IsPermanent(err) {
		t.Fatalf("error %v, IsPermanent %v; want a temporary error", err, IsPermanent(err))
	}
}

func TestSend_ContextEndStopsWaiting(t *testing.T) {
	srv := smtptest.NewServer(t)
	srv.SetSilent(true)
	s := senderFor(t, srv, srv.URL(), time.Minute)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	errs := s.Send(ctx, []Message{testMessage(1), testMessage(2)})
	if elapsed := time.Since(start); elapsed > 2*time.Second {
		t.Errorf("Send took %v after the context ended at 200ms", elapsed)
	}
	for i, err := range errs {
		if !errors.Is(err, context.DeadlineExceeded) || IsPermanent(err) {
			t.Errorf("message %d: error %v, want a temporary context.DeadlineExceeded", i, err)
		}
	}
}

func TestSend_BatchMiddleRejectedOthersDelivered(t *testing.T) {
	srv, s := startServer(t)
	batch := []Message{testMessage(1), testMessage(2), testMessage(3)}
	srv.FailRecipient(batch[1].ToAddress, 550, smtptest.AtRcpt)
	errs := s.Send(context.Background(), batch)
	if errs[0] != nil || errs[2] != nil {
		t.Errorf("errors %v, want the first and last delivered", errs)
	}
	if !IsPermanent(errs[1]) {
		t.Errorf("middle message error %v, want permanent", errs[1])
	}
	checkDelivered(t, srv, batch[0], batch[2])
	if n := srv.Sessions(); n != 1 {
		t.Errorf("batch used %d SMTP sessions, want 1", n)
	}
}

func TestSend_DroppedConnectionFailsRestTemporarily(t *testing.T) {
	srv, s := startServer(t)
	batch := []Message{testMessage(1), testMessage(2), testMessage(3)}
	srv.FailRecipient(batch[1].ToAddress, smtptest.Hangup, smtptest.AtData)
	errs := s.Send(context.Background(), batch)
	if errs[0] != nil {
		t.Errorf("first message: %v, want delivered", errs[0])
	}
	for i, err := range errs[1:] {
		if err == nil || IsPermanent(err) {
			t.Errorf("message %d: error %v, want a temporary error", i+1, err)
		}
	}
	checkDelivered(t, srv, batch[0])
}

func TestSend_InvalidMessageDoesNotStopBatch(t *testing.T) {
	srv, s := startServer(t)
	batch := []Message{testMessage(1), testMessage(2), testMessage(3)}
	batch[1].ToAddress = "not an address"
	errs := s.Send(context.Background(), batch)
	if errs[0] != nil || errs[2] != nil || !errors.Is(errs[1], ErrInvalidMessage) || !IsPermanent(errs[1]) {
		t.Fatalf("errors %v, want nil, permanent ErrInvalidMessage, nil", errs)
	}
	checkDelivered(t, srv, batch[0], batch[2])
}

func TestSend_Encryption(t *testing.T) {
	const user, pass = "podium", "pa:ss@w/rd"
	escaped := "podium:pa%3Ass%40w%2Frd@"
	tests := []struct {
		name     string
		opts     []smtptest.Option
		scheme   string
		wantTLS  bool
		wantUser string
	}{
		{"smtps with AUTH", []smtptest.Option{smtptest.WithImplicitTLS(), smtptest.WithAuth(user, pass)}, "smtps://" + escaped, true, user},
		{"STARTTLS when offered", []smtptest.Option{smtptest.WithSTARTTLS()}, "smtp://", true, ""},
		{"STARTTLS with AUTH", []smtptest.Option{smtptest.WithSTARTTLS(), smtptest.WithAuth(user, pass)}, "smtp://" + escaped, true, user},
		{"AUTH without TLS on loopback", []smtptest.Option{smtptest.WithAuth(user, pass)}, "smtp://" + escaped, false, user},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := smtptest.NewServer(t, tt.opts...)
			s := senderFor(t, srv, tt.scheme+srv.Addr(), testTimeout)
			if err := sendOne(t, s, testMessage(1)); err != nil {
				t.Fatalf("Send: %v", err)
			}
			got := srv.Messages()
			if len(got) != 1 || got[0].TLS != tt.wantTLS || got[0].User != tt.wantUser {
				t.Errorf("received %+v, want TLS %v, user %q", got, tt.wantTLS, tt.wantUser)
			}
		})
	}
}

func TestSend_WrongPasswordIsTemporary(t *testing.T) {
	srv := smtptest.NewServer(t, smtptest.WithImplicitTLS(), smtptest.WithAuth("podium", "right"))
	s := senderFor(t, srv, "smtps://podium:wrong-s3cr3t@"+srv.Addr(), testTimeout)
	err := sendOne(t, s, testMessage(1))
	if err == nil || IsPermanent(err) {
		t.Fatalf("error %v, IsPermanent %v; want a temporary error", err, IsPermanent(err))
	}
	if strings.Contains(err.Error(), "s3cr3t") {
		t.Errorf("error repeats the password: %v", err)
	}
}

func TestSend_UntrustedCertificateFails(t *testing.T) {
	srv := smtptest.NewServer(t, smtptest.WithImplicitTLS())
	cfg, err := ParseURL(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	cfg.CommandTimeout = testTimeout
	if err := sendOne(t, NewSender(cfg), testMessage(1)); err == nil || IsPermanent(err) {
		t.Fatalf("error %v with an untrusted certificate, want a temporary error", err)
	}
}

// checkDelivered checks that the server holds exactly want, in order.
func checkDelivered(t *testing.T, srv *smtptest.Server, want ...Message) {
	t.Helper()
	got := srv.Messages()
	if len(got) != len(want) {
		t.Fatalf("server holds %d messages, want %d", len(got), len(want))
	}
	for i, m := range got {
		header, _ := parseRaw(t, m.Data)
		if id := header.Get("Message-ID"); id != want[i].MessageID {
			t.Errorf("message %d has Message-ID %s, want %s", i, id, want[i].MessageID)
		}
	}
}
