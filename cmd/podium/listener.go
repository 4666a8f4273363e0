package main

import (
	"net"
	"sync"
	"time"
)

// quietGrace is how long a connection may stay silent after it was accepted
// before a shutdown gives up on it. A client that sends a request sends it
// at once; one silent this long is a browser's preconnect.
const quietGrace = time.Second

// quietListener ends, when closed, the connections it accepted that have not
// sent a byte within quietGrace. fasthttp counts such a connection as busy
// from the moment it is accepted, so a graceful shutdown would otherwise
// wait for it until the read timeout (15 s). A connection is ended by moving
// its read deadline to now: the server's pending read fails and the server
// closes the connection itself. (Closing it under the server instead can
// make fasthttp panic when it next sets a deadline.) Connections that have
// sent anything are left to the server, which finishes their requests.
type quietListener struct {
	net.Listener
	mu    sync.Mutex
	quiet map[*quietConn]struct{}
}

func newQuietListener(ln net.Listener) *quietListener {
	return &quietListener{Listener: ln, quiet: map[*quietConn]struct{}{}}
}

// Accept tracks each new connection until its first byte arrives.
func (l *quietListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	qc := &quietConn{Conn: c, l: l, accepted: time.Now()}
	l.mu.Lock()
	l.quiet[qc] = struct{}{}
	l.mu.Unlock()
	return qc, nil
}

// Close stops accepting, then ends each connection that is still silent
// quietGrace after it was accepted.
func (l *quietListener) Close() error {
	err := l.Listener.Close()
	l.mu.Lock()
	defer l.mu.Unlock()
	for c := range l.quiet {
		time.AfterFunc(max(time.Until(c.accepted.Add(quietGrace)), 0), func() {
			if l.stillQuiet(c) {
				_ = c.SetReadDeadline(time.Now())
			}
		})
	}
	return err
}

func (l *quietListener) stillQuiet(c *quietConn) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	_, ok := l.quiet[c]
	return ok
}

func (l *quietListener) forget(c *quietConn) {
	l.mu.Lock()
	delete(l.quiet, c)
	l.mu.Unlock()
}

type quietConn struct {
	net.Conn
	l        *quietListener
	accepted time.Time
	spoke    sync.Once
}

func (c *quietConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n > 0 {
		c.spoke.Do(func() { c.l.forget(c) })
	}
	return n, err
}

func (c *quietConn) Close() error {
	c.spoke.Do(func() { c.l.forget(c) })
	return c.Conn.Close()
}
