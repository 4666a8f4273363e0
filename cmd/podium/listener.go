package main

import (
	"net"
	"sync"
)

// quietListener drops, when closed, the connections it accepted that have
// not sent a byte yet. fasthttp counts such a connection (a browser's
// preconnect, say) as active from the moment it is accepted, so a graceful
// shutdown would otherwise wait for it until the read timeout. Connections
// that have sent anything are left to the server, which finishes their
// requests.
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
	qc := &quietConn{Conn: c, l: l}
	l.mu.Lock()
	l.quiet[qc] = struct{}{}
	l.mu.Unlock()
	return qc, nil
}

// Close stops accepting, then closes the connections that never spoke.
func (l *quietListener) Close() error {
	err := l.Listener.Close()
	l.mu.Lock()
	defer l.mu.Unlock()
	for c := range l.quiet {
		_ = c.Conn.Close()
		delete(l.quiet, c)
	}
	return err
}

func (l *quietListener) spoke(c *quietConn) {
	l.mu.Lock()
	delete(l.quiet, c)
	l.mu.Unlock()
}

type quietConn struct {
	net.Conn
	l     *quietListener
	spoke sync.Once
}

func (c *quietConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n > 0 {
		c.spoke.Do(func() { c.l.spoke(c) })
	}
	return n, err
}

func (c *quietConn) Close() error {
	c.spoke.Do(func() { c.l.spoke(c) })
	return c.Conn.Close()
}
