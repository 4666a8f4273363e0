package mailer

import (
	"bufio"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

// A server that takes a whole message and then never answers must cost the
// batch one CommandTimeout, not hang it: the body goes out before the wait
// for its reply, and the wait is bounded.
func TestSend_ServerSilentAfterBodyTimesOut(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	gotBody := make(chan bool, 1)
	go serveSilentAfterBody(ln, gotBody)

	port := ln.Addr().(*net.TCPAddr).Port
	s := NewSender(Config{Host: "127.0.0.1", Port: port, ConnectTimeout: time.Second, CommandTimeout: 300 * time.Millisecond})
	start := time.Now()
	errs := s.Send(t.Context(), []Message{testMessage(1)})
	if elapsed := time.Since(start); elapsed > 2*time.Second {
		t.Errorf("Send took %v with a 300ms command timeout", elapsed)
	}
	if errs[0] == nil || IsPermanent(errs[0]) {
		t.Fatalf("error %v, IsPermanent %v; want a temporary error", errs[0], IsPermanent(errs[0]))
	}
	select {
	case ok := <-gotBody:
		if !ok {
			t.Fatal("the server did not receive the whole message")
		}
	case <-time.After(2 * time.Second):
		t.Fatal("the server is still waiting for the message")
	}
}

// serveSilentAfterBody answers one SMTP session up to the end of the
// message body, then reads on without answering until the client hangs up.
func serveSilentAfterBody(ln net.Listener, gotBody chan<- bool) {
	c, err := ln.Accept()
	if err != nil {
		gotBody <- false
		return
	}
	defer c.Close()
	r := bufio.NewReader(c)
	reply := func(s string) { _, _ = c.Write([]byte(s + "\r\n")) }
	reply("220 silent.localhost ESMTP")
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			gotBody <- false
			return
		}
		switch cmd := strings.ToUpper(strings.Fields(line + " x")[0]); cmd {
		case "EHLO", "HELO", "MAIL", "RCPT", "RSET", "NOOP":
			reply("250 OK")
		case "DATA":
			reply("354 go ahead")
			for line != ".\r\n" {
				if line, err = r.ReadString('\n'); err != nil {
					gotBody <- false
					return
				}
			}
			gotBody <- true
			_, _ = r.ReadString('\n') // until the client gives up
			return
		default:
			reply("502 not here")
		}
	}
}

// What the client wrote last, such as TLS's close_notify after QUIT, still
// goes out when the connection is closed without a read after it.
func TestCommandConn_CloseSendsWhatIsPending(t *testing.T) {
	client, server := net.Pipe()
	defer server.Close()
	c := &commandConn{Conn: client, timeout: time.Second}
	if _, err := c.Write([]byte("close_notify")); err != nil {
		t.Fatal(err)
	}
	got := make(chan string)
	go func() {
		b, _ := io.ReadAll(server)
		got <- string(b)
	}()
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if s := <-got; s != "close_notify" {
		t.Errorf("the server read %q, want close_notify", s)
	}
}

// A Close from another goroutine, as crypto/tls does to interrupt, ends a
// send that the server is not taking instead of waiting for its deadline.
func TestCommandConn_CloseInterruptsASend(t *testing.T) {
	client, server := net.Pipe() // a write waits until the other end reads
	defer server.Close()
	c := &commandConn{Conn: client, timeout: time.Minute}
	sent := make(chan error)
	go func() {
		_, err := c.Write(make([]byte, maxPending))
		sent <- err
	}()
	if _, err := server.Read(make([]byte, 1)); err != nil { // the send is under way
		t.Fatal(err)
	}
	closed := make(chan error)
	go func() { closed <- c.Close() }()
	for range 2 {
		select {
		case err := <-sent:
			if err == nil {
				t.Error("the interrupted send reported no error")
			}
		case <-closed:
		case <-time.After(2 * time.Second):
			t.Fatal("Close waited for a send the server never took")
		}
	}
}
