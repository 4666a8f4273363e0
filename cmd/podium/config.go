package main

import (
	"flag"
	"fmt"
	"io"
	"net/netip"
	"net/url"
	"strconv"
	"strings"

	"podium/handlers"
)

// config is everything podium serve reads from flags and the environment.
type config struct {
	Addr           string
	DB             string
	BaseURL        string
	TrustedProxies []netip.Prefix
	RegisterLimit  int
	Demo           bool
}

// defaultRegisterLimit allows an office or family behind one address to sign
// up together while stopping a script.
const defaultRegisterLimit = 20

// parseConfig reads flags, falling back to PODIUM_* environment variables.
func parseConfig(args []string, getenv func(string) string, stderr io.Writer) (config, error) {
	fs := flag.NewFlagSet("podium serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg := config{}
	fs.StringVar(&cfg.Addr, "addr", envOr(getenv, "PODIUM_ADDR", ":3000"), "address to listen on (PODIUM_ADDR)")
	fs.StringVar(&cfg.DB, "db", envOr(getenv, "PODIUM_DB", "podium.db"), "SQLite database file (PODIUM_DB)")
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	if fs.NArg() > 0 {
		return cfg, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	cfg.BaseURL = strings.TrimRight(envOr(getenv, "PODIUM_BASE_URL", "http://localhost:3000"), "/")
	if u, err := url.Parse(cfg.BaseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return cfg, fmt.Errorf("PODIUM_BASE_URL must be an absolute http(s) URL, got %q", cfg.BaseURL)
	}
	var err error
	if cfg.TrustedProxies, err = handlers.ParseTrustedProxies(getenv("PODIUM_TRUSTED_PROXIES")); err != nil {
		return cfg, fmt.Errorf("PODIUM_TRUSTED_PROXIES: %w", err)
	}
	cfg.RegisterLimit = defaultRegisterLimit
	if v := getenv("PODIUM_REGISTER_LIMIT"); v != "" {
		if cfg.RegisterLimit, err = strconv.Atoi(v); err != nil || cfg.RegisterLimit < 0 {
			return cfg, fmt.Errorf("PODIUM_REGISTER_LIMIT must be a whole number, 0 or more, got %q", v)
		}
	}
	cfg.Demo = true
	if v := getenv("PODIUM_DEMO"); v != "" {
		if cfg.Demo, err = strconv.ParseBool(v); err != nil {
			return cfg, fmt.Errorf("PODIUM_DEMO must be true or false, got %q", v)
		}
	}
	return cfg, nil
}

func envOr(getenv func(string) string, key, fallback string) string {
	if v := getenv(key); v != "" {
		return v
	}
	return fallback
}
