package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"time"

	"podium/handlers"
	"podium/models"
)

// shutdownTimeout bounds how long in-flight requests may take to finish.
const shutdownTimeout = 15 * time.Second

// run is the whole program: main only wires the process to it, so tests can
// start it as it runs in production.
func run(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	rest := args[1:]
	if len(rest) > 0 && rest[0] == "serve" {
		rest = rest[1:]
	}
	if len(rest) > 0 && !isFlag(rest[0]) {
		return fmt.Errorf("unknown command %q (try: podium serve --help)", rest[0])
	}
	cfg, err := parseConfig(rest, getenv, stdout)
	if err != nil {
		return err
	}
	return serve(ctx, cfg, slog.New(slog.NewTextHandler(stdout, nil)))
}

func isFlag(arg string) bool { return len(arg) > 0 && arg[0] == '-' }

func serve(ctx context.Context, cfg config, log *slog.Logger) error {
	store, err := models.Open(ctx, cfg.DB, models.WithLogger(log))
	if err != nil {
		return err
	}
	defer store.Close()
	if cfg.Demo {
		if seeded, err := store.SeedDemo(ctx); err != nil {
			return fmt.Errorf("seed demo panel: %w", err)
		} else if seeded {
			log.Info("added the demo panel", "url", cfg.BaseURL+"/panels/keeping-the-lights-on")
		}
	}
	app, err := handlers.New(handlers.Config{
		Store: store, Logger: log, BaseURL: cfg.BaseURL,
		TrustedProxies: cfg.TrustedProxies, RegisterLimit: cfg.RegisterLimit,
	})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return err
	}
	log.Info("podium is serving", "addr", ln.Addr().String(), "base_url", cfg.BaseURL, "db", cfg.DB)
	served := make(chan error, 1)
	go func() { served <- app.Listener(ln) }()
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down")
	if err := app.ShutdownWithTimeout(shutdownTimeout); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return nil
}
