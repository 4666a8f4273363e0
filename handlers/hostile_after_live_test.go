package handlers

// The hostile-input corpus for what comes after the live session: the
// personal /j and /w links, the attendance report import and the
// follow-ups (through the API and the admin), and the replay and follow-up
// fields of sessions and panels. As everywhere in the corpus
// (hostile_test.go), a refusal is a clear 4xx without Go's error text and
// changes no table.

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
	"unicode/utf16"

	"podium/models"
)

// afterLive is the corpus fixture with a second panel whose first session
// has ended, with a recording and three registrants (one cancelled); its
// second session is a month away and its third was cancelled. The clock
// stands five minutes after the first session's end.
type afterLive struct {
	*fixture
	after                   *models.Panel
	ended, later, cancelled int64
	// Personal link tokens: Ada's join link to the fixture's full session,
	// Bob's (waitlisted there), the replay link of the ended session's first
	// registrant, its cancelled registrant's join link, and the join link
	// of a registrant of the cancelled session.
	join, waitlistedJoin, watch, cancelledJoin, cancelledSessionJoin string
	// sessionToken is the owner's CSRF token from the ended session's page.
	sessionToken string
}

const (
	afterRecording = "https://video.example.com/after-live"
	// validReport marks the ended session's first registrant attended.
	validReport = "email,minutes\r\nada-after@example.com,50\r\n"
)

func newAfterLive(t *testing.T) *afterLive {
	t.Helper()
	fx := newFixture(t)
	env, ctx := fx.env, t.Context()
	p := env.addPanel(t, "after-live",
		models.Session{StartsAt: testNow.Add(10 * time.Minute), Capacity: 10, RecordingURL: afterRecording},
		models.Session{StartsAt: testNow.Add(30 * 24 * time.Hour), Capacity: 10},
		models.Session{StartsAt: testNow.Add(5 * time.Minute), Capacity: 10})
	al := &afterLive{fixture: fx, after: p, ended: p.Sessions[0].ID, later: p.Sessions[1].ID, cancelled: p.Sessions[2].ID}
	first := env.register(t, p, al.ended, "ada-after@example.com")
	env.register(t, p, al.ended, "bob-after@example.com")
	cara := env.register(t, p, al.ended, "cara-after@example.com")
	env.register(t, p, al.later, "dan-after@example.com")
	eve := env.register(t, p, al.cancelled, "eve-after@example.com")
	if _, err := env.store.CancelRegistration(ctx, cara.Registration.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := env.store.CancelSession(ctx, al.cancelled); err != nil {
		t.Fatal(err)
	}
	al.join = al.personalLink(t, fx.ada.ID, models.LinkJoin)
	al.waitlistedJoin = al.personalLink(t, fx.bob.ID, models.LinkJoin)
	al.watch = al.personalLink(t, first.Registration.ID, models.LinkWatch)
	al.cancelledJoin = al.personalLink(t, cara.Registration.ID, models.LinkJoin)
	al.cancelledSessionJoin = al.personalLink(t, eve.Registration.ID, models.LinkJoin)

	env.clock.Set(p.Sessions[0].EndsAt().Add(5 * time.Minute))
	// The owner's sign-in and the API token note their use after the clock
	// moved here, outside any case.
	page := fx.owner.get(al.sessionPage(al.ended))
	assertStatus(t, page, http.StatusOK)
	al.sessionToken = formFields(t, page.body).Get("_csrf")
	assertStatus(t, al.api(t).get("/api/v1/panels"), http.StatusOK)
	fx.last = nil
	return al
}

// personalLink is a registration's join or replay token, stored if new.
func (al *afterLive) personalLink(t *testing.T, registrationID int64, purpose models.LinkPurpose) string {
	t.Helper()
	token, err := al.env.store.PersonalLink(t.Context(), registrationID, purpose)
	if err != nil {
		t.Fatal(err)
	}
	return token
}

// api is a client with the fixture's API token.
func (al *afterLive) api(t *testing.T) *browser {
	b := al.env.browser(t)
	b.header.Set("Authorization", "Bearer "+al.apiSecret)
	return b
}

// sessionPage is the admin page of one of the after-live panel's sessions.
func (al *afterLive) sessionPage(sid int64) string {
	return fmt.Sprintf("/admin/panels/%d/sessions/%d", al.after.ID, sid)
}

func apiAttendancePath(sid any) string { return fmt.Sprintf("/api/v1/sessions/%v/attendance", sid) }
func apiFollowUpsPath(sid any) string  { return fmt.Sprintf("/api/v1/sessions/%v/follow-ups", sid) }

// assertAdminAnswer checks an admin answer: a 303 back to an admin page
// with an error flash saying msg, or a page with the status (assertAnswer).
func (al *afterLive) assertAdminAnswer(t *testing.T, r response, status int, msg string) {
	t.Helper()
	if status != http.StatusSeeOther {
		assertAnswer(t, r, status, msg)
		return
	}
	assertStatus(t, r, http.StatusSeeOther)
	if loc := r.header.Get("Location"); !strings.HasPrefix(loc, "/admin/") {
		t.Fatalf("Location = %q; want a page of the admin", loc)
	}
	if flash := flashMessage(al.owner); !strings.HasPrefix(flash, "error:") || !strings.Contains(flash, msg) {
		t.Fatalf("flash = %q; want an error saying %q", flash, msg)
	}
}

// tamper changes one character of a token, keeping it base64url.
func tamper(token string) string {
	b := []byte(token)
	if b[10] == 'A' {
		b[10] = 'B'
	} else {
		b[10] = 'A'
	}
	return string(b)
}

// TestHostileAfterLive_PersonalLinks opens /j and /w with tokens that are
// not a link of that kind: each is a 404 that says nothing of why.
func TestHostileAfterLive_PersonalLinks(t *testing.T) {
	al := newAfterLive(t)
	unsubscribe, err := al.env.store.UnsubscribeToken(al.ada.ID)
	if err != nil {
		t.Fatal(err)
	}
	tokens := []struct{ name, token string }{
		{"nothing", ""},
		{"a space", "%20"},
		{"43 spaces", strings.Repeat("%20", 43)},
		{"43 A", strings.Repeat("A", 43)},
		{"43 underscores", strings.Repeat("_", 43)},
		{"a changed character", tamper(al.join)},
		{"42 characters", al.join[:42]},
		{"44 characters", al.join + "A"},
		{"43 characters outside base64", strings.Repeat("*", 43)},
		{"NUL", al.join[:40] + "%00"},
		{"unicode", strings.Repeat("%C3%A9", 7) + "a"},
		{"path traversal", strings.Repeat("..%2f", 8) + "etc"},
		{"path traversal with backslashes", strings.Repeat("..%5c", 8) + "win"},
		{"SQL", url.PathEscape(sqlOr) + strings.Repeat("a", 30)},
		{"script", url.PathEscape(scriptTag)},
		{"LIKE wildcards", strings.Repeat("%25", 14) + "a"},
		{"the manage token", al.manageToken},
		{"an unsubscribe token", unsubscribe},
	}
	ran := 0
	for _, prefix := range []string{"/j/", "/w/"} {
		other := map[string]string{"/j/": al.watch, "/w/": al.join}[prefix]
		cases := append(tokens, struct{ name, token string }{"the other kind of link", other})
		for _, tc := range cases {
			t.Run(prefix+tc.name, func(t *testing.T) {
				r := al.unchangedBy(t, func() response { return al.env.browser(t).get(prefix + tc.token) })
				assertAnswer(t, r, http.StatusNotFound, "")
				if loc := r.header.Get("Location"); loc != "" {
					t.Fatalf("Location = %q; want none", loc)
				}
			})
			ran++
		}
	}
	// A token too long for the request line is refused before routing,
	// which only a real listener does.
	for _, prefix := range []string{"/j/", "/w/"} {
		t.Run(prefix+"10 KB", func(t *testing.T) {
			r := al.unchangedBy(t, func() response {
				return al.env.overTheWire(t, http.MethodGet, prefix+strings.Repeat("t", 10<<10), "text/plain", 0, "", al.env.browser(t))
			})
			assertAnswer(t, r, http.StatusRequestHeaderFieldsTooLarge, "We could not process that request.")
		})
		ran++
	}
	t.Logf("ran %d hostile personal link cases", ran)
}

// A link that belongs to a registration but cannot be followed explains
// why, and records nothing; a HEAD of a link that can be followed
// redirects without recording a visit, and a GET does record one.
func TestHostileAfterLive_PersonalLinksRecordOnlyVisits(t *testing.T) {
	al := newAfterLive(t)
	refusals := []struct {
		name, path string
		status     int
		msg        string
	}{
		{"cancelled registration", "/j/" + al.cancelledJoin, http.StatusGone, "Your registration is cancelled"},
		{"cancelled session", "/j/" + al.cancelledSessionJoin, http.StatusGone, "This session is cancelled"},
		{"waitlisted registration", "/j/" + al.waitlistedJoin, http.StatusConflict, "No place to join with"},
	}
	for _, tc := range refusals {
		t.Run(tc.name, func(t *testing.T) {
			r := al.unchangedBy(t, func() response { return al.env.browser(t).get(tc.path) })
			assertAnswer(t, r, tc.status, tc.msg)
		})
	}
	heads := []struct{ name, path, to string }{
		{"HEAD of a join link", "/j/" + al.join, "https://meet.example.com/full"},
		{"HEAD of a replay link", "/w/" + al.watch, afterRecording},
	}
	for _, tc := range heads {
		t.Run(tc.name, func(t *testing.T) {
			r := al.unchangedBy(t, func() response {
				return al.env.browser(t).send(http.MethodHead, tc.path, "", "")
			})
			assertStatus(t, r, http.StatusSeeOther)
			if loc := r.header.Get("Location"); loc != tc.to {
				t.Fatalf("Location = %q; want %q", loc, tc.to)
			}
		})
	}
	methods := []struct{ method, path string }{
		{http.MethodPost, "/j/x"}, {http.MethodPut, "/j/x"}, {http.MethodPost, "/j/" + al.join},
		{http.MethodDelete, "/w/" + al.watch}, {http.MethodPatch, "/w/x"},
	}
	for _, tc := range methods {
		t.Run(tc.method+" "+tc.path[:3], func(t *testing.T) {
			r := al.unchangedBy(t, func() response {
				return al.env.browser(t).send(tc.method, tc.path, "application/x-www-form-urlencoded", "a=b")
			})
			assertAnswer(t, r, http.StatusMethodNotAllowed, "That action is not available here.")
			if allow := r.header.Get("Allow"); !strings.Contains(allow, http.MethodGet) {
				t.Fatalf("Allow = %q; want GET among the methods", allow)
			}
		})
	}
	// The control: the snapshot sees the view a GET records.
	before := al.env.snapshot(t)
	assertStatus(t, al.env.browser(t).get("/w/"+al.watch), http.StatusSeeOther)
	if after := al.env.snapshot(t); equalSnapshots(before, after) {
		t.Fatal("a GET of the replay link recorded nothing")
	}
}

func equalSnapshots(a, b dbSnapshot) bool {
	if len(a) != len(b) {
		return false
	}
	for name, rows := range a {
		if strings.Join(rows, rowSeparator) != strings.Join(b[name], rowSeparator) {
			return false
		}
	}
	return true
}

// Messages of models.ParseAttendanceReport and the import.
const (
	notCSVMsg      = "Send the attendance report as CSV, with Content-Type: text/csv."
	reportEmpty    = "The file is empty."
	reportBinary   = "This does not look like a CSV or text file."
	reportExcel    = "This looks like an Excel workbook."
	reportNotUTF8  = "The file is not UTF-8 text."
	reportNoList   = "We could not find a list of attendees in this file."
	reportFormula  = "which a spreadsheet would run as a formula"
	reportBadEmail = "the email column does not hold one email address"
	reportBadTime  = "we could not read the time"
	reportNegative = "is negative"
	reportTooLong  = "more than 7 days"
	reportTooMany  = "more than 200,000 people"
	notEndedImport = "Import the attendance report once the session has ended."
	notEndedFollow = "Follow-ups go out once the session has ended."
	cancelledMsg   = "The organiser has cancelled this session."
)

// hostileReports are attendance report files a parser must refuse whole,
// with the message each gets.
func hostileReports() []struct{ name, body, msg string } {
	row := func(line string) string { return "email,minutes\r\n" + line + "\r\n" }
	return []struct{ name, body, msg string }{
		{"empty file", "", reportEmpty},
		{"blank lines", "\r\n  \r\n\t\r\n", reportEmpty},
		{"NUL bytes", "email,minutes\r\nada-after@example.com\x00,50\r\n", reportBinary},
		{"binary", "\x00\x01\x02\x03\xff\xfe\xfd", reportBinary},
		{"xlsx zip header", "PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00email,minutes", reportExcel},
		{"xls OLE header", "\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1email,minutes", reportExcel},
		{"Latin-1", row("jos\xe9@example.com,50"), reportNotUTF8},
		{"UTF-16 without byte order mark", utf16LE(validReport), reportBinary},
		{"no email column", "name,minutes\r\nAda,50\r\n", reportNoList},
		{"a title and nothing else", "Attendee Report\r\n", reportNoList},
		{"email =HYPERLINK", row(`"=HYPERLINK(""http://x"")",50`), reportFormula},
		{"email +1", row("+1,50"), reportFormula},
		{"email -1", row("-1,50"), reportFormula},
		{"email @SUM(A1)", row("@SUM(A1),50"), reportFormula},
		{"email =cmd after a tab", row("\t=cmd|'/c calc'!A1,50"), reportFormula},
		{"email with a display name", row(`"Ada <ada-after@example.com>",50`), reportBadEmail},
		{"two addresses in one cell", row(`"ada-after@example.com; bob-after@example.com",50`), reportBadEmail},
		{"email with header injection", row("\"ada-after@example.com\r\nBcc: victim@example.com\",50"), reportBadEmail},
		{"email of 255 characters", row(strings.Repeat("a", 243) + "@example.com,50"), reportBadEmail},
		{"email with bidi override", row("ada\u202e@example.com,50"), reportBadEmail},
		{"minutes abc", row("ada-after@example.com,abc"), reportBadTime},
		{"minutes -5", row("ada-after@example.com,-5"), reportNegative},
		{"minutes 1e9", row("ada-after@example.com,1e9"), reportBadTime},
		{"minutes 99999999999999999999", row("ada-after@example.com,99999999999999999999"), reportBadTime},
		{"minutes NaN", row("ada-after@example.com,NaN"), reportBadTime},
		{"minutes 0x10", row("ada-after@example.com,0x10"), reportBadTime},
		{"minutes 9999999999", row("ada-after@example.com,9999999999"), reportTooLong},
		{"rejoins adding up to over 7 days", row("ada-after@example.com,5041\r\nADA-after@example.com,5041"), reportTooLong},
	}
}

// utf16LE is s as UTF-16, little-endian, without a byte order mark.
func utf16LE(s string) string {
	var out []byte
	for _, u := range utf16.Encode([]rune(s)) {
		out = binary.LittleEndian.AppendUint16(out, u)
	}
	return string(out)
}

// manyAttendees is a plain report of n different addresses.
func manyAttendees(n int) string {
	var b strings.Builder
	b.WriteString("email,minutes\n")
	for i := range n {
		fmt.Fprintf(&b, "p%d@example.com,5\n", i)
	}
	return b.String()
}

// attendanceTarget is POST /api/v1/sessions/{id}/attendance on the ended
// session: a valid report would mark its registrants.
func (al *afterLive) attendanceTarget() apiTarget {
	csvCase := func(name, body string, status int, msg string) apiCase {
		return apiCase{name: name, raw: body, sendRaw: true, contentType: "text/csv", status: status, msg: msg}
	}
	var cases []apiCase
	for _, ct := range []string{"application/json", "multipart/form-data; boundary=x", "-", "text/csv; charset",
		"text/html", "application/x-www-form-urlencoded", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"} {
		cases = append(cases, apiCase{name: "Content-Type " + ct, raw: validReport, sendRaw: true, contentType: ct,
			status: http.StatusUnsupportedMediaType, msg: notCSVMsg})
	}
	for _, r := range hostileReports() {
		c := csvCase(r.name, r.body, http.StatusUnprocessableEntity, r.msg)
		c.field = "file"
		cases = append(cases, c)
	}
	tooMany := csvCase("200,001 addresses", manyAttendees(200_001), http.StatusUnprocessableEntity, reportTooMany)
	tooMany.field = "file"
	cases = append(cases, tooMany)
	for _, id := range []string{"0", "-1", "abc", "9999999999999999999999", "999999", "1%20OR%201%3D1"} {
		c := csvCase("session id "+id, validReport, http.StatusNotFound, "")
		c.path = apiAttendancePath(id)
		cases = append(cases, c)
	}
	states := []struct {
		name, path string
		status     int
		msg        string
	}{
		{"session not ended", apiAttendancePath(al.later), http.StatusConflict, notEndedImport},
		{"session not ended, dry run", apiAttendancePath(al.later) + "?dry_run=true", http.StatusConflict, notEndedImport},
		{"cancelled session", apiAttendancePath(al.cancelled), http.StatusGone, cancelledMsg},
		{"cancelled session, dry run", apiAttendancePath(al.cancelled) + "?dry_run=true", http.StatusGone, cancelledMsg},
	}
	for _, s := range states {
		c := csvCase(s.name, validReport, s.status, s.msg)
		c.path = s.path
		cases = append(cases, c)
	}
	for _, auth := range apiAuthCases() {
		auth.raw, auth.sendRaw, auth.contentType = validReport, true, "text/csv"
		cases = append(cases, auth)
	}
	return apiTarget{name: "API attendance import", method: http.MethodPost, path: apiAttendancePath(al.ended), cases: cases}
}

func TestHostileAfterLive_AttendanceAPI(t *testing.T) {
	al := newAfterLive(t)
	target := al.attendanceTarget()
	for _, tc := range target.cases {
		t.Run(tc.name, func(t *testing.T) { al.runAPICase(t, target, tc) })
	}
	t.Logf("ran %d hostile attendance import cases", len(target.cases))
}

// A dry run answers what the report would do and changes nothing, however
// large or empty the report.
func TestHostileAfterLive_AttendanceDryRunChangesNothing(t *testing.T) {
	al := newAfterLive(t)
	dryRun := apiAttendancePath(al.ended) + "?dry_run=true"
	cases := []struct {
		name, body string
		want       attendanceImportJSON
	}{
		{"valid report", validReport, attendanceImportJSON{Format: "plain", Matched: 1, Attended: 1, Absent: 1}},
		{"UTF-8 byte order mark and CR line ends", "\ufeffemail,minutes\rADA-after@example.com,50\r",
			attendanceImportJSON{Format: "plain", Matched: 1, Attended: 1, Absent: 1}},
		{"200,000 addresses", manyAttendees(200_000), attendanceImportJSON{Format: "plain", Unmatched: 200_000, Absent: 2}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := al.unchangedBy(t, func() response { return al.api(t).send(http.MethodPost, dryRun, "text/csv", tc.body) })
			got := decodeAs[attendanceImportJSON](t, r, http.StatusOK)
			if got.Applied || got.Format != tc.want.Format || got.Matched != tc.want.Matched ||
				got.Unmatched != tc.want.Unmatched || got.Attended != tc.want.Attended || got.Absent != tc.want.Absent {
				t.Fatalf("dry run = %+v; want %+v, not applied", got, tc.want)
			}
			if len(got.UnmatchedEmails) > 1000 {
				t.Fatalf("the answer lists %d unmatched addresses; want at most 1000", len(got.UnmatchedEmails))
			}
		})
	}
}

// dry_run spelled as clients spell a boolean (strconv.ParseBool's other
// spellings, a form's "on") must never import for real: either a dry run
// or a 400 that names dry_run.
func TestHostileAfterLive_DryRunSpelledOtherwiseIsNoImport(t *testing.T) {
	al := newAfterLive(t)
	for _, spelling := range []string{"1", "TRUE", "True", "yes", "on", "%20true"} {
		t.Run("dry_run="+spelling, func(t *testing.T) {
			r := al.unchangedBy(t, func() response {
				return al.api(t).send(http.MethodPost, apiAttendancePath(al.ended)+"?dry_run="+spelling, "text/csv", validReport)
			})
			if r.status == http.StatusOK {
				if got := decodeAs[attendanceImportJSON](t, r, http.StatusOK); got.Applied {
					t.Fatalf("dry_run=%s applied the report: %+v", spelling, got)
				}
				return
			}
			assertProblemSays(t, r, http.StatusBadRequest, "dry_run", "")
		})
	}
}

// A header-only report is a report of nobody: applied, it would mark every
// live registrant absent and send them all "sorry we missed you", so it is
// refused and changes nothing.
func TestHostileAfterLive_HeaderOnlyReportIsRefused(t *testing.T) {
	al := newAfterLive(t)
	for _, path := range []string{apiAttendancePath(al.ended), apiAttendancePath(al.ended) + "?dry_run=true"} {
		r := al.unchangedBy(t, func() response { return al.api(t).send(http.MethodPost, path, "text/csv", "email,minutes\r\n") })
		assertProblemSays(t, r, http.StatusUnprocessableEntity, "lists no attendees", "file")
	}
}

// The report routes take 10 MB; a report over that is refused whole, and
// every other route still refuses a body over 64 KiB from its headers.
func TestHostileAfterLive_UploadLimits(t *testing.T) {
	al := newAfterLive(t)
	api := al.api(t)
	t.Run("report just over 10 MB", func(t *testing.T) {
		body := "email,minutes\n" + strings.Repeat("x", models.MaxAttendanceReport+1-len("email,minutes\n"))
		r := al.unchangedBy(t, func() response {
			return al.env.overTheWire(t, http.MethodPost, apiAttendancePath(al.ended), "text/csv", len(body), body, api)
		})
		assertProblemSays(t, r, http.StatusUnprocessableEntity, "The file is over 10 MB.", "file")
	})
	t.Run("report over the upload limit, announced", func(t *testing.T) {
		r := al.unchangedBy(t, func() response {
			return al.env.overTheWire(t, http.MethodPost, apiAttendancePath(al.ended), "text/csv", uploadBodyLimit+1, "", api)
		})
		assertProblemSays(t, r, http.StatusRequestEntityTooLarge, "too large", "")
	})
	t.Run("admin upload over the upload limit, announced", func(t *testing.T) {
		r := al.unchangedBy(t, func() response {
			return al.env.overTheWire(t, http.MethodPost, al.sessionPage(al.ended)+"/attendance",
				"multipart/form-data; boundary=x", uploadBodyLimit+1, "", al.owner)
		})
		assertAnswer(t, r, http.StatusRequestEntityTooLarge, "")
	})
	others := []struct {
		name, method, path, contentType string
		b                               *browser
	}{
		{"API follow-ups", http.MethodPost, apiFollowUpsPath(al.ended), "application/json", api},
		{"API follow-ups naming the report route in the query", http.MethodPost,
			apiFollowUpsPath(al.ended) + "?next=/attendance", "application/json", api},
		{"API report route with a trailing slash", http.MethodPost, apiAttendancePath(al.ended) + "/", "text/csv", api},
		{"API session patch", http.MethodPatch, fmt.Sprintf("/api/v1/sessions/%d", al.ended), "application/json", api},
		{"API panel create", http.MethodPost, "/api/v1/panels", "application/json", api},
		{"admin follow-ups", http.MethodPost, al.sessionPage(al.ended) + "/follow-ups", "application/x-www-form-urlencoded", al.owner},
		{"admin session edit", http.MethodPost, al.sessionPage(al.ended), "application/x-www-form-urlencoded", al.owner},
		{"join link", http.MethodPost, "/j/" + al.join, "application/x-www-form-urlencoded", al.env.browser(t)},
	}
	for _, tc := range others {
		t.Run(tc.name+" over 64 KiB", func(t *testing.T) {
			r := al.unchangedBy(t, func() response { return al.env.oversize(t, tc.method, tc.path, tc.contentType, tc.b) })
			if r.status != http.StatusRequestEntityTooLarge {
				t.Fatalf("status = %d; want 413; body:\n%s", r.status, clipBody(r.body))
			}
			assertNoGoErrors(t, r.body)
		})
	}
}

// followUpsTarget is POST /api/v1/sessions/{id}/follow-ups on the ended
// session, where a request would queue its follow-ups.
func (al *afterLive) followUpsTarget() apiTarget {
	cases := []apiCase{
		{name: "session not ended", path: apiFollowUpsPath(al.later), status: http.StatusConflict, msg: notEndedFollow},
		{name: "session not ended, garbage JSON", path: apiFollowUpsPath(al.later), raw: `{"queued": [1,`, sendRaw: true,
			status: http.StatusConflict, msg: notEndedFollow},
		{name: "session not ended, a CSV body", path: apiFollowUpsPath(al.later), raw: validReport, sendRaw: true,
			contentType: "text/csv", status: http.StatusConflict, msg: notEndedFollow},
		{name: "cancelled session", path: apiFollowUpsPath(al.cancelled), status: http.StatusGone, msg: cancelledMsg},
		{name: "body over 64 KiB", oversize: true, status: http.StatusRequestEntityTooLarge, msg: "too large"},
		{name: "GET", method: http.MethodGet, status: http.StatusMethodNotAllowed},
	}
	cases = append(cases, apiBadIDs(apiFollowUpsPath("%s"))...)
	cases = append(cases, apiCase{name: "id 10^22", path: apiFollowUpsPath("9999999999999999999999"), status: http.StatusNotFound})
	cases = append(cases, apiAuthCases()...)
	return apiTarget{name: "API follow-ups", method: http.MethodPost, path: apiFollowUpsPath(al.ended), cases: cases}
}

// The follow-ups route refuses what it should and, asked twice, queues
// each registrant's follow-up once: the second answer (and the admin's
// button after it) changes nothing.
func TestHostileAfterLive_FollowUpsAPI(t *testing.T) {
	al := newAfterLive(t)
	target := al.followUpsTarget()
	for _, tc := range target.cases {
		t.Run(tc.name, func(t *testing.T) { al.runAPICase(t, target, tc) })
	}
	// The route takes no body: garbage JSON is not read.
	first := al.api(t).send(http.MethodPost, apiFollowUpsPath(al.ended), "application/json", `{"queued": [1,`)
	if got := decodeAs[followUpsQueuedJSON](t, first, http.StatusAccepted); got.Queued != 2 {
		t.Fatalf("first call queued %d; want 2 (the cancelled registrant gets none)", got.Queued)
	}
	al.last = nil
	for i := range 3 {
		r := al.unchangedBy(t, func() response { return al.api(t).send(http.MethodPost, apiFollowUpsPath(al.ended), "", "") })
		if got := decodeAs[followUpsQueuedJSON](t, r, http.StatusAccepted); got.Queued != 0 {
			t.Fatalf("call %d queued %d again", i+2, got.Queued)
		}
	}
	r := al.unchangedBy(t, func() response {
		b := al.env.browser(t)
		b.cookies = al.owner.cookies
		return b.post(al.sessionPage(al.ended)+"/follow-ups", url.Values{"_csrf": {al.sessionToken}})
	})
	assertStatus(t, r, http.StatusSeeOther)
	if flash := flashMessage(al.owner); flash != "ok:Every registrant has had a follow-up already." {
		t.Fatalf("flash = %q; want that everyone has had one", flash)
	}
	t.Logf("ran %d hostile follow-up cases", len(target.cases)+4)
}

// adminAfterTargets are the session page's report upload (its apply step,
// sent as the preview's urlencoded form) and its follow-ups button, on the
// ended session, where a valid form would change registrants.
func (al *afterLive) adminAfterTargets() []formTarget {
	page := al.sessionPage(al.ended)
	transport := transportCases()
	var uploadTransport []formCase
	for _, c := range transport {
		if c.send != sendOversize { // the report routes take 10 MB: see TestHostileAfterLive_UploadLimits
			uploadTransport = append(uploadTransport, c)
		}
	}
	unsigned := formCase{name: "not signed in", send: sendUnsignedAdmin, status: 401, msg: "Your session has ended."}
	var apply []formCase
	for _, r := range hostileReports() {
		apply = append(apply, formCase{name: "apply " + r.name, set: map[string]string{"normalized": r.body},
			status: http.StatusSeeOther, msg: r.msg})
	}
	apply = append(apply,
		formCase{name: "apply on a session not ended", path: al.sessionPage(al.later) + "/attendance", status: http.StatusSeeOther, msg: notEndedImport},
		formCase{name: "apply on a cancelled session", path: al.sessionPage(al.cancelled) + "/attendance", status: http.StatusSeeOther,
			msg: "cancelled"},
		formCase{name: "session of another panel", path: fmt.Sprintf("/admin/panels/%d/sessions/%d/attendance", al.panel.ID, al.ended),
			status: http.StatusNotFound},
		formCase{name: "neither apply nor a file", drop: []string{"apply"}, status: http.StatusSeeOther,
			msg: "Choose the attendance report file to upload."},
		formCase{name: "apply in capitals, no file", set: map[string]string{"apply": "YES"}, status: http.StatusSeeOther,
			msg: "Choose the attendance report file to upload."},
		unsigned)
	apply = append(apply, badIDs(fmt.Sprintf("/admin/panels/%d/sessions/%%s/attendance", al.after.ID))...)
	apply = append(apply, badIDs(fmt.Sprintf("/admin/panels/%%s/sessions/%d/attendance", al.ended))[:4]...)
	apply = append(apply, uploadTransport...)

	follow := []formCase{
		{name: "session not ended", path: al.sessionPage(al.later) + "/follow-ups", status: http.StatusSeeOther, msg: notEndedFollow},
		{name: "cancelled session", path: al.sessionPage(al.cancelled) + "/follow-ups", status: http.StatusSeeOther, msg: "cancelled"},
		{name: "session of another panel", path: fmt.Sprintf("/admin/panels/%d/sessions/%d/follow-ups", al.panel.ID, al.ended),
			status: http.StatusNotFound},
		unsigned,
	}
	follow = append(follow, badIDs(fmt.Sprintf("/admin/panels/%d/sessions/%%s/follow-ups", al.after.ID))...)
	follow = append(follow, transport...)
	return []formTarget{
		{name: "attendance apply", page: page, path: page + "/attendance", admin: true,
			valid: map[string]string{"apply": "yes", "normalized": validReport}, cases: apply},
		{name: "follow-ups button", page: page, path: page + "/follow-ups", admin: true, cases: follow},
	}
}

func TestHostileAfterLive_AdminForms(t *testing.T) {
	al := newAfterLive(t)
	ran := 0
	for _, target := range al.adminAfterTargets() {
		t.Run(target.name, func(t *testing.T) {
			for _, tc := range target.cases {
				ran++
				t.Run(tc.name, func(t *testing.T) { al.runFormCase(t, target, tc) })
			}
		})
	}
	t.Logf("ran %d hostile admin form cases", ran)
}

// uploadCase is one hostile upload of the session page's report form.
type uploadCase struct {
	name string
	path string // default the ended session's report route
	// file is the uploaded report; nil sends no file part.
	file *string
	// fileField names the file part; default "report".
	fileField string
	noToken   bool
	unsigned  bool
	// contentType and raw replace the multipart framing.
	contentType, raw string
	status           int
	msg              string
}

// uploadCases are hostile uploads of the report form.
func (al *afterLive) uploadCases() []uploadCase {
	file := func(s string) *string { return &s }
	var cases []uploadCase
	for _, r := range hostileReports() {
		cases = append(cases, uploadCase{name: r.name, file: file(r.body), status: http.StatusSeeOther, msg: r.msg})
	}
	return append(cases,
		uploadCase{name: "200,001 addresses", file: file(manyAttendees(200_001)), status: http.StatusSeeOther, msg: reportTooMany},
		uploadCase{name: "session not ended", path: al.sessionPage(al.later) + "/attendance", file: file(validReport),
			status: http.StatusSeeOther, msg: notEndedImport},
		uploadCase{name: "cancelled session", path: al.sessionPage(al.cancelled) + "/attendance", file: file(validReport),
			status: http.StatusSeeOther, msg: "cancelled"},
		uploadCase{name: "no CSRF token", file: file(validReport), noToken: true, status: http.StatusForbidden},
		uploadCase{name: "not signed in", file: file(validReport), unsigned: true, status: http.StatusUnauthorized,
			msg: "Your session has ended."},
		uploadCase{name: "no file part", status: http.StatusSeeOther, msg: "Choose the attendance report file to upload."},
		uploadCase{name: "the file under another name", file: file(validReport), fileField: "upload",
			status: http.StatusSeeOther, msg: "Choose the attendance report file to upload."},
		uploadCase{name: "multipart without a boundary", file: file(validReport), contentType: "multipart/form-data",
			status: http.StatusForbidden},
		uploadCase{name: "multipart with another boundary", file: file(validReport),
			contentType: "multipart/form-data; boundary=not-the-one", status: http.StatusForbidden},
		uploadCase{name: "multipart with an empty boundary", file: file(validReport), contentType: "multipart/form-data; boundary=",
			status: http.StatusForbidden},
		uploadCase{name: "multipart cut short", raw: brokenMultipart, contentType: "multipart/form-data; boundary=x",
			status: http.StatusForbidden},
		uploadCase{name: "multipart part without headers end", contentType: "multipart/form-data; boundary=x",
			raw:    "--x\r\nContent-Disposition: form-data; name=\"report\"; filename=\"r.csv\"\r\n" + validReport,
			status: http.StatusForbidden},
	)
}

// runUpload sends a hostile upload as the owner and checks the answer and
// that nothing changed.
func (al *afterLive) runUpload(t *testing.T, tc uploadCase) {
	b, token := al.env.browser(t), al.sessionToken
	b.cookies = al.owner.cookies
	if tc.unsigned {
		b = al.env.browser(t)
		token = csrfFrom(t, b, "/admin/login")
	}
	contentType, body := reportUpload(token, tc)
	path := cmpOr(tc.path, al.sessionPage(al.ended)+"/attendance")
	r := al.unchangedBy(t, func() response { return b.send(http.MethodPost, path, contentType, body) })
	al.assertAdminAnswer(t, r, tc.status, tc.msg)
}

// reportUpload is the upload form as multipart: the CSRF token, then the
// file; the case's content type or raw body replace the framing.
func reportUpload(token string, tc uploadCase) (contentType, body string) {
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	if !tc.noToken {
		_ = w.WriteField("_csrf", token)
	}
	if tc.file != nil {
		part, _ := w.CreateFormFile(cmpOr(tc.fileField, "report"), "report.csv")
		_, _ = io.WriteString(part, *tc.file)
	}
	_ = w.Close()
	contentType, body = w.FormDataContentType(), buf.String()
	if tc.contentType != "" {
		contentType = tc.contentType
	}
	if tc.raw != "" {
		body = tc.raw
	}
	return contentType, body
}

// TestHostileAfterLive_AdminUploads sends hostile files to the session
// page's report form: each comes back to the session page with an error
// (or is refused outright) and nothing changes; a valid file only shows
// the preview.
func TestHostileAfterLive_AdminUploads(t *testing.T) {
	al := newAfterLive(t)
	cases := al.uploadCases()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { al.runUpload(t, tc) })
	}
	t.Run("valid file shows the preview", func(t *testing.T) {
		report := validReport
		al.runUpload(t, uploadCase{file: &report, status: http.StatusOK, msg: "Nothing has changed yet"})
	})
	t.Run("file just over 10 MB", func(t *testing.T) {
		big := "email,minutes\n" + strings.Repeat("x", models.MaxAttendanceReport+1-len("email,minutes\n"))
		contentType, body := reportUpload(al.sessionToken, uploadCase{file: &big})
		r := al.unchangedBy(t, func() response {
			return al.env.overTheWire(t, http.MethodPost, al.sessionPage(al.ended)+"/attendance", contentType, len(body), body, al.owner)
		})
		if r.status != http.StatusSeeOther && r.status != http.StatusUnprocessableEntity && r.status != http.StatusRequestEntityTooLarge {
			t.Fatalf("status = %d; want a refusal; body:\n%s", r.status, clipBody(r.body))
		}
		assertNoGoErrors(t, r.body)
	})
	t.Logf("ran %d hostile upload cases", len(cases)+2)
}

// Messages of the session's replay fields.
const (
	recordingMsg = "Enter a recording link starting with https://."
	untilEndMsg  = "Offer the replay until a time after the session ends."
	until9999Msg = "Enter a date before the year 9999."
)

// replayPatchTarget spoils the replay fields of PATCH /api/v1/sessions/{id}
// on the ended session.
func (al *afterLive) replayPatchTarget() apiTarget {
	set := func(field string, value any) map[string]any { return map[string]any{field: value} }
	rec := func(name string, value any) apiCase {
		return apiCase{name: "recording " + name, set: set("recording_url", value), status: 422, field: "recording_url", msg: recordingMsg}
	}
	until := func(name string, value any, msg string) apiCase {
		return apiCase{name: "on demand until " + name, set: set("on_demand_until", value), status: 422, field: "on_demand_until", msg: msg}
	}
	return apiTarget{name: "API replay fields", method: http.MethodPatch, path: fmt.Sprintf("/api/v1/sessions/%d", al.ended),
		valid: map[string]any{"capacity": 10}, cases: []apiCase{
			rec("http://", "http://video.example.com/x"),
			rec("javascript:", "javascript:alert(1)"),
			rec("data:", "data:text/html,<script>alert(1)</script>"),
			rec("with a space", "https://x y"),
			rec("without a host", "https://"),
			rec("with credentials", "https://user:pass@video.example.com/x"),
			rec("of 2001 characters", "https://video.example.com/"+strings.Repeat("v", 2001-len("https://video.example.com/"))),
			rec("with CR LF", "https://video.example.com/x\r\nLOCATION:evil"),
			rec("with NUL", "https://video.example.com/x\u0000"),
			rec("with bidi override", "https://video.example.com/\u202egpj.exe"),
			rec("breaking out of the attribute", `https://video.example.com/"><script>alert(1)</script>`),
			{name: "recording null", set: set("recording_url", nil), status: 422, field: "recording_url", msg: nullMsg},
			{name: "recording as a number", set: set("recording_url", 42), status: 422, field: "recording_url", msg: typeText},
			until("before the session ends", "2026-11-20T10:00:00Z", untilEndMsg),
			until("at the session's end", al.after.Sessions[0].EndsAt().Format(time.RFC3339), untilEndMsg),
			until("in year 10000", "10000-01-01T00:00:00Z", rfcMsg),
			until("at the end of 9999", "9999-12-31T23:00:00Z", until9999Msg),
			until("yesterday", "yesterday", rfcMsg),
			until("on 30 February", "2027-02-30T10:00:00Z", rfcMsg),
			until("without a zone", "2027-01-01 10:00", rfcMsg),
			until("as a number", 1796310000, rfcMsg),
			until("as an object", map[string]any{"date": "2027-01-01"}, rfcMsg),
		}}
}

// followUpSettingsCases spoil a panel's follow_ups object.
func followUpSettingsCases() []apiCase {
	set := func(value any) map[string]any { return map[string]any{"follow_ups": value} }
	const (
		delayMsg   = "Send follow-ups between 0 minutes and 14 days after the session ends."
		subjectMsg = "Keep the subject to one line of at most 200 characters."
		textMsg    = "Keep the text under 5,000 characters, without control characters."
	)
	return []apiCase{
		{name: "enabled as a string", set: set(map[string]any{"enabled": "yes"}), status: 422, field: "follow_ups.enabled", msg: "Give true or false."},
		{name: "enabled null", set: set(map[string]any{"enabled": nil}), status: 422, field: "follow_ups.enabled", msg: nullMsg},
		{name: "delay -1", set: set(map[string]any{"delay_minutes": -1}), status: 422, field: "follow_ups.delay_minutes", msg: delayMsg},
		{name: "delay 20161", set: set(map[string]any{"delay_minutes": 20161}), status: 422, field: "follow_ups.delay_minutes", msg: delayMsg},
		{name: "delay 1.5", set: set(map[string]any{"delay_minutes": 1.5}), status: 422, field: "follow_ups.delay_minutes", msg: whole},
		{name: "delay 2^63", set: set(map[string]any{"delay_minutes": json.Number("9223372036854775808")}), status: 422,
			field: "follow_ups.delay_minutes", msg: whole},
		{name: "thanks subject with LF", set: set(map[string]any{"thanks_subject": "a\nb"}), status: 422,
			field: "follow_ups.thanks_subject", msg: subjectMsg},
		{name: "missed subject with bidi override", set: set(map[string]any{"missed_subject": "\u202etcejbus"}), status: 422,
			field: "follow_ups.missed_subject", msg: subjectMsg},
		{name: "thanks subject of 201 characters", set: set(map[string]any{"thanks_subject": overlong201}), status: 422,
			field: "follow_ups.thanks_subject", msg: subjectMsg},
		{name: "thanks text of 5001 characters", set: set(map[string]any{"thanks_text": strings.Repeat("t", 5001)}), status: 422,
			field: "follow_ups.thanks_text", msg: textMsg},
		{name: "thanks text with NUL", set: set(map[string]any{"thanks_text": "Thanks\u0000"}), status: 422,
			field: "follow_ups.thanks_text", msg: textMsg},
		{name: "missed text with ESC", set: set(map[string]any{"missed_text": "Sorry \u001b[31m"}), status: 422,
			field: "follow_ups.missed_text", msg: textMsg},
		{name: "missed text with zero-width space", set: set(map[string]any{"missed_text": "Sorry\u200b"}), status: 422,
			field: "follow_ups.missed_text", msg: textMsg},
		{name: "unknown key", set: set(map[string]any{"send_to": "everyone"}), status: 422, field: "send_to",
			msg: "This field is unknown or cannot be changed here."},
		{name: "follow-ups as an array", set: set([]any{true}), status: 422, field: "follow_ups", msg: "Give a JSON object."},
		{name: "follow-ups as true", set: set(true), status: 422, field: "follow_ups", msg: "Give a JSON object."},
	}
}

func TestHostileAfterLive_ReplayAndFollowUpFields(t *testing.T) {
	al := newAfterLive(t)
	replay := al.replayPatchTarget()
	ran := len(replay.cases)
	t.Run(replay.name, func(t *testing.T) {
		for _, tc := range replay.cases {
			t.Run(tc.name, func(t *testing.T) { al.runAPICase(t, replay, tc) })
		}
	})
	settings := []apiTarget{
		{name: "API panel patch follow-ups", method: http.MethodPatch, path: "/api/v1/panels/" + fxPanel,
			valid: map[string]any{"summary": "A panel the corpus attacks."}, cases: followUpSettingsCases()},
		{name: "API panel create follow-ups", method: http.MethodPost, path: "/api/v1/panels",
			valid: map[string]any{"title": "API panel", "slug": "api-panel", "status": "draft", "sessions": []any{validAPISession()}},
			cases: followUpSettingsCases()},
	}
	for _, target := range settings {
		t.Run(target.name, func(t *testing.T) {
			for _, tc := range target.cases {
				ran++
				t.Run(tc.name, func(t *testing.T) { al.runSettingsCase(t, target, tc) })
			}
		})
	}
	t.Run("on demand until null clears it", func(t *testing.T) {
		r := al.api(t).send(http.MethodPatch, fmt.Sprintf("/api/v1/sessions/%d", al.ended), "application/json",
			`{"on_demand_until": null}`)
		if got := decodeAs[sessionChangeJSON](t, r, http.StatusOK); got.OnDemandUntil != nil {
			t.Fatalf("on_demand_until = %v; want null", *got.OnDemandUntil)
		}
	})
	t.Logf("ran %d hostile replay and follow-up field cases", ran)
}

// runSettingsCase is runAPICase for a follow_ups field: the problem must
// name the field by its API name ("follow_ups.delay_minutes").
func (al *afterLive) runSettingsCase(t *testing.T, target apiTarget, tc apiCase) {
	fields := maps.Clone(target.valid)
	maps.Copy(fields, tc.set)
	body, err := json.Marshal(al.expandJSON(fields))
	if err != nil {
		t.Fatal(err)
	}
	r := al.unchangedBy(t, func() response {
		return al.api(t).send(target.method, al.expand(target.path), "application/json", string(body))
	})
	assertProblemSays(t, r, tc.status, tc.msg, tc.field)
}

// sessionReplayFormCases spoil the session form's replay fields.
func sessionReplayFormCases() []formCase {
	set := func(field, value string) map[string]string { return map[string]string{field: value} }
	until := func(date, clock string) map[string]string {
		return map[string]string{"on_demand_date": date, "on_demand_time": clock}
	}
	const dateFormat = "Enter the date as year, month and day, like 2026-12-03."
	return []formCase{
		{name: "recording http://", set: set("recording_url", "http://video.example.com/x"), status: 422, msg: recordingMsg},
		{name: "recording javascript:", set: set("recording_url", "javascript:alert(1)"), status: 422, msg: recordingMsg},
		{name: "recording JAVASCRIPT: with spaces", set: set("recording_url", "  JAVASCRIPT:alert(1)"), status: 422, msg: recordingMsg},
		{name: "recording with a space", set: set("recording_url", "https://x y"), status: 422, msg: recordingMsg},
		{name: "recording of 2001 characters", set: set("recording_url", "https://video.example.com/"+strings.Repeat("v", 1975)),
			status: 422, msg: recordingMsg},
		{name: "recording with CR LF", set: set("recording_url", "https://video.example.com/x\r\nLOCATION:evil"), status: 422, msg: recordingMsg},
		{name: "recording with NUL", set: set("recording_url", "https://video.example.com/\x00"), status: 422, msg: recordingMsg},
		{name: "recording with bidi override", set: set("recording_url", "https://video.example.com/\u202egpj.exe"), status: 422, msg: recordingMsg},
		{name: "recording with invalid UTF-8", set: set("recording_url", "https://video.example.com/\xff"), status: 422, msg: recordingMsg},
		{name: "replay until before the end", set: until("2026-11-27", "09:30"), status: 422, msg: untilEndMsg},
		{name: "replay until year 10000", set: until("10000-01-01", "09:00"), status: 422, msg: dateFormat},
		{name: "replay until 31 December 9999", set: until("9999-12-31", "09:00"), status: 422, msg: until9999Msg},
		{name: "replay until yesterday", set: until("yesterday", "09:00"), status: 422, msg: dateFormat},
		{name: "replay until 30 February", set: until("2027-02-30", "09:00"), status: 422, msg: "February 2027 has no day 30"},
		{name: "replay until month 13", set: until("2027-13-01", "09:00"), status: 422, msg: "There is no month 13."},
		{name: "replay until 25:00", set: until("2027-01-01", "25:00"), status: 422, msg: "Enter the time as hours and minutes"},
		{name: "replay until a time alone", set: until("", "10:00"), status: 422, msg: dateFormat},
		{name: "replay until in the DST gap", set: until("2027-03-28", "01:30"), status: 422, msg: "clocks"},
		{name: "replay until with SQL", set: until("2027-01-01' OR 1=1 --", "09:00"), status: 422, msg: dateFormat},
		{name: "replay until with NUL", set: until("2027-01-01\x00", "09:00"), status: 422, msg: dateFormat},
	}
}

// The session form's replay fields, on the add and the edit form: the form
// comes back with the message and nothing is saved.
func TestHostileAfterLive_SessionFormReplayFields(t *testing.T) {
	fx := newFixture(t)
	edit := sessionEditTarget()
	edit.name, edit.cases = "session edit replay fields", sessionReplayFormCases()
	create := sessionCreateTarget()
	create.name, create.cases = "session create replay fields", sessionReplayFormCases()
	ran := 0
	for _, target := range []formTarget{edit, create} {
		target.admin = true
		t.Run(target.name, func(t *testing.T) {
			for _, tc := range target.cases {
				ran++
				t.Run(tc.name, func(t *testing.T) { fx.runFormCase(t, target, tc) })
			}
		})
	}
	t.Logf("ran %d hostile session form cases", ran)
}
