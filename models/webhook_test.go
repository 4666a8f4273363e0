package models

import (
	"podium/models/pgtest"

	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// These tests follow outgoing webhooks: endpoints and their secrets, the
// events written with the changes that cause them, and their deliveries'
// claims, retries, log and replays.

const hookURL = "https://hooks.example.com/podium"

// newWebhookEndpoint stores an active endpoint at url wanting types (none:
// every type) and returns it with its secret.
func newWebhookEndpoint(t *testing.T, s *Store, url string, types ...string) (*WebhookEndpoint, string) {
	t.Helper()
	ep, secret, err := s.CreateWebhookEndpoint(context.Background(), WebhookInput{URL: url, EventTypes: types, Active: true}, 0)
	if err != nil {
		t.Fatalf("create endpoint %s: %v", url, err)
	}
	return ep, secret
}

// setWebhookActive turns an endpoint on or off, its other fields as stored.
func setWebhookActive(t *testing.T, s *Store, id int64, active bool) *WebhookEndpoint {
	t.Helper()
	ep, err := s.UpdateWebhookEndpoint(context.Background(), id, func(ep *WebhookEndpoint) WebhookInput {
		return WebhookInput{URL: ep.URL, Description: ep.Description, EventTypes: ep.EventTypes, Active: active}
	})
	if err != nil {
		t.Fatalf("set endpoint %d active=%v: %v", id, active, err)
	}
	return ep
}

// countWebhookRows counts the rows of a webhook table matching where.
func countWebhookRows(t *testing.T, s *Store, table, where string, args ...any) int64 {
	t.Helper()
	var n int64
	if err := s.read.Table(table).Where(where, args...).Count(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

// webhookEvents are the stored events, oldest first.
func webhookEvents(t *testing.T, s *Store) []webhookEventRow {
	t.Helper()
	var rows []webhookEventRow
	if err := s.read.Table("webhook_events").Order("id").Scan(&rows).Error; err != nil {
		t.Fatal(err)
	}
	return rows
}

// eventTypes lists the events' types in order.
func eventTypes(events []webhookEventRow) []string {
	types := make([]string, len(events))
	for i, e := range events {
		types[i] = e.Type
	}
	return types
}

// deliveryRow is a webhook_deliveries row as stored.
type deliveryRow struct {
	ID, EndpointID, EventID int64
	Status                  string
	Attempts                int
	NextAttemptAt           time.Time
	LeaseUntil, DeliveredAt *time.Time
}

// webhookDeliveries are the stored deliveries matching where, by id.
func webhookDeliveries(t *testing.T, s *Store, where string, args ...any) []deliveryRow {
	t.Helper()
	var rows []deliveryRow
	if err := s.read.Table("webhook_deliveries").Where(where, args...).Order("id").Scan(&rows).Error; err != nil {
		t.Fatal(err)
	}
	return rows
}

func deliveryByID(t *testing.T, s *Store, id int64) deliveryRow {
	t.Helper()
	rows := webhookDeliveries(t, s, "id = ?", id)
	if len(rows) != 1 {
		t.Fatalf("delivery %d: %d rows", id, len(rows))
	}
	return rows[0]
}

// attemptRow is a webhook_attempts row as stored, comparable with ==.
type attemptRow struct {
	DeliveryID, EndpointID int64
	AttemptedAt            string // RFC 3339
	StatusCode             int
	Error                  string
	DurationMS             int
}

func webhookAttemptRows(t *testing.T, s *Store, deliveryID int64) []attemptRow {
	t.Helper()
	var rows []struct {
		DeliveryID, EndpointID int64
		AttemptedAt            time.Time
		StatusCode             int
		Error                  string
		DurationMS             int `gorm:"column:duration_ms"`
	}
	err := s.read.Table("webhook_attempts").Where("delivery_id = ?", deliveryID).Order("id").Scan(&rows).Error
	if err != nil {
		t.Fatal(err)
	}
	out := make([]attemptRow, len(rows))
	for i, r := range rows {
		out[i] = attemptRow{DeliveryID: r.DeliveryID, EndpointID: r.EndpointID, AttemptedAt: at(r.AttemptedAt),
			StatusCode: r.StatusCode, Error: r.Error, DurationMS: r.DurationMS}
	}
	return out
}

// endpointState is what an endpoint's health columns say, readably.
type endpointState struct {
	Active         bool
	DisabledReason string
	FailingSince   string // RFC 3339, or "nil"
}

func endpointStateOf(t *testing.T, s *Store, id int64) endpointState {
	t.Helper()
	ep, err := s.WebhookEndpointByID(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return endpointState{Active: ep.Active, DisabledReason: ep.DisabledReason, FailingSince: stamp(ep.FailingSince)}
}

var healthy = endpointState{Active: true, FailingSince: "nil"}

// claimWebhooks claims up to limit due deliveries under a minute's lease.
func claimWebhooks(t *testing.T, s *Store, limit int) []WebhookDelivery {
	t.Helper()
	claimed, err := s.ClaimWebhookDeliveries(context.Background(), limit, time.Minute)
	if err != nil {
		t.Fatalf("claim webhook deliveries: %v", err)
	}
	return claimed
}

func recordWebhooks(t *testing.T, s *Store, results ...WebhookResult) []DisabledEndpoint {
	t.Helper()
	disabled, err := s.RecordWebhookResults(context.Background(), results)
	if err != nil {
		t.Fatalf("record webhook results: %v", err)
	}
	return disabled
}

// answered is a delivery's outcome: the receiver answered code (2xx a
// success, as the worker reports it) after 120 ms.
func answered(d WebhookDelivery, code int) WebhookResult {
	r := WebhookResult{ID: d.ID, EndpointID: d.EndpointID, Attempts: d.Attempts, StatusCode: code,
		Duration: 120 * time.Millisecond}
	if code < 200 || code > 299 {
		r.Err = fmt.Sprintf("answered %d", code)
	}
	return r
}

// sendTestWebhook queues a test event to one endpoint and returns its
// delivery.
func sendTestWebhook(t *testing.T, s *Store, endpointID int64) deliveryRow {
	t.Helper()
	eventID, err := s.SendTestWebhook(context.Background(), endpointID)
	if err != nil {
		t.Fatalf("send a test event to %d: %v", endpointID, err)
	}
	rows := webhookDeliveries(t, s, "event_id = ?", eventID)
	if len(rows) != 1 {
		t.Fatalf("test event %d has %d deliveries; want 1", eventID, len(rows))
	}
	return rows[0]
}

// setDeliveryAttempts makes a queued delivery look tried n times.
func setDeliveryAttempts(t *testing.T, s *Store, id int64, n int) {
	t.Helper()
	if err := s.write.Exec("UPDATE webhook_deliveries SET attempts = ? WHERE id = ?", n, id).Error; err != nil {
		t.Fatal(err)
	}
}

// byDeliveryID indexes claimed deliveries by their id.
func byDeliveryID(claimed []WebhookDelivery) map[int64]WebhookDelivery {
	out := make(map[int64]WebhookDelivery, len(claimed))
	for _, d := range claimed {
		out[d.ID] = d
	}
	return out
}

var webhookSecretPattern = regexp.MustCompile(`^whsec_[A-Za-z0-9+/]{32}$`)

func assertWebhookSecret(t *testing.T, what, secret string) {
	t.Helper()
	if !webhookSecretPattern.MatchString(secret) {
		t.Fatalf("%s = %q; want whsec_ and 32 base64 characters", what, secret)
	}
	if key, err := WebhookKey(secret); err != nil || len(key) != 24 {
		t.Fatalf("%s's key = %d bytes, %v; want 24", what, len(key), err)
	}
}

func assertSigningSecrets(t *testing.T, s *Store, ep *WebhookEndpoint, now time.Time, want ...string) {
	t.Helper()
	got, err := s.SigningSecrets(ep, now)
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("signing secrets at %s = %q, %v; want %q", at(now), got, err, want)
	}
}

func TestCreateWebhookEndpoint_SecretShownOnceStoredSealedAndRotatedWithADaysOverlap(t *testing.T) {
	s, clock := newTestStore(t)
	ctx := context.Background()
	ep, secret := newWebhookEndpoint(t, s, hookURL)
	assertWebhookSecret(t, "new secret", secret)
	other, otherSecret := newWebhookEndpoint(t, s, hookURL+"/other")
	if otherSecret == secret || other.Secret == ep.Secret {
		t.Fatal("two endpoints got the same secret")
	}

	storedSecrets := func() (string, string) {
		t.Helper()
		var current, previous string
		row := s.read.Raw("SELECT secret, previous_secret FROM webhook_endpoints WHERE id = ?", ep.ID).Row()
		if err := row.Scan(&current, &previous); err != nil {
			t.Fatal(err)
		}
		return current, previous
	}
	sealed, previous := storedSecrets()
	key := strings.TrimPrefix(secret, "whsec_")
	if sealed == "" || strings.Contains(sealed, key) || previous != "" {
		t.Fatalf("stored secret = %q, previous %q; want the secret sealed (not containing %q) and no previous", sealed, previous, key)
	}

	stored, err := s.WebhookEndpointByID(ctx, ep.ID)
	if err != nil {
		t.Fatal(err)
	}
	assertSigningSecrets(t, s, stored, testNow, secret)

	rotatedAt := testNow.Add(time.Hour)
	clock.Set(rotatedAt)
	rotated, newSecret, err := s.RotateWebhookSecret(ctx, ep.ID)
	if err != nil {
		t.Fatal(err)
	}
	assertWebhookSecret(t, "rotated secret", newSecret)
	if newSecret == secret {
		t.Fatal("rotation kept the secret")
	}
	until := rotatedAt.Add(24 * time.Hour)
	if got := stamp(rotated.PreviousSecretUntil); got != at(until) {
		t.Fatalf("previous secret signs until %s; want %s", got, at(until))
	}
	newSealed, previous := storedSecrets()
	if strings.Contains(newSealed, strings.TrimPrefix(newSecret, "whsec_")) || previous != sealed {
		t.Fatalf("after rotation stored %q, previous %q; want the new one sealed and the old sealed one kept", newSealed, previous)
	}
	if stored, err = s.WebhookEndpointByID(ctx, ep.ID); err != nil {
		t.Fatal(err)
	}
	assertSigningSecrets(t, s, stored, rotatedAt, newSecret, secret)
	assertSigningSecrets(t, s, stored, until.Add(-time.Second), newSecret, secret)
	assertSigningSecrets(t, s, stored, until, newSecret)
	assertSigningSecrets(t, s, other, until, otherSecret)

	if _, _, err := s.RotateWebhookSecret(ctx, other.ID+100); !errors.Is(err, ErrNotFound) {
		t.Fatalf("rotating an unknown endpoint = %v; want ErrNotFound", err)
	}
}

func TestCreateWebhookEndpoint_ValidationRefusesBadInputAndStoresNothing(t *testing.T) {
	long := "https://example.com/" + strings.Repeat("a", maxWebhookURL-len("https://example.com/")+1)
	cases := []struct {
		name  string
		in    WebhookInput
		field string
	}{
		{"ftp scheme", WebhookInput{URL: "ftp://example.com/hook"}, "url"},
		{"no scheme", WebhookInput{URL: "example.com/hook"}, "url"},
		{"no host", WebhookInput{URL: "https:///hook"}, "url"},
		{"empty", WebhookInput{URL: "  "}, "url"},
		{"user and password", WebhookInput{URL: "https://user:pass@example.com/hook"}, "url"},
		{"space inside", WebhookInput{URL: "https://example.com/a b"}, "url"},
		{"tab inside", WebhookInput{URL: "https://example.com/a\tb"}, "url"},
		{"2001 characters", WebhookInput{URL: long}, "url"},
		{"CR LF inside", WebhookInput{URL: "https://example.com/hook\r\nX-Injected: 1"}, "url"},
		{"LF inside", WebhookInput{URL: "https://example.com/a\nb"}, "url"},
		{"unknown event type", WebhookInput{URL: hookURL, EventTypes: []string{EventSessionUpdated, "registration.deleted"}}, "event_types"},
		{"test type is not subscribable", WebhookInput{URL: hookURL, EventTypes: []string{EventWebhookTest}}, "event_types"},
		{"201-character description", WebhookInput{URL: hookURL, Description: strings.Repeat("d", maxWebhookDescription+1)}, "description"},
		{"multi-line description", WebhookInput{URL: hookURL, Description: "CRM\nBcc: x@example.com"}, "description"},
	}
	s, _ := newTestStore(t)
	ctx := context.Background()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.in.Active = true
			ep, secret, err := s.CreateWebhookEndpoint(ctx, tc.in, 0)
			var verr *ValidationError
			if !errors.As(err, &verr) || verr.Fields[tc.field] == "" || len(verr.Fields) != 1 {
				t.Fatalf("create = %v, %q, %v; want a validation error for %q alone", ep, secret, err, tc.field)
			}
			if n := countWebhookRows(t, s, "webhook_endpoints", "1 = 1"); n != 0 {
				t.Fatalf("%d endpoints stored after a refusal", n)
			}
		})
	}

	// The limits themselves are allowed; the address and description are
	// trimmed and the types sorted without repeats.
	in := WebhookInput{URL: "  http://example.com/" + strings.Repeat("a", maxWebhookURL-len("http://example.com/")) + " ",
		Description: " " + strings.Repeat("d", maxWebhookDescription) + " ",
		EventTypes:  []string{EventSessionUpdated, EventRegistrationCreated, EventSessionUpdated}, Active: true}
	ep, _, err := s.CreateWebhookEndpoint(ctx, in, 0)
	if err != nil {
		t.Fatalf("create at the limits: %v", err)
	}
	var column string
	if err := s.read.Raw("SELECT event_types FROM webhook_endpoints WHERE id = ?", ep.ID).Row().Scan(&column); err != nil {
		t.Fatal(err)
	}
	stored, err := s.WebhookEndpointByID(ctx, ep.ID)
	if err != nil {
		t.Fatal(err)
	}
	wantTypes := EventTypes{EventRegistrationCreated, EventSessionUpdated}
	if len(stored.URL) != maxWebhookURL || len(stored.Description) != maxWebhookDescription ||
		!reflect.DeepEqual(stored.EventTypes, wantTypes) || column != ",registration.created,session.updated," {
		t.Fatalf("stored url %d chars, description %d chars, types %q (column %q); want %d, %d, %q",
			len(stored.URL), len(stored.Description), stored.EventTypes, column, maxWebhookURL, maxWebhookDescription, wantTypes)
	}

	// An edit is held to the same rules and changes nothing when refused.
	_, err = s.UpdateWebhookEndpoint(ctx, ep.ID, func(*WebhookEndpoint) WebhookInput {
		return WebhookInput{URL: "ftp://example.com/hook", Active: true}
	})
	var verr *ValidationError
	if !errors.As(err, &verr) || verr.Fields["url"] == "" {
		t.Fatalf("invalid edit = %v; want a validation error for url", err)
	}
	if after, _ := s.WebhookEndpointByID(ctx, ep.ID); after.URL != stored.URL {
		t.Fatalf("a refused edit changed the url to %q", after.URL)
	}
	if _, err := s.UpdateWebhookEndpoint(ctx, ep.ID+1, func(*WebhookEndpoint) WebhookInput {
		return WebhookInput{URL: hookURL}
	}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("editing an unknown endpoint = %v; want ErrNotFound", err)
	}
}

// eventBody is a webhook event's body, its data as decoded JSON.
type eventBody struct {
	Type      string         `json:"type"`
	Timestamp string         `json:"timestamp"`
	Data      map[string]any `json:"data"`
}

func decodeEventBody(t *testing.T, e webhookEventRow) eventBody {
	t.Helper()
	var b eventBody
	if err := json.Unmarshal([]byte(e.Body), &b); err != nil {
		t.Fatalf("event %d's body %q: %v", e.ID, e.Body, err)
	}
	return b
}

// assertEventData fails unless the body's type and timestamp are as
// given and its data has each of want's fields with that value.
func assertEventData(t *testing.T, e webhookEventRow, eventType string, now time.Time, want map[string]any) {
	t.Helper()
	b := decodeEventBody(t, e)
	if b.Type != eventType || e.Type != eventType || b.Timestamp != at(now) {
		t.Errorf("event %d: type %q (column %q) at %q; want %q at %q", e.ID, b.Type, e.Type, b.Timestamp, eventType, at(now))
	}
	for k, v := range want {
		if got, ok := b.Data[k]; !ok || got != v {
			t.Errorf("event %d (%s): data[%q] = %#v; want %#v", e.ID, eventType, k, got, v)
		}
	}
}

func TestWebhookEvents_RegistrationCreatedWrittenWithTheSignUpAndNothingElse(t *testing.T) {
	s, _ := newTestStore(t)
	ctx := context.Background()
	p, sess := newTestPanel(t, s, 1, false)
	ep, _ := newWebhookEndpoint(t, s, hookURL, EventRegistrationCreated)

	in := validInput(sess.ID, "ada@example.com")
	in.Source = "newsletter"
	res, err := s.Register(ctx, p.ID, in)
	if err != nil {
		t.Fatal(err)
	}
	events := webhookEvents(t, s)
	if len(events) != 1 {
		t.Fatalf("events after a sign-up = %q; want one registration.created", eventTypes(events))
	}
	e := events[0]
	if !e.RegistrationID.Valid || e.RegistrationID.Int64 != res.Registration.ID || !e.CreatedAt.Equal(testNow) {
		t.Fatalf("event registration %v at %s; want %d at %s", e.RegistrationID, at(e.CreatedAt), res.Registration.ID, at(testNow))
	}
	assertEventData(t, e, EventRegistrationCreated, testNow, map[string]any{
		"registration_id": float64(res.Registration.ID), "name": "Ada Lovelace", "email": "ada@example.com",
		"status": "confirmed", "session_id": float64(sess.ID), "panel_title": "Test panel", "source": "newsletter",
		"panel_id": float64(p.ID), "session_status": "scheduled", "registered_at": at(testNow),
	})
	deliveries := webhookDeliveries(t, s, "1 = 1")
	if len(deliveries) != 1 || deliveries[0].EndpointID != ep.ID || deliveries[0].EventID != e.ID ||
		deliveries[0].Status != "queued" || deliveries[0].Attempts != 0 || !deliveries[0].NextAttemptAt.Equal(testNow) {
		t.Fatalf("deliveries = %+v; want one queued to endpoint %d for event %d, due now", deliveries, ep.ID, e.ID)
	}

	if _, err := s.Register(ctx, p.ID, validInput(sess.ID, "full@example.com")); !errors.Is(err, ErrSessionFull) {
		t.Fatalf("sign-up for a full session = %v; want ErrSessionFull", err)
	}
	if again, err := s.Register(ctx, p.ID, validInput(sess.ID, "ADA@example.com")); err != nil || !again.Duplicate {
		t.Fatalf("repeated sign-up = %+v, %v; want a duplicate", again, err)
	}
	if _, err := s.CancelRegistration(ctx, res.Registration.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CancelSession(ctx, sess.ID); err != nil {
		t.Fatal(err)
	}
	if got := eventTypes(webhookEvents(t, s)); len(got) != 1 {
		t.Fatalf("events after a refused, a repeated and a cancelled sign-up and a cancelled session = %q; want the first alone", got)
	}
	if n := countWebhookRows(t, s, "webhook_deliveries", "1 = 1"); n != 1 {
		t.Fatalf("%d deliveries; want 1", n)
	}
}

func TestWebhookEvents_EveryChangeReachesTheEndpointsThatWantIt(t *testing.T) {
	s, clock := newTestStore(t)
	ctx := context.Background()
	p, sess := afterLivePanel(t, s, 1, true)
	everything, _ := newWebhookEndpoint(t, s, hookURL)
	created, _ := newWebhookEndpoint(t, s, hookURL+"/crm", EventRegistrationCreated)
	attendance, _ := newWebhookEndpoint(t, s, hookURL+"/attendance", EventAttendanceRecorded)

	a := signUp(t, s, p.ID, sess.ID, "a@example.com").Registration
	b := signUp(t, s, p.ID, sess.ID, "b@example.com").Registration
	if b.Status != RegistrationWaitlisted {
		t.Fatalf("second sign-up is %s; want waitlisted", b.Status)
	}
	clock.Set(testNow.Add(time.Minute))
	if res, err := s.CancelRegistration(ctx, a.ID); err != nil || res.Promoted == nil || res.Promoted.ID != b.ID {
		t.Fatalf("cancel = %+v, %v; want b promoted", res, err)
	}
	clock.Set(testNow.Add(2 * time.Minute))
	if _, err := s.EditSession(ctx, sess.ID, func(cur *Session) SessionUpdate {
		upd := sessionUpdateOf(cur)
		upd.Venue = "Room 2"
		return upd
	}); err != nil {
		t.Fatal(err)
	}
	if err := s.SetAttended(ctx, b.ID, true); err != nil {
		t.Fatal(err)
	}
	clock.Set(testNow.Add(3 * time.Minute))
	if _, err := s.CancelSession(ctx, sess.ID); err != nil {
		t.Fatal(err)
	}

	events := webhookEvents(t, s)
	want := []string{EventRegistrationCreated, EventRegistrationCreated, EventRegistrationCancelled,
		EventRegistrationPromoted, EventSessionUpdated, EventAttendanceRecorded, EventSessionCancelled}
	if got := eventTypes(events); !reflect.DeepEqual(got, want) {
		t.Fatalf("events = %q; want %q", got, want)
	}
	regOf := []int64{a.ID, b.ID, a.ID, b.ID, 0, b.ID, 0}
	for i, e := range events {
		if e.RegistrationID.Int64 != regOf[i] || e.RegistrationID.Valid != (regOf[i] != 0) {
			t.Errorf("event %d (%s) names registration %v; want %d", i, e.Type, e.RegistrationID, regOf[i])
		}
	}
	assertEventData(t, events[2], EventRegistrationCancelled, testNow.Add(time.Minute),
		map[string]any{"registration_id": float64(a.ID), "status": "cancelled", "email": "a@example.com"})
	assertEventData(t, events[3], EventRegistrationPromoted, testNow.Add(time.Minute),
		map[string]any{"registration_id": float64(b.ID), "status": "confirmed", "email": "b@example.com"})
	session := map[string]any{"session_id": float64(sess.ID), "panel_id": float64(p.ID),
		"panel_title": "After the live session", "session_status": "scheduled", "session_time_zone": "UTC",
		"session_starts_at": at(sess.StartsAt), "session_ends_at": at(sess.EndsAt())}
	assertEventData(t, events[4], EventSessionUpdated, testNow.Add(2*time.Minute), session)
	assertEventData(t, events[5], EventAttendanceRecorded, testNow.Add(2*time.Minute),
		map[string]any{"registration_id": float64(b.ID), "attendance": "attended"})
	session["session_status"] = "cancelled"
	assertEventData(t, events[6], EventSessionCancelled, testNow.Add(3*time.Minute), session)
	if _, ok := decodeEventBody(t, events[4]).Data["registration_id"]; ok {
		t.Error("a session event carries a registration_id")
	}

	// One event per change, one delivery per endpoint that wants it.
	wantBy := map[int64][]int64{
		everything.ID: {events[0].ID, events[1].ID, events[2].ID, events[3].ID, events[4].ID, events[5].ID, events[6].ID},
		created.ID:    {events[0].ID, events[1].ID},
		attendance.ID: {events[5].ID},
	}
	for endpoint, wantEvents := range wantBy {
		var got []int64
		for _, d := range webhookDeliveries(t, s, "endpoint_id = ?", endpoint) {
			got = append(got, d.EventID)
		}
		if !reflect.DeepEqual(got, wantEvents) {
			t.Errorf("endpoint %d's deliveries are of events %v; want %v", endpoint, got, wantEvents)
		}
	}
}

func TestWebhookEvents_AttendanceImportOneEventPerRegistrant(t *testing.T) {
	s, clock := newTestStore(t)
	p, sess := afterLivePanel(t, s, 5, false)
	newWebhookEndpoint(t, s, hookURL, EventAttendanceRecorded)
	a := signUp(t, s, p.ID, sess.ID, "a@example.com").Registration
	b := signUp(t, s, p.ID, sess.ID, "b@example.com").Registration
	if n := len(webhookEvents(t, s)); n != 0 {
		t.Fatalf("%d events from sign-ups nobody subscribed to", n)
	}
	end := sess.EndsAt()
	clock.Set(end)
	importAttendance(t, s, sess.ID, plainReport(attendee("a@example.com", 42, true)))
	events := webhookEvents(t, s)
	if got := eventTypes(events); !reflect.DeepEqual(got, []string{EventAttendanceRecorded, EventAttendanceRecorded}) {
		t.Fatalf("events after an import = %q; want two attendance.recorded", got)
	}
	assertEventData(t, events[0], EventAttendanceRecorded, end,
		map[string]any{"registration_id": float64(a.ID), "attendance": "attended", "attended_minutes": float64(42)})
	assertEventData(t, events[1], EventAttendanceRecorded, end,
		map[string]any{"registration_id": float64(b.ID), "attendance": "absent", "attended_minutes": float64(0)})
}

func TestWebhookEvents_NoneWithoutAnActiveEndpoint(t *testing.T) {
	for _, setup := range []struct {
		name     string
		endpoint func(t *testing.T, s *Store)
	}{
		{"no endpoint", func(*testing.T, *Store) {}},
		{"inactive endpoint", func(t *testing.T, s *Store) {
			ep, _ := newWebhookEndpoint(t, s, hookURL)
			if got := setWebhookActive(t, s, ep.ID, false); got.Active {
				t.Fatal("the endpoint stayed active")
			}
		}},
	} {
		t.Run(setup.name, func(t *testing.T) {
			s, _ := newTestStore(t)
			ctx := context.Background()
			p, sess := afterLivePanel(t, s, 1, true)
			setup.endpoint(t, s)
			a := signUp(t, s, p.ID, sess.ID, "a@example.com").Registration
			signUp(t, s, p.ID, sess.ID, "b@example.com")
			if _, err := s.CancelRegistration(ctx, a.ID); err != nil {
				t.Fatal(err)
			}
			if _, err := s.EditSession(ctx, sess.ID, func(cur *Session) SessionUpdate { return sessionUpdateOf(cur) }); err != nil {
				t.Fatal(err)
			}
			if _, err := s.CancelSession(ctx, sess.ID); err != nil {
				t.Fatal(err)
			}
			if n, m := countWebhookRows(t, s, "webhook_events", "1 = 1"), countWebhookRows(t, s, "webhook_deliveries", "1 = 1"); n != 0 || m != 0 {
				t.Fatalf("%d events and %d deliveries written; want none", n, m)
			}
		})
	}
}

func TestWebhookEvents_TwoEndpointsShareOneEvent(t *testing.T) {
	s, _ := newTestStore(t)
	p, sess := newTestPanel(t, s, 10, false)
	first, _ := newWebhookEndpoint(t, s, hookURL, EventRegistrationCreated)
	second, _ := newWebhookEndpoint(t, s, hookURL+"/2")
	signUp(t, s, p.ID, sess.ID, "a@example.com")
	events := webhookEvents(t, s)
	deliveries := webhookDeliveries(t, s, "1 = 1")
	if len(events) != 1 || len(deliveries) != 2 {
		t.Fatalf("%d events, %d deliveries; want one event delivered twice", len(events), len(deliveries))
	}
	for i, want := range []int64{first.ID, second.ID} {
		if d := deliveries[i]; d.EndpointID != want || d.EventID != events[0].ID {
			t.Errorf("delivery %d to endpoint %d of event %d; want endpoint %d, event %d", i, d.EndpointID, d.EventID, want, events[0].ID)
		}
	}
}

func TestClaimWebhookDeliveries_CarriesWhatToSendWhereAndHowToSign(t *testing.T) {
	s, clock := newTestStore(t)
	ctx := context.Background()
	p, sess := newTestPanel(t, s, 10, false)
	ep, secret := newWebhookEndpoint(t, s, hookURL, EventRegistrationCreated)
	signUp(t, s, p.ID, sess.ID, "a@example.com")
	event := webhookEvents(t, s)[0]
	delivery := webhookDeliveries(t, s, "1 = 1")[0]

	claimed := claimWebhooks(t, s, 10)
	want := WebhookDelivery{ID: delivery.ID, EndpointID: ep.ID, EventID: event.ID, Attempts: 1, URL: hookURL,
		Secrets: []string{secret}, EventType: EventRegistrationCreated, Body: []byte(event.Body)}
	if len(claimed) != 1 || !reflect.DeepEqual(claimed[0], want) {
		t.Fatalf("claimed %+v; want %+v", claimed, want)
	}
	if id := claimed[0].MessageID(); id != fmt.Sprintf("msg_%d", event.ID) {
		t.Fatalf("message id = %q; want msg_%d", id, event.ID)
	}
	row := deliveryByID(t, s, delivery.ID)
	if row.Status != "sending" || row.Attempts != 1 || stamp(row.LeaseUntil) != at(testNow.Add(time.Minute)) {
		t.Fatalf("claimed row = %s, attempt %d, lease until %s; want sending, 1, %s",
			row.Status, row.Attempts, stamp(row.LeaseUntil), at(testNow.Add(time.Minute)))
	}
	if again := claimWebhooks(t, s, 10); len(again) != 0 {
		t.Fatalf("a leased delivery was claimed again: %d", len(again))
	}

	// After the lease it is claimed again, signed with both secrets while
	// a rotation overlaps, then with the new one alone.
	_, newSecret, err := s.RotateWebhookSecret(ctx, ep.ID)
	if err != nil {
		t.Fatal(err)
	}
	clock.Set(testNow.Add(2 * time.Minute))
	again := claimWebhooks(t, s, 10)
	if len(again) != 1 || again[0].Attempts != 2 || !reflect.DeepEqual(again[0].Secrets, []string{newSecret, secret}) ||
		again[0].MessageID() != claimed[0].MessageID() {
		t.Fatalf("claim after the lease = %+v; want attempt 2 signed with the new and old secrets, same message id", again)
	}
	clock.Set(testNow.Add(24 * time.Hour))
	late := claimWebhooks(t, s, 10)
	if len(late) != 1 || late[0].Attempts != 3 || !reflect.DeepEqual(late[0].Secrets, []string{newSecret}) {
		t.Fatalf("claim a day after the rotation = %+v; want attempt 3 signed with the new secret alone", late)
	}

	// An endpoint turned off since gets nothing: the claim fails its
	// delivery unsent, with no attempt, for its owner to send again later.
	setWebhookActive(t, s, ep.ID, false)
	clock.Set(testNow.Add(25 * time.Hour))
	if off := claimWebhooks(t, s, 10); len(off) != 0 {
		t.Fatalf("claim for a disabled endpoint = %+v; want nothing to send", off)
	}
	if row := deliveryByID(t, s, delivery.ID); row.Status != "failed" || row.Attempts != 3 {
		t.Fatalf("delivery to a disabled endpoint = %s after %d attempts; want failed, unsent (3)", row.Status, row.Attempts)
	}
}

func TestRecordWebhookResults_SuccessDeliversAndClearsTheFailure(t *testing.T) {
	s, clock := newTestStore(t)
	ep, _ := newWebhookEndpoint(t, s, hookURL)
	d := sendTestWebhook(t, s, ep.ID)
	first := claimWebhooks(t, s, 1)[0]
	if disabled := recordWebhooks(t, s, answered(first, 500)); len(disabled) != 0 {
		t.Fatalf("one failure disabled %+v", disabled)
	}
	if got, want := endpointStateOf(t, s, ep.ID), (endpointState{Active: true, FailingSince: at(testNow)}); got != want {
		t.Fatalf("endpoint after a failure = %+v; want %+v", got, want)
	}

	later := testNow.Add(10 * time.Second)
	clock.Set(later)
	second := claimWebhooks(t, s, 1)
	if len(second) != 1 || second[0].ID != d.ID || second[0].Attempts != 2 {
		t.Fatalf("retry claim = %+v; want delivery %d on attempt 2", second, d.ID)
	}
	if disabled := recordWebhooks(t, s, answered(second[0], 204)); len(disabled) != 0 {
		t.Fatalf("a success disabled %+v", disabled)
	}
	row := deliveryByID(t, s, d.ID)
	if row.Status != "delivered" || stamp(row.DeliveredAt) != at(later) || row.LeaseUntil != nil || row.Attempts != 2 {
		t.Fatalf("delivered row = %s at %s, lease %s, attempts %d; want delivered at %s, no lease, 2",
			row.Status, stamp(row.DeliveredAt), stamp(row.LeaseUntil), row.Attempts, at(later))
	}
	if got := endpointStateOf(t, s, ep.ID); got != healthy {
		t.Fatalf("endpoint after a success = %+v; want %+v", got, healthy)
	}
	want := []attemptRow{
		{DeliveryID: d.ID, EndpointID: ep.ID, AttemptedAt: at(testNow), StatusCode: 500, Error: "answered 500", DurationMS: 120},
		{DeliveryID: d.ID, EndpointID: ep.ID, AttemptedAt: at(later), StatusCode: 204, DurationMS: 120},
	}
	if got := webhookAttemptRows(t, s, d.ID); !reflect.DeepEqual(got, want) {
		t.Fatalf("attempts = %+v\n\twant %+v", got, want)
	}
	if again := claimWebhooks(t, s, 10); len(again) != 0 {
		t.Fatalf("a delivered delivery was claimed again: %+v", again)
	}
}

func TestRecordWebhookResults_FailuresRetryOnScheduleHonouringRetryAfter(t *testing.T) {
	s, clock := newTestStore(t)
	ep, _ := newWebhookEndpoint(t, s, hookURL)
	var ids []int64
	for range 5 {
		ids = append(ids, sendTestWebhook(t, s, ep.ID).ID)
	}
	setDeliveryAttempts(t, s, ids[3], 1)
	claimed := byDeliveryID(claimWebhooks(t, s, 10))
	if len(claimed) != 5 {
		t.Fatalf("claimed %d; want 5", len(claimed))
	}
	plain := answered(claimed[ids[0]], 500)
	asked := answered(claimed[ids[1]], 429)
	asked.RetryAfter = 120 * time.Second
	tooLong := answered(claimed[ids[2]], 503)
	tooLong.RetryAfter = 48 * time.Hour
	second := answered(claimed[ids[3]], 503)
	second.RetryAfter = time.Second
	longError := strings.Repeat("é", maxWebhookError+50)
	unreachable := WebhookResult{ID: ids[4], EndpointID: ep.ID, Attempts: 1, Err: longError, Duration: 10 * time.Second}
	if disabled := recordWebhooks(t, s, plain, asked, tooLong, second, unreachable); len(disabled) != 0 {
		t.Fatalf("failures disabled %+v", disabled)
	}

	waits := []struct {
		name     string
		min, max time.Duration
	}{
		{"attempt 1 failed", 5 * time.Second, 5500 * time.Millisecond},
		{"Retry-After 120s", 120 * time.Second, 120 * time.Second},
		{"Retry-After 48h, capped", 24 * time.Hour, 24 * time.Hour},
		{"attempt 2 failed asking 1s", 5 * time.Minute, 5*time.Minute + 30*time.Second},
		{"no answer", 5 * time.Second, 5500 * time.Millisecond},
	}
	for i, w := range waits {
		row := deliveryByID(t, s, ids[i])
		wait := row.NextAttemptAt.Sub(testNow)
		if row.Status != "queued" || row.LeaseUntil != nil || wait < w.min || wait > w.max {
			t.Errorf("%s: %s, lease %s, next attempt in %v; want queued, no lease, in [%v, %v]",
				w.name, row.Status, stamp(row.LeaseUntil), wait, w.min, w.max)
		}
	}
	wantAttempts := map[int64]attemptRow{
		ids[0]: {StatusCode: 500, Error: "answered 500", DurationMS: 120},
		ids[1]: {StatusCode: 429, Error: "answered 429", DurationMS: 120},
		ids[4]: {StatusCode: 0, Error: strings.Repeat("é", maxWebhookError), DurationMS: 10000},
	}
	for id, want := range wantAttempts {
		want.DeliveryID, want.EndpointID, want.AttemptedAt = id, ep.ID, at(testNow)
		if got := webhookAttemptRows(t, s, id); len(got) != 1 || got[0] != want {
			t.Errorf("attempts of %d = %+v; want %+v", id, got, want)
		}
	}
	if got, want := endpointStateOf(t, s, ep.ID), (endpointState{Active: true, FailingSince: at(testNow)}); got != want {
		t.Fatalf("endpoint after failures = %+v; want %+v", got, want)
	}

	// Nothing is due before its time; the first retries are due after 5.5s.
	clock.Set(testNow.Add(4999 * time.Millisecond))
	if early := claimWebhooks(t, s, 10); len(early) != 0 {
		t.Fatalf("claimed %d before any retry was due", len(early))
	}
	clock.Set(testNow.Add(5500 * time.Millisecond))
	due := byDeliveryID(claimWebhooks(t, s, 10))
	if len(due) != 2 || due[ids[0]].Attempts != 2 || due[ids[4]].Attempts != 2 {
		t.Fatalf("claimed %+v after 5.5s; want deliveries %d and %d on attempt 2", due, ids[0], ids[4])
	}
}

func TestNextWebhookAttempt_FollowsTheScheduleWithUpToATenthOfJitter(t *testing.T) {
	want := []time.Duration{5 * time.Second, 5 * time.Minute, 30 * time.Minute, 2 * time.Hour, 5 * time.Hour,
		10 * time.Hour, 10 * time.Hour, 24 * time.Hour, 24 * time.Hour}
	for i, base := range want {
		for range 50 {
			next, again := nextWebhookAttempt(testNow, i+1, 0)
			if wait := next.Sub(testNow); !again || wait < base || wait > base+base/10 {
				t.Fatalf("after attempt %d: in %v (%v); want within [%v, %v]", i+1, wait, again, base, base+base/10)
			}
		}
	}
	for _, attempts := range []int{0, len(want) + 1} {
		if _, again := nextWebhookAttempt(testNow, attempts, time.Hour); again {
			t.Errorf("after attempt %d another is scheduled; want none", attempts)
		}
	}
}

func TestRecordWebhookResults_TheTenthFailureFailsForGood(t *testing.T) {
	s, _ := newTestStore(t)
	ep, _ := newWebhookEndpoint(t, s, hookURL)
	ninth := sendTestWebhook(t, s, ep.ID)
	tenth := sendTestWebhook(t, s, ep.ID)
	setDeliveryAttempts(t, s, ninth.ID, len(webhookRetries)-1)
	setDeliveryAttempts(t, s, tenth.ID, len(webhookRetries))
	claimed := byDeliveryID(claimWebhooks(t, s, 10))
	if claimed[ninth.ID].Attempts != 9 || claimed[tenth.ID].Attempts != 10 {
		t.Fatalf("claimed %+v; want attempts 9 and 10", claimed)
	}
	if disabled := recordWebhooks(t, s, answered(claimed[ninth.ID], 500), answered(claimed[tenth.ID], 500)); len(disabled) != 0 {
		t.Fatalf("failures disabled %+v", disabled)
	}
	row := deliveryByID(t, s, ninth.ID)
	if wait := row.NextAttemptAt.Sub(testNow); row.Status != "queued" || wait < 24*time.Hour || wait > 24*time.Hour+24*time.Hour/10 {
		t.Fatalf("after the 9th attempt: %s, next in %v; want queued for a day later", row.Status, wait)
	}
	row = deliveryByID(t, s, tenth.ID)
	if row.Status != "failed" || row.LeaseUntil != nil || row.DeliveredAt != nil || row.Attempts != 10 {
		t.Fatalf("after the 10th attempt: %+v; want failed, no lease", row)
	}
	if n := len(webhookAttemptRows(t, s, tenth.ID)); n != 1 {
		t.Fatalf("%d attempt rows for the last attempt; want 1", n)
	}
	if got, want := endpointStateOf(t, s, ep.ID), (endpointState{Active: true, FailingSince: at(testNow)}); got != want {
		t.Fatalf("endpoint = %+v; want %+v", got, want)
	}
}

func TestRecordWebhookResults_GoneDisablesTheEndpointAtOnce(t *testing.T) {
	s, _ := newTestStore(t)
	owner := newOwner(t, s)
	ep, _, err := s.CreateWebhookEndpoint(context.Background(), WebhookInput{URL: hookURL, Active: true}, owner.ID)
	if err != nil {
		t.Fatal(err)
	}
	other, _ := newWebhookEndpoint(t, s, hookURL+"/other")
	gone := sendTestWebhook(t, s, ep.ID)
	waiting := sendTestWebhook(t, s, ep.ID)
	fine := sendTestWebhook(t, s, other.ID)
	claimed := byDeliveryID(claimWebhooks(t, s, 10))
	result := answered(claimed[gone.ID], 410)
	result.Gone = true
	disabled := recordWebhooks(t, s, result, answered(claimed[fine.ID], 200))
	if len(disabled) != 1 || disabled[0].ID != ep.ID || disabled[0].URL != hookURL || !strings.Contains(disabled[0].Reason, "410") ||
		disabled[0].AccountID == nil || *disabled[0].AccountID != owner.ID {
		t.Fatalf("disabled = %+v; want endpoint %d of account %d, for its 410", disabled, ep.ID, owner.ID)
	}
	if row := deliveryByID(t, s, gone.ID); row.Status != "failed" {
		t.Fatalf("the delivery answered 410 is %s; want failed", row.Status)
	}
	state := endpointStateOf(t, s, ep.ID)
	if state.Active || state.DisabledReason != disabled[0].Reason || state.FailingSince != at(testNow) {
		t.Fatalf("endpoint after a 410 = %+v; want inactive for %q", state, disabled[0].Reason)
	}
	if got := endpointStateOf(t, s, other.ID); got != healthy {
		t.Fatalf("the other endpoint = %+v; want healthy", got)
	}
	if row := deliveryByID(t, s, waiting.ID); row.Status != "sending" {
		t.Fatalf("the endpoint's other delivery is %s; want still under its claim", row.Status)
	}

	// Turned back on by its owner, it starts afresh.
	if got := endpointStateOf(t, s, setWebhookActive(t, s, ep.ID, true).ID); got != healthy {
		t.Fatalf("endpoint turned back on = %+v; want %+v", got, healthy)
	}
}

func TestRecordWebhookResults_ThreeDaysOfFailuresDisableTheEndpoint(t *testing.T) {
	s, clock := newTestStore(t)
	ep, _ := newWebhookEndpoint(t, s, hookURL)
	// failAt queues a delivery at now and fails every delivery due.
	failAt := func(now time.Time) []DisabledEndpoint {
		t.Helper()
		clock.Set(now)
		sendTestWebhook(t, s, ep.ID)
		var results []WebhookResult
		for _, d := range claimWebhooks(t, s, 10) {
			results = append(results, answered(d, 502))
		}
		return recordWebhooks(t, s, results...)
	}
	failAt(testNow)
	if disabled := failAt(testNow.Add(webhookFailingLimit - time.Second)); len(disabled) != 0 {
		t.Fatalf("disabled %+v a second before three days of failures", disabled)
	}
	if got, want := endpointStateOf(t, s, ep.ID), (endpointState{Active: true, FailingSince: at(testNow)}); got != want {
		t.Fatalf("endpoint after failures = %+v; want %+v (failing since the first)", got, want)
	}
	disabled := failAt(testNow.Add(webhookFailingLimit))
	if len(disabled) != 1 || disabled[0].ID != ep.ID || !strings.Contains(disabled[0].Reason, "three days") {
		t.Fatalf("disabled = %+v after three days of failures; want the endpoint, saying three days", disabled)
	}
	if got := endpointStateOf(t, s, ep.ID); got.Active || got.DisabledReason != disabled[0].Reason {
		t.Fatalf("endpoint = %+v; want inactive for %q", got, disabled[0].Reason)
	}
}

// A worker slower than its lease loses the delivery to another claim: what
// it then reports changes nothing and is not logged.
func TestRecordWebhookResults_AStaleClaimsResultIsIgnored(t *testing.T) {
	s, clock := newTestStore(t)
	ep, _ := newWebhookEndpoint(t, s, hookURL)
	d := sendTestWebhook(t, s, ep.ID)
	first := claimWebhooks(t, s, 1)[0]
	clock.Set(testNow.Add(2 * time.Minute))
	second := claimWebhooks(t, s, 1)
	if len(second) != 1 || second[0].Attempts != 2 {
		t.Fatalf("claim after the lease = %+v; want attempt 2", second)
	}
	gone := answered(first, 410)
	gone.Gone = true
	for _, late := range []WebhookResult{answered(first, 200), answered(first, 500), gone} {
		if disabled := recordWebhooks(t, s, late); len(disabled) != 0 {
			t.Fatalf("a stale result disabled %+v", disabled)
		}
		row := deliveryByID(t, s, d.ID)
		if row.Status != "sending" || row.Attempts != 2 || stamp(row.LeaseUntil) != at(testNow.Add(3*time.Minute)) {
			t.Fatalf("after a stale %d: %+v; want still sending under the second claim", late.StatusCode, row)
		}
		if n := len(webhookAttemptRows(t, s, d.ID)); n != 0 {
			t.Fatalf("a stale result was logged: %d attempt rows", n)
		}
		if got := endpointStateOf(t, s, ep.ID); got != healthy {
			t.Fatalf("a stale %d changed the endpoint: %+v", late.StatusCode, got)
		}
	}
	recordWebhooks(t, s, answered(second[0], 200))
	if row := deliveryByID(t, s, d.ID); row.Status != "delivered" {
		t.Fatalf("the current claim's success was not recorded: %s", row.Status)
	}
	// A result for a delivery under no claim at all is ignored too.
	recordWebhooks(t, s, answered(second[0], 500))
	if row := deliveryByID(t, s, d.ID); row.Status != "delivered" || len(webhookAttemptRows(t, s, d.ID)) != 1 {
		t.Fatalf("a second result for a recorded claim changed it: %s", row.Status)
	}
}

func TestInstances_ClaimEveryWebhookDeliveryOnce(t *testing.T) {
	stores := openInstances(t, 2)
	ctx := context.Background()
	ep, _, err := stores[0].CreateWebhookEndpoint(ctx, WebhookInput{URL: hookURL, Active: true}, 0)
	if err != nil {
		t.Fatal(err)
	}
	const deliveries, workersPerStore = 200, 3
	for range deliveries {
		if _, err := stores[0].SendTestWebhook(ctx, ep.ID); err != nil {
			t.Fatal(err)
		}
	}
	var mu sync.Mutex
	claimedBy := map[int64]int{}
	errs := make([]error, 2*workersPerStore)
	pgtest.AtOnce(len(errs), func(i int) {
		for {
			batch, err := stores[i%2].ClaimWebhookDeliveries(ctx, 7, time.Minute)
			if err != nil {
				errs[i] = err
				return
			}
			if len(batch) == 0 {
				return
			}
			mu.Lock()
			for _, d := range batch {
				claimedBy[d.ID]++
			}
			mu.Unlock()
		}
	})
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	if len(claimedBy) != deliveries {
		t.Fatalf("claimed %d distinct deliveries; want %d", len(claimedBy), deliveries)
	}
	for id, n := range claimedBy {
		if n != 1 {
			t.Fatalf("delivery %d claimed %d times under a live lease", id, n)
		}
	}
	if n := countWebhookRows(t, stores[1], "webhook_deliveries", "status = ? AND attempts = 1", OutboxSending); n != deliveries {
		t.Fatalf("%d deliveries sending on their first attempt; want %d", n, deliveries)
	}
}

func TestReplayWebhookDelivery_QueuesItAgainWithTheSameEvent(t *testing.T) {
	s, clock := newTestStore(t)
	ctx := context.Background()
	ep, _ := newWebhookEndpoint(t, s, hookURL)
	other, _ := newWebhookEndpoint(t, s, hookURL+"/other")
	delivered := sendTestWebhook(t, s, ep.ID)
	failed := sendTestWebhook(t, s, ep.ID)
	busy := sendTestWebhook(t, s, other.ID)
	setDeliveryAttempts(t, s, failed.ID, len(webhookRetries))
	first := byDeliveryID(claimWebhooks(t, s, 10))
	recordWebhooks(t, s, answered(first[delivered.ID], 200), answered(first[failed.ID], 500))
	if got := deliveryByID(t, s, failed.ID).Status; got != "failed" {
		t.Fatalf("setup: delivery is %s; want failed", got)
	}

	for _, tc := range []struct {
		name                   string
		endpointID, deliveryID int64
	}{
		{"another endpoint's delivery", ep.ID, busy.ID},
		{"through another endpoint", other.ID, delivered.ID},
		{"unknown delivery", ep.ID, busy.ID + 100},
	} {
		if err := s.ReplayWebhookDelivery(ctx, tc.endpointID, tc.deliveryID); !errors.Is(err, ErrNotFound) {
			t.Errorf("replay of %s = %v; want ErrNotFound", tc.name, err)
		}
	}
	assertConflict(t, "replay of a delivery being sent", s.ReplayWebhookDelivery(ctx, other.ID, busy.ID))

	replayAt := testNow.Add(time.Hour)
	clock.Set(replayAt)
	for _, id := range []int64{delivered.ID, failed.ID} {
		if err := s.ReplayWebhookDelivery(ctx, ep.ID, id); err != nil {
			t.Fatalf("replay %d: %v", id, err)
		}
		row := deliveryByID(t, s, id)
		if row.Status != "queued" || row.Attempts != 0 || !row.NextAttemptAt.Equal(replayAt) || row.LeaseUntil != nil {
			t.Fatalf("replayed %d = %+v; want queued, attempts 0, due %s", id, row, at(replayAt))
		}
	}
	again := byDeliveryID(claimWebhooks(t, s, 10))
	if len(again) != 3 { // the other endpoint's lease ran out too
		t.Fatalf("claimed %d after the replays; want 3", len(again))
	}
	for _, id := range []int64{delivered.ID, failed.ID} {
		if again[id].Attempts != 1 || again[id].MessageID() != first[id].MessageID() || !reflect.DeepEqual(again[id].Body, first[id].Body) {
			t.Errorf("replay of %d claimed as %+v; want attempt 1 with message id %s and the same body", id, again[id], first[id].MessageID())
		}
	}
	if n := len(webhookAttemptRows(t, s, failed.ID)); n != 1 {
		t.Fatalf("the replay lost the delivery's log: %d attempts; want 1", n)
	}
}

func TestSendTestWebhook_QueuesATestEventToThatEndpointOnly(t *testing.T) {
	s, _ := newTestStore(t)
	ctx := context.Background()
	ep, _ := newWebhookEndpoint(t, s, hookURL, EventRegistrationCreated)
	newWebhookEndpoint(t, s, hookURL+"/everything")
	eventID, err := s.SendTestWebhook(ctx, ep.ID)
	if err != nil {
		t.Fatal(err)
	}
	events := webhookEvents(t, s)
	if len(events) != 1 || events[0].ID != eventID || events[0].RegistrationID.Valid {
		t.Fatalf("events = %+v; want the test event %d alone", events, eventID)
	}
	assertEventData(t, events[0], EventWebhookTest, testNow, map[string]any{"endpoint_id": float64(ep.ID)})
	deliveries := webhookDeliveries(t, s, "1 = 1")
	if len(deliveries) != 1 || deliveries[0].EndpointID != ep.ID || deliveries[0].EventID != eventID || deliveries[0].Status != "queued" {
		t.Fatalf("deliveries = %+v; want one, queued to endpoint %d", deliveries, ep.ID)
	}
	if _, err := s.SendTestWebhook(ctx, ep.ID+100); !errors.Is(err, ErrNotFound) {
		t.Fatalf("test event to an unknown endpoint = %v; want ErrNotFound", err)
	}
}

func TestWebhookAttempts_NewestFirstInPagesWithTheirEventTypes(t *testing.T) {
	s, clock := newTestStore(t)
	ctx := context.Background()
	p, sess := newTestPanel(t, s, 10, false)
	ep, _ := newWebhookEndpoint(t, s, hookURL)
	other, _ := newWebhookEndpoint(t, s, hookURL+"/other", EventRegistrationCreated)
	signUp(t, s, p.ID, sess.ID, "a@example.com")
	created := webhookDeliveries(t, s, "endpoint_id = ?", ep.ID)[0]
	test := sendTestWebhook(t, s, ep.ID)
	claimed := byDeliveryID(claimWebhooks(t, s, 10))
	otherDelivery := webhookDeliveries(t, s, "endpoint_id = ?", other.ID)[0]
	recordWebhooks(t, s, answered(claimed[created.ID], 500), answered(claimed[test.ID], 200),
		answered(claimed[otherDelivery.ID], 500))
	later := testNow.Add(time.Minute)
	clock.Set(later)
	retry := claimWebhooks(t, s, 10)
	if len(retry) != 2 {
		t.Fatalf("claimed %d retries; want 2", len(retry))
	}
	recordWebhooks(t, s, answered(byDeliveryID(retry)[created.ID], 200))

	newest, err := s.WebhookAttempts(ctx, ep.ID, 0, 2)
	if err != nil {
		t.Fatal(err)
	}
	type line struct {
		DeliveryID  int64
		AttemptedAt string
		EventType   string
		StatusCode  int
		Error       string
		DurationMS  int
		Status      string
	}
	lineOf := func(a WebhookAttempt) line {
		return line{a.DeliveryID, at(a.AttemptedAt), a.EventType, a.StatusCode, a.Error, a.DurationMS, a.DeliveryStatus}
	}
	want := []line{
		{created.ID, at(later), EventRegistrationCreated, 200, "", 120, "delivered"},
		{test.ID, at(testNow), EventWebhookTest, 200, "", 120, "delivered"},
	}
	if len(newest) != 2 || lineOf(newest[0]) != want[0] || lineOf(newest[1]) != want[1] || newest[0].ID <= newest[1].ID {
		t.Fatalf("newest page = %+v\n\twant %+v", newest, want)
	}
	rest, err := s.WebhookAttempts(ctx, ep.ID, newest[1].ID, 2)
	wantRest := line{created.ID, at(testNow), EventRegistrationCreated, 500, "answered 500", 120, "delivered"}
	if err != nil || len(rest) != 1 || lineOf(rest[0]) != wantRest {
		t.Fatalf("page before %d = %+v, %v; want %+v", newest[1].ID, rest, err, wantRest)
	}
	if empty, err := s.WebhookAttempts(ctx, ep.ID, rest[0].ID, 2); err != nil || len(empty) != 0 {
		t.Fatalf("page before the oldest = %+v, %v; want none", empty, err)
	}
}

func TestWebhookEndpointHealth_CountsTheLastDaysAttemptsAndWhatWaits(t *testing.T) {
	s, clock := newTestStore(t)
	ctx := context.Background()
	ep, _ := newWebhookEndpoint(t, s, hookURL)
	other, _ := newWebhookEndpoint(t, s, hookURL+"/other")
	early := sendTestWebhook(t, s, ep.ID)
	elsewhere := sendTestWebhook(t, s, other.ID)
	claimed := byDeliveryID(claimWebhooks(t, s, 10))
	recordWebhooks(t, s, answered(claimed[early.ID], 500), answered(claimed[elsewhere.ID], 500))

	hourLater := testNow.Add(time.Hour)
	clock.Set(hourLater)
	fails := sendTestWebhook(t, s, ep.ID)
	leased := sendTestWebhook(t, s, ep.ID)
	claimed = byDeliveryID(claimWebhooks(t, s, 10))
	if len(claimed) != 4 {
		t.Fatalf("claimed %d; want 4", len(claimed))
	}
	recordWebhooks(t, s, answered(claimed[early.ID], 200), answered(claimed[fails.ID], 503),
		answered(claimed[elsewhere.ID], 200))
	sendTestWebhook(t, s, ep.ID)
	_ = leased // claimed, never recorded: still sending

	for _, tc := range []struct {
		now  time.Time
		want WebhookHealth
	}{
		{hourLater, WebhookHealth{Delivered: 1, Failed: 2, Queued: 3}},
		{testNow.Add(24 * time.Hour), WebhookHealth{Delivered: 1, Failed: 2, Queued: 3}},
		{testNow.Add(24*time.Hour + time.Second), WebhookHealth{Delivered: 1, Failed: 1, Queued: 3}},
		{hourLater.Add(24*time.Hour + time.Second), WebhookHealth{Queued: 3}},
	} {
		clock.Set(tc.now)
		got, err := s.WebhookEndpointHealth(ctx, ep.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.LastAttemptAt == nil || at(*got.LastAttemptAt) != at(hourLater) {
			t.Errorf("at %s: last attempt %s; want %s", at(tc.now), stamp(got.LastAttemptAt), at(hourLater))
		}
		got.LastAttemptAt = nil
		if got != tc.want {
			t.Errorf("health at %s = %+v; want %+v", at(tc.now), got, tc.want)
		}
	}
	fresh, _ := newWebhookEndpoint(t, s, hookURL+"/fresh")
	if got, err := s.WebhookEndpointHealth(ctx, fresh.ID); err != nil || got != (WebhookHealth{}) {
		t.Fatalf("health of a new endpoint = %+v, %v; want zero", got, err)
	}
}

func TestDeleteWebhookEndpoint_RemovesDeliveriesAndAttemptsKeepsEvents(t *testing.T) {
	s, _ := newTestStore(t)
	ctx := context.Background()
	p, sess := newTestPanel(t, s, 10, false)
	ep, _ := newWebhookEndpoint(t, s, hookURL)
	kept, _ := newWebhookEndpoint(t, s, hookURL+"/kept")
	signUp(t, s, p.ID, sess.ID, "a@example.com")
	sendTestWebhook(t, s, ep.ID)
	claimed := claimWebhooks(t, s, 10)
	results := make([]WebhookResult, len(claimed))
	for i, d := range claimed {
		results[i] = answered(d, 500)
	}
	recordWebhooks(t, s, results...)
	if n := countWebhookRows(t, s, "webhook_attempts", "endpoint_id = ?", ep.ID); n != 2 {
		t.Fatalf("setup: %d attempts; want 2", n)
	}

	if err := s.DeleteWebhookEndpoint(ctx, ep.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.WebhookEndpointByID(ctx, ep.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("deleted endpoint found: %v", err)
	}
	for _, table := range []string{"webhook_deliveries", "webhook_attempts"} {
		if n := countWebhookRows(t, s, table, "endpoint_id = ?", ep.ID); n != 0 {
			t.Errorf("%d %s of the deleted endpoint remain", n, table)
		}
		if n := countWebhookRows(t, s, table, "endpoint_id = ?", kept.ID); n != 1 {
			t.Errorf("the other endpoint has %d %s; want 1", n, table)
		}
	}
	if n := countWebhookRows(t, s, "webhook_events", "1 = 1"); n != 2 {
		t.Fatalf("%d events remain; want both", n)
	}
	if err := s.DeleteWebhookEndpoint(ctx, ep.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("deleting it again = %v; want ErrNotFound", err)
	}
}

// Changes that change nothing tell no webhook: the same report applied
// again, a session saved as it was.
func TestWebhookEvents_NoneForAChangeThatChangesNothing(t *testing.T) {
	s, clock := newTestStore(t)
	ctx := context.Background()
	p, sess := afterLivePanel(t, s, 10, false)
	signUp(t, s, p.ID, sess.ID, "ada@example.com")
	signUp(t, s, p.ID, sess.ID, "bob@example.com")
	newWebhookEndpoint(t, s, hookURL, EventAttendanceRecorded, EventSessionUpdated)
	clock.Set(sess.EndsAt().Add(time.Minute))
	report := plainReport(attendee("ada@example.com", 40, true))
	importAttendance(t, s, sess.ID, report)
	if n := len(webhookEvents(t, s)); n != 2 {
		t.Fatalf("first import: %d events; want one per registrant", n)
	}
	importAttendance(t, s, sess.ID, report)
	if n := len(webhookEvents(t, s)); n != 2 {
		t.Fatalf("the same report again: %d events; want none more", n)
	}
	importAttendance(t, s, sess.ID, plainReport(attendee("ada@example.com", 41, true)))
	if n := len(webhookEvents(t, s)); n != 3 {
		t.Fatalf("a report changing one registrant's minutes: %d events; want one more", n)
	}
	if _, err := s.EditSession(ctx, sess.ID, sessionUpdateOf); err != nil {
		t.Fatal(err)
	}
	if n := len(webhookEvents(t, s)); n != 3 {
		t.Fatalf("a session saved as it was: %d events; want none more", n)
	}
	if _, err := s.EditSession(ctx, sess.ID, func(cur *Session) SessionUpdate {
		upd := sessionUpdateOf(cur)
		upd.RecordingURL = recordingURL
		return upd
	}); err != nil {
		t.Fatal(err)
	}
	if events := webhookEvents(t, s); len(events) != 4 || events[3].Type != EventSessionUpdated {
		t.Fatalf("adding a recording: %d events; want a session.updated", len(events))
	}
}
