package handlers

import (
	"errors"
	"net/url"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"podium/models"
	"podium/views"
)

// accountKey is where requireAdmin and requireToken leave the signed-in account.
const accountKey = "account"

// loginLimit is sign-in attempts per client address per minute; accounts
// also lock after five failures (models.Authenticate).
const loginLimit = 10

// sessionCookie is the admin session cookie's name: with https it gets the
// __Host- prefix, which browsers only accept from a secure origin for the
// whole host.
func (h *Handlers) sessionCookie() string {
	if h.secure {
		return "__Host-podium_admin"
	}
	return "podium_admin"
}

// currentAccount is the account requireAdmin or requireToken found.
func currentAccount(c *fiber.Ctx) *models.Account {
	acc, _ := c.Locals(accountKey).(*models.Account)
	return acc
}

// requireAdmin lets signed-in organizers through; others are sent to sign in.
func (h *Handlers) requireAdmin(c *fiber.Ctx) error {
	c.Set(fiber.HeaderCacheControl, "no-store")
	acc, err := h.store.AccountBySession(c.UserContext(), c.Cookies(h.sessionCookie()))
	if errors.Is(err, models.ErrNotFound) {
		if c.Method() == fiber.MethodGet {
			return c.Redirect("/admin/login?next="+url.QueryEscape(c.OriginalURL()), fiber.StatusSeeOther)
		}
		return h.renderMessage(c, fiber.StatusUnauthorized, "Please sign in", "Your session has ended. Sign in again to continue.")
	}
	if err != nil {
		return err
	}
	c.Locals(accountKey, acc)
	return h.nextThenInvalidate(c)
}

// nextThenInvalidate runs the route and, for anything but a read, drops the
// cached public pages it may have changed, on every instance.
func (h *Handlers) nextThenInvalidate(c *fiber.Ctx) error {
	err := c.Next()
	if c.Method() != fiber.MethodGet && c.Method() != fiber.MethodHead {
		h.store.Announce(models.TopicPages)
	}
	return err
}

// requireOwner limits a route to owners.
func (h *Handlers) requireOwner(c *fiber.Ctx) error {
	if acc := currentAccount(c); acc == nil || acc.Role != models.RoleOwner {
		return h.renderMessage(c, fiber.StatusForbidden, "Owners only", "Only an owner can manage accounts, API tokens, webhooks and people's data, or read the audit log.")
	}
	return c.Next()
}

// showLogin renders the sign-in form.
func (h *Handlers) showLogin(c *fiber.Ctx) error {
	c.Set(fiber.HeaderCacheControl, "no-store")
	return h.render(c, views.PageAdminLogin, views.LoginPage{
		Page: views.Page{Title: "Sign in", NoIndex: true}, CSRFToken: csrfToken(c), Next: safeNext(c.Query("next")),
	})
}

// login signs an organizer in with a fresh session.
func (h *Handlers) login(c *fiber.Ctx) error {
	email, password := strings.Clone(c.FormValue("email")), strings.Clone(c.FormValue("password"))
	next := safeNext(c.FormValue("next"))
	acc, err := h.store.Authenticate(c.UserContext(), email, password)
	if errors.Is(err, models.ErrBadCredentials) {
		c.Status(fiber.StatusUnauthorized)
		c.Set(fiber.HeaderCacheControl, "no-store")
		return h.render(c, views.PageAdminLogin, views.LoginPage{
			Page: views.Page{Title: "Sign in", NoIndex: true}, CSRFToken: csrfToken(c), Next: next,
			Email: email, Error: models.ErrBadCredentials.Message,
		})
	}
	if err != nil {
		return err
	}
	// A new session at every sign-in: a token planted before cannot be reused.
	if old := c.Cookies(h.sessionCookie()); old != "" {
		_ = h.store.EndAdminSession(c.UserContext(), old)
	}
	token, err := h.store.StartAdminSession(c.UserContext(), acc.ID)
	if err != nil {
		return err
	}
	h.setSessionCookie(c, token, models.SessionLifetime)
	h.log.Info("admin sign-in", "account", acc.ID)
	return c.Redirect(next, fiber.StatusSeeOther)
}

// logout ends the session.
func (h *Handlers) logout(c *fiber.Ctx) error {
	if err := h.store.EndAdminSession(c.UserContext(), c.Cookies(h.sessionCookie())); err != nil {
		return err
	}
	h.setSessionCookie(c, "", -time.Hour)
	return c.Redirect("/admin/login", fiber.StatusSeeOther)
}

func (h *Handlers) setSessionCookie(c *fiber.Ctx, value string, maxAge time.Duration) {
	c.Cookie(&fiber.Cookie{
		Name: h.sessionCookie(), Value: value, Path: "/", HTTPOnly: true, Secure: h.secure,
		SameSite: fiber.CookieSameSiteLaxMode, Expires: time.Now().Add(maxAge),
	})
}

// safeNext keeps post-login redirects inside the admin.
func safeNext(next string) string {
	if strings.HasPrefix(next, "/admin") && !strings.HasPrefix(next, "/admin/login") && !strings.ContainsAny(next, "\\\r\n") {
		return next
	}
	return "/admin"
}

// loginLimiter limits sign-in attempts per client address.
func (h *Handlers) loginLimiter() fiber.Handler {
	return h.limit("sign-in", models.Limit{Max: loginLimit, Window: time.Minute})
}

// requireToken authenticates API requests by a Bearer token.
func (h *Handlers) requireToken(c *fiber.Ctx) error {
	c.Set(fiber.HeaderCacheControl, "no-store")
	secret, ok := strings.CutPrefix(c.Get(fiber.HeaderAuthorization), "Bearer ")
	acc, err := h.store.AccountByAPIToken(c.UserContext(), strings.TrimSpace(secret))
	if !ok || errors.Is(err, models.ErrNotFound) {
		c.Set(fiber.HeaderWWWAuthenticate, `Bearer realm="podium"`)
		return errUnauthorized
	}
	if err != nil {
		return err
	}
	c.Locals(accountKey, acc)
	return h.nextThenInvalidate(c)
}

// errUnauthorized is a missing or bad API token.
var errUnauthorized = fiber.NewError(fiber.StatusUnauthorized, "A valid API token is required: Authorization: Bearer <token>.")
