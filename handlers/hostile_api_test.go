package handlers

import (
	"encoding/json"
	"maps"
	"net/http"
	"strings"
	"testing"
)

// apiTarget is an API route and the hostile requests to it.
type apiTarget struct {
	name, method, path string
	// valid is a body that would succeed; nil for routes without a body.
	valid map[string]any
	cases []apiCase
}

// apiCase is one hostile request.
type apiCase struct {
	name string
	// method and path replace the target's.
	method, path string
	// set replaces top-level fields of the valid body.
	set map[string]any
	// raw is the whole body, sent as it is when sendRaw is set.
	raw         string
	sendRaw     bool
	contentType string // default application/json; "-" sends none
	auth        string // default the valid bearer token; "-" sends none
	oversize    bool   // announce a body over the 64 KiB limit
	status      int
	// msg must be in the problem's detail or a field message; field must be
	// one of the fields it names.
	msg, field string
}

// rawBody is a case whose body is sent exactly as written.
func rawBody(name, body string, status int, msg string) apiCase {
	return apiCase{name: name, raw: body, sendRaw: true, status: status, msg: msg}
}

const (
	notJSON  = "Send the body as JSON, with Content-Type: application/json."
	noToken  = "A valid API token is required"
	nullMsg  = "This field cannot be null"
	whole    = "Give a whole number that fits this field"
	rfcMsg   = "Give a real date and time in RFC 3339"
	typeText = "Give a string."
)

// apiAuthCases send no token or a bad one.
func apiAuthCases() []apiCase {
	return []apiCase{
		{name: "no token", auth: "-", status: 401, msg: noToken},
		{name: "malformed token", auth: "Bearer not-a-token", status: 401, msg: noToken},
		{name: "token with SQL", auth: "Bearer podium_' OR 1=1 --" + strings.Repeat("x", 17), status: 401, msg: noToken},
		{name: "basic auth", auth: "Basic b3duZXJAZXhhbXBsZS5jb206cGFzcw==", status: 401, msg: noToken},
	}
}

// apiBodyCases spoil how any JSON body is sent and framed.
func apiBodyCases() []apiCase {
	return append([]apiCase{
		{name: "text/plain", contentType: "text/plain", status: 415, msg: notJSON},
		{name: "urlencoded form", contentType: "application/x-www-form-urlencoded", status: 415, msg: notJSON},
		{name: "multipart", contentType: "multipart/form-data; boundary=x", raw: "--x\r\nContent-Disposition: form-data; " +
			"name=\"title\"\r\n\r\nx\r\n--x--\r\n", sendRaw: true, status: 415, msg: notJSON},
		{name: "broken multipart", contentType: "multipart/form-data; boundary=x", raw: "--x\r\nContent-Disposition: form-data; " +
			"name=\"_csrf\"\r\n\r\nabc\r\n--x", sendRaw: true, status: 415, msg: notJSON},
		{name: "no Content-Type", contentType: "-", status: 415, msg: notJSON},
		{name: "broken Content-Type", contentType: "application/json; charset", status: 415, msg: notJSON},
		rawBody("empty body", "", 400, "The body is empty"),
		rawBody("JSON array", "[]", 400, "The body must be a JSON object."),
		rawBody("JSON string", `"title"`, 400, "The body must be a JSON object."),
		rawBody("cut-off JSON", `{"title": "x"`, 400, "it ends too early"),
		rawBody("JSON with a syntax error", `{title: "x"}`, 400, "The body is not valid JSON"),
		rawBody("two JSON objects", `{} {}`, 400, "one JSON object and nothing after it"),
		rawBody("invalid UTF-8", "{\"title\": \"Bad \xff\xfe\"}", 400, "not valid UTF-8"),
		{name: "unknown field", set: map[string]any{"is_admin": true}, status: 422, field: "is_admin",
			msg: "This field is unknown or cannot be changed here."},
		{name: "body over 64 KiB", oversize: true, status: 413, msg: "too large"},
	}, apiAuthCases()...)
}

// apiBadIDs are the cases of a route with an id in its path.
func apiBadIDs(path string) []apiCase {
	ids := []struct{ name, id string }{{"a word", "abc"}, {"-1", "-1"}, {"0", "0"}, {"2^63", "9223372036854775808"},
		{"unknown", "999999"}, {"SQL", "1%20OR%201%3D1"}}
	out := make([]apiCase, len(ids))
	for i, id := range ids {
		out[i] = apiCase{name: "id " + id.name, path: strings.Replace(path, "%s", id.id, 1), status: 404}
	}
	return out
}

func apiTargets() []apiTarget {
	targets := []apiTarget{apiPanelCreateTarget(), apiPanelPatchTarget(), apiSessionAddTarget(), apiSessionPatchTarget(),
		apiRegistrationTarget()}
	for i := range targets {
		targets[i].cases = append(targets[i].cases, apiBodyCases()...)
	}
	return append(targets, apiSessionCancelTarget(), apiRegistrationCancelTarget(), apiMethodsTarget())
}

// validAPISession is a session that would be added.
func validAPISession() map[string]any {
	return map[string]any{"starts_at": "2026-12-10T15:00:00Z", "duration_minutes": 60, "time_zone": "Europe/London",
		"capacity": 10, "waitlist": true, "join_url": "https://meet.example.com/api"}
}

// apiSessionCases spoil a session's fields; put places the spoiled session
// in a body (alone, or inside a new panel).
func apiSessionCases(put func(map[string]any) map[string]any) []apiCase {
	spoil := func(name, field string, value any, status int, msg string) apiCase {
		s := validAPISession()
		s[field] = value
		return apiCase{name: name, set: put(s), status: status, msg: msg}
	}
	return []apiCase{
		spoil("start on 30 February", "starts_at", "2026-02-30T10:00:00Z", 422, rfcMsg),
		spoil("start at 24:61", "starts_at", "2026-12-03T24:61:00Z", 422, rfcMsg),
		spoil("start in year 0", "starts_at", "0000-01-01T10:00:00Z", 422, "Enter a start from 1970 to 30 December 9999."),
		spoil("start in year 99999", "starts_at", "99999-01-01T10:00:00Z", 422, rfcMsg),
		spoil("start at the end of 9999", "starts_at", "9999-12-31T23:30:00Z", 422, "Enter a start from 1970 to 30 December 9999."),
		spoil("start without a zone", "starts_at", "2026-12-03 15:00", 422, rfcMsg),
		spoil("start as a number", "starts_at", 1796310000, 422, rfcMsg),
		spoil("start null", "starts_at", nil, 422, nullMsg),
		spoil("zone Local", "time_zone", "Local", 422, zoneMsg),
		spoil("empty zone", "time_zone", "", 422, zoneMsg),
		spoil("zone UTC+2", "time_zone", "UTC+2", 422, zoneMsg),
		spoil("zone as path traversal", "time_zone", "../../etc/passwd", 422, zoneMsg),
		spoil("zone with a trailing space", "time_zone", "Europe/London ", 422, zoneMsg),
		spoil("duration 0", "duration_minutes", 0, 422, durationRange),
		spoil("duration 1441", "duration_minutes", 1441, 422, durationRange),
		spoil("duration 2^63-1", "duration_minutes", json.Number("9223372036854775807"), 422, durationRange),
		spoil("duration 2^63", "duration_minutes", json.Number("9223372036854775808"), 422, whole),
		spoil("duration 1.5", "duration_minutes", 1.5, 422, whole),
		spoil("duration as a string", "duration_minutes", "60", 422, whole),
		spoil("capacity -1", "capacity", -1, 422, capacityRange),
		spoil("capacity 1e9", "capacity", json.Number("1e9"), 422, whole),
		spoil("capacity 2^63", "capacity", json.Number("9223372036854775808"), 422, whole),
		spoil("capacity 1000001", "capacity", 1000001, 422, capacityRange),
		spoil("capacity as a string", "capacity", "100", 422, whole),
		spoil("waitlist as a string", "waitlist", "yes", 422, "Give true or false."),
		spoil("join link javascript:", "join_url", "javascript:alert(1)", 422, joinMsg),
		spoil("join link data:", "join_url", "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==", 422, joinMsg),
		spoil("join link http:", "join_url", "http://meet.example.com/x", 422, joinMsg),
		spoil("join link with bidi override", "join_url", "https://meet.example.com/\u202egpj.exe", 422, joinMsg),
		spoil("join link with LF", "join_url", "https://meet.example.com/x\nLOCATION:evil", 422, joinMsg),
		spoil("venue with NUL", "venue", "Hall\u0000", 422, venueMsg),
		spoil("venue of 501 characters", "venue", strings.Repeat("v", 501), 422, venueMsg),
		spoil("closing in year 1", "registration_closes_at", "0001-01-01T00:00:00Z", 422, "Enter a closing time after 1970."),
		spoil("closing after the end", "registration_closes_at", "2027-01-01T00:00:00Z", 422, "Registration must close before the session ends."),
		spoil("status field", "status", "cancelled", 422, "This field is unknown or cannot be changed here."),
	}
}

func apiPanelCreateTarget() apiTarget {
	set := func(field string, value any) map[string]any { return map[string]any{field: value} }
	cases := []apiCase{
		// encoding/json leaves a field alone for null, so a new panel's null title is an empty one.
		{name: "title null", set: set("title", nil), status: 422, field: "title", msg: titleMsg},
		{name: "title as a number", set: set("title", 42), status: 422, field: "title", msg: typeText},
		{name: "empty title", set: set("title", ""), status: 422, field: "title", msg: titleMsg},
		{name: "title of 201 characters", set: set("title", overlong201), status: 422, field: "title", msg: titleMsg},
		{name: "title with NUL", set: set("title", "API\u0000panel"), status: 422, field: "title", msg: lineMsg},
		{name: "title with LF", set: set("title", "API\npanel"), status: 422, field: "title", msg: lineMsg},
		{name: "title with bidi override", set: set("title", "\u202elenap IPA"), status: 422, field: "title", msg: lineMsg},
		{name: "title with line separator", set: set("title", "API\u2028panel"), status: 422, field: "title", msg: lineMsg},
		rawBody("the same key twice, the last empty", `{"title": "API panel", "title": ""}`, 422, titleMsg),
		{name: "slug as path traversal", set: set("slug", "../x"), status: 422, field: "slug", msg: slugMsg},
		{name: "slug with SQL", set: set("slug", "x'; DROP TABLE panels; --"), status: 422, field: "slug", msg: slugMsg},
		{name: "slug of another panel", set: set("slug", "other"), status: 422, field: "slug", msg: slugTakenMsg},
		{name: "unknown status", set: set("status", "deleted"), status: 422, field: "status", msg: "Choose draft, published or archived."},
		{name: "published without a session", set: map[string]any{"status": "published", "sessions": []any{}}, status: 422,
			field: "status", msg: "Add a session before publishing the panel."},
		{name: "organizer email as javascript URL", set: set("organizer_email", "javascript:alert(1)"), status: 422,
			field: "organizer_email", msg: orgEmailMsg},
		{name: "organizer email with header injection", set: set("organizer_email", crlfInjection), status: 422,
			field: "organizer_email", msg: orgEmailMsg},
		{name: "reminder of 0 minutes", set: set("reminder_minutes", []int{0}), status: 422, field: "reminder_minutes", msg: remindersMsg},
		{name: "reminder of 2^63-1 minutes", set: set("reminder_minutes", []any{json.Number("9223372036854775807")}), status: 422,
			field: "reminder_minutes", msg: remindersMsg},
		{name: "reminder of 2^63 minutes", set: set("reminder_minutes", []any{json.Number("9223372036854775808")}), status: 422, msg: whole},
		{name: "reminder of 1e9 minutes", set: set("reminder_minutes", []any{json.Number("1e9")}), status: 422, msg: whole},
		{name: "reminders as a string", set: set("reminder_minutes", "1440"), status: 422, field: "reminder_minutes", msg: "Give a JSON array."},
		{name: "21 learning points", set: set("learning_points", strings.Split(strings.Repeat("p,", 20)+"p", ",")), status: 422,
			field: "learning_points", msg: "Use at most 20 learning points."},
		{name: "empty learning point", set: set("learning_points", []string{" "}), status: 422, field: "learning_points[0]",
			msg: "Write the learning point or remove it."},
		{name: "speaker without a name", set: set("speakers", []any{map[string]any{"role": "Admiral"}}), status: 422,
			field: "speakers[0].name", msg: "Give the speaker's name or remove the speaker."},
		{name: "speaker bio with NUL", set: set("speakers", []any{map[string]any{"name": "Grace", "bio": "\u0000"}}), status: 422,
			field: "speakers[0].bio", msg: "Keep this under 2000 characters, without control characters."},
		{name: "speaker with an unknown field", set: set("speakers", []any{map[string]any{"name": "Grace", "age": 3}}), status: 422,
			field: "age", msg: "This field is unknown or cannot be changed here."},
		{name: "question of an unknown kind", set: set("questions", []any{map[string]any{"kind": "essay", "label": "Why?"}}), status: 422,
			field: "questions[0].kind", msg: "Choose short text, long text, single choice, multiple choice or checkbox."},
		{name: "question label with bidi override", set: set("questions", []any{map[string]any{"kind": "short_text", "label": "\u202e?yhW"}}),
			status: 422, field: "questions[0].label", msg: labelMsg},
		{name: "51 questions", set: set("questions", fiftyOneQuestions()), status: 422, field: "questions", msg: "Use at most 50 questions."},
	}
	cases = append(cases, apiSessionCases(func(s map[string]any) map[string]any {
		return map[string]any{"sessions": []any{s}}
	})...)
	return apiTarget{name: "API panel create", method: http.MethodPost, path: "/api/v1/panels",
		valid: map[string]any{"title": "API panel", "slug": "api-panel", "status": "draft", "sessions": []any{validAPISession()}},
		cases: cases}
}

func fiftyOneQuestions() []any {
	out := make([]any, 51)
	for i := range out {
		out[i] = map[string]any{"kind": "short_text", "label": "Question " + itoa(int64(i))}
	}
	return out
}

func apiPanelPatchTarget() apiTarget {
	set := func(field string, value any) map[string]any { return map[string]any{field: value} }
	cases := []apiCase{
		{name: "title null", set: set("title", nil), status: 422, field: "title", msg: nullMsg},
		{name: "empty title", set: set("title", ""), status: 422, field: "title", msg: titleMsg},
		{name: "title with NUL", set: set("title", "\u0000"), status: 422, field: "title", msg: lineMsg},
		{name: "title with zero-width space", set: set("title", "Hostile\u200bpanel"), status: 422, field: "title", msg: lineMsg},
		{name: "slug of another panel", set: set("slug", "other"), status: 422, field: "slug", msg: slugTakenMsg},
		{name: "slug with template syntax", set: set("slug", "${7*7}"), status: 422, field: "slug", msg: slugMsg},
		{name: "unknown status", set: set("status", "deleted"), status: 422, field: "status", msg: "Choose draft, published or archived."},
		{name: "status null", set: set("status", nil), status: 422, field: "status", msg: nullMsg},
		{name: "learning points null", set: set("learning_points", nil), status: 422, field: "learning_points", msg: nullMsg},
		{name: "reminders null", set: set("reminder_minutes", nil), status: 422, field: "reminder_minutes", msg: nullMsg},
		{name: "reminder of 2^63-1 minutes", set: set("reminder_minutes", []any{json.Number("9223372036854775807")}), status: 422,
			field: "reminder_minutes", msg: remindersMsg},
		{name: "question of an unknown kind", set: set("questions", []any{map[string]any{"id": -1, "kind": "essay", "label": "Q"}}),
			status: 422, field: "questions[0].kind"},
		{name: "id field", set: set("id", 5), status: 422, field: "id", msg: "This field is unknown or cannot be changed here."},
		{name: "sessions field", set: set("sessions", []any{}), status: 422, field: "sessions"},
		{name: "organizer email with header injection", set: set("organizer_email", crlfInjection), status: 422,
			field: "organizer_email", msg: orgEmailMsg},
		{name: "publish the draft without a session", path: "/api/v1/panels/" + fxDraft, set: set("status", "published"), status: 422,
			field: "status", msg: "Add a session before publishing the panel."},
	}
	cases = append(cases, apiBadIDs("/api/v1/panels/%s")...)
	return apiTarget{name: "API panel patch", method: http.MethodPatch, path: "/api/v1/panels/" + fxPanel,
		valid: map[string]any{"summary": "A panel the corpus attacks."}, cases: cases}
}

func apiSessionAddTarget() apiTarget {
	cases := apiSessionCases(func(s map[string]any) map[string]any { return s })
	cases = append(cases, apiBadIDs("/api/v1/panels/%s/sessions")...)
	return apiTarget{name: "API session add", method: http.MethodPost, path: "/api/v1/panels/" + fxPanel + "/sessions",
		valid: validAPISession(), cases: cases}
}

// apiSessionPatchTarget changes the full session, which has a confirmed
// registrant: a refused change must not send updated invites.
func apiSessionPatchTarget() apiTarget {
	set := func(field string, value any) map[string]any { return map[string]any{field: value} }
	cases := []apiCase{
		{name: "start null", set: set("starts_at", nil), status: 422, msg: nullMsg},
		{name: "start in year 0", set: set("starts_at", "0000-01-01T10:00:00Z"), status: 422, field: "starts_at",
			msg: "Enter a start from 1970 to 30 December 9999."},
		{name: "start at the end of 9999", set: set("starts_at", "9999-12-31T23:30:00Z"), status: 422, field: "starts_at"},
		{name: "start on 30 February", set: set("starts_at", "2026-02-30T10:00:00Z"), status: 422, msg: rfcMsg},
		{name: "zone null", set: set("time_zone", nil), status: 422, field: "time_zone", msg: nullMsg},
		{name: "zone Local", set: set("time_zone", "Local"), status: 422, field: "time_zone", msg: zoneMsg},
		{name: "zone as path traversal", set: set("time_zone", "../../../../etc/passwd"), status: 422, field: "time_zone", msg: zoneMsg},
		{name: "duration 2^63-1", set: set("duration_minutes", json.Number("9223372036854775807")), status: 422,
			field: "duration_minutes", msg: durationRange},
		{name: "capacity -1", set: set("capacity", -1), status: 422, field: "capacity", msg: capacityRange},
		{name: "capacity 1e9", set: set("capacity", json.Number("1e9")), status: 422, field: "capacity", msg: whole},
		{name: "join link javascript:", set: set("join_url", "javascript:alert(1)"), status: 422, field: "join_url", msg: joinMsg},
		{name: "join link data:", set: set("join_url", "data:,hello"), status: 422, field: "join_url", msg: joinMsg},
		{name: "venue with bidi override", set: set("venue", "Hall \u202e1"), status: 422, field: "venue", msg: venueMsg},
		{name: "closing after the end", set: set("registration_closes_at", "2027-01-01T00:00:00Z"), status: 422,
			field: "registration_closes_at", msg: "Registration must close before the session ends."},
		{name: "status field", set: set("status", "cancelled"), status: 422, field: "status"},
		{name: "seats taken field", set: set("seats_taken", 0), status: 422, field: "seats_taken"},
		{name: "sequence field", set: set("sequence", 99), status: 422, field: "sequence"},
	}
	cases = append(cases, apiBadIDs("/api/v1/sessions/%s")...)
	return apiTarget{name: "API session patch", method: http.MethodPatch, path: "/api/v1/sessions/" + fxSession,
		valid: map[string]any{"capacity": 1}, cases: cases}
}

func apiRegistrationTarget() apiTarget {
	set := func(field string, value any) map[string]any { return map[string]any{field: value} }
	answer := func(id, value any) map[string]any {
		return set("answers", []any{map[string]any{"question_id": id, "value": value}})
	}
	nameChars := "Your name contains characters we cannot accept."
	badEmail := "Enter a valid email address, like name@example.com."
	cases := []apiCase{
		{name: "empty name", set: set("name", ""), status: 422, field: "name", msg: "Enter your name."},
		{name: "name with NUL", set: set("name", "Nina\u0000"), status: 422, field: "name", msg: nameChars},
		{name: "name with bidi override", set: set("name", bidiOverride), status: 422, field: "name", msg: nameChars},
		{name: "name with zero-width joiner", set: set("name", "Ni\u200dna"), status: 422, field: "name", msg: nameChars},
		{name: "name of 201 characters", set: set("name", overlong201), status: 422, field: "name", msg: "Keep your name under 200 characters."},
		{name: "name as an array", set: set("name", []string{"Nina"}), status: 422, field: "name", msg: typeText},
		{name: "email with header injection", set: set("email", crlfInjection), status: 422, field: "email", msg: badEmail},
		{name: "email with display name", set: set("email", "Nina <nina@example.com>"), status: 422, field: "email", msg: badEmail},
		{name: "email with SQL", set: set("email", sqlOr+"@example.com"), status: 422, field: "email", msg: badEmail},
		{name: "organisation with LF", set: set("organisation", "A\nB"), status: 422, field: "organisation"},
		{name: "job title with NUL", set: set("job_title", "\u0000"), status: 422, field: "job_title"},
		{name: "no consent", set: set("consent", false), status: 422, field: "consent", msg: "Tick the box to agree"},
		{name: "consent as a string", set: set("consent", "yes"), status: 422, field: "consent", msg: "Give true or false."},
		{name: "answer to an unknown question", set: answer(999999, "x"), status: 422, field: "q_999999",
			msg: "This question is not part of the form."},
		{name: "question id as a string", set: answer("abc", "A"), status: 422, msg: whole},
		{name: "answer as a number", set: answer("#"+questionKeys[2], 42), status: 422,
			msg: "Give a string, or an array of strings for a multiple choice question."},
		{name: "two answers to a single choice", set: answer("#"+questionKeys[2], []string{"A", "B"}), status: 422,
			field: "q_" + questionKeys[2], msg: "Give one answer."},
		{name: "choice not offered", set: answer("#"+questionKeys[2], sqlDrop), status: 422, field: "q_" + questionKeys[2],
			msg: "Choose one of the options listed."},
		{name: "long answer with bidi override", set: map[string]any{"answers": []any{
			map[string]any{"question_id": "#" + questionKeys[2], "value": "A"},
			map[string]any{"question_id": "#" + questionKeys[1], "value": "fine \u202egnihton"}}},
			status: 422, field: "q_" + questionKeys[1], msg: "Your answer contains characters we cannot accept."},
		{name: "the same email twice, the last bad", raw: `{"name": "Nina", "email": "nina@example.com", "email": "nobody",
			"consent": true}`, sendRaw: true, status: 422, msg: badEmail},
	}
	cases = append(cases, apiBadIDs("/api/v1/sessions/%s/registrations")...)
	return apiTarget{name: "API registration create", method: http.MethodPost, path: "/api/v1/sessions/" + fxOpenSession + "/registrations",
		valid: map[string]any{"name": "Nina New", "email": "nina@example.com", "consent": true,
			"answers": []any{map[string]any{"question_id": "#" + questionKeys[2], "value": "A"}}}, cases: cases}
}

// apiSessionCancelTarget would cancel the full session.
func apiSessionCancelTarget() apiTarget {
	return apiTarget{name: "API session cancel", method: http.MethodPost, path: "/api/v1/sessions/" + fxSession + "/cancel",
		cases: append(apiAuthCases(), apiBadIDs("/api/v1/sessions/%s/cancel")...)}
}

// apiRegistrationCancelTarget would cancel Ada's registration.
func apiRegistrationCancelTarget() apiTarget {
	return apiTarget{name: "API registration cancel", method: http.MethodPost, path: "/api/v1/registrations/" + fxRegistration + "/cancel",
		cases: append(apiAuthCases(), apiBadIDs("/api/v1/registrations/%s/cancel")...)}
}

// apiMethodsTarget sends methods the API does not offer.
func apiMethodsTarget() apiTarget {
	return apiTarget{name: "API other methods", path: "/api/v1/panels/" + fxPanel, cases: []apiCase{
		{name: "PUT a panel", method: http.MethodPut, set: map[string]any{"title": "x"}, status: 405},
		{name: "DELETE a panel", method: http.MethodDelete, status: 405},
		{name: "DELETE a session", method: http.MethodDelete, path: "/api/v1/sessions/" + fxSession, status: 405},
		{name: "DELETE a registration", method: http.MethodDelete, path: "/api/v1/registrations/" + fxRegistration, status: 404},
	}}
}

func TestHostileInput_API(t *testing.T) {
	fx := newFixture(t)
	ran := 0
	for _, target := range apiTargets() {
		t.Run(target.name, func(t *testing.T) {
			for _, tc := range target.cases {
				ran++
				t.Run(tc.name, func(t *testing.T) { fx.runAPICase(t, target, tc) })
			}
		})
	}
	t.Logf("ran %d hostile API cases", ran)
}

func (fx *fixture) runAPICase(t *testing.T, target apiTarget, tc apiCase) {
	b := fx.env.browser(t)
	switch tc.auth {
	case "":
		b.header.Set("Authorization", "Bearer "+fx.apiSecret)
	case "-":
	default:
		b.header.Set("Authorization", tc.auth)
	}
	method, path := cmpOr(tc.method, target.method), fx.expand(cmpOr(tc.path, target.path))
	body := tc.raw
	if !tc.sendRaw && (target.valid != nil || tc.set != nil) {
		fields := maps.Clone(target.valid)
		if fields == nil {
			fields = map[string]any{}
		}
		maps.Copy(fields, tc.set)
		raw, err := json.Marshal(fx.expandJSON(fields))
		if err != nil {
			t.Fatal(err)
		}
		body = string(raw)
	}
	contentType := "application/json"
	switch tc.contentType {
	case "":
	case "-":
		contentType = ""
	default:
		contentType = tc.contentType
	}

	r := fx.unchangedBy(t, func() response {
		if tc.oversize {
			return fx.env.oversize(t, method, path, contentType, b)
		}
		return b.send(method, path, contentType, fx.expand(body))
	})
	assertProblemSays(t, r, tc.status, tc.msg, fx.expand(tc.field))
}

// expandJSON fills in placeholders in a body's strings; a string "#{key}"
// becomes the number the placeholder stands for.
func (fx *fixture) expandJSON(v any) any {
	switch v := v.(type) {
	case string:
		if key, ok := strings.CutPrefix(v, "#"); ok && strings.HasPrefix(key, "{") {
			return json.Number(fx.expand(key))
		}
		return fx.expand(v)
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, e := range v {
			out[k] = fx.expandJSON(e)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = fx.expandJSON(e)
		}
		return out
	}
	return v
}

// assertProblemSays checks a problem+json answer: its status, a detail or
// field messages, msg among them and field among the fields it names.
func assertProblemSays(t *testing.T, r response, status int, msg, field string) {
	t.Helper()
	p := assertProblem(t, r, status)
	assertNoGoErrors(t, r.body)
	said := p.Detail
	for _, f := range p.Errors {
		said += "\n" + f.Field + ": " + f.Message
	}
	if strings.TrimSpace(said) == "" {
		t.Fatalf("problem %+v has neither a detail nor field messages", p)
	}
	if !strings.Contains(said, msg) {
		t.Fatalf("problem says %q; want %q", said, msg)
	}
	if field != "" && fieldMessage(p, field) == "" {
		t.Fatalf("problem names no field %q: %s", field, said)
	}
}
