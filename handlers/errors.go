package handlers

import (
	"errors"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"podium/models"
	"podium/views"
)

// handleError is the app's single error handler: it maps named errors to a
// status and a safe page, and logs the original only for server errors.
func (h *Handlers) handleError(c *fiber.Ctx, err error) error {
	status, heading, message := classify(err)
	if status >= 500 && !errors.Is(err, errStarting) {
		h.log.Error("request failed", "method", c.Method(), "path", c.Path(), "err", err)
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

// classify maps an error to a status and a message that is safe to show.
func classify(err error) (status int, heading, message string) {
	var ferr *fiber.Error
	var verr *models.ValidationError
	switch {
	case errors.Is(err, models.ErrNotFound):
		return fiber.StatusNotFound, "Page not found", "We could not find that page. The link may be mistyped, or the panel may no longer be available."
	case errors.Is(err, models.ErrSessionFull):
		return fiber.StatusConflict, "Fully booked", "Sorry, every place for this session has been taken."
	case errors.Is(err, models.ErrRegistrationClosed):
		return fiber.StatusConflict, "Registration closed", "Registration for this session has closed."
	case errors.Is(err, models.ErrSessionCancelled):
		return fiber.StatusGone, "Session cancelled", "The organiser has cancelled this session."
	case errors.Is(err, errStarting):
		return fiber.StatusServiceUnavailable, "Starting up", "Podium is starting. Please try again in a few seconds."
	case models.IsBusy(err):
		return fiber.StatusServiceUnavailable, "Busy", "Podium is very busy right now and nothing was saved. Please try again in a moment."
	case errors.As(err, &verr):
		return fiber.StatusUnprocessableEntity, "Please check your details", "Some of the details sent were not valid."
	case errors.As(err, &ferr) && ferr.Code < 500:
		return ferr.Code, http.StatusText(ferr.Code), clientErrorMessage(ferr.Code)
	default:
		return fiber.StatusInternalServerError, "Something went wrong", "Sorry, something went wrong on our side. Please try again in a moment."
	}
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
		Page:    views.Page{Title: heading, NoIndex: true},
		Heading: heading, Message: message, LinkURL: "/", LinkText: "See upcoming panels",
	}
	if err := h.render(c, views.PageMessage, page); err != nil {
		h.log.Error("render error page", "err", err)
		return c.Status(fiber.StatusInternalServerError).SendString("Internal Server Error")
	}
	return nil
}

func (h *Handlers) notFound(c *fiber.Ctx) error {
	c.Locals(unmatchedKey, true)
	return models.ErrNotFound
}

// csrfFailed answers a missing or stale CSRF token.
func (h *Handlers) csrfFailed(c *fiber.Ctx, _ error) error {
	return h.renderMessage(c, fiber.StatusForbidden, "This form has expired",
		"For your security, forms expire after a while. Go back, reload the page and send the form again.")
}

// tooManyRequests answers a client over its rate limit.
func (h *Handlers) tooManyRequests(c *fiber.Ctx) error {
	c.Set(fiber.HeaderRetryAfter, strconv.Itoa(60))
	return h.renderMessage(c, fiber.StatusTooManyRequests, "Too many attempts",
		"Please wait a minute before trying again.")
}
