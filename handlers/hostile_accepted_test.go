package handlers

import (
	"encoding/csv"
	"encoding/json"
	"html"
	"mime"
	"net/http"
	"net/mail"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/emersion/go-ical"

	"podium/models"
	"podium/views"
)

// Hostile-looking texts the rules accept on purpose: each is one plain line
// (or paragraph) without control or format characters, so it is stored as
// typed and must come out as text wherever it is shown.
const (
	hostileTitle       = `<script>alert("title")</script> & {{.Title}}`
	hostileFormat      = `${7*7} <b>bold</b>`
	hostileSummary     = `Summary <img src=x onerror=alert("summary")> 'quoted'`
	hostileDescription = "<iframe src=\"javascript:alert('d')\"></iframe>\n{{template \"x\"}}"
	hostilePoint       = `<svg onload=alert("point")>`
	hostileSpeaker     = `"><script>alert("speaker")</script>`
	hostileRole        = `=cmd|' /C calc'!A0`
	hostileBio         = `</textarea><script>alert("bio")</script>`
	hostileOrganizer   = `<script>alert("organizer")</script>`
	hostileVenue       = `<b>Hall</b> & "Room" 'A'`
	hostileLabel       = `<script>alert("label")</script>`
	hostileChoiceLabel = `=Pick one`
	hostileOption      = `=1+1`
	hostileName        = `<script>alert("name")</script> '; DROP TABLE registrations; --`
	hostileOrg         = `=HYPERLINK("http://evil.example","click")`
	hostileJob         = `@SUM(1+1)`
	hostileSource      = `+cmd|calc`
	hostileReferrer    = `-2+3`
	hostileAnswer      = `{{.}} ${7*7} <img src=x onerror=alert("answer")>`
)

// hostileMarkup are the tags among those texts; none may reach an HTML
// page unescaped.
var hostileMarkup = []string{`<script>alert(`, `<img src=x`, `<iframe`, `<svg onload`, `</textarea><script>`,
	`<b>bold</b>`, `<b>Hall</b>`}

// assertShownAsText checks an HTML answer: no hostile tag unescaped, and
// each wanted text present once the page's escaping is undone.
func assertShownAsText(t *testing.T, what string, r response, wants ...string) {
	t.Helper()
	if r.status != http.StatusOK {
		t.Fatalf("%s: status %d:\n%s", what, r.status, clipBody(r.body))
	}
	for _, tag := range hostileMarkup {
		if strings.Contains(r.body, tag) {
			t.Errorf("%s shows %q unescaped", what, tag)
		}
	}
	text := html.UnescapeString(r.body)
	for _, w := range wants {
		if !strings.Contains(text, w) {
			t.Errorf("%s lacks %q", what, w)
		}
	}
}

// hostileSetup is a published panel made of hostile texts through the
// admin's forms, with one registration through the public form.
type hostileSetup struct {
	env                  *hostileEnv
	admin                *browser
	panelPath, slug      string
	sessionID, messageID int64
	token                string
}

func newHostileSetup(t *testing.T) *hostileSetup {
	t.Helper()
	env := newHostileEnv(t)
	env.addOwner(t, "owner@example.com")
	admin := env.browser(t)
	admin.header.Set("X-Forwarded-For", env.nextClient())
	assertStatus(t, admin.signIn("owner@example.com", ownerPassword), http.StatusSeeOther)
	s := &hostileSetup{env: env, admin: admin, slug: "hostile-texts"}

	created := admin.postForm("/admin/panels", url.Values{
		"title": {hostileTitle}, "slug": {s.slug}, "format": {hostileFormat}, "summary": {hostileSummary},
		"description": {hostileDescription}, "learning_points": {hostilePoint},
		"speakers[0].position": {"1"}, "speakers[0].name": {hostileSpeaker}, "speakers[0].role": {hostileRole},
		"speakers[0].bio": {hostileBio}, "organizer_name": {hostileOrganizer}, "organizer_email": {"events@example.org"},
	})
	assertStatus(t, created, http.StatusSeeOther)
	s.panelPath = created.header.Get("Location")
	assertStatus(t, admin.postForm(s.panelPath+"/questions", url.Values{
		"questions[0].position": {"1"}, "questions[0].kind": {"short_text"}, "questions[0].label": {hostileLabel},
		"questions[1].position": {"2"}, "questions[1].kind": {"single_choice"}, "questions[1].label": {hostileChoiceLabel},
		"questions[1].options": {hostileOption + "\nOther"},
	}), http.StatusSeeOther)
	session := sessionForm(map[string]string{"join_url": "", "venue": hostileVenue, "capacity": "10"})
	assertStatus(t, admin.postForm(s.panelPath+"/sessions", session), http.StatusSeeOther)
	assertStatus(t, admin.postForm(s.panelPath+"/publish", nil), http.StatusSeeOther)

	p, err := env.store.PublishedPanel(t.Context(), s.slug)
	if err != nil || len(p.Sessions) != 1 || len(p.Questions) != 2 {
		t.Fatalf("panel = %+v, %v", p, err)
	}
	s.sessionID = p.Sessions[0].ID
	visitor := env.browser(t)
	visitor.header.Set("Referer", hostileReferrer)
	page := visitor.get("/panels/" + s.slug + "?utm_source=" + url.QueryEscape(hostileSource))
	form := formFields(t, page.body)
	for k, v := range map[string]string{"session": itoa(s.sessionID), "name": hostileName, "email": "ada@example.com",
		"organisation": hostileOrg, "job_title": hostileJob, "consent": "yes",
		p.Questions[0].FieldName(): hostileAnswer, p.Questions[1].FieldName(): hostileOption} {
		form.Set(k, v)
	}
	s.token = manageToken(t, visitor.post("/panels/"+s.slug+"/register", form))
	msgs, err := env.store.RecentMessages(t.Context(), 0, 10)
	if err != nil || len(msgs) != 1 || msgs[0].Kind != models.KindConfirmation {
		t.Fatalf("outbox = %+v, %v; want the confirmation", msgs, err)
	}
	s.messageID = msgs[0].ID
	return s
}

// TestHostileAccepted_TextsComeOutAsText builds the hostile panel once and
// checks every place its texts come out.
func TestHostileAccepted_TextsComeOutAsText(t *testing.T) {
	s := newHostileSetup(t)
	t.Run("every page", s.checkPages)
	t.Run("email", s.checkEmail)
	t.Run("calendars", s.checkCalendars)
	t.Run("CSV export and API", s.checkExportAndAPI)
}

// browserFor is b for a subtest: the same cookies, failures reported to t.
func (b *browser) browserFor(t *testing.T) *browser {
	return &browser{t: t, app: b.app, cookies: b.cookies, header: b.header.Clone()}
}

// checkPages looks at every HTML page that shows the texts.
func (s *hostileSetup) checkPages(t *testing.T) {
	visitor, admin := s.env.browser(t), s.admin.browserFor(t)
	session := s.panelPath + "/sessions/" + itoa(s.sessionID)
	mail := "/admin/outbox/" + itoa(s.messageID)
	pages := []struct {
		path  string
		admin bool
		wants []string
	}{
		{"/", false, []string{hostileTitle, hostileFormat, hostileSummary}},
		{"/panels/" + s.slug, false, []string{hostileTitle, hostileFormat, hostileSummary, hostileDescription, hostilePoint,
			hostileSpeaker, hostileRole, hostileBio, hostileOrganizer, hostileVenue, hostileLabel, hostileChoiceLabel, hostileOption}},
		{"/panels/" + s.slug + "/embed", false, []string{hostileTitle, hostileFormat}},
		{"/registrations/" + s.token, false, []string{hostileTitle, hostileVenue}},
		{"/admin", true, []string{hostileTitle}},
		{"/admin/panels", true, []string{hostileTitle}},
		{s.panelPath, true, []string{hostileTitle, hostileLabel}},
		{s.panelPath + "/edit", true, []string{hostileTitle, hostileFormat, hostileSummary, hostileDescription, hostilePoint,
			hostileSpeaker, hostileRole, hostileBio, hostileOrganizer}},
		{s.panelPath + "/preview", true, []string{hostileTitle, hostileDescription, hostileSpeaker, hostileLabel, hostileOption}},
		{s.panelPath + "/questions", true, []string{hostileLabel, hostileChoiceLabel, hostileOption}},
		{s.panelPath + "/registrants", true, []string{hostileName, hostileOrg, hostileAnswer, hostileOption}},
		{session, true, []string{hostileTitle, hostileVenue, hostileName, hostileOrg, hostileAnswer}},
		{session + "/edit", true, []string{hostileVenue}},
		{"/admin/outbox", true, []string{hostileTitle}},
		{mail, true, []string{hostileTitle, hostileName}},
		{mail + "/html", true, []string{hostileTitle, hostileName, hostileVenue}},
	}
	for _, page := range pages {
		b := visitor
		if page.admin {
			b = admin
		}
		assertShownAsText(t, page.path, b.get(page.path), page.wants...)
	}
}

// checkEmail: the plain-text part, subject and headers of the email carry
// the texts as they are (escaping there would show &lt; to the reader),
// with nothing that could start a new header; the HTML part escapes them.
func (s *hostileSetup) checkEmail(t *testing.T) {
	msg, err := s.env.store.OutboxMessageByID(t.Context(), s.messageID)
	if err != nil {
		t.Fatal(err)
	}
	renderer, err := views.NewEmailRenderer()
	if err != nil {
		t.Fatal(err)
	}
	site := views.Site{BaseURL: "http://localhost:3000", MailFrom: "events@podium.example", MailName: "Podium"}
	email, err := renderer.Render(site, msg, s.env.store.Now())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(email.Subject, hostileTitle) || strings.ContainsAny(email.Subject, "\r\n") {
		t.Fatalf("subject = %q", email.Subject)
	}
	for _, want := range []string{hostileName, hostileTitle, hostileVenue} {
		if !strings.Contains(email.Text, want) {
			t.Errorf("plain text lacks %q:\n%s", want, email.Text)
		}
	}
	assertShownAsText(t, "email HTML", response{status: http.StatusOK, body: email.HTML}, hostileName, hostileTitle, hostileVenue)

	source := s.admin.browserFor(t).get("/admin/outbox/" + itoa(s.messageID) + "/source")
	assertStatus(t, source, http.StatusOK)
	parsed, err := mail.ReadMessage(strings.NewReader(source.body))
	if err != nil {
		t.Fatalf("MIME source does not parse: %v\n%s", err, source.body)
	}
	subject, err := new(mime.WordDecoder).DecodeHeader(parsed.Header.Get("Subject"))
	if err != nil || subject != email.Subject {
		t.Fatalf("Subject header = %q (%v); want %q", subject, err, email.Subject)
	}
	to, err := mail.ParseAddress(parsed.Header.Get("To"))
	if err != nil || to.Name != hostileName || to.Address != "ada@example.com" {
		t.Fatalf("To header = %q (%+v, %v)", parsed.Header.Get("To"), to, err)
	}
	for _, injected := range []string{"Bcc", "Cc"} {
		if parsed.Header.Get(injected) != "" {
			t.Fatalf("MIME source has a %s header:\n%s", injected, source.body)
		}
	}
}

// checkCalendars: every calendar file with the panel parses, and its texts
// round-trip.
func (s *hostileSetup) checkCalendars(t *testing.T) {
	visitor, admin := s.env.browser(t), s.admin.browserFor(t)
	files := []struct {
		path  string
		admin bool
	}{
		{"/panels/" + s.slug + "/sessions/" + itoa(s.sessionID) + ".ics", false},
		{"/panels/" + s.slug + "/calendar.ics", false},
		{"/calendar.ics", false},
		{"/registrations/" + s.token + "/invite.ics", false},
		{"/admin/outbox/" + itoa(s.messageID) + "/invite.ics", true},
	}
	for _, f := range files {
		b := visitor
		if f.admin {
			b = admin
		}
		r := b.get(f.path)
		assertStatus(t, r, http.StatusOK)
		events := decodeCalendar(t, r.body).Events()
		if len(events) != 1 {
			t.Fatalf("%s has %d events; want 1", f.path, len(events))
		}
		for prop, want := range map[string]string{ical.PropSummary: hostileTitle, ical.PropLocation: hostileVenue} {
			if got, err := events[0].Props.Text(prop); err != nil || got != want {
				t.Errorf("%s: %s = %q (%v); want %q", f.path, prop, got, err, want)
			}
		}
		if desc, _ := events[0].Props.Text(ical.PropDescription); !strings.Contains(desc, hostileSummary) ||
			!strings.Contains(desc, hostileSpeaker) {
			t.Errorf("%s: DESCRIPTION = %q; want the summary and the speaker", f.path, desc)
		}
	}
}

// checkExportAndAPI: the CSV export neutralises cells a spreadsheet would
// run as formulas and leaves the rest as typed; the API answers with the
// texts exactly.
func (s *hostileSetup) checkExportAndAPI(t *testing.T) {
	r := s.admin.browserFor(t).get(s.panelPath + "/registrants.csv")
	assertStatus(t, r, http.StatusOK)
	rows, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(r.body, views.CSVBOM))).ReadAll()
	if err != nil || len(rows) != 2 {
		t.Fatalf("CSV = %v (%v):\n%s", rows, err, r.body)
	}
	cells := map[string]string{}
	for i, header := range rows[0] {
		cells[header] = rows[1][i]
	}
	for header, want := range map[string]string{
		"Name": hostileName, "Organisation": "'" + hostileOrg, "Job title": "'" + hostileJob, "Panel": hostileTitle,
		"utm_source": "'" + hostileSource, "Referrer": "'" + hostileReferrer, hostileLabel: hostileAnswer,
		"'" + hostileChoiceLabel: "'" + hostileOption,
	} {
		if got, ok := cells[header]; !ok || got != want {
			t.Errorf("CSV %s = %q (column present: %v); want %q", header, got, ok, want)
		}
	}

	api := s.env.browser(t)
	acc, err := s.env.store.AccountByEmail(t.Context(), "owner@example.com")
	if err != nil {
		t.Fatal(err)
	}
	secret, _, err := s.env.store.CreateAPIToken(t.Context(), acc.ID, "accepted")
	if err != nil {
		t.Fatal(err)
	}
	api.header.Set("Authorization", "Bearer "+secret)
	list := api.get("/api/v1/sessions/" + itoa(s.sessionID) + "/registrations")
	got := decodeAs[registrationListJSON](t, list, http.StatusOK)
	if len(got.Data) != 1 || got.Data[0].Name != hostileName || got.Data[0].Organisation != hostileOrg ||
		got.Data[0].JobTitle != hostileJob {
		t.Fatalf("API registrations = %+v", got.Data)
	}
	if strings.Contains(list.body, "<script>") {
		t.Fatalf("API answer has a raw <script>: %s", list.body)
	}
	var panels struct{ Data []panelSummaryJSON }
	if err := json.Unmarshal([]byte(api.get("/api/v1/panels").body), &panels); err != nil ||
		len(panels.Data) != 1 || panels.Data[0].Title != hostileTitle {
		t.Fatalf("API panels = %+v (%v)", panels, err)
	}
}

// A search matches %, _ and \ as the characters themselves, in the admin's
// list, its CSV export and the API.
func TestHostileAccepted_SearchMatchesWildcardsLiterally(t *testing.T) {
	env := newHostileEnv(t)
	p := env.addPanel(t, "search", models.Session{Capacity: 100})
	people := map[string]string{"pct@example.com": "Ada 100% Lovelace", "under@example.com": "Under_score",
		"back@example.com": `Back\slash`, "plain@example.com": "Plain Person"}
	for email, name := range people {
		if _, err := env.store.AddRegistrationByOrganizer(t.Context(), p.Sessions[0].ID,
			models.RegistrationInput{Name: name, Email: email, Consent: true}, models.ChannelAdmin); err != nil {
			t.Fatal(err)
		}
	}
	admin := env.adminBrowser(t, models.RoleOrganizer)
	api := env.apiClient(t)
	searches := map[string][]string{
		"%": {"pct@example.com"}, "_": {"under@example.com"}, `\`: {"back@example.com"}, "100%": {"pct@example.com"},
		"%%": nil, "u_der": nil, "under_": {"under@example.com"}, `\s`: {"back@example.com"}, "%_": nil,
	}
	for term, want := range searches {
		q := url.QueryEscape(term)
		answers := map[string]response{
			"list":   admin.get(panelPath(p) + "/registrants?q=" + q),
			"export": admin.get(panelPath(p) + "/registrants.csv?q=" + q),
			"API":    api.get("/api/v1/sessions/" + itoa(p.Sessions[0].ID) + "/registrations?search=" + q),
		}
		for where, r := range answers {
			assertStatus(t, r, http.StatusOK)
			var found []string
			for email := range people {
				if strings.Contains(r.body, email) {
					found = append(found, email)
				}
			}
			slices.Sort(found)
			if !slices.Equal(found, want) {
				t.Errorf("%s search %q found %v; want %v", where, term, found, want)
			}
		}
	}
}

// A form that repeats a field counts its first value, as Fiber reads it:
// the second never slips into what is stored.
func TestHostileAccepted_RepeatedFormFieldsTakeTheFirstValue(t *testing.T) {
	env := newHostileEnv(t)
	p := env.addPanel(t, "twice", models.Session{Capacity: 10}, models.Session{Capacity: 10})
	b := env.browser(t)
	form := formFields(t, b.get("/panels/twice").body)
	for k, v := range person("first@example.com") {
		form.Set(k, v)
	}
	form.Set("session", itoa(p.Sessions[0].ID))
	form.Add("session", itoa(p.Sessions[1].ID))
	form.Add("email", "second@example.com")
	form.Add("name", "Second Name")
	token := manageToken(t, b.post("/panels/twice/register", form))
	reg, err := env.store.RegistrationByToken(t.Context(), token)
	if err != nil {
		t.Fatal(err)
	}
	if reg.SessionID != p.Sessions[0].ID || reg.Email != "first@example.com" || reg.Name != "Ada Lovelace" {
		t.Fatalf("registration = session %d, %q, %q; want the first values", reg.SessionID, reg.Email, reg.Name)
	}
	if n := env.countRegistrations(t, p.Sessions[1].ID); len(n) != 0 {
		t.Fatalf("second session has registrations %v", n)
	}
}

// Organizer text that spells out the old cache placeholders is shown as
// typed: a visitor's referrer lands only in the form's hidden field. The
// placeholders themselves cannot be typed, since they hold a format
// character the panel's rules refuse.
func TestHostileAccepted_PanelTextCannotForgeTheFormPlaceholders(t *testing.T) {
	env := newHostileEnv(t)
	forged := "Call podium-placeholder-referrer now, podium-placeholder-csrf podium-placeholder-source"
	p := env.addPanel(t, "forged", models.Session{Capacity: 10})
	p.Description = forged
	if err := env.store.UpdatePanel(t.Context(), p); err != nil {
		t.Fatal(err)
	}
	b := env.browser(t)
	b.header.Set("Referer", "https://evil.example/0800-SCAM")
	page := b.get("/panels/forged?utm_source=spoofed")
	assertShownAsText(t, "panel page", page, forged)
	if n := strings.Count(page.body, "0800-SCAM"); n != 1 {
		t.Fatalf("the referrer appears %d times; want once, in the hidden field", n)
	}
	if n := strings.Count(page.body, "spoofed"); n != 1 {
		t.Fatalf("utm_source appears %d times; want once, in the hidden field", n)
	}
	for _, placeholder := range []string{views.TokenPlaceholder, views.SourcePlaceholder, views.MediumPlaceholder,
		views.CampaignPlaceholder, views.TermPlaceholder, views.ContentPlaceholder, views.ReferrerPlaceholder} {
		p.Description = "Call " + placeholder
		if err := env.store.UpdatePanel(t.Context(), p); validationFields(err)["description"] == "" {
			t.Fatalf("a description holding %q was not refused: %v", placeholder, err)
		}
	}
}

// Whatever next or return a form carries, the redirect stays in the admin.
func TestHostileAccepted_RedirectsStayInTheAdmin(t *testing.T) {
	env := newHostileEnv(t)
	env.addOwner(t, "owner@example.com")
	p := env.addPanel(t, "redirects", models.Session{Capacity: 10})
	reg := env.register(t, p, p.Sessions[0].ID, "ada@example.com")
	offsite := []string{"//evil.example/admin", "https://evil.example/admin", "javascript:alert(1)", "/admin\r\nSet-Cookie: x=1",
		`/admin\\evil.example`, "/admin/login?next=//evil.example", "data:text/html,<script>alert(1)</script>"}
	var admin *browser
	// Each sign-in costs a password hash, so four of the values go through it.
	for _, next := range offsite[:4] {
		admin = env.browser(t)
		admin.header.Set("X-Forwarded-For", env.nextClient())
		form := formFields(t, admin.get("/admin/login").body)
		form.Set("email", "owner@example.com")
		form.Set("password", ownerPassword)
		form.Set("next", next)
		r := admin.post("/admin/login", form)
		if r.status != http.StatusSeeOther || r.header.Get("Location") != "/admin" {
			t.Fatalf("sign-in with next %q: %d to %q; want 303 to /admin", next, r.status, r.header.Get("Location"))
		}
	}
	token := admin.csrf()
	for _, next := range offsite {
		action := admin.post("/admin/registrations/"+itoa(reg.Registration.ID)+"/attended",
			url.Values{"_csrf": {token}, "return": {next}})
		if action.status != http.StatusSeeOther || action.header.Get("Location") != "/admin" {
			t.Fatalf("action with return %q: %d to %q; want 303 to /admin", next, action.status, action.header.Get("Location"))
		}
	}
}
