package handlers

import (
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/compress"
	"github.com/gofiber/fiber/v2/middleware/csrf"
	"github.com/gofiber/fiber/v2/middleware/etag"
	"github.com/gofiber/fiber/v2/middleware/recover"

	"podium/models"
)

// csrfContextKey is where the CSRF middleware leaves the token for templates.
const csrfContextKey = "csrf"

// routes lists every route of the app in one place.
func (h *Handlers) routes(app *fiber.App) {
	app.Use(h.inFlight.track)
	if h.metrics != nil {
		app.Use(h.metrics.measure)
	}
	app.Use(recover.New())
	app.Use(h.secureResponses)
	app.Use(refuseAmbiguousFraming)
	app.Use(refuseEncodedBodies)
	app.Get("/healthz", h.healthz)
	app.Get("/readyz", h.readyz)
	app.Use(h.whileStarting)
	app.Get("/public/*", h.serveStatic)

	tokens := &csrfTokens{store: h.store}
	protect := csrf.New(csrf.Config{
		KeyLookup:      "form:_csrf",
		CookieName:     "podium_csrf",
		CookieSameSite: "Lax",
		CookieSecure:   h.secure,
		CookieHTTPOnly: true,
		Expiration:     csrfLifetime,
		KeyGenerator:   tokens.generate,
		Storage:        tokens,
		ContextKey:     csrfContextKey,
		ErrorHandler:   h.csrfFailed,
	})

	app.Get("/", h.showIndex)
	app.Get("/panels/:slug", protect, h.showPanel)
	app.Post("/panels/:slug/register", h.registerLimiter(), protect, h.createRegistration)
	app.Get("/registrations/:token", protect, h.showRegistration)
	app.Post("/registrations/:token/cancel", limitBody(smallBodyLimit), protect, h.cancelRegistration)
	app.Post("/registrations/:token/confirm", limitBody(smallBodyLimit), protect, h.confirmEmail)
	app.Post("/registrations/:token/consents/withdraw", limitBody(smallBodyLimit), protect, h.withdrawConsent)
	app.Get("/registrations/:token/erase", protect, h.showErase)
	app.Post("/registrations/:token/erase", limitBody(smallBodyLimit), protect, h.eraseRegistration)
	app.Get("/leads/:token", h.downloadSharedLeads)
	app.Get("/j/:token", h.openJoinLink)
	app.Get("/w/:token", h.openWatchLink)
	app.Get("/unsubscribe/:token", h.showUnsubscribe)
	app.Post("/unsubscribe/:token", limitBody(smallBodyLimit), h.stopReminders)
	app.Post("/integrations/zoom/webhook", limitBody(smallBodyLimit*16), h.zoomWebhook)

	tagged := etag.New(etag.Config{Weak: true})
	// Compressed when asked: the feeds, the OpenAPI document and the API's
	// answers carry no CSRF token and no secret a cookie would send, so
	// compression gives a BREACH attacker nothing to measure. HTML pages
	// stay as they are (README: Decisions).
	compressed := compress.New()
	app.Get("/calendar.ics", compressed, tagged, h.calendarFeed)
	app.Get("/panels/:slug/calendar.ics", compressed, tagged, h.panelFeed)
	app.Get("/panels/:slug/sessions/:id.ics", tagged, h.sessionICS)
	app.Get("/registrations/:token/invite.ics", tagged, h.registrationICS)

	// The organizer admin: every route after requireAdmin needs a session.
	admin := app.Group("/admin", protect)
	admin.Get("/login", h.showLogin)
	admin.Post("/login", limitBody(smallBodyLimit), h.loginLimiter(), h.login)
	admin.Use(h.requireAdmin)
	admin.Post("/logout", limitBody(smallBodyLimit), h.logout)
	h.adminPages(admin)

	// The JSON API: every route needs an API token; no cookies, so no CSRF.
	app.Get("/api/v1/openapi.json", compressed, h.openAPI)
	api := app.Group("/api/v1", h.requireToken, compressed)
	h.apiRoutes(api)

	h.embedRoutes(app)
	h.methods = newRouteMethods(app.GetRoutes(true))
	app.Use(h.notFound)
}

// refuseEncodedBodies refuses compressed request bodies: no client of
// Podium's sends one, and Fiber's Body() would inflate one without a limit,
// so 64 KiB of gzip (or gzip inside gzip) could take gigabytes of memory.
func refuseEncodedBodies(c *fiber.Ctx) error {
	if enc := c.Get(fiber.HeaderContentEncoding); enc != "" && !strings.EqualFold(enc, "identity") {
		return fiber.NewError(fiber.StatusUnsupportedMediaType, "Send the body uncompressed, without Content-Encoding.")
	}
	return c.Next()
}

// limitBody refuses bodies over n bytes on routes whose forms are small; the
// app-wide limit (bodyLimit) is for the largest forms.
func limitBody(n int) fiber.Handler {
	return func(c *fiber.Ctx) error {
		if len(c.Request().Body()) > n {
			return fiber.ErrRequestEntityTooLarge
		}
		return c.Next()
	}
}

// registerLimiter limits sign-ups per client address per minute.
func (h *Handlers) registerLimiter() fiber.Handler {
	if h.registerLimit <= 0 {
		return func(c *fiber.Ctx) error { return c.Next() }
	}
	return h.limit("register", models.Limit{Max: h.registerLimit, Window: time.Minute})
}

// limit refuses a client's requests past limit, counted per bucket and
// client address in the store, so every instance on one database counts
// together.
func (h *Handlers) limit(bucket string, limit models.Limit) fiber.Handler {
	return func(c *fiber.Ctx) error {
		ok, resets, err := h.store.Allow(c.UserContext(), bucket+" "+h.clientIP(c), limit)
		if err != nil {
			return err
		}
		if !ok {
			return h.tooManyRequests(c, resets.Sub(h.store.Now()))
		}
		return c.Next()
	}
}
