// Package handlers is Podium's HTTP layer: it parses requests, calls one
// models operation and renders the answer through views.
package handlers

import (
	"bytes"
	"log/slog"
	"net/netip"
	"regexp"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/template/html/v2"
	"github.com/valyala/fasthttp"

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
	// HSTSIncludeSubdomains adds includeSubDomains to the HSTS header that
	// an https BaseURL brings.
	HSTSIncludeSubdomains bool
	// RegisterLimit is sign-ups per client address per minute; 0 turns it off.
	RegisterLimit int
	// MailFrom and MailName are the platform mailbox emails come from.
	MailFrom, MailName string
	// Notify is called after a change queued email, to wake the outbox worker.
	Notify func()
	// EmbedOrigins are the origins whose pages may frame promo cards.
	EmbedOrigins []string
	// Ready reports whether start-up (migrations, seeding) has finished;
	// until it has, every route but /healthz and /readyz answers 503. Nil
	// means ready from the start.
	Ready func() bool
	// Metrics, when set, times every request and counts sign-ups.
	Metrics *Metrics
	// InFlight counts the requests being answered, for whoever else needs
	// to know when the server is busy (the mail worker); nil makes a new one.
	InFlight *InFlight
	// ZoomWebhookSecret is the Zoom app's secret token, which signs Zoom's
	// event notifications; "" turns the Zoom webhook off (zoom.go).
	ZoomWebhookSecret string
}

// Handlers holds the dependencies of every route.
type Handlers struct {
	store          *models.Store
	log            *slog.Logger
	secure         bool
	trustedProxies []netip.Prefix
	registerLimit  int
	site           views.Site
	views          *html.Engine
	pages          *pageCache
	headers        [][2]string // securityHeaders
	methods        routeMethods
	assets         staticAssets
	emails         *views.EmailRenderer
	notify         func()
	embedOrigins   []string
	ready          func() bool
	metrics        *Metrics
	inFlight       *InFlight
	zoomSecret     string
}

// Limits of the HTTP layer. bodyLimit is the largest body any route takes
// (a sign-up with long answers, an admin form, an API call); routes whose
// forms are small take less (smallBodyLimit).
const (
	bodyLimit = 64 * 1024
	// uploadBodyLimit is for attendance reports (models.MaxAttendanceReport
	// and a multipart form's framing); only their routes take it (limitBodies).
	uploadBodyLimit = models.MaxAttendanceReport + 64*1024
	smallBodyLimit  = 4 * 1024
	// writeBufferSize holds a whole public page with its headers.
	writeBufferSize = 16 * 1024
	readTimeout     = 15 * time.Second
	writeTimeout    = 30 * time.Second
	idleTimeout     = 120 * time.Second
)

// New builds the Fiber app with every route.
func New(cfg Config) (*fiber.App, error) {
	assets, err := loadStaticAssets()
	if err != nil {
		return nil, err
	}
	engine, err := views.NewEngine(assets.url)
	if err != nil {
		return nil, err
	}
	emails, err := views.NewEmailRenderer()
	if err != nil {
		return nil, err
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Notify == nil {
		cfg.Notify = func() {}
	}
	if cfg.Ready == nil {
		cfg.Ready = func() bool { return true }
	}
	if cfg.InFlight == nil {
		cfg.InFlight = &InFlight{}
	}
	h := &Handlers{
		store:          cfg.Store,
		log:            cfg.Logger,
		secure:         strings.HasPrefix(cfg.BaseURL, "https://"),
		trustedProxies: cfg.TrustedProxies,
		registerLimit:  cfg.RegisterLimit,
		site:           views.Site{BaseURL: strings.TrimRight(cfg.BaseURL, "/"), MailFrom: cfg.MailFrom, MailName: cfg.MailName},
		emails:         emails,
		views:          engine,
		pages:          newPageCache(cfg.Store.Now),
		assets:         assets,
		notify:         cfg.Notify,
		embedOrigins:   cfg.EmbedOrigins,
		ready:          cfg.Ready,
		metrics:        cfg.Metrics,
		inFlight:       cfg.InFlight,
		zoomSecret:     cfg.ZoomWebhookSecret,
	}
	h.headers = securityHeaders(h.secure, cfg.HSTSIncludeSubdomains)
	app := fiber.New(fiber.Config{
		Views:        engine,
		ErrorHandler: h.handleError,
		BodyLimit:    bodyLimit,
		// Only the attendance upload is multipart: parsing one only when its
		// handler asks lets a broken multipart body reach the error handler (and so
		// get problem+json under /api/) instead of failing before routing.
		DisablePreParseMultipartForm: true,
		// A public page fits the write buffer, so it leaves in one write.
		WriteBufferSize: writeBufferSize,
		// A connection hands its read and write buffers back to the pool
		// while its request runs and between requests, instead of keeping
		// them: in podium-bench's race of a thousand sign-ups at once, which
		// wait for the database together, the server's peak RSS fell from
		// 152-154 MB to 134-139 MB, at no cost in throughput we could see.
		// (fasthttp v1.51.0 answered only the last of several pipelined
		// requests with it on: go.mod needs a fasthttp that does not, and
		// TestPipelining_EveryRequestInOneWriteIsAnsweredInOrder holds it.)
		ReduceMemoryUsage:     true,
		ReadTimeout:           readTimeout,
		WriteTimeout:          writeTimeout,
		IdleTimeout:           idleTimeout,
		DisableStartupMessage: true,
		// No version banner.
		ServerHeader: "",
	})
	cfg.Store.Subscribe(models.TopicPages, h.pages.invalidate)
	h.routes(app)
	app.Server().HeaderReceived = uploadLimit
	return app, nil
}

// uploadPath matches the attendance report uploads' paths exactly: the API's
// and the admin session page's.
var uploadPath = regexp.MustCompile(`^/(api/v1/sessions/[^/]+|admin/panels/[^/]+/sessions/[^/]+)/attendance$`)

// uploadLimit lets the attendance report uploads have bodies up to
// uploadBodyLimit; every other request keeps bodyLimit, refused from its
// Content-Length before the body is read.
func uploadLimit(header *fasthttp.RequestHeader) fasthttp.RequestConfig {
	path, _, _ := bytes.Cut(header.RequestURI(), []byte("?"))
	if header.IsPost() && uploadPath.Match(path) {
		return fasthttp.RequestConfig{MaxRequestBodySize: uploadBodyLimit}
	}
	return fasthttp.RequestConfig{}
}

// changed is called after a sign-up or cancellation: it wakes the outbox
// worker, and drops cached pages on every instance when what they say about
// a session's availability changed (full, waitlist, a freed seat). A mere
// change in the number of seats left shows within the cache's one-second
// lifetime.
func (h *Handlers) changed(availability bool) {
	if availability {
		h.store.Announce(models.TopicPages)
	}
	h.notify()
}

// sessionChanged is called after an organizer rescheduled or cancelled a
// session: promotions may have queued email, and a fan-out may have started,
// which whichever instance runs the jobs pass takes up. A sign-up never
// announces jobs: the pass also looks for due reminders, which is too much
// work to do after every sign-up.
func (h *Handlers) sessionChanged() {
	h.notify()
	h.store.Announce(models.TopicJobs)
}

// registered is called after a sign-up was answered, from any channel.
func (h *Handlers) registered(res *models.RegisterResult) {
	h.changed(res.Full)
	if h.metrics != nil {
		h.metrics.observeRegistration(res)
	}
}

// render renders a page as the response. It renders into a buffer first, so
// a template error becomes a clean 500 rather than half a page, and it does
// not go through Ctx.Render, whose lazy set-up of the app races with
// concurrent requests in Fiber v2.
func (h *Handlers) render(c *fiber.Ctx, name string, data any) error {
	body, err := h.renderBytes(name, data)
	if err != nil {
		return err
	}
	c.Type("html", "utf-8")
	return c.Send(body)
}

// renderBytes renders a page into a new slice, for caching.
func (h *Handlers) renderBytes(name string, data any) ([]byte, error) {
	var buf bytes.Buffer
	if err := h.views.Render(&buf, name, data); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
