package handlers

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"

	"podium/models"
)

// Zoom's event notifications (developers.zoom.us/docs/api/webhooks): the
// endpoint's url_validation challenge, and participants joining and leaving
// webinars and meetings, which record attendance.

// zoomSignatureTolerance is how far x-zm-request-timestamp may be from the
// store's clock: a captured request cannot be replayed later than that.
const zoomSignatureTolerance = 5 * time.Minute

// zoomParticipantEvents are the events that record attendance, each with
// whether it is a leave.
var zoomParticipantEvents = map[string]bool{
	"webinar.participant_joined": false,
	"webinar.participant_left":   true,
	"meeting.participant_joined": false,
	"meeting.participant_left":   true,
}

// errZoomUnsigned answers a request Zoom did not sign with the secret token
// (or signed too long ago). Zoom does not retry a 4xx.
var errZoomUnsigned = fiber.NewError(fiber.StatusUnauthorized, "The request is not signed with the Zoom app's secret token.")

// zoomNotification is the envelope of every Zoom event.
type zoomNotification struct {
	Event string `json:"event"`
	// EventTS is when the event happened, in Unix milliseconds.
	EventTS int64           `json:"event_ts"`
	Payload json.RawMessage `json:"payload"`
}

// zoomParticipantPayload is the part of a participant event Podium reads.
type zoomParticipantPayload struct {
	Object struct {
		ID          zoomID `json:"id"`
		Participant struct {
			Email     string `json:"email"`
			JoinTime  string `json:"join_time"`
			LeaveTime string `json:"leave_time"`
		} `json:"participant"`
	} `json:"object"`
}

// zoomID is a webinar or meeting ID, which Zoom's payloads give as a number
// or as a string.
type zoomID string

// UnmarshalJSON takes a JSON string, or a number as written.
func (id *zoomID) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*id = zoomID(s)
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return err
	}
	*id = zoomID(n.String())
	return nil
}

// zoomWebhook receives Zoom's event notifications. Every request, the
// url_validation challenge included, must carry a fresh signature made
// with the Zoom app's secret token; then the challenge is answered, a
// participant event is recorded, and any other event is acknowledged and
// ignored. Events for webinars or people Podium does not know are logged
// (the webinar and the event only: no address, no name) and answered 200,
// so Zoom does not retry them.
func (h *Handlers) zoomWebhook(c *fiber.Ctx) error {
	if h.zoomSecret == "" {
		// Without PODIUM_ZOOM_WEBHOOK_SECRET the integration is off and the
		// route answers like any unknown page: nothing can be verified, and
		// Zoom's validation of the URL fails plainly until it is set.
		return models.ErrNotFound
	}
	// The raw body, as Zoom signed it: refuseEncodedBodies has made sure
	// it is not compressed.
	body := c.Request().Body()
	if err := verifyZoomSignature(h.zoomSecret, c.Get("x-zm-request-timestamp"), c.Get("x-zm-signature"),
		body, h.store.Now()); err != nil {
		h.log.Warn("zoom webhook refused: not signed with the secret token, or too long ago")
		return err
	}
	var n zoomNotification
	if err := json.Unmarshal(body, &n); err != nil {
		return fiber.NewError(fiber.StatusBadRequest, "The body is not a JSON object of Zoom's.")
	}
	if n.Event == "endpoint.url_validation" {
		return h.answerZoomChallenge(c, n.Payload)
	}
	left, ok := zoomParticipantEvents[n.Event]
	if !ok {
		return c.SendStatus(fiber.StatusOK)
	}
	ev, err := zoomParticipantEvent(n, left)
	if err != nil {
		return err
	}
	outcome, err := h.store.RecordZoomParticipant(c.UserContext(), ev)
	if err != nil {
		return err
	}
	if outcome != models.ZoomRecorded {
		h.log.Info("zoom participant event matched no registrant", "outcome", outcome,
			"webinar", ev.WebinarID, "event", n.Event)
	}
	return c.SendStatus(fiber.StatusOK)
}

// verifyZoomSignature checks x-zm-signature: "v0=" and the hex HMAC-SHA256,
// under the secret token, of "v0:{x-zm-request-timestamp}:{body}", with the
// timestamp (Unix seconds) within zoomSignatureTolerance of now.
func verifyZoomSignature(secret, timestamp, signature string, body []byte, now time.Time) error {
	secs, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil || signature == "" {
		return errZoomUnsigned
	}
	if skew := now.Sub(time.Unix(secs, 0)); skew > zoomSignatureTolerance || skew < -zoomSignatureTolerance {
		return errZoomUnsigned
	}
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte("v0:" + timestamp + ":"))
	mac.Write(body)
	if !hmac.Equal([]byte(signature), []byte("v0="+hex.EncodeToString(mac.Sum(nil)))) {
		return errZoomUnsigned
	}
	return nil
}

// zoomChallengeAnswer proves to Zoom that this endpoint holds the secret token.
type zoomChallengeAnswer struct {
	PlainToken     string `json:"plainToken"`
	EncryptedToken string `json:"encryptedToken"`
}

// answerZoomChallenge answers endpoint.url_validation with the plainToken
// and its hex HMAC-SHA256 under the secret token.
func (h *Handlers) answerZoomChallenge(c *fiber.Ctx, payload json.RawMessage) error {
	var challenge struct {
		PlainToken string `json:"plainToken"`
	}
	if err := json.Unmarshal(payload, &challenge); err != nil || challenge.PlainToken == "" {
		return fiber.NewError(fiber.StatusBadRequest, "The url_validation event has no payload.plainToken.")
	}
	mac := hmac.New(sha256.New, []byte(h.zoomSecret))
	mac.Write([]byte(challenge.PlainToken))
	return c.JSON(zoomChallengeAnswer{PlainToken: challenge.PlainToken, EncryptedToken: hex.EncodeToString(mac.Sum(nil))})
}

// zoomParticipantEvent reads a participant event's payload. A join or leave
// time Zoom leaves out is the event's own time (event_ts).
func zoomParticipantEvent(n zoomNotification, left bool) (models.ZoomParticipantEvent, error) {
	var p zoomParticipantPayload
	if err := json.Unmarshal(n.Payload, &p); err != nil {
		return models.ZoomParticipantEvent{}, fiber.NewError(fiber.StatusBadRequest,
			"The payload of "+n.Event+" is not the object Zoom documents.")
	}
	who := p.Object.Participant
	ev := models.ZoomParticipantEvent{WebinarID: string(p.Object.ID), Email: who.Email, Left: left}
	var err error
	if ev.JoinTime, err = zoomTime(who.JoinTime); err != nil {
		return ev, err
	}
	if ev.LeaveTime, err = zoomTime(who.LeaveTime); err != nil {
		return ev, err
	}
	happened := &ev.JoinTime
	if left {
		happened = &ev.LeaveTime
	}
	if happened.IsZero() && n.EventTS > 0 {
		*happened = time.UnixMilli(n.EventTS)
	}
	return ev, nil
}

// zoomTime reads one of Zoom's RFC 3339 times; "" is the zero time.
func zoomTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return t, fiber.NewError(fiber.StatusBadRequest, "A participant's join_time or leave_time is not an RFC 3339 time.")
	}
	return t, nil
}
