package mailer

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"time"
)

// Timeouts used when Config leaves them zero.
const (
	DefaultConnectTimeout = 10 * time.Second
	DefaultCommandTimeout = 30 * time.Second
)

// Config says which SMTP server to use and how. ParseURL fills it from a URL.
type Config struct {
	Host     string
	Port     int
	Username string // empty for no AUTH
	Password string
	// ImplicitTLS (smtps://) speaks TLS from the first byte. Without it
	// (smtp://) STARTTLS is used when the server offers it, and required when
	// credentials are set and Host is not a loopback address.
	ImplicitTLS bool
	// ConnectTimeout bounds the TCP connect and, with ImplicitTLS, the TLS
	// handshake. Zero means DefaultConnectTimeout.
	ConnectTimeout time.Duration
	// CommandTimeout bounds each SMTP command and its reply (including the
	// greeting). Zero means DefaultCommandTimeout.
	CommandTimeout time.Duration
}

// ParseURL reads smtp://user:pass@host:587 or smtps://user:pass@host:465.
// The port defaults to 587 for smtp and 465 for smtps; user and password are
// optional but go together and must be percent-encoded. Errors never repeat
// the password.
func ParseURL(raw string) (Config, error) {
	u, err := url.Parse(raw)
	if err != nil {
		// url.Error quotes the whole input, password included, and even its
		// inner error can quote pieces of a badly escaped password.
		return Config{}, errors.New("mailer: SMTP URL is malformed; check the port and " +
			"percent-encode special characters (@ : / ? # %) in the user name and password")
	}
	var cfg Config
	switch u.Scheme {
	case "smtp":
		cfg.Port = 587
	case "smtps":
		cfg.Port, cfg.ImplicitTLS = 465, true
	default:
		return Config{}, fmt.Errorf("mailer: SMTP URL scheme %q is not supported, want smtp or smtps", u.Scheme)
	}
	if u.Opaque != "" || u.Hostname() == "" {
		return Config{}, errors.New("mailer: SMTP URL has no host, want smtp://user:pass@host:port")
	}
	cfg.Host = u.Hostname()
	if (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		return Config{}, errors.New("mailer: SMTP URL must not have a path, query or fragment")
	}
	if p := u.Port(); p != "" {
		if cfg.Port, err = strconv.Atoi(p); err != nil || cfg.Port < 1 || cfg.Port > 65535 {
			return Config{}, fmt.Errorf("mailer: SMTP URL port %q is not a number from 1 to 65535", p)
		}
	}
	if u.User != nil {
		cfg.Username = u.User.Username()
		cfg.Password, _ = u.User.Password()
		if cfg.Username == "" || cfg.Password == "" {
			return Config{}, errors.New("mailer: SMTP URL needs both a user name and a password, or neither")
		}
	}
	return cfg, nil
}

// String returns the configuration as a URL without the password, for logs.
func (c Config) String() string {
	u := url.URL{Scheme: "smtp", Host: c.addr()}
	if c.ImplicitTLS {
		u.Scheme = "smtps"
	}
	if c.Username != "" {
		u.User = url.User(c.Username)
	}
	return u.String()
}

func (c Config) addr() string {
	return net.JoinHostPort(c.Host, strconv.Itoa(c.Port))
}

// isLoopback reports whether Host is localhost or a loopback IP address, where
// credentials may travel without TLS.
func (c Config) isLoopback() bool {
	if c.Host == "localhost" {
		return true
	}
	ip := net.ParseIP(c.Host)
	return ip != nil && ip.IsLoopback()
}
