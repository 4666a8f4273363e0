package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"podium/handlers"
	"podium/mailer"
	"podium/models"
	"podium/views"
)

// shutdownTimeout bounds how long in-flight requests may take to finish.
const shutdownTimeout = 15 * time.Second

// run is the whole program: main only wires the process to it, so tests can
// start it as it runs in production.
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout io.Writer) error {
	rest := args[1:]
	if len(rest) > 0 && (rest[0] == "admin" || rest[0] == "token") {
		return adminCommand(ctx, rest, getenv, stdin, stdout)
	}
	if len(rest) > 0 && rest[0] == "backup" {
		return backupCommand(ctx, rest[1:], getenv, stdout)
	}
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
	store, err := models.Connect(cfg.DB, append(cfg.DBOptions, models.WithLogger(log), models.WithRetryDelay(cfg.RetryAfter))...)
	if err != nil {
		return err
	}
	defer store.Close()
	background, stopBackground := context.WithCancel(context.WithoutCancel(ctx))
	defer stopBackground()
	var wg sync.WaitGroup
	// Metrics cost every request a little, so they exist only when served.
	var metrics *handlers.Metrics
	if cfg.MetricsAddr != "" {
		metrics = handlers.NewMetrics(store)
	}
	sender, err := newSender(cfg, log)
	if err != nil {
		return err
	}
	worker, err := newWorker(cfg, store, sender, metrics, log)
	if err != nil {
		return err
	}
	hooks := newWebhookWorker(cfg, store, sender, log)
	// A change queues email, webhooks or both: both workers look.
	notify := hooks.Notify
	store.Subscribe(models.TopicOutbox, hooks.Notify)
	if worker != nil {
		notify = func() { worker.Notify(); hooks.Notify() }
		store.Subscribe(models.TopicOutbox, worker.Notify)
	}
	// A fan-out's messages may be delivered by every instance's worker.
	jobs := mailer.NewJobs(store, func() { store.Announce(models.TopicOutbox) }, log)
	store.Subscribe(models.TopicJobs, jobs.Wake)
	inFlight := &handlers.InFlight{}
	hooks.Busy = inFlight.Busy
	if worker != nil {
		worker.Busy = inFlight.Busy
	}
	var ready atomic.Bool
	app, err := handlers.New(handlers.Config{
		Store: store, Logger: log, BaseURL: cfg.BaseURL,
		TrustedProxies: cfg.TrustedProxies, HSTSIncludeSubdomains: cfg.HSTSSubdomains, RegisterLimit: cfg.RegisterLimit,
		MailFrom: cfg.MailFrom, MailName: cfg.MailName, Notify: notify,
		EmbedOrigins: cfg.EmbedOrigins, Ready: ready.Load, Metrics: metrics, InFlight: inFlight,
		ZoomWebhookSecret: cfg.ZoomWebhookSecret,
	})
	if err != nil {
		return err
	}
	// Listen before migrating, so /healthz answers and /readyz says
	// "starting" while a long migration runs.
	tcp, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return err
	}
	ln := newQuietListener(tcp)
	served := make(chan error, 1)
	go func() { served <- app.Listener(ln) }()
	stopMetrics, err := serveMetrics(cfg.MetricsAddr, metrics, log)
	if err != nil {
		_ = app.Shutdown()
		return err
	}
	defer stopMetrics()
	if err := start(ctx, cfg, store, log); err != nil {
		_ = app.Shutdown()
		return err
	}
	if worker != nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := worker.Run(background); err != nil {
				log.Error("outbox worker stopped", "err", err)
			}
		}()
	}
	wg.Add(3)
	go func() { defer wg.Done(); _ = hooks.Run(background) }()
	go func() { defer wg.Done(); _ = jobs.Run(background) }()
	// Other instances on the same PostgreSQL hear of this one's changes and
	// it of theirs (nothing to do on SQLite).
	go func() { defer wg.Done(); _ = store.Listen(background) }()
	ready.Store(true)
	log.Info("podium is serving", "addr", ln.Addr().String(), "base_url", cfg.BaseURL, "db", models.RedactDSN(cfg.DB))
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down")
	err = app.ShutdownWithTimeout(shutdownTimeout)
	// Background work stops after the last request, so nothing a request
	// queued is left half-done; what is unsent stays in the outbox.
	stopBackground()
	wg.Wait()
	if err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return nil
}

// start brings the database up to date and creates what the configuration
// asks for: the first owner and the demo panel.
func start(ctx context.Context, cfg config, store *models.Store, log *slog.Logger) error {
	if err := store.Migrate(ctx); err != nil {
		return err
	}
	if cfg.AdminEmail != "" {
		if created, err := store.CreateFirstOwner(ctx, cfg.AdminEmail, cfg.AdminPassword); err != nil {
			return fmt.Errorf("PODIUM_ADMIN_EMAIL: %w", describe(err))
		} else if created {
			log.Info("created the first owner account", "email", cfg.AdminEmail)
		}
	}
	if cfg.Demo {
		if seeded, err := store.SeedDemo(ctx); err != nil {
			return fmt.Errorf("seed demo panel: %w", err)
		} else if seeded {
			log.Info("added the demo panel", "url", cfg.BaseURL+"/panels/keeping-the-lights-on")
		}
	}
	return nil
}

// serveMetrics serves Prometheus metrics on their own address, off the
// public port; without metrics it does nothing.
func serveMetrics(addr string, metrics *handlers.Metrics, log *slog.Logger) (stop func(), err error) {
	if metrics == nil {
		return func() {}, nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("PODIUM_METRICS_ADDR: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", metrics.Handler())
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second, WriteTimeout: 30 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	log.Info("serving metrics", "url", "http://"+ln.Addr().String()+"/metrics")
	return func() { _ = srv.Close() }, nil
}

// newSender is the mail server's client when one is configured (nil
// otherwise), shared by the outbox worker and the webhook worker's notices.
func newSender(cfg config, log *slog.Logger) (*mailer.Sender, error) {
	if cfg.SMTP == "" {
		log.Info("no PODIUM_SMTP_URL: emails stay in the outbox", "read them at", cfg.BaseURL+"/admin/outbox")
		return nil, nil
	}
	smtpCfg, err := mailer.ParseURL(cfg.SMTP)
	if err != nil {
		return nil, err
	}
	var opts []mailer.Option
	if cfg.DKIM != nil {
		opts = append(opts, mailer.WithDKIM(cfg.DKIM))
	}
	log.Info("delivering email", "smtp", smtpCfg.String(), "from", cfg.MailFrom, "dkim", cfg.DKIM != nil)
	return mailer.NewSender(smtpCfg, opts...), nil
}

// newWorker builds the outbox worker when there is a mail server (sender);
// it runs once the database is migrated.
func newWorker(cfg config, store *models.Store, sender *mailer.Sender, metrics *handlers.Metrics, log *slog.Logger) (*mailer.Worker, error) {
	if sender == nil {
		return nil, nil
	}
	renderer, err := views.NewEmailRenderer()
	if err != nil {
		return nil, err
	}
	site := views.Site{BaseURL: cfg.BaseURL, MailFrom: cfg.MailFrom, MailName: cfg.MailName}
	worker := mailer.NewWorker(store, renderer, site, sender, log)
	if metrics != nil {
		worker.Observe = metrics.ObserveDeliveries
	}
	return worker, nil
}
