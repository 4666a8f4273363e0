package handlers

import (
	"bytes"
	"mime"
	"strconv"

	"github.com/gofiber/fiber/v2"

	"podium/models"
)

// attendanceImportJSON is the answer to an attendance import.
type attendanceImportJSON struct {
	Format          string   `json:"format"`
	Matched         int      `json:"matched"`
	Unmatched       int      `json:"unmatched"`
	Attended        int      `json:"attended"`
	Absent          int      `json:"absent"`
	UnmatchedEmails []string `json:"unmatched_emails"`
	Applied         bool     `json:"applied"`
}

func toAttendanceImportJSON(res *models.AttendanceImport, applied bool) attendanceImportJSON {
	emails := res.UnmatchedEmails
	if emails == nil {
		emails = []string{}
	}
	return attendanceImportJSON{Format: res.Format, Matched: res.Matched, Unmatched: res.Unmatched,
		Attended: res.Attended, Absent: res.Absent, UnmatchedEmails: emails, Applied: applied}
}

// apiImportAttendance answers POST /api/v1/sessions/{id}/attendance: the
// body is a webinar tool's attendance report as text/csv (Zoom, GoTo,
// Teams or a plain email,minutes file). With ?dry_run=true it only says
// what it would do.
func (h *Handlers) apiImportAttendance(c *fiber.Ctx) error {
	id, err := apiID(c)
	if err != nil {
		return err
	}
	mediaType, _, err := mime.ParseMediaType(c.Get(fiber.HeaderContentType))
	if err != nil || (mediaType != "text/csv" && mediaType != "text/plain" && mediaType != "text/tab-separated-values") {
		return fiber.NewError(fiber.StatusUnsupportedMediaType,
			"Send the attendance report as CSV, with Content-Type: text/csv.")
	}
	// Copied: the parsed report outlives Fiber's reused request memory.
	report, err := models.ParseAttendanceReport(bytes.Clone(c.Request().Body()))
	if err != nil {
		return err
	}
	dryRun, err := queryBool(c, "dry_run")
	if err != nil {
		return err
	}
	apply := !dryRun
	res, err := h.store.ImportAttendance(c.UserContext(), id, report, apply)
	if err != nil {
		return models.NotFoundAs(err, "session", id)
	}
	if apply {
		h.log.Info("api: attendance imported", "session", id, "account", currentAccount(c).ID,
			"format", res.Format, "matched", res.Matched, "unmatched", res.Unmatched)
		h.sessionChanged()
	}
	return c.JSON(toAttendanceImportJSON(res, apply))
}

// queryBool reads a boolean query parameter: absent is false; true and
// false in any of strconv's spellings; anything else is refused.
func queryBool(c *fiber.Ctx, name string) (bool, error) {
	raw := c.Query(name)
	if raw == "" {
		return false, nil
	}
	v, err := strconv.ParseBool(raw)
	if err != nil {
		return false, fiber.NewError(fiber.StatusBadRequest, "Give "+name+" as true or false.")
	}
	return v, nil
}

// followUpsQueuedJSON is the answer to "send follow-ups now".
type followUpsQueuedJSON struct {
	Queued int `json:"queued"`
}

// apiSendFollowUps answers POST /api/v1/sessions/{id}/follow-ups with 202:
// the session's follow-ups are queued now for every registrant who has not
// had one; asking again queues none twice.
func (h *Handlers) apiSendFollowUps(c *fiber.Ctx) error {
	id, err := apiID(c)
	if err != nil {
		return err
	}
	n, err := h.store.QueueFollowUps(c.UserContext(), id)
	if err != nil {
		return models.NotFoundAs(err, "session", id)
	}
	h.log.Info("api: follow-ups queued", "session", id, "account", currentAccount(c).ID, "count", n)
	h.sessionChanged()
	return c.Status(fiber.StatusAccepted).JSON(followUpsQueuedJSON{Queued: n})
}
