package main

import (
	"encoding/csv"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/emersion/go-ical"

	"podium/views"
)

// The organizer's journey through the admin, from signing in to exporting
// registrants and signing out, with an attendee registering in between.

// organizerPanel is what the journey creates, with the times it chose.
type organizerPanel struct {
	path           string // the panel's admin page
	first, second  string // the sessions' admin pages
	firstID        int64
	firstStart     time.Time
	questionLabel  string
	questionAnswer string
}

func TestBrowser_OrganizerRunsAPanel(t *testing.T) {
	b := newBrowser(t, startAdminPodium(t, false))

	// Anonymous, the admin asks to sign in and comes back after it.
	b.open("/admin", 200)
	b.expectSignInPage("/admin")
	b.signIn("/admin")
	if h1 := b.text("h1"); h1 != "Dashboard" {
		t.Fatalf("after signing in: h1 %q", h1)
	}

	p := createPanel(b)
	addSessions(b, &p)
	addQuestion(b, &p)
	public := publish(b, p)

	// An attendee on another computer registers, answering the question.
	attendee := b.privateTab()
	manage := registerForSession(attendee, public, p)

	checkRegistrantArrived(b, p)
	reschedule(b, &p)
	checkUpdatedInvite(b, p)
	attendee.open(manage, 200)
	if when := attendee.text(".when-time"); !strings.HasPrefix(when, p.firstStart.Format("3:04 PM")) {
		t.Errorf("after the reschedule the attendee's page says %q; want %s", when, p.firstStart.Format("3:04 PM"))
	}
	checkExport(b, p)

	// Signing out ends the session: the admin asks to sign in again.
	b.follow(200, "/admin/login", chromedp.Click(chromedp.CSS(`header form[action="/admin/logout"] button`)))
	b.open("/admin", 200)
	b.expectSignInPage("/admin")
	if got := b.fetch(p.path + "/registrants.csv"); !strings.Contains(got.URL, "/admin/login") || strings.Contains(got.Body, "Registration ID") {
		t.Errorf("after signing out the export answered %d from %s", got.Status, got.URL)
	}
}

// createPanel fills in the panel form from the dashboard: title, format,
// summary, two learning points and a speaker.
func createPanel(b *tab) organizerPanel {
	b.t.Helper()
	b.follow(200, "/admin/panels/new", chromedp.Click(chromedp.CSS(`main .actions-row a[href="/admin/panels/new"]`)))
	b.do(
		fill("#field-title", "AI and the future of work"),
		fill("#field-format", "Free virtual panel discussion"),
		fill("#field-summary", "Three practitioners on what automation changes for jobs."),
		fill("#field-learning-points", "Which tasks change first\nHow to retrain teams"),
		fill("#field-speakers-0-name", "Grace Hopper"),
		fill("#field-speakers-0-role", "Rear admiral"),
		fill("#field-speakers-0-organisation", "US Navy"),
	)
	b.submit("form.admin-form", 200, "/admin/panels/")
	b.expectFlash("Panel created as a draft.")
	p := organizerPanel{path: views.AdminPanelURL(b.pathID("/admin/panels/"))}
	if h1, status := b.text("h1"), b.text(".title-row .status"); h1 != "AI and the future of work" || status != "Draft" {
		b.t.Fatalf("new panel page: h1 %q, status %q", h1, status)
	}
	return p
}

// addSessions adds two sessions through the session form, typing their
// dates and times and picking their zones: 3:00 PM in London three weeks
// ahead, and 6:30 PM in Tokyo a week later.
func addSessions(b *tab, p *organizerPanel) {
	b.t.Helper()
	london, tokyo := mustZone(b.t, "Europe/London"), mustZone(b.t, "Asia/Tokyo")
	day := time.Now().AddDate(0, 0, 21)
	p.firstStart = time.Date(day.Year(), day.Month(), day.Day(), 15, 0, 0, 0, london)
	// The first session's zone picker starts at the organizer's own zone.
	p.first = addSession(b, p.path, p.firstStart, viewerZone)
	p.firstID = b.pathID(p.path + "/sessions/")
	next := day.AddDate(0, 0, 7)
	// The second starts at the zone of the one before.
	p.second = addSession(b, p.path, time.Date(next.Year(), next.Month(), next.Day(), 18, 30, 0, 0, tokyo), "Europe/London")

	b.open(p.path, 200)
	if n := eval[int](b, `document.querySelectorAll("main table tbody tr").length`); n != 2 {
		b.t.Fatalf("the panel page lists %d sessions; want 2", n)
	}
}

func mustZone(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// addSession adds one session starting at start, in start's zone, checking
// the zone the picker offered first; it returns the session's admin page.
func addSession(b *tab, panelPath string, start time.Time, offered string) string {
	b.t.Helper()
	b.open(panelPath, 200)
	b.follow(200, panelPath+"/sessions/new", chromedp.Click(chromedp.CSS(`main a[href$="/sessions/new"]`)))
	zone := start.Location().String()
	if got := eval[string](b, `document.querySelector("#field-time-zone").value`); got != offered {
		b.t.Errorf("the zone picker starts at %q; want %q", got, offered)
	}
	b.typeDateTime("#field-date", "#field-time", start)
	b.do(chromedp.SetValue(chromedp.CSS("#field-time-zone"), zone))
	label := eval[string](b, `(s => s.options[s.selectedIndex].textContent)(document.querySelector("#field-time-zone"))`)
	// The picker shows each zone's offset today, which may differ from the
	// session's on the other side of a clock change.
	if want := "(UTC" + time.Now().In(start.Location()).Format("-07:00") + ") " + zone; !strings.HasPrefix(label, want) {
		b.t.Errorf("zone option %q; want %q…", label, want)
	}
	b.do(
		fill("#field-capacity", "50"),
		fill("#field-join-url", "https://meet.example.com/ai-work"),
	)
	b.submit("form.admin-form", 200, panelPath+"/sessions/")
	b.expectFlash("Session added.")
	checkSessionStart(b, start)
	return eval[string](b, `location.pathname`)
}

// checkSessionStart checks that the session page shows the session at start,
// in its own zone.
func checkSessionStart(b *tab, start time.Time) {
	b.t.Helper()
	got := eval[[]string](b, `[document.querySelector(".details time").getAttribute("datetime"),
		document.querySelector(".details .when-time").textContent]`)
	at, err := time.Parse(time.RFC3339, got[0])
	if err != nil || !at.Equal(start) || !strings.HasPrefix(got[1], start.Format("3:04 PM")) || !strings.Contains(got[1], start.Format("MST")) {
		b.t.Fatalf("the session page says %s (%q); want %s", got[0], got[1], start.Format("3:04 PM MST, 2 Jan 2006"))
	}
}

// addQuestion asks every registrant a required single-choice question.
func addQuestion(b *tab, p *organizerPanel) {
	b.t.Helper()
	p.questionLabel, p.questionAnswer = "Which area do you work in?", "Engineering"
	b.open(p.path, 200)
	b.follow(200, p.path+"/questions", chromedp.Click(chromedp.CSS(`main a[href$="/questions"]`)))
	b.do(
		fill("#field-questions-0-label", p.questionLabel),
		chromedp.SetValue(chromedp.CSS("#field-questions-0-kind"), "single_choice"),
		fill("#field-questions-0-options", "Policy\nEngineering\nResearch"),
		chromedp.Click(chromedp.CSS("#field-questions-0-required")),
	)
	b.submit("form.admin-form", 200, p.path)
	b.expectFlash("Questions saved.")
	if q := b.text("#questions-heading + p + ol li"); q != p.questionLabel+" (Single choice, required)" {
		b.t.Fatalf("the panel page lists the question as %q", q)
	}
}

// publish publishes the panel and returns its public page's path.
func publish(b *tab, p organizerPanel) string {
	b.t.Helper()
	b.open(p.path, 200)
	b.submit(`form[action$="/publish"]`, 200, p.path)
	b.expectFlash("Published:")
	if status := b.text(".title-row .status"); status != "Published" {
		b.t.Fatalf("after publishing the panel is %q", status)
	}
	return eval[string](b, `new URL(document.querySelector("main p.hint a").href).pathname`)
}

// registerForSession registers on the public page for the panel's first
// session, answering the question.
func registerForSession(b *tab, public string, p organizerPanel) string {
	b.t.Helper()
	b.open(public, 200)
	if h1 := b.text("h1"); h1 != "AI and the future of work" {
		b.t.Fatalf("public page h1 %q", h1)
	}
	b.do(
		chromedp.Click(chromedp.CSS(fmt.Sprintf("#session-%d", p.firstID))),
		fill("#field-name", "Ada Lovelace"),
		fill("#field-email", "ada@example.com"),
		fill("#field-organisation", "Analytical Engines"),
		chromedp.Click(chromedp.CSS(fmt.Sprintf(`#register input[type=radio][value=%q]`, p.questionAnswer))),
		chromedp.Click(chromedp.CSS("#field-consent")),
	)
	b.follow(200, "/registrations/", chromedp.Click(chromedp.CSS(`#register button[type=submit]`)))
	if h1 := b.text("h1"); h1 != "You're registered" {
		b.t.Fatalf("after registering: h1 %q", h1)
	}
	return eval[string](b, `location.pathname`)
}

// registrantRow is one row of the admin's registrant list.
type registrantRow struct {
	Name    string            `json:"name"`
	Email   string            `json:"email"`
	Status  string            `json:"status"`
	Answers map[string]string `json:"answers"`
}

// registrantRows reads the registrant list on the tab's page.
func (b *tab) registrantRows() []registrantRow {
	b.t.Helper()
	return eval[[]registrantRow](b, `[...document.querySelectorAll("table.registrants tbody tr")].map(tr => ({
		name: tr.querySelector("th").firstChild.textContent.trim(), email: tr.querySelector(".email").textContent.trim(),
		status: tr.querySelector(".status").textContent.trim(),
		answers: Object.fromEntries([...tr.querySelectorAll(".answers dt")].map(dt => [dt.textContent.trim(), dt.nextElementSibling.textContent.trim()]))}))`)
}

// checkRegistrantArrived finds the attendee, with their answer, in the
// session's and the panel's registrant lists.
func checkRegistrantArrived(b *tab, p organizerPanel) {
	b.t.Helper()
	for _, list := range []string{p.first, p.path + "/registrants"} {
		b.open(list, 200)
		rows := b.registrantRows()
		if len(rows) != 1 || rows[0].Name != "Ada Lovelace" || rows[0].Email != "ada@example.com" ||
			rows[0].Status != "Confirmed" || rows[0].Answers[p.questionLabel] != p.questionAnswer {
			b.t.Fatalf("%s lists %+v; want Ada Lovelace, confirmed, who answered %q", list, rows, p.questionAnswer)
		}
		if confirmed := b.text(".stat-confirmed .stat-value"); confirmed != "1" {
			b.t.Errorf("%s counts %q confirmed; want 1", list, confirmed)
		}
	}
	b.open(p.second, 200)
	if rows := b.registrantRows(); len(rows) != 0 {
		b.t.Errorf("the second session lists %+v; want nobody", rows)
	}
}

// reschedule moves the first session an hour and a half later: the admin
// asks first, saying one registrant will get an updated invite, then sends
// it and shows the progress.
func reschedule(b *tab, p *organizerPanel) {
	b.t.Helper()
	b.open(p.first, 200)
	b.follow(200, p.first+"/edit", chromedp.Click(chromedp.CSS(`main a[href$="/edit"]`)))
	p.firstStart = p.firstStart.Add(90 * time.Minute)
	b.typeDateTime("#field-date", "#field-time", p.firstStart)
	b.submit("form.admin-form", 200, p.first)
	if h1 := b.text("h1"); h1 != "Send updated invites?" {
		b.t.Fatalf("changing the time led to %q; want the confirmation", h1)
	}
	message := b.text(".confirm-count")
	m := regexp.MustCompile(`^(\d+) registrants? will receive an updated invite`).FindStringSubmatch(message)
	if m == nil || m[1] != "1" {
		b.t.Fatalf("the confirmation says %q; want 1 registrant", message)
	}
	if after := b.text("main table tbody tr td:last-child"); !strings.Contains(after, p.firstStart.Format("3:04 PM")) {
		b.t.Errorf("the confirmation's new time reads %q; want %s", after, p.firstStart.Format("3:04 PM"))
	}
	b.follow(200, p.first, chromedp.Click(chromedp.CSS(`main button[name=confirm][value=yes]`)))
	b.expectFlash("Changes saved. Updated invites are being sent to 1 registrant.")
	// The progress box says how far the fan-out has got; its Refresh link
	// (which admin.js follows by itself every two seconds) reloads it.
	running := regexp.MustCompile(`^Updated invites queued for \d of 1 registrant…`)
	for deadline := time.Now().Add(10 * time.Second); ; {
		progress := eval[[]string](b, `(p => p ? [p.textContent.replace(/\s+/g, " ").trim(),
			(p.querySelector("a") || {}).href || ""] : ["", ""])(document.querySelector("#fanout-progress"))`)
		if strings.HasPrefix(progress[0], "Updated invites queued for all 1 registrant.") {
			break
		}
		if !running.MatchString(progress[0]) || progress[1] == "" || time.Now().After(deadline) {
			b.t.Fatalf("the fan-out's progress reads %q", progress[0])
		}
		time.Sleep(50 * time.Millisecond)
		b.open(strings.TrimPrefix(progress[1], b.base), 200)
	}
	checkSessionStart(b, p.firstStart)
}

// checkUpdatedInvite waits for the updated invite in the admin's email list
// and checks that its calendar entry moves to the new time.
func checkUpdatedInvite(b *tab, p organizerPanel) {
	b.t.Helper()
	var mail string
	for deadline := time.Now().Add(10 * time.Second); mail == "" && time.Now().Before(deadline); {
		b.open("/admin/outbox", 200)
		mail = eval[string](b, `(tr => tr ? tr.querySelector("th a").getAttribute("href") : "")(
			[...document.querySelectorAll("main table tbody tr")].find(tr => tr.children[2].textContent.startsWith("Session changed") &&
				tr.children[1].textContent.includes("ada@example.com")))`)
		if mail == "" {
			time.Sleep(200 * time.Millisecond)
		}
	}
	if mail == "" {
		b.t.Fatalf("no updated invite to ada@example.com in the email list: %q", b.text("main table"))
	}
	b.follow(200, mail, chromedp.Click(chromedp.CSS(fmt.Sprintf(`main a[href=%q]`, mail))))
	if kind := b.text(".details dd:nth-of-type(2)"); kind != "Session changed (Invite)" {
		b.t.Errorf("the email's kind reads %q", kind)
	}
	invite := b.fetch(mail + "/invite.ics")
	cal, err := ical.NewDecoder(strings.NewReader(invite.Body)).Decode()
	if err != nil || len(cal.Events()) != 1 {
		b.t.Fatalf("the updated invite (%d) is not one event: %v\n%s", invite.Status, err, invite.Body)
	}
	ev := cal.Events()[0]
	start, err := ev.DateTimeStart(time.UTC)
	seq := 0
	if prop := ev.Props.Get(ical.PropSequence); prop != nil {
		seq, _ = strconv.Atoi(prop.Value)
	}
	if err != nil || !start.Equal(p.firstStart) || seq < 1 || !strings.Contains(invite.Type, "method=REQUEST") {
		b.t.Fatalf("the updated invite starts at %v (%v), sequence %d, %s; want %s, a sequence above 0 and METHOD:REQUEST",
			start, err, seq, invite.Type, p.firstStart.UTC())
	}
}

// checkExport downloads the panel's registrants as CSV with the browser's
// cookies: a byte order mark, the header row with the question's column, and
// the attendee with their answer and the session's new time.
func checkExport(b *tab, p organizerPanel) {
	b.t.Helper()
	b.open(p.path, 200)
	href := eval[string](b, `document.querySelector("main a[download][href$='/registrants.csv']").getAttribute("href")`)
	got := b.fetch(href)
	if got.Status != 200 || !strings.HasPrefix(got.Type, "text/csv") || !strings.Contains(got.Disposition, "attachment") {
		b.t.Fatalf("export: %d %q %q", got.Status, got.Type, got.Disposition)
	}
	body, hadBOM := strings.CutPrefix(got.Body, "\uFEFF")
	if !hadBOM {
		b.t.Error("the export does not start with a byte order mark")
	}
	rows, err := csv.NewReader(strings.NewReader(body)).ReadAll()
	if err != nil || len(rows) != 2 {
		b.t.Fatalf("export: %d rows (%v); want a header and one registrant:\n%s", len(rows), err, body)
	}
	col := map[string]int{}
	for i, name := range rows[0] {
		col[name] = i
	}
	want := map[string]string{
		"Status": "confirmed", "Name": "Ada Lovelace", "Email": "ada@example.com", "Organisation": "Analytical Engines",
		"Panel": "AI and the future of work", "Session ID": strconv.FormatInt(p.firstID, 10),
		"Session start (UTC)": p.firstStart.UTC().Format("2006-01-02 15:04:05"), "Session time zone": "Europe/London",
		p.questionLabel: p.questionAnswer,
	}
	for name, value := range want {
		if i, ok := col[name]; !ok || rows[1][i] != value {
			b.t.Errorf("export column %q: %q; want %q (header %q)", name, cell(rows[1], i, ok), value, rows[0])
		}
	}
	if last := rows[0][len(rows[0])-1]; last != p.questionLabel {
		b.t.Errorf("the export's last column is %q; want the question", last)
	}
}

func cell(row []string, i int, ok bool) string {
	if !ok || i >= len(row) {
		return "(missing)"
	}
	return row[i]
}
