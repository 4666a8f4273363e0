package handlers

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"reflect"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"

	"podium/models"
)

// apiRoutes lists the JSON API's routes; the group already requires a token.
func (h *Handlers) apiRoutes(api fiber.Router) {
	api.Get("/panels", h.apiListPanels)
	api.Post("/panels", h.apiCreatePanel)
	api.Get("/panels/:id", h.apiShowPanel)
	api.Patch("/panels/:id", h.apiUpdatePanel)
	api.Post("/panels/:id/sessions", h.apiAddSession)
	api.Get("/sessions/:id", h.apiShowSession)
	api.Patch("/sessions/:id", h.apiUpdateSession)
	api.Post("/sessions/:id/cancel", h.apiCancelSession)
	api.Post("/sessions/:id/attendance", h.apiImportAttendance)
	api.Post("/sessions/:id/follow-ups", h.apiSendFollowUps)
	api.Get("/sessions/:id/registrations", h.apiListRegistrations)
	api.Post("/sessions/:id/registrations", h.apiCreateRegistration)
	api.Post("/registrations/:id/cancel", h.apiCancelRegistration)
	api.Post("/registrations/:id/approve", h.apiApproveRegistration)
	api.Post("/registrations/:id/decline", h.apiDeclineRegistration)

	api.Get("/panels/:id/sponsors/:sponsor_id/leads", h.apiSponsorLeads)

	api.Get("/audit-log", ownerTokenOnly("reads the audit log"), h.apiAuditLog)
	people := ownerTokenOnly("reads or erases a person's data")
	api.Get("/people/:email", people, h.apiShowPerson)
	api.Delete("/people/:email", people, h.apiErasePerson)
	hooks := api.Group("/webhooks", ownerTokenOnly("manages webhooks"))
	hooks.Get("", h.apiListWebhooks)
	hooks.Post("", h.apiCreateWebhook)
	hooks.Get("/:id", h.apiShowWebhook)
	hooks.Patch("/:id", h.apiUpdateWebhook)
	hooks.Delete("/:id", h.apiDeleteWebhook)
	hooks.Post("/:id/rotate-secret", h.apiRotateWebhookSecret)
	hooks.Post("/:id/test", h.apiTestWebhook)
	hooks.Get("/:id/deliveries", h.apiWebhookDeliveries)
	hooks.Post("/:id/deliveries/:delivery_id/replay", h.apiReplayWebhookDelivery)
}

// Page sizes of API lists.
const (
	apiDefaultLimit = 50
	apiMaxLimit     = 500
)

// decodeJSON reads the request body into v: JSON only, one object, no
// unknown fields. Every failure is a 4xx problem that says what is wrong.
func decodeJSON(c *fiber.Ctx, v any) error {
	mediaType, _, err := mime.ParseMediaType(c.Get(fiber.HeaderContentType))
	if err != nil || (mediaType != fiber.MIMEApplicationJSON && !strings.HasSuffix(mediaType, "+json")) {
		return fiber.NewError(fiber.StatusUnsupportedMediaType,
			"Send the body as JSON, with Content-Type: application/json.")
	}
	// encoding/json would quietly turn invalid UTF-8 into U+FFFD and store
	// the garbled text; JSON must be UTF-8 (RFC 8259), so it is refused.
	// The raw body: refuseEncodedBodies has made sure it is not compressed.
	body := c.Request().Body()
	if !utf8.Valid(body) {
		return fiber.NewError(fiber.StatusBadRequest, "The body is not valid UTF-8: send JSON encoded as UTF-8.")
	}
	// The body is copied so nothing decoded points into Fiber's reused memory.
	dec := json.NewDecoder(bytes.NewReader(bytes.Clone(body)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return decodeError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return fiber.NewError(fiber.StatusBadRequest, "The body must hold one JSON object and nothing after it.")
	}
	return nil
}

// decodeError turns what encoding/json refused into a problem: broken JSON
// is a 400; a well-formed body with a wrong or unknown field is a 422 that
// names the field.
func decodeError(err error) error {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.Is(err, io.EOF):
		return fiber.NewError(fiber.StatusBadRequest, "The body is empty: send a JSON object.")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return fiber.NewError(fiber.StatusBadRequest, "The body is not valid JSON: it ends too early.")
	case errors.As(err, &syntax):
		return fiber.NewError(fiber.StatusBadRequest,
			fmt.Sprintf("The body is not valid JSON: %s (at byte %d).", syntax.Error(), syntax.Offset))
	case errors.As(err, &typ) && typ.Field == "":
		return fiber.NewError(fiber.StatusBadRequest, "The body must be a JSON object.")
	case errors.As(err, &typ):
		return &models.ValidationError{Fields: map[string]string{typ.Field: typeMessage(typ)}}
	}
	if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		name, _ = strconv.Unquote(name)
		return &models.ValidationError{Fields: map[string]string{name: "This field is unknown or cannot be changed here."}}
	}
	return fiber.NewError(fiber.StatusBadRequest, "The body could not be read as JSON.")
}

var (
	timeType   = reflect.TypeFor[time.Time]()
	stringType = reflect.TypeFor[string]()
)

// typeMessage says what a field should have held.
func typeMessage(e *json.UnmarshalTypeError) string {
	switch {
	case e.Value == "null":
		return "This field cannot be null; leave it out to keep its value."
	case e.Type == timeType:
		return "Give a real date and time in RFC 3339, like 2026-12-03T15:00:00Z (" + e.Value + ")."
	case e.Type == stringType:
		return "Give a string."
	case e.Type == answerValuesType:
		return "Give a string, or an array of strings for a multiple choice question."
	}
	switch e.Type.Kind() {
	case reflect.Int, reflect.Int64:
		return fmt.Sprintf("Give a whole number that fits this field (got %s).", e.Value)
	case reflect.Bool:
		return "Give true or false."
	case reflect.Slice:
		return "Give a JSON array."
	case reflect.Struct:
		return "Give a JSON object."
	}
	return "This value has the wrong type."
}

// apiID reads the :id parameter; anything but a positive id finds nothing.
func apiID(c *fiber.Ctx) (int64, error) {
	id, err := strconv.ParseInt(c.Params("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, models.ErrNotFound
	}
	return id, nil
}

// pageParams reads the limit and cursor query parameters of a list.
func pageParams(c *fiber.Ctx) (limit int, before int64, err error) {
	limit = apiDefaultLimit
	if raw := c.Query("limit"); raw != "" {
		limit, err = strconv.Atoi(raw)
		if err != nil || limit < 1 || limit > apiMaxLimit {
			return 0, 0, fiber.NewError(fiber.StatusBadRequest,
				fmt.Sprintf("limit must be a whole number from 1 to %d.", apiMaxLimit))
		}
	}
	if raw := c.Query("cursor"); raw != "" {
		if before, err = decodeCursor(raw); err != nil {
			return 0, 0, err
		}
	}
	return limit, before, nil
}

// encodeCursor makes the opaque next_cursor from the last id of a page.
func encodeCursor(lastID int64) string {
	if lastID == 0 {
		return ""
	}
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(lastID, 10)))
}

func decodeCursor(raw string) (int64, error) {
	b, err := base64.RawURLEncoding.DecodeString(raw)
	id, perr := strconv.ParseInt(string(b), 10, 64)
	if err != nil || perr != nil || id <= 0 {
		return 0, fiber.NewError(fiber.StatusBadRequest,
			"cursor is not valid: pass the next_cursor of the previous page as it is.")
	}
	return id, nil
}

// apiCreated answers 201 with v as JSON.
func apiCreated(c *fiber.Ctx, v any) error {
	return c.Status(fiber.StatusCreated).JSON(v)
}
