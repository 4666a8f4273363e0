package main

import (
	"flag"
	"fmt"
	"io"
	"net/mail"
	"net/netip"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"podium/handlers"
	"podium/mailer"
	"podium/models"
)

// config is everything podium serve reads from flags and the environment.
type config struct {
	Addr string
	// DB is a SQLite file's path or a postgres:// URL (PODIUM_DB).
	DB string
	// DBOptions carry PODIUM_DB_POOL, PODIUM_DB_STATEMENT_TIMEOUT and
	// PODIUM_RETENTION_DAYS.
	DBOptions      []models.Option
	BaseURL        string
	TrustedProxies []netip.Prefix
	// HSTSSubdomains adds includeSubDomains to HSTS (PODIUM_HSTS_INCLUDE_SUBDOMAINS).
	HSTSSubdomains bool
	// WebhookAllowPrivate lets webhooks reach loopback and private
	// addresses (PODIUM_WEBHOOK_ALLOW_PRIVATE), for self-hosted receivers.
	WebhookAllowPrivate bool
	RegisterLimit       int
	Demo                bool
	// SMTP is empty when no mail server is configured: messages then stay
	// in the outbox, readable in the development mail viewer.
	SMTP string
	// DKIM signs outgoing mail when PODIUM_DKIM_DOMAIN, _SELECTOR and
	// _KEY_FILE are set; nil otherwise.
	DKIM     *mailer.DKIM
	MailFrom string
	MailName string
	// RetryAfter is the wait after a message's first failed delivery
	// (PODIUM_MAIL_RETRY_AFTER); later waits double from it.
	RetryAfter time.Duration
	// MetricsAddr serves Prometheus metrics when set (PODIUM_METRICS_ADDR).
	MetricsAddr string
	// EmbedOrigins may frame promo cards (PODIUM_EMBED_ORIGINS).
	EmbedOrigins []string
	// AdminEmail and AdminPassword create the first owner when no account exists.
	AdminEmail, AdminPassword string
	// ZoomWebhookSecret is the Zoom app's secret token
	// (PODIUM_ZOOM_WEBHOOK_SECRET); without it the Zoom webhook is off.
	ZoomWebhookSecret string
}

// defaultRegisterLimit allows an office or family behind one address to sign
// up together while stopping a script.
const defaultRegisterLimit = 20

// dbFlag declares --db, which every command that opens the database takes.
func dbFlag(fs *flag.FlagSet, getenv func(string) string) *string {
	return fs.String("db", envOr(getenv, "PODIUM_DB", "podium.db"),
		"SQLite database file, or a postgres:// URL (PODIUM_DB)")
}

// storeOptions reads the store's settings from the environment: the
// PostgreSQL pool's (SQLite ignores them) and the retention default.
func storeOptions(getenv func(string) string) ([]models.Option, error) {
	var opts []models.Option
	if v := getenv("PODIUM_DB_POOL"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			return nil, fmt.Errorf("PODIUM_DB_POOL must be a whole number from 1 to 1000, got %q", v)
		}
		opts = append(opts, models.WithPoolSize(n))
	}
	if v := getenv("PODIUM_DB_STATEMENT_TIMEOUT"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 100*time.Millisecond || d > time.Hour {
			return nil, fmt.Errorf("PODIUM_DB_STATEMENT_TIMEOUT must be a duration from 100ms to 1h, such as 15s, got %q", v)
		}
		opts = append(opts, models.WithStatementTimeout(d))
	}
	if v := getenv("PODIUM_RETENTION_DAYS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 3650 {
			return nil, fmt.Errorf("PODIUM_RETENTION_DAYS must be a whole number of days from 1 to 3650, got %q", v)
		}
		opts = append(opts, models.WithRetentionDays(n))
	}
	return opts, nil
}

// parseConfig reads flags, falling back to PODIUM_* environment variables.
func parseConfig(args []string, getenv func(string) string, stderr io.Writer) (config, error) {
	fs := flag.NewFlagSet("podium serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg := config{}
	fs.StringVar(&cfg.Addr, "addr", envOr(getenv, "PODIUM_ADDR", ":3000"), "address to listen on (PODIUM_ADDR)")
	db := dbFlag(fs, getenv)
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	cfg.DB = *db
	var err error
	if cfg.DBOptions, err = storeOptions(getenv); err != nil {
		return cfg, err
	}
	if fs.NArg() > 0 {
		return cfg, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	cfg.BaseURL = strings.TrimRight(envOr(getenv, "PODIUM_BASE_URL", "http://localhost:3000"), "/")
	if u, err := url.Parse(cfg.BaseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return cfg, fmt.Errorf("PODIUM_BASE_URL must be an absolute http(s) URL, got %q", cfg.BaseURL)
	}
	if cfg.TrustedProxies, err = handlers.ParseTrustedProxies(getenv("PODIUM_TRUSTED_PROXIES")); err != nil {
		return cfg, fmt.Errorf("PODIUM_TRUSTED_PROXIES: %w", err)
	}
	if cfg.EmbedOrigins, err = handlers.ParseEmbedOrigins(getenv("PODIUM_EMBED_ORIGINS")); err != nil {
		return cfg, fmt.Errorf("PODIUM_EMBED_ORIGINS: %w", err)
	}
	cfg.MetricsAddr = getenv("PODIUM_METRICS_ADDR")
	cfg.RegisterLimit = defaultRegisterLimit
	if v := getenv("PODIUM_REGISTER_LIMIT"); v != "" {
		if cfg.RegisterLimit, err = strconv.Atoi(v); err != nil || cfg.RegisterLimit < 0 {
			return cfg, fmt.Errorf("PODIUM_REGISTER_LIMIT must be a whole number, 0 or more, got %q", v)
		}
	}
	if cfg.Demo, err = envBool(getenv, "PODIUM_DEMO", true); err != nil {
		return cfg, err
	}
	if cfg.WebhookAllowPrivate, err = envBool(getenv, "PODIUM_WEBHOOK_ALLOW_PRIVATE", false); err != nil {
		return cfg, err
	}
	if cfg.HSTSSubdomains, err = envBool(getenv, "PODIUM_HSTS_INCLUDE_SUBDOMAINS", true); err != nil {
		return cfg, err
	}
	cfg.SMTP = getenv("PODIUM_SMTP_URL")
	if cfg.SMTP != "" {
		if _, err := mailer.ParseURL(cfg.SMTP); err != nil {
			return cfg, fmt.Errorf("PODIUM_SMTP_URL: %w", err)
		}
	}
	if cfg.DKIM, err = dkimConfig(getenv); err != nil {
		return cfg, err
	}
	cfg.RetryAfter = models.DefaultRetryDelay
	if v := getenv("PODIUM_MAIL_RETRY_AFTER"); v != "" {
		if cfg.RetryAfter, err = time.ParseDuration(v); err != nil || cfg.RetryAfter < time.Second || cfg.RetryAfter > time.Hour {
			return cfg, fmt.Errorf("PODIUM_MAIL_RETRY_AFTER must be a duration from 1s to 1h, such as 30s or 5m, got %q", v)
		}
	}
	from := getenv("PODIUM_MAIL_FROM")
	if from == "" && cfg.SMTP != "" {
		return cfg, fmt.Errorf("PODIUM_MAIL_FROM is needed with PODIUM_SMTP_URL, e.g. \"Podium Events <events@example.org>\"")
	}
	if from == "" {
		from = "Podium <podium@localhost>"
	}
	addr, err := mail.ParseAddress(from)
	if err != nil {
		return cfg, fmt.Errorf("PODIUM_MAIL_FROM must be an address like \"Podium Events <events@example.org>\", got %q", from)
	}
	cfg.MailFrom, cfg.MailName = addr.Address, addr.Name
	cfg.AdminEmail, cfg.AdminPassword = getenv("PODIUM_ADMIN_EMAIL"), getenv("PODIUM_ADMIN_PASSWORD")
	cfg.ZoomWebhookSecret = strings.TrimSpace(getenv("PODIUM_ZOOM_WEBHOOK_SECRET"))
	if (cfg.AdminEmail == "") != (cfg.AdminPassword == "") {
		return cfg, fmt.Errorf("set both PODIUM_ADMIN_EMAIL and PODIUM_ADMIN_PASSWORD, or neither")
	}
	return cfg, nil
}

func envBool(getenv func(string) string, key string, fallback bool) (bool, error) {
	v := getenv(key)
	if v == "" {
		return fallback, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, fmt.Errorf("%s must be true or false, got %q", key, v)
	}
	return b, nil
}

func envOr(getenv func(string) string, key, fallback string) string {
	if v := getenv(key); v != "" {
		return v
	}
	return fallback
}

// dkimConfig reads PODIUM_DKIM_DOMAIN, PODIUM_DKIM_SELECTOR and
// PODIUM_DKIM_KEY_FILE: all three or none.
func dkimConfig(getenv func(string) string) (*mailer.DKIM, error) {
	domain, selector, keyFile := getenv("PODIUM_DKIM_DOMAIN"), getenv("PODIUM_DKIM_SELECTOR"), getenv("PODIUM_DKIM_KEY_FILE")
	if domain == "" && selector == "" && keyFile == "" {
		return nil, nil
	}
	if domain == "" || selector == "" || keyFile == "" {
		return nil, fmt.Errorf("set PODIUM_DKIM_DOMAIN, PODIUM_DKIM_SELECTOR and PODIUM_DKIM_KEY_FILE together, or none of them")
	}
	key, err := os.ReadFile(keyFile)
	if err != nil {
		return nil, fmt.Errorf("PODIUM_DKIM_KEY_FILE: cannot read %s", keyFile)
	}
	d, err := mailer.NewDKIM(domain, selector, key)
	if err != nil {
		return nil, fmt.Errorf("PODIUM_DKIM_*: %w", err)
	}
	return d, nil
}
