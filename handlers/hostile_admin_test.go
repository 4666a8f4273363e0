package handlers

import (
	"slices"
	"strconv"
	"strings"
)

// adminFormTargets are the organizer admin's forms, sent by a signed-in
// owner (the sign-in form by a visitor). Every admin target also gets the
// not-signed-in case.
func adminFormTargets() []formTarget {
	targets := []formTarget{
		panelCreateTarget(), panelEditTarget(), questionsTarget(), sessionCreateTarget(), sessionEditTarget(),
		sessionCancelTarget(), registrantAddTarget(), registrantActionsTarget(), panelActionsTarget(),
		accountCreateTarget(), accountDeleteTarget(), tokenCreateTarget(), tokenRevokeTarget(), outboxResendTarget(),
		// The sign-out button: a valid form would end the owner's session.
		{name: "sign-out", page: "/admin", path: "/admin/logout"},
	}
	for i := range targets {
		targets[i].admin = true
		targets[i].cases = append(targets[i].cases,
			formCase{name: "not signed in", send: sendUnsignedAdmin, status: 401, msg: "Your session has ended."})
	}
	return append([]formTarget{signInTarget()}, targets...)
}

// badIDs are the cases of a route with an id in its path: path is the
// route with %s where the id goes.
func badIDs(path string) []formCase {
	ids := []struct{ name, id string }{
		{"a word", "abc"}, {"-1", "-1"}, {"0", "0"}, {"2^63", "9223372036854775808"},
		{"unknown", "999999"}, {"SQL", "1%20OR%201%3D1"},
	}
	out := make([]formCase, len(ids))
	for i, id := range ids {
		out[i] = formCase{name: "id " + id.name, path: strings.Replace(path, "%s", id.id, 1), status: 404}
	}
	return out
}

// signInTarget is the sign-in form. The valid form has the owner's real
// password, so only cases that spoil the address are sent: a wrong password
// for a real address counts towards the lockout, which is a change on
// purpose. Each refusal costs a password hash, so the cases are few.
func signInTarget() formTarget {
	return formTarget{
		name: "admin sign-in", page: "/admin/login", path: "/admin/login",
		valid: map[string]string{"email": "owner@example.com", "password": ownerPassword, "next": "/admin"},
		cases: []formCase{
			{name: "empty email and password", set: map[string]string{"email": "", "password": ""}, status: 401},
			{name: "email with SQL", set: map[string]string{"email": "' OR 1=1 --"}, status: 401},
			{name: "email as LIKE pattern", set: map[string]string{"email": "%@example.com"}, status: 401},
			{name: "email with one LIKE wildcard", set: map[string]string{"email": "owner_example.com"}, status: 401},
			{name: "email with NUL", set: map[string]string{"email": "owner@example.com\x00"}, status: 401},
			{name: "email with bidi override", set: map[string]string{"email": "own\u202eer@example.com"}, status: 401},
			{name: "email with invalid UTF-8", set: map[string]string{"email": "owner\xff@example.com"}, status: 401},
			{name: "body over 4 KiB", set: map[string]string{"email": strings.Repeat("o", 5000)}, status: 413},
			{name: "two email fields, the first unknown", set: map[string]string{"email": "nobody@example.com"},
				add: map[string][]string{"email": {"owner@example.com"}}, status: 401},
			{name: "multipart with an unknown email", set: map[string]string{"email": "nobody@example.com"}, send: sendMultipart, status: 401},
		},
	}
}

// Messages of models.Panel's rules.
const (
	titleMsg     = "Enter a title of at most 200 characters."
	lineMsg      = "Keep this to one line of at most 200 characters."
	slugMsg      = "Use lower-case letters, digits and single dashes, at most 80 characters."
	slugTakenMsg = "Another panel already uses this address."
	orgEmailMsg  = "Enter the organizer's email address, like name@example.com."
	remindersMsg = "Use up to five reminders, each between 1 minute and 14 days before the start."
)

// validPanelForm is a panel form that would be saved.
func validPanelForm() map[string]string {
	return map[string]string{
		"title": "Fresh panel", "slug": "fresh-panel", "format": "Talk", "summary": "A summary.",
		"description": "A description.", "learning_points": "One\nTwo",
		"speakers[0].position": "1", "speakers[0].name": "Grace Hopper", "speakers[0].role": "Admiral",
		"organizer_name": "Podium", "organizer_email": "events@example.org", "reminder_minutes": "1440",
	}
}

func panelCreateTarget() formTarget {
	cases := []formCase{
		{name: "empty title", set: map[string]string{"title": ""}, status: 422, msg: titleMsg},
		{name: "title of 201 characters", set: map[string]string{"title": overlong201}, status: 422, msg: titleMsg},
		{name: "title with LF", set: map[string]string{"title": "Fresh\npanel"}, status: 422, msg: lineMsg},
		{name: "title with NUL", set: map[string]string{"title": "Fresh\x00panel"}, status: 422, msg: lineMsg},
		{name: "title with bidi override", set: map[string]string{"title": "Fresh \u202elenap"}, status: 422, msg: lineMsg},
		{name: "title with zero-width space", set: map[string]string{"title": "Fresh\u200bpanel"}, status: 422, msg: lineMsg},
		{name: "title with invalid UTF-8", set: map[string]string{"title": "Fresh \xff panel"}, status: 422, msg: lineMsg},
		{name: "slug with spaces and capitals", set: map[string]string{"slug": "Fresh Panel"}, status: 422, msg: slugMsg},
		{name: "slug as path traversal", set: map[string]string{"slug": "../../etc/passwd"}, status: 422, msg: slugMsg},
		{name: "slug with SQL", set: map[string]string{"slug": "x'; DROP TABLE panels; --"}, status: 422, msg: slugMsg},
		{name: "slug with template syntax", set: map[string]string{"slug": "{{.}}"}, status: 422, msg: slugMsg},
		{name: "slug with a double dash", set: map[string]string{"slug": "fresh--panel"}, status: 422, msg: slugMsg},
		{name: "slug with an accent", set: map[string]string{"slug": "café"}, status: 422, msg: slugMsg},
		{name: "slug of 81 characters", set: map[string]string{"slug": strings.Repeat("s", 81)}, status: 422, msg: slugMsg},
		{name: "slug of another panel", set: map[string]string{"slug": fxOtherSlug}, status: 422, msg: slugTakenMsg},
		{name: "format with CR", set: map[string]string{"format": "Talk\rshow"}, status: 422, msg: lineMsg},
		{name: "summary of 1001 characters", set: map[string]string{"summary": strings.Repeat("s", 1001)}, status: 422,
			msg: "Keep this under 1000 characters, without control characters."},
		{name: "summary with NUL", set: map[string]string{"summary": "A\x00summary"}, status: 422,
			msg: "Keep this under 1000 characters, without control characters."},
		{name: "description of 20001 characters", set: map[string]string{"description": strings.Repeat("d", 20001)}, status: 422,
			msg: "Keep this under 20000 characters, without control characters."},
		{name: "description with ESC", set: map[string]string{"description": "A\x1b[2Jdescription"}, status: 422,
			msg: "Keep this under 20000 characters, without control characters."},
		{name: "learning point with bidi override", set: map[string]string{"learning_points": "One\n\u202eowT"}, status: 422,
			msg: "Line 2: Keep this to one line of at most 300 characters."},
		{name: "learning point of 301 characters", set: map[string]string{"learning_points": strings.Repeat("p", 301)}, status: 422,
			msg: "Line 1: Keep this to one line of at most 300 characters."},
		{name: "21 learning points", set: map[string]string{"learning_points": strings.Repeat("Point\n", 21)}, status: 422,
			msg: "Use at most 20 learning points."},
		{name: "speaker name with LF", set: map[string]string{"speakers[0].name": "Grace\nHopper"}, status: 422, msg: lineMsg},
		{name: "speaker role with NUL", set: map[string]string{"speakers[0].role": "Admiral\x00"}, status: 422, msg: lineMsg},
		{name: "speaker bio of 2001 characters", set: map[string]string{"speakers[0].bio": strings.Repeat("b", 2001)}, status: 422,
			msg: "Keep this under 2000 characters, without control characters."},
		{name: "speaker without a name", set: map[string]string{"speakers[0].name": ""}, status: 422,
			msg: "Give the speaker's name or remove the speaker."},
		{name: "21 speakers", set: manySpeakers(21), status: 422, msg: "Use at most 20 speakers."},
		{name: "organizer email as javascript URL", set: map[string]string{"organizer_email": "javascript:alert(1)"}, status: 422, msg: orgEmailMsg},
		{name: "organizer email with header injection", set: map[string]string{"organizer_email": crlfInjection}, status: 422, msg: orgEmailMsg},
		{name: "organizer email with display name", set: map[string]string{"organizer_email": "Events <events@example.org>"}, status: 422, msg: orgEmailMsg},
		{name: "organizer name with bidi override", set: map[string]string{"organizer_name": "\u202eoidoP"}, status: 422, msg: lineMsg},
		{name: "reminder of 0 minutes", set: map[string]string{"reminder_minutes": "0"}, status: 422, msg: remindersMsg},
		{name: "reminder of -1 minutes", set: map[string]string{"reminder_minutes": "-1"}, status: 422, msg: remindersMsg},
		{name: "reminder of 2^63-1 minutes", set: map[string]string{"reminder_minutes": "9223372036854775807"}, status: 422, msg: remindersMsg},
		{name: "reminder of 14 days and a minute", set: map[string]string{"reminder_minutes": "20161"}, status: 422, msg: remindersMsg},
		{name: "six reminders", add: map[string][]string{"reminder_minutes": {"10", "20", "30", "40", "50"}}, status: 422, msg: remindersMsg},
		{name: "two title fields, the first empty", set: map[string]string{"title": ""},
			add: map[string][]string{"title": {"Second title"}}, status: 422, msg: titleMsg},
		{name: "multipart with an empty title", set: map[string]string{"title": ""}, send: sendMultipart, status: 422, msg: titleMsg},
	}
	return formTarget{name: "panel create", page: "/admin/panels/new", path: "/admin/panels", valid: validPanelForm(), cases: cases}
}

// manySpeakers is a panel form's speaker rows, n of them.
func manySpeakers(n int) map[string]string {
	rows := map[string]string{}
	for i := range n {
		key := "speakers[" + strconv.Itoa(i) + "]."
		rows[key+"position"], rows[key+"name"] = strconv.Itoa(i+1), "Speaker "+strconv.Itoa(i+1)
	}
	return rows
}

func panelEditTarget() formTarget {
	cases := []formCase{
		{name: "empty title", set: map[string]string{"title": " "}, status: 422, msg: titleMsg},
		{name: "title with NUL", set: map[string]string{"title": "Hostile\x00panel"}, status: 422, msg: lineMsg},
		{name: "title with bidi override", set: map[string]string{"title": "\u202elenap"}, status: 422, msg: lineMsg},
		{name: "slug of another panel", set: map[string]string{"slug": fxOtherSlug}, status: 422, msg: slugTakenMsg},
		{name: "slug with SQL", set: map[string]string{"slug": "hostile' OR '1'='1"}, status: 422, msg: slugMsg},
		{name: "organizer email with header injection", set: map[string]string{"organizer_email": crlfInjection}, status: 422, msg: orgEmailMsg},
		{name: "description with NUL", set: map[string]string{"description": "\x00"}, status: 422,
			msg: "Keep this under 20000 characters, without control characters."},
		{name: "six reminders", add: map[string][]string{"reminder_minutes": {"10", "20", "30", "40", "50"}}, status: 422, msg: remindersMsg},
	}
	cases = append(cases, badIDs("/admin/panels/%s")...)
	return formTarget{name: "panel edit", page: "/admin/panels/" + fxPanel + "/edit", path: "/admin/panels/" + fxPanel,
		valid: validPanelForm(), cases: cases}
}

// Messages of models.Question's rules.
const (
	labelMsg   = "Enter a question of at most 300 characters on one line."
	optionsMsg = "Give 2 to 50 different choices, one per line, each at most 200 characters."
)

// questionsTarget sends the panel's five questions as they are, plus a
// sixth row that the cases spoil.
func questionsTarget() formTarget {
	valid := map[string]string{}
	rows := []struct{ kind, label, options, required string }{
		{"short_text", "Dietary needs", "", ""}, {"long_text", "Anything else?", "", ""},
		{"single_choice", "Track", "A\nB", "yes"}, {"multiple_choice", "Topics", "AI\nJobs", ""},
		{"checkbox", "Send me news", "", ""},
	}
	for i, r := range rows {
		key := "questions[" + strconv.Itoa(i) + "]."
		valid[key+"id"], valid[key+"position"], valid[key+"kind"] = questionKeys[i], strconv.Itoa(i+1), r.kind
		valid[key+"label"], valid[key+"options"], valid[key+"required"] = r.label, r.options, r.required
	}
	valid["questions[5].position"], valid["questions[5].kind"], valid["questions[5].label"] = "6", "short_text", "New question"
	row := func(field, value string) map[string]string { return map[string]string{"questions[5]." + field: value} }
	kindMsg := "Choose short text, long text, single choice, multiple choice or checkbox."
	cases := []formCase{
		{name: "unknown kind", set: row("kind", "essay"), status: 422, msg: kindMsg},
		{name: "kind with SQL", set: row("kind", "short_text' OR 1=1 --"), status: 422, msg: kindMsg},
		{name: "label missing with options given", set: map[string]string{"questions[5].label": "", "questions[5].kind": "single_choice",
			"questions[5].options": "A\nB"}, status: 422, msg: labelMsg},
		{name: "label with LF", set: row("label", "New\nquestion"), status: 422, msg: labelMsg},
		{name: "label of 301 characters", set: row("label", strings.Repeat("q", 301)), status: 422, msg: labelMsg},
		{name: "label with bidi override", set: row("label", "\u202enoitseuq"), status: 422, msg: labelMsg},
		{name: "label with NUL", set: row("label", "New\x00question"), status: 422, msg: labelMsg},
		{name: "single choice with one option", set: map[string]string{"questions[5].kind": "single_choice",
			"questions[5].options": "Only"}, status: 422, msg: optionsMsg},
		{name: "choice with the same option twice", set: map[string]string{"questions[5].kind": "multiple_choice",
			"questions[5].options": "Same\nSame"}, status: 422, msg: optionsMsg},
		{name: "option of 201 characters", set: map[string]string{"questions[5].kind": "single_choice",
			"questions[5].options": "A\n" + overlong201}, status: 422, msg: optionsMsg},
		{name: "option with zero-width joiner", set: map[string]string{"questions[5].kind": "single_choice",
			"questions[5].options": "A\nB\u200d"}, status: 422, msg: optionsMsg},
		{name: "options on a short text", set: row("options", "A\nB"), status: 422,
			msg: "Only single and multiple choice questions have choices."},
		{name: "51 questions", set: manyQuestions(51), status: 422, msg: "Use at most 50 questions."},
	}
	cases = append(cases, badIDs("/admin/panels/%s/questions")...)
	return formTarget{name: "questions", page: "/admin/panels/" + fxPanel + "/questions",
		path: "/admin/panels/" + fxPanel + "/questions", valid: valid, cases: cases}
}

// manyQuestions is n question rows from the seventh on.
func manyQuestions(n int) map[string]string {
	rows := map[string]string{}
	for i := 6; i < 6+n; i++ {
		key := "questions[" + strconv.Itoa(i) + "]."
		rows[key+"position"], rows[key+"kind"], rows[key+"label"] = strconv.Itoa(i+1), "short_text", "Q"+strconv.Itoa(i)
	}
	return rows
}

// Messages of the session form (views.SessionInput) and models.Session.
const (
	dateFormatMsg = "Enter the date as year, month and day, like 2026-12-03."
	timeMsg       = "Enter the time as hours and minutes, like 14:30."
	zoneMsg       = "Choose a time zone such as Europe/London."
	durationWord  = "Enter the duration as a number of minutes, like 60."
	durationRange = "Enter a duration between 1 minute and 24 hours."
	capacityWord  = "Enter the number of places as a whole number, or 0 for no limit."
	capacityRange = "Enter a capacity from 0 (unlimited) to 1,000,000."
	joinMsg       = "Enter a join link starting with https://."
	venueMsg      = "Keep the venue under 500 characters, without control characters."
)

// sessionFieldCases spoil the fields of the session form, shared by the
// add and edit forms.
func sessionFieldCases() []formCase {
	set := func(field, value string) map[string]string { return map[string]string{field: value} }
	return []formCase{
		{name: "30 February", set: set("date", "2027-02-30"), status: 422, msg: "February 2027 has no day 30"},
		{name: "month 13", set: set("date", "2026-13-01"), status: 422, msg: "There is no month 13."},
		{name: "year 0", set: set("date", "0000-01-01"), status: 422, msg: dateFormatMsg},
		{name: "year 99999", set: set("date", "99999-01-01"), status: 422, msg: dateFormatMsg},
		{name: "last day of 9999", set: set("date", "9999-12-31"), status: 422, msg: "Enter a start from 1970 to 30 December 9999."},
		{name: "date without leading zeros", set: set("date", "2026-1-1"), status: 422, msg: dateFormatMsg},
		{name: "date in another order", set: set("date", "03/12/2026"), status: 422, msg: dateFormatMsg},
		{name: "date with SQL", set: set("date", "'; DROP TABLE sessions; --"), status: 422, msg: dateFormatMsg},
		{name: "time 24:61", set: set("time", "24:61"), status: 422, msg: timeMsg},
		{name: "time 25:00", set: set("time", "25:00"), status: 422, msg: timeMsg},
		{name: "time 12:60", set: set("time", "12:60"), status: 422, msg: timeMsg},
		{name: "empty time", set: set("time", ""), status: 422, msg: timeMsg},
		{name: "time in words", set: set("time", "3pm"), status: 422, msg: timeMsg},
		{name: "time in the DST gap", set: map[string]string{"date": "2026-03-29", "time": "01:30"}, status: 422,
			msg: "1:30 AM does not exist on 29 March 2026 in Europe/London"},
		{name: "time in the DST overlap", set: map[string]string{"date": "2026-10-25", "time": "01:30"}, status: 422,
			msg: "1:30 AM happens twice on 25 October 2026"},
		{name: "zone Local", set: set("time_zone", "Local"), status: 422, msg: zoneMsg},
		{name: "empty zone", set: set("time_zone", ""), status: 422, msg: zoneMsg},
		{name: "zone UTC+2", set: set("time_zone", "UTC+2"), status: 422, msg: zoneMsg},
		{name: "zone as path traversal", set: set("time_zone", "../../etc/passwd"), status: 422, msg: zoneMsg},
		{name: "zone as absolute path", set: set("time_zone", "/etc/passwd"), status: 422, msg: zoneMsg},
		{name: "zone with NUL", set: set("time_zone", "Europe/London\x00"), status: 422, msg: zoneMsg},
		{name: "zone in lower case", set: set("time_zone", "europe/london"), status: 422, msg: zoneMsg},
		{name: "duration -1", set: set("duration_minutes", "-1"), status: 422, msg: durationRange},
		{name: "duration 0", set: set("duration_minutes", "0"), status: 422, msg: durationRange},
		{name: "duration 1441", set: set("duration_minutes", "1441"), status: 422, msg: durationRange},
		{name: "duration 1e9", set: set("duration_minutes", "1e9"), status: 422, msg: durationWord},
		{name: "duration 2^63", set: set("duration_minutes", "9223372036854775808"), status: 422, msg: durationWord},
		{name: "duration 2^63-1", set: set("duration_minutes", "9223372036854775807"), status: 422, msg: durationRange},
		{name: "duration in words", set: set("duration_minutes", "sixty"), status: 422, msg: durationWord},
		{name: "capacity -1", set: set("capacity", "-1"), status: 422, msg: capacityRange},
		{name: "capacity 1e9", set: set("capacity", "1e9"), status: 422, msg: capacityWord},
		{name: "capacity 2^63", set: set("capacity", "9223372036854775808"), status: 422, msg: capacityWord},
		{name: "capacity 2^63-1", set: set("capacity", "9223372036854775807"), status: 422, msg: capacityRange},
		{name: "capacity 1000001", set: set("capacity", "1000001"), status: 422, msg: capacityRange},
		{name: "capacity in words", set: set("capacity", "many"), status: 422, msg: capacityWord},
		{name: "empty capacity", set: set("capacity", ""), status: 422, msg: capacityWord},
		{name: "join link javascript:", set: set("join_url", "javascript:alert(1)"), status: 422, msg: joinMsg},
		{name: "join link JAVASCRIPT: with spaces", set: set("join_url", "  JAVASCRIPT:alert(1)"), status: 422, msg: joinMsg},
		{name: "join link data:", set: set("join_url", "data:text/html,<script>alert(1)</script>"), status: 422, msg: joinMsg},
		{name: "join link http:", set: set("join_url", "http://meet.example.com/x"), status: 422, msg: joinMsg},
		{name: "join link without a host", set: set("join_url", "https://"), status: 422, msg: joinMsg},
		{name: "join link scheme-relative", set: set("join_url", "//evil.example/x"), status: 422, msg: joinMsg},
		{name: "join link with credentials", set: set("join_url", "https://user:pass@meet.example.com/x"), status: 422, msg: joinMsg},
		{name: "join link breaking out of the attribute", set: set("join_url", `https://meet.example.com/"><script>alert(1)</script>`), status: 422, msg: joinMsg},
		{name: "join link with CR LF", set: set("join_url", "https://meet.example.com/x\r\nLOCATION:evil"), status: 422, msg: joinMsg},
		{name: "join link with bidi override", set: set("join_url", "https://meet.example.com/\u202egpj.exe"), status: 422, msg: joinMsg},
		{name: "join link of 2001 characters", set: set("join_url", "https://meet.example.com/"+strings.Repeat("x", 1976)), status: 422, msg: joinMsg},
		{name: "venue of 501 characters", set: set("venue", strings.Repeat("v", 501)), status: 422, msg: venueMsg},
		{name: "venue with NUL", set: set("venue", "Hall\x00 1"), status: 422, msg: venueMsg},
		{name: "venue with bidi override", set: set("venue", "Hall \u202e1 moor"), status: 422, msg: venueMsg},
		{name: "neither join link nor venue", set: map[string]string{"join_url": "", "venue": ""}, status: 422, msg: "Give a join link or a venue."},
		{name: "registration closing after the end", set: map[string]string{"closes_date": "2027-01-01", "closes_time": "09:00"}, status: 422,
			msg: "Registration must close before the session ends."},
		{name: "registration closing on 30 February", set: map[string]string{"closes_date": "2026-02-30", "closes_time": "09:00"}, status: 422,
			msg: "February 2026 has no day 30"},
		{name: "two capacity fields, the first -1", set: set("capacity", "-1"), add: map[string][]string{"capacity": {"10"}}, status: 422, msg: capacityRange},
	}
}

// validSessionForm is a session form that would be saved.
func validSessionForm(date, time, capacity, joinURL string) map[string]string {
	return map[string]string{"date": date, "time": time, "time_zone": "Europe/London", "duration_minutes": "60",
		"capacity": capacity, "waitlist": "yes", "join_url": joinURL}
}

func sessionCreateTarget() formTarget {
	cases := append(sessionFieldCases(),
		formCase{name: "multipart with 30 February", set: map[string]string{"date": "2027-02-30"}, send: sendMultipart,
			status: 422, msg: "February 2027 has no day 30"})
	cases = append(cases, badIDs("/admin/panels/%s/sessions")...)
	return formTarget{name: "session create", page: "/admin/panels/" + fxPanel + "/sessions/new",
		path: "/admin/panels/" + fxPanel + "/sessions", valid: validSessionForm("2026-12-10", "15:00", "10", "https://meet.example.com/new"),
		cases: cases}
}

// sessionEditTarget edits the full session, which has a confirmed
// registrant, with the reschedule already confirmed: a refused edit must
// not send the updated invites. The form is the add form's, so a sample of
// its cases is enough.
func sessionEditTarget() formTarget {
	path := "/admin/panels/" + fxPanel + "/sessions/" + fxSession
	valid := validSessionForm("2026-11-27", "09:00", "1", "https://meet.example.com/full")
	valid["confirm"] = "yes"
	cases := pickCases(sessionFieldCases(), "30 February", "year 0", "last day of 9999", "time 24:61",
		"time in the DST gap", "zone Local", "zone as path traversal", "duration 2^63-1", "capacity -1", "capacity 2^63",
		"join link javascript:", "join link data:", "join link with bidi override", "venue with NUL",
		"neither join link nor venue", "registration closing after the end", "two capacity fields, the first -1")
	cases = append(cases,
		formCase{name: "new time not yet confirmed", set: map[string]string{"date": "2026-11-28"}, drop: []string{"confirm"},
			status: 200, msg: "1 registrant will receive an updated invite."},
		formCase{name: "session of another panel", path: "/admin/panels/" + fxPanel + "/sessions/" + fxOtherSession, status: 404})
	cases = append(cases, badIDs("/admin/panels/"+fxPanel+"/sessions/%s")...)
	return formTarget{name: "session edit", page: path + "/edit", path: path, valid: valid, cases: cases}
}

// pickCases are the cases with the given names, in that order.
func pickCases(cases []formCase, names ...string) []formCase {
	out := make([]formCase, 0, len(names))
	for _, name := range names {
		i := slices.IndexFunc(cases, func(c formCase) bool { return c.name == name })
		if i < 0 {
			panic("no session case named " + name)
		}
		out = append(out, cases[i])
	}
	return out
}

// sessionCancelTarget is the cancel button of the full session; a valid
// form would cancel it and tell both registrants.
func sessionCancelTarget() formTarget {
	path := "/admin/panels/" + fxPanel + "/sessions/" + fxSession + "/cancel"
	cases := []formCase{
		{name: "not confirmed", drop: []string{"confirm"}, status: 200, msg: "Cancel this session?"},
		{name: "confirmed in capitals", set: map[string]string{"confirm": "YES"}, status: 200, msg: "Cancel this session?"},
		{name: "session of another panel", path: "/admin/panels/" + fxPanel + "/sessions/" + fxOtherSession + "/cancel", status: 404},
	}
	cases = append(cases, badIDs("/admin/panels/"+fxPanel+"/sessions/%s/cancel")...)
	return formTarget{name: "session cancel", page: "/admin/panels/" + fxPanel + "/sessions/" + fxSession, path: path,
		valid: map[string]string{"confirm": "yes"}, cases: cases}
}

func registrantAddTarget() formTarget {
	path := "/admin/panels/" + fxPanel + "/sessions/" + fxOpenSession
	nameChars := "Your name contains characters we cannot accept."
	badEmail := "Enter a valid email address, like name@example.com."
	cases := []formCase{
		{name: "empty name", set: map[string]string{"name": ""}, status: 422, msg: "Enter your name."},
		{name: "name with NUL", set: map[string]string{"name": "Ada\x00"}, status: 422, msg: nameChars},
		{name: "name with bidi override", set: map[string]string{"name": bidiOverride}, status: 422, msg: nameChars},
		{name: "name with invalid UTF-8", set: map[string]string{"name": invalidUTF8}, status: 422, msg: nameChars},
		{name: "email with header injection", set: map[string]string{"email": crlfInjection}, status: 422, msg: badEmail},
		{name: "email with display name", set: map[string]string{"email": "Ada <ada@example.com>"}, status: 422, msg: badEmail},
		{name: "organisation with LF", set: map[string]string{"organisation": "A\nB"}, status: 422, msg: "This contains characters we cannot accept."},
		{name: "no consent", drop: []string{"consent"}, status: 422, msg: "Confirm that this person agreed to be registered."},
		{name: "choice not offered", set: map[string]string{"q_" + questionKeys[2]: "C"}, status: 422, msg: "Choose one of the options listed."},
		{name: "session of another panel", path: "/admin/panels/" + fxPanel + "/sessions/" + fxOtherSession + "/registrants", status: 404},
	}
	cases = append(cases, badIDs("/admin/panels/"+fxPanel+"/sessions/%s/registrants")...)
	return formTarget{name: "registrant add", page: path, path: path + "/registrants",
		valid: map[string]string{"name": "Nina New", "email": "nina@example.com", "organisation": "Engines",
			"consent": "yes", "q_" + questionKeys[2]: "A"}, cases: cases}
}

// registrantActionsTarget is the buttons of a registrant row; the valid
// form would cancel Ada's registration.
func registrantActionsTarget() formTarget {
	var cases []formCase
	for _, action := range []string{"cancel", "promote", "resend", "attended"} {
		for _, c := range badIDs("/admin/registrations/%s/" + action) {
			c.name = action + " " + c.name
			cases = append(cases, c)
		}
	}
	cases = append(cases, formCase{name: "promote with no free place", path: "/admin/registrations/" + fxWaitlisted + "/promote",
		status: 303, msg: "No free place"})
	return formTarget{name: "registrant actions", page: "/admin/panels/" + fxPanel + "/sessions/" + fxSession,
		path: "/admin/registrations/" + fxRegistration + "/cancel", cases: cases}
}

// panelActionsTarget is the publish, unpublish, archive and duplicate
// buttons; the valid form would archive the panel.
func panelActionsTarget() formTarget {
	var cases []formCase
	for _, action := range []string{"publish", "unpublish", "archive", "duplicate"} {
		for _, c := range badIDs("/admin/panels/%s/" + action)[:4] {
			c.name = action + " " + c.name
			cases = append(cases, c)
		}
	}
	cases = append(cases, formCase{name: "publish without a session", path: "/admin/panels/" + fxDraft + "/publish",
		status: 303, msg: "Add a session before publishing the panel."})
	return formTarget{name: "panel actions", page: "/admin/panels/" + fxPanel, path: "/admin/panels/" + fxPanel + "/archive", cases: cases}
}

func accountCreateTarget() formTarget {
	badEmail := "Enter a valid email address, like name@example.com."
	nameMsg := "Enter a name of at most 200 characters."
	roleMsg := "Choose owner or organizer."
	set := func(field, value string) map[string]string { return map[string]string{field: value} }
	cases := []formCase{
		{name: "email with header injection", set: set("email", crlfInjection), status: 422, msg: badEmail},
		{name: "email with display name", set: set("email", "New <new@example.com>"), status: 422, msg: badEmail},
		{name: "email without @", set: set("email", "new.example.com"), status: 422, msg: badEmail},
		{name: "email with invalid UTF-8", set: set("email", "n\xffew@example.com"), status: 422, msg: badEmail},
		{name: "email of 255 characters", set: set("email", strings.Repeat("n", 243)+"@example.com"), status: 422, msg: badEmail},
		{name: "email of the owner", set: set("email", "owner@example.com"), status: 422, msg: "An account with this email already exists."},
		{name: "email of the owner in capitals", set: set("email", "OWNER@Example.COM"), status: 422, msg: "An account with this email already exists."},
		{name: "name with LF", set: set("name", "New\nOrganizer"), status: 422, msg: nameMsg},
		{name: "name with bidi override", set: set("name", "\u202ewen"), status: 422, msg: nameMsg},
		{name: "name of 201 characters", set: set("name", overlong201), status: 422, msg: nameMsg},
		{name: "password of 11 characters", set: set("password", "elevenchars"), status: 422, msg: "Use a password of at least 12 characters."},
		{name: "password of 1025 bytes", set: set("password", strings.Repeat("p", 1025)), status: 422, msg: "Use a password of at most 1,024 bytes."},
		{name: "role admin", set: set("role", "admin"), status: 422, msg: roleMsg},
		{name: "role with SQL", set: set("role", "owner' --"), status: 422, msg: roleMsg},
		{name: "no role", drop: []string{"role"}, status: 422, msg: roleMsg},
		{name: "two role fields, the first superuser", set: set("role", "superuser"), add: map[string][]string{"role": {"organizer"}},
			status: 422, msg: roleMsg},
		{name: "multipart with role admin", set: set("role", "admin"), send: sendMultipart, status: 422, msg: roleMsg},
	}
	return formTarget{name: "account create", page: "/admin/accounts", path: "/admin/accounts",
		valid: map[string]string{"email": "new@example.com", "name": "New Organizer", "role": "organizer",
			"password": "a long enough password"}, cases: cases}
}

// accountDeleteTarget is the delete button of the only owner, which the
// model refuses.
func accountDeleteTarget() formTarget {
	cases := append([]formCase{{name: "the last owner", status: 303, msg: "The last owner cannot be removed."}},
		badIDs("/admin/accounts/%s/delete")...)
	return formTarget{name: "account delete", page: "/admin/accounts", path: "/admin/accounts/" + fxOwner + "/delete", cases: cases}
}

func tokenCreateTarget() formTarget {
	msg := "Name the token (at most 100 characters), e.g. CRM sync."
	set := func(value string) map[string]string { return map[string]string{"name": value} }
	return formTarget{name: "token create", page: "/admin/tokens", path: "/admin/tokens", valid: set("CRM sync"),
		cases: []formCase{
			{name: "empty name", set: set(""), status: 422, msg: msg},
			{name: "blank name", set: set("   "), status: 422, msg: msg},
			{name: "name of 101 characters", set: set(strings.Repeat("t", 101)), status: 422, msg: msg},
			{name: "name with LF", set: set("CRM\nsync"), status: 422, msg: msg},
			{name: "name with NUL", set: set("CRM\x00"), status: 422, msg: msg},
			{name: "name with bidi override", set: set("\u202ecnys MRC"), status: 422, msg: msg},
			{name: "name with zero-width space", set: set("CRM\u200bsync"), status: 422, msg: msg},
			{name: "name with invalid UTF-8", set: set("CRM \xff"), status: 422, msg: msg},
		}}
}

// tokenRevokeTarget is the revoke button of the API token; the valid form
// would revoke it.
func tokenRevokeTarget() formTarget {
	return formTarget{name: "token revoke", page: "/admin/tokens", path: "/admin/tokens/" + fxAPIToken + "/revoke",
		cases: badIDs("/admin/tokens/%s/revoke")}
}

// outboxResendTarget is the resend button of an email; only a failed email
// can be sent again, so the queued one is not found.
func outboxResendTarget() formTarget {
	return formTarget{name: "outbox resend", page: "/admin/outbox", path: "/admin/outbox/" + fxMessage + "/resend",
		cases: append([]formCase{{name: "email not failed", status: 404}}, badIDs("/admin/outbox/%s/resend")...)}
}
