package handlers

import (
	"strings"
	"testing"
)

// Hostile strings the tables share.
var (
	overlong201   = strings.Repeat("n", 201)
	sqlDrop       = "'; DROP TABLE registrations; --"
	sqlOr         = `" OR 1=1 --`
	scriptTag     = `<script>alert(1)</script>`
	bidiOverride  = "Ada \u202eecalevoL"
	zeroWidth     = "Ada\u200bLovelace"
	invalidUTF8   = "Ada \xff\xfe Lovelace"
	crlfInjection = "ada@example.com\r\nBcc: victim@example.com"
)

// formTargets lists every form of the site with its hostile submissions:
// the public ones here, the admin ones in hostile_admin_test.go.
func formTargets() []formTarget {
	targets := []formTarget{signUpTarget(), cancelTarget()}
	targets = append(targets, adminFormTargets()...)
	for i := range targets {
		targets[i].cases = append(targets[i].cases, transportCases()...)
	}
	return targets
}

// signUpTarget is the public sign-up form. Messages are the ones of
// models.RegistrationInput.Validate and the question rules.
func signUpTarget() formTarget {
	const (
		nameChars  = "Your name contains characters we cannot accept."
		badEmail   = "Enter a valid email address, like name@example.com."
		orgChars   = "This contains characters we cannot accept."
		noSession  = "Choose a session."
		notListed  = "Choose one of the sessions listed."
		answerChar = "Your answer contains characters we cannot accept."
	)
	return formTarget{
		name: "public sign-up", page: "/panels/" + fxSlug, path: "/panels/" + fxSlug + "/register",
		valid: map[string]string{"session": fxOpenSession, "name": "Nina New", "email": "nina@example.com",
			"organisation": "Analytical Engines", "job_title": "Engineer", "consent": "yes", "q_" + questionKeys[2]: "A"},
		cases: []formCase{
			{name: "empty name", set: map[string]string{"name": ""}, status: 422, msg: "Enter your name."},
			{name: "blank name", set: map[string]string{"name": " \t "}, status: 422, msg: "Enter your name."},
			{name: "name of 201 characters", set: map[string]string{"name": overlong201}, status: 422, msg: "Keep your name under 200 characters."},
			{name: "name with CR LF", set: map[string]string{"name": "Ada\r\nLovelace"}, status: 422, msg: nameChars},
			{name: "name with NUL", set: map[string]string{"name": "Ada\x00Lovelace"}, status: 422, msg: nameChars},
			{name: "name with ESC", set: map[string]string{"name": "Ada\x1b[31mLovelace"}, status: 422, msg: nameChars},
			{name: "name with DEL", set: map[string]string{"name": "Ada\x7fLovelace"}, status: 422, msg: nameChars},
			{name: "name with U+0085", set: map[string]string{"name": "Ada\u0085Lovelace"}, status: 422, msg: nameChars},
			{name: "name with RLO bidi override", set: map[string]string{"name": bidiOverride}, status: 422, msg: nameChars},
			{name: "name with LRI bidi isolate", set: map[string]string{"name": "Ada \u2066Lovelace\u2069"}, status: 422, msg: nameChars},
			{name: "name with zero-width space", set: map[string]string{"name": zeroWidth}, status: 422, msg: nameChars},
			{name: "name of a zero-width joiner only", set: map[string]string{"name": "\u200d"}, status: 422, msg: nameChars},
			{name: "name with byte order mark", set: map[string]string{"name": "\ufeffAda"}, status: 422, msg: nameChars},
			{name: "name with line separator", set: map[string]string{"name": "Ada\u2028Lovelace"}, status: 422, msg: nameChars},
			{name: "name with invalid UTF-8", set: map[string]string{"name": invalidUTF8}, status: 422, msg: nameChars},
			{name: "empty email", set: map[string]string{"email": ""}, status: 422, msg: "Enter your email address."},
			{name: "email without @", set: map[string]string{"email": "ada.example.com"}, status: 422, msg: badEmail},
			{name: "email with two @", set: map[string]string{"email": "ada@@example.com"}, status: 422, msg: badEmail},
			{name: "email with display name", set: map[string]string{"email": "Ada <ada@example.com>"}, status: 422, msg: badEmail},
			{name: "email with header injection", set: map[string]string{"email": crlfInjection}, status: 422, msg: badEmail},
			{name: "email with NUL", set: map[string]string{"email": "ada\x00@example.com"}, status: 422, msg: badEmail},
			{name: "email with bidi override", set: map[string]string{"email": "ada\u202e@example.com"}, status: 422, msg: badEmail},
			{name: "email of 255 characters", set: map[string]string{"email": strings.Repeat("a", 243) + "@example.com"}, status: 422, msg: badEmail},
			{name: "email with quoted local part", set: map[string]string{"email": `"ada lovelace"@example.com`}, status: 422, msg: badEmail},
			{name: "email with comment", set: map[string]string{"email": "ada(comment)@example.com"}, status: 422, msg: badEmail},
			{name: "email without a dot in the domain", set: map[string]string{"email": "ada@localhost"}, status: 422, msg: badEmail},
			{name: "email with trailing dot", set: map[string]string{"email": "ada@example.com."}, status: 422, msg: badEmail},
			{name: "email as javascript URL", set: map[string]string{"email": "javascript:alert(1)//@example.com"}, status: 422, msg: badEmail},
			{name: "email with SQL", set: map[string]string{"email": "ada@example.com' OR '1'='1"}, status: 422, msg: badEmail},
			{name: "email with invalid UTF-8", set: map[string]string{"email": "ad\xffa@example.com"}, status: 422, msg: badEmail},
			{name: "organisation with LF", set: map[string]string{"organisation": "Analytical\nEngines"}, status: 422, msg: orgChars},
			{name: "organisation with bidi override", set: map[string]string{"organisation": "\u202eEngines"}, status: 422, msg: orgChars},
			{name: "organisation of 201 characters", set: map[string]string{"organisation": overlong201}, status: 422, msg: "Keep this under 200 characters."},
			{name: "job title with tab", set: map[string]string{"job_title": "Chief\tEngineer"}, status: 422, msg: orgChars},
			{name: "job title with zero-width joiner", set: map[string]string{"job_title": "Engi\u200dneer"}, status: 422, msg: orgChars},
			{name: "no session", drop: []string{"session"}, status: 422, msg: noSession},
			{name: "session not a number", set: map[string]string{"session": "one"}, status: 422, msg: noSession},
			{name: "session -1", set: map[string]string{"session": "-1"}, status: 422, msg: noSession},
			{name: "session 1e9", set: map[string]string{"session": "1e9"}, status: 422, msg: noSession},
			{name: "session 2^63", set: map[string]string{"session": "9223372036854775808"}, status: 422, msg: notListed},
			{name: "session 2^63-1", set: map[string]string{"session": "9223372036854775807"}, status: 422, msg: notListed},
			{name: "session with SQL", set: map[string]string{"session": fxOpenSession + " OR 1=1"}, status: 422, msg: noSession},
			{name: "session of another panel", set: map[string]string{"session": fxOtherSession}, status: 422, msg: notListed},
			{name: "no consent", drop: []string{"consent"}, status: 422, msg: "Tick the box to agree"},
			{name: "consent no", set: map[string]string{"consent": "no"}, status: 422, msg: "Tick the box to agree"},
			{name: "honeypot filled in", set: map[string]string{"website": "http://spam.example"}, status: 400},
			{name: "two email fields, the first bad", set: map[string]string{"email": "nobody"},
				add: map[string][]string{"email": {"nina@example.com"}}, status: 422, msg: badEmail},
			{name: "two session fields, the first another panel's", set: map[string]string{"session": fxOtherSession},
				add: map[string][]string{"session": {fxOpenSession}}, status: 422, msg: notListed},
			{name: "two consent fields, the first no", set: map[string]string{"consent": "no"},
				add: map[string][]string{"consent": {"yes"}}, status: 422, msg: "Tick the box to agree"},
			{name: "answer to an unknown question", set: map[string]string{"q_999999": "hello"}, status: 422, msg: "This question is not part of the form."},
			{name: "short answer with LF", set: map[string]string{"q_" + questionKeys[0]: "Vegan\nand more"}, status: 422, msg: "Keep your answer on one line."},
			{name: "short answer of 301 characters", set: map[string]string{"q_" + questionKeys[0]: strings.Repeat("v", 301)}, status: 422, msg: "Keep your answer under 300 characters."},
			{name: "short answer with NUL", set: map[string]string{"q_" + questionKeys[0]: "Vegan\x00"}, status: 422, msg: answerChar},
			{name: "long answer with bidi override", set: map[string]string{"q_" + questionKeys[1]: "fine \u202egnihton"}, status: 422, msg: answerChar},
			{name: "long answer with invalid UTF-8", set: map[string]string{"q_" + questionKeys[1]: "\xc3\x28"}, status: 422, msg: answerChar},
			{name: "long answer of 5001 characters", set: map[string]string{"q_" + questionKeys[1]: strings.Repeat("l", 5001)}, status: 422, msg: "Keep your answer under 5000 characters."},
			{name: "choice not offered", set: map[string]string{"q_" + questionKeys[2]: sqlOr}, status: 422, msg: "Choose one of the options listed."},
			{name: "required choice missing", drop: []string{"q_" + questionKeys[2]}, status: 422, msg: "Choose an answer."},
			{name: "two single choices", add: map[string][]string{"q_" + questionKeys[2]: {"B"}}, status: 422, msg: "Give one answer."},
			{name: "multiple choice with an option not offered", set: map[string]string{"q_" + questionKeys[3]: "AI%"}, status: 422, msg: "Choose from the options listed."},
			{name: "checkbox with another value", set: map[string]string{"q_" + questionKeys[4]: "no"}, status: 422, msg: "Tick the box or leave it empty."},
			{name: "multipart with a bad email", set: map[string]string{"email": "nobody"}, send: sendMultipart, status: 422, msg: badEmail},
			{name: "unknown panel", path: "/panels/nowhere/register", status: 404},
			{name: "draft panel", path: "/panels/draft/register", status: 404},
			{name: "slug with SQL", path: "/panels/hostile'%3B%20DROP%20TABLE%20panels%3B--/register", status: 404},
			{name: "slug with script", path: "/panels/%3Cscript%3Ealert(1)%3C%2Fscript%3E/register", status: 404},
			{name: "another panel with this panel's session", path: "/panels/" + fxOtherSlug + "/register", status: 422, msg: notListed},
		},
	}
}

// cancelTarget is the cancel button of the registrant's own page.
func cancelTarget() formTarget {
	return formTarget{
		name: "public cancel", page: "/registrations/" + fxToken, path: "/registrations/" + fxToken + "/cancel",
		cases: []formCase{
			{name: "short token", path: "/registrations/abc/cancel", status: 404},
			{name: "unknown token", path: "/registrations/" + strings.Repeat("A", 43) + "/cancel", status: 404},
			{name: "token with SQL", path: "/registrations/'%20OR%201%3D1%20--%20" + strings.Repeat("a", 28) + "/cancel", status: 404},
			{name: "token with NUL", path: "/registrations/" + strings.Repeat("a", 40) + "%00/cancel", status: 404},
			{name: "token with script", path: "/registrations/%3Cscript%3Ealert(1)%3C%2Fscript%3E/cancel", status: 404},
			{name: "token of 2000 characters", path: "/registrations/" + strings.Repeat("t", 2000) + "/cancel", status: 404},
			{name: "token with LIKE wildcards", path: "/registrations/" + strings.Repeat("%25", 43) + "/cancel", status: 404},
			{name: "body over 4 KiB", set: map[string]string{"padding": strings.Repeat("p", 5000)}, status: 413},
		},
	}
}

// queryCase is a GET with hostile query parameters.
type queryCase struct {
	name string
	// as is who asks: "visitor", "owner" or "api".
	as     string
	path   string
	header map[string]string
	status int
	// msg must be in the answer; absent must not be (a reflected value).
	msg, absent string
}

// queryCases are the GET routes that read query parameters or headers.
func queryCases() []queryCase {
	csv := "/admin/panels/" + fxPanel + "/registrants.csv"
	list := "/admin/panels/" + fxPanel + "/registrants"
	regs := "/api/v1/sessions/" + fxSession + "/registrations"
	oembed := "/oembed?url=http%3A%2F%2Flocalhost%3A3000%2Fpanels%2F" + fxSlug
	return []queryCase{
		{name: "utm_source with script", as: "visitor", path: "/panels/" + fxSlug + "?utm_source=%3Cscript%3Ealert(1)%3C%2Fscript%3E",
			status: 200, msg: scriptTag, absent: scriptTag},
		{name: "utm_source breaking out of the attribute", as: "visitor", path: "/panels/" + fxSlug + "?utm_source=%22%3E%3Csvg%20onload%3Dalert(1)%3E",
			status: 200, absent: `"><svg`},
		{name: "utm_source with invalid UTF-8", as: "visitor", path: "/panels/" + fxSlug + "?utm_source=%FF%FE", status: 200},
		{name: "utm_source of 3000 characters", as: "visitor", path: "/panels/" + fxSlug + "?utm_source=" + strings.Repeat("u", 3000),
			status: 200, absent: strings.Repeat("u", 101)},
		{name: "two utm_source parameters", as: "visitor", path: "/panels/" + fxSlug + "?utm_source=a%3Cb&utm_source=%3Cscript%3E",
			status: 200, absent: "<script>"},
		{name: "referrer header with script", as: "visitor", path: "/panels/" + fxSlug,
			header: map[string]string{"Referer": `https://evil.example/"><script>alert(1)</script>`}, status: 200, absent: scriptTag},
		{name: "manage page with cancelled=1 while confirmed", as: "visitor", path: "/registrations/" + fxToken + "?cancelled=1",
			status: 200, absent: "has been cancelled"},
		{name: "manage page with script in cancelled", as: "visitor", path: "/registrations/" + fxToken + "?cancelled=%3Cscript%3E",
			status: 200, absent: "<script>"},
		{name: "oembed of a javascript URL", as: "visitor", path: "/oembed?url=javascript%3Aalert(1)", status: 404},
		{name: "oembed of another host", as: "visitor", path: "/oembed?url=http%3A%2F%2Fevil.example%2Fpanels%2F" + fxSlug, status: 404},
		{name: "oembed of a path traversal", as: "visitor", path: "/oembed?url=http%3A%2F%2Flocalhost%3A3000%2Fpanels%2F..%252F..%252Fetc%252Fpasswd", status: 404},
		{name: "oembed with negative sizes", as: "visitor", path: oembed + "&maxwidth=-1&maxheight=-1", status: 200, msg: `"width":`},
		{name: "oembed with sizes 2^63 and 1e9", as: "visitor", path: oembed + "&maxwidth=9223372036854775808&maxheight=1e9", status: 200, msg: `"width":`},
		// oEmbed's own answer for a format it does not offer is 501 (oembed.com, section 2.3.4).
		{name: "oembed as XML", as: "visitor", path: oembed + "&format=xml", status: 501, msg: "Only format=json"},
		{name: "session calendar with a word for an id", as: "visitor", path: "/panels/" + fxSlug + "/sessions/abc.ics", status: 404},
		{name: "session calendar with id 2^63", as: "visitor", path: "/panels/" + fxSlug + "/sessions/9223372036854775808.ics", status: 404},
		{name: "sign-in next as javascript URL", as: "visitor", path: "/admin/login?next=javascript%3Aalert(1)", status: 200, absent: "javascript:"},
		{name: "sign-in next to another site", as: "visitor", path: "/admin/login?next=%2F%2Fevil.example%2Fadmin", status: 200, absent: "evil.example"},
		{name: "sign-in next with CR LF", as: "visitor", path: "/admin/login?next=%2Fadmin%0D%0ASet-Cookie%3A%20x%3D1", status: 200, absent: "Set-Cookie"},
		{name: "registrants with an unknown status", as: "owner", path: list + "?status=bogus", status: 422, msg: "Some of the details sent were not valid."},
		{name: "registrants with SQL in the status", as: "owner", path: list + "?status=confirmed'%20OR%201%3D1%20--", status: 422, msg: "Some of the details sent were not valid."},
		{name: "registrants with SQL in the search", as: "owner", path: list + "?q=%27%20OR%201%3D1%20--", status: 200, absent: "ada@example.com"},
		{name: "registrants with % as the search", as: "owner", path: list + "?q=%25", status: 200, absent: "ada@example.com"},
		{name: "registrants with _ as the search", as: "owner", path: list + "?q=_", status: 200, absent: "ada@example.com"},
		{name: "registrants with invalid UTF-8 in the search", as: "owner", path: list + "?q=%FF%FE", status: 200, absent: "ada@example.com"},
		{name: "registrants with script in the search", as: "owner", path: list + "?q=%3Cscript%3Ealert(1)%3C%2Fscript%3E", status: 200, absent: scriptTag},
		{name: "registrants with a word for a cursor", as: "owner", path: list + "?before=abc", status: 200, msg: "ada@example.com"},
		{name: "registrants with cursor 2^63", as: "owner", path: list + "?before=9223372036854775808", status: 200, msg: "ada@example.com"},
		{name: "CSV export with an unknown status", as: "owner", path: csv + "?status=bogus", status: 422, msg: "Some of the details sent were not valid."},
		{name: "CSV export with % as the search", as: "owner", path: csv + "?q=%25", status: 200, absent: "ada@example.com"},
		{name: "session page with fan-out 2^63", as: "owner", path: "/admin/panels/" + fxPanel + "/sessions/" + fxSession + "?fanout=9223372036854775808", status: 200},
		{name: "session page with fan-out -1", as: "owner", path: "/admin/panels/" + fxPanel + "/sessions/" + fxSession + "?fanout=-1", status: 200},
		{name: "promo card of a slug with script", as: "visitor", path: "/panels/%3Cscript%3E/embed", status: 404, absent: "<script>"},
		{name: "admin panel with a word for an id", as: "owner", path: "/admin/panels/abc", status: 404},
		{name: "admin session of another panel", as: "owner", path: "/admin/panels/" + fxPanel + "/sessions/" + fxOtherSession, status: 404},
		{name: "email with id 2^63", as: "owner", path: "/admin/outbox/9223372036854775808", status: 404},
		{name: "email source with SQL for an id", as: "owner", path: "/admin/outbox/1%20OR%201%3D1/source", status: 404},
		{name: "outbox with a word for a cursor", as: "owner", path: "/admin/outbox?before=abc", status: 200},
		{name: "outbox with cursor -1", as: "owner", path: "/admin/outbox?before=-1", status: 200},
		{name: "API limit 0", as: "api", path: regs + "?limit=0", status: 400, msg: "limit must be a whole number"},
		{name: "API limit -1", as: "api", path: regs + "?limit=-1", status: 400, msg: "limit must be a whole number"},
		{name: "API limit 1e9", as: "api", path: regs + "?limit=1e9", status: 400, msg: "limit must be a whole number"},
		{name: "API limit 2^63", as: "api", path: "/api/v1/panels?limit=9223372036854775808", status: 400, msg: "limit must be a whole number"},
		{name: "API cursor with SQL", as: "api", path: regs + "?cursor=%27%20OR%201%3D1%20--", status: 400, msg: "cursor is not valid"},
		{name: "API cursor path traversal", as: "api", path: "/api/v1/panels?cursor=..%2F..%2Fetc%2Fpasswd", status: 400, msg: "cursor is not valid"},
		{name: "API unknown status", as: "api", path: regs + "?status=bogus", status: 422, msg: "Choose confirmed, waitlisted, pending, declined or cancelled."},
		{name: "API % as the search", as: "api", path: regs + "?search=%25", status: 200, absent: "ada@example.com"},
		{name: "API _ as the search", as: "api", path: regs + "?search=_", status: 200, absent: "ada@example.com"},
		{name: "API invalid UTF-8 in the search", as: "api", path: regs + "?search=%FF", status: 200, absent: "ada@example.com"},
	}
}

func TestHostileInput_QueryParameters(t *testing.T) {
	fx := newFixture(t)
	for _, tc := range queryCases() {
		t.Run(tc.name, func(t *testing.T) {
			b := fx.env.browser(t)
			switch tc.as {
			case "owner":
				b.cookies = fx.owner.cookies
			case "api":
				b.header.Set("Authorization", "Bearer "+fx.apiSecret)
			}
			for k, v := range tc.header {
				b.header.Set(k, v)
			}
			r := fx.unchangedBy(t, func() response { return b.get(fx.expand(tc.path)) })
			if tc.as == "api" && tc.status >= 400 {
				assertProblemSays(t, r, tc.status, tc.msg, "")
			} else {
				assertAnswer(t, r, tc.status, tc.msg)
			}
			if tc.absent != "" && strings.Contains(r.body, tc.absent) {
				t.Fatalf("answer contains %q:\n%s", tc.absent, clipBody(r.body))
			}
		})
	}
	t.Logf("ran %d hostile query cases", len(queryCases()))
}
