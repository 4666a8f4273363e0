// Package handlers is Podium's HTTP layer: it parses requests, calls one
// models operation and renders the answer through views.
package handlers

import (
	"log/slog"
	"net/netip"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"podium/models"
	"podium/views"
)

// Config is what the HTTP layer needs from the outside.
type Config struct {
	Store  *models.Store
	Logger *slog.Logger
	// BaseURL is the public address, e.g. https://events.example.org.
	BaseURL string
	// TrustedProxies are the peers whose X-Forwarded-For is believed.
	TrustedProxies []netip.Prefix
	// RegisterLimit is sign-ups per client address per minute; 0 turns it off.
	RegisterLimit int
}

// Handlers holds the dependencies of every route.
type Handlers struct {
	store          *models.Store
	log            *slog.Logger
	baseURL        string
	secure         bool
	trustedProxies []netip.Prefix
	registerLimit  int
}

// Limits of the HTTP layer.
const (
	bodyLimit    = 64 * 1024
	readTimeout  = 15 * time.Second
	writeTimeout = 30 * time.Second
	idleTimeout  = 120 * time.Second
)

// New builds the Fiber app with every route.
func New(cfg Config) (*fiber.App, error) {
	engine, err := views.NewEngine()
	if err != nil {
		return nil, err
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	h := &Handlers{
		store:          cfg.Store,
		log:            cfg.Logger,
		baseURL:        strings.TrimRight(cfg.BaseURL, "/"),
		secure:         strings.HasPrefix(cfg.BaseURL, "https://"),
		trustedProxies: cfg.TrustedProxies,
		registerLimit:  cfg.RegisterLimit,
	}
	app := fiber.New(fiber.Config{
		Views:                 engine,
		ErrorHandler:          h.handleError,
		BodyLimit:             bodyLimit,
		ReadTimeout:           readTimeout,
		WriteTimeout:          writeTimeout,
		IdleTimeout:           idleTimeout,
		DisableStartupMessage: true,
		// No version banner.
		ServerHeader: "",
	})
	h.routes(app)
	return app, nil
}
