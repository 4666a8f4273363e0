package handlers

import (
	"errors"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"podium/models"
	"podium/views"
)

// handleError is the app's single error handler: it maps named errors to a
// status and a safe page, and logs the original only for server errors.
func (h *Handlers) handleError(c *fiber.Ctx, err error) error {
	// Errors fasthttp raises before routing reach here without the
	// middleware that sets these.
	h.setSecurityHeaders(c)
	status, heading, message := classify(err)
	if status >= 500 && !errors.Is(err, errStarting) {
		// The route's pattern, not the path: a path can carry an address
		// (/api/v1/people/{email}) or a manage link's secret.
		h.log.Error("request failed", "method", c.Method(), "route", c.Route().Path, "err", err)
	}
	if status == fiber.StatusServiceUnavailable {
		c.Set(fiber.HeaderRetryAfter, "2")
	}
	if strings.HasPrefix(c.Path(), "/api/") {
		return writeProblem(c, status, heading, message, err)
	}
	return h.renderMessage(c, status, heading, message)
}

// Problem is an RFC 9457 problem details body, the API's only error shape.
type Problem struct {
	Type   string         `json:"type"`
	Title  string         `json:"title"`
	Status int            `json:"status"`
	Detail string         `json:"detail,omitempty"`
	Errors []ProblemField `json:"errors,omitempty"`
}

// ProblemField is one invalid field of a request.
type ProblemField struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// writeProblem answers with problem+json, listing invalid fields in order.
func writeProblem(c *fiber.Ctx, status int, title, detail string, err error) error {
	p := Problem{Type: "about:blank", Title: title, Status: status, Detail: detail}
	var verr *models.ValidationError
	if errors.As(err, &verr) {
		for _, field := range slices.Sorted(maps.Keys(verr.Fields)) {
			p.Errors = append(p.Errors, ProblemField{Field: field, Message: verr.Fields[field]})
		}
	}
	var ferr *fiber.Error
	if errors.As(err, &ferr) && status < 500 && ferr.Message != "" && ferr.Message != http.StatusText(status) {
		p.Detail = ferr.Message
	}
	c.Status(status)
	return c.JSON(p, "application/problem+json")
}

// statusOf is the one map from the models' error codes to HTTP statuses.
var statusOf = map[models.Code]int{
	models.CodeInvalid:      fiber.StatusUnprocessableEntity,
	models.CodeNotFound:     fiber.StatusNotFound,
	models.CodeConflict:     fiber.StatusConflict,
	models.CodeGone:         fiber.StatusGone,
	models.CodeUnauthorized: fiber.StatusUnauthorized,
	models.CodeUnavailable:  fiber.StatusServiceUnavailable,
	models.CodeInternal:     fiber.StatusInternalServerError,
}

// classify maps an error to a status and a message that is safe to show:
// Fiber's own client errors (a bad method, a body too large) by their
// status, everything else by its models code.
func classify(err error) (status int, heading, message string) {
	var ferr *fiber.Error
	if errors.As(err, &ferr) && ferr.Code < 500 {
		return ferr.Code, http.StatusText(ferr.Code), clientErrorMessage(ferr.Code)
	}
	e := models.AsError(err)
	return statusOf[e.Code], e.Title, e.Message
}

func clientErrorMessage(code int) string {
	switch code {
	case fiber.StatusNotFound:
		return "We could not find that page."
	case fiber.StatusRequestEntityTooLarge:
		return "What you sent is too large. Please shorten it and try again."
	case fiber.StatusMethodNotAllowed:
		return "That action is not available here."
	default:
		return "We could not process that request."
	}
}

// renderMessage renders the plain message page with a status.
func (h *Handlers) renderMessage(c *fiber.Ctx, status int, heading, message string) error {
	c.Status(status)
	page := views.MessagePage{
		Page:    views.Page{Title: heading, Description: message, NoIndex: true},
		Heading: heading, Message: message, LinkURL: "/", LinkText: "See upcoming panels",
	}
	if err := h.render(c, views.PageMessage, page); err != nil {
		h.log.Error("render error page", "err", err)
		return c.Status(fiber.StatusInternalServerError).SendString("Internal Server Error")
	}
	return nil
}

// notFound answers a request no route took: 405 with Allow when the path is
// a route's with other methods, else 404.
func (h *Handlers) notFound(c *fiber.Ctx) error {
	c.Locals(unmatchedKey, true)
	if allowed := h.methods.allowed(c.Path()); len(allowed) > 0 {
		c.Set(fiber.HeaderAllow, strings.Join(allowed, ", "))
		return fiber.ErrMethodNotAllowed
	}
	return models.ErrNotFound
}

// csrfFailed answers a missing or stale CSRF token.
func (h *Handlers) csrfFailed(c *fiber.Ctx, _ error) error {
	return h.renderMessage(c, fiber.StatusForbidden, "This form has expired",
		"For your security, forms expire after a while. Go back, reload the page and send the form again.")
}

// tooManyRequests answers a client over its rate limit, which lets it try
// again after wait.
func (h *Handlers) tooManyRequests(c *fiber.Ctx, wait time.Duration) error {
	c.Set(fiber.HeaderRetryAfter, strconv.Itoa(max(1, int(wait.Round(time.Second).Seconds()))))
	return h.renderMessage(c, fiber.StatusTooManyRequests, "Too many attempts",
		"Please wait a minute before trying again.")
}
