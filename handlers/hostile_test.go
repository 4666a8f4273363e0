package handlers

// The hostile-input corpus (issue 5, part 4): bad input sent to every form,
// every API endpoint that takes a body and every query parameter. A refused
// input must get a 4xx with a clear message (problem+json with a detail for
// the API), never a 500 or Go's own error text, and must change nothing:
// every table is compared before and after each case. The cases live in
// one table per target (hostile_public_test.go, hostile_admin_test.go,
// hostile_api_test.go) and are sent by the runners of hostile_form_test.go
// and hostile_api_test.go; the hostile-looking values the product accepts
// on purpose are in hostile_accepted_test.go, which checks that they come
// out as text wherever they are shown.

import (
	"database/sql"
	"fmt"
	"html"
	"log/slog"
	"maps"
	"net/http"
	"net/netip"
	"net/url"
	"podium/models/pgtest"
	"slices"
	"strings"
	"testing"
	"time"

	"podium/models"
)

// hostileEnv is a real app on a real SQLite file, with the file also open
// read-only so a case can compare every table before and after.
type hostileEnv struct {
	*testEnv
	db *sql.DB
	// loopback is the app served on a real port, for bodies over the limit,
	// which only a real listener refuses.
	loopback string
	// forwarded numbers the client addresses the cases come from, so the
	// sign-in rate limit counts each case as a different client.
	forwarded int
	// snapshotQuery reads every table at once (see snapshot).
	snapshotQuery string
}

// newHostileEnv is newTestEnv with the database path kept, the platform
// mailbox set and app.Test's peer (0.0.0.0) trusted as a proxy.
func newHostileEnv(t *testing.T) *hostileEnv {
	t.Helper()
	path := pgtest.DSN(t)
	clock := &testClock{now: testNow}
	store, err := models.Open(t.Context(), path, models.WithClock(clock.Now))
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { _ = store.Close() })
	cfg := Config{Store: store, BaseURL: "http://localhost:3000", Logger: slog.New(slog.NewTextHandler(t.Output(), nil)),
		TrustedProxies: []netip.Prefix{netip.MustParsePrefix("0.0.0.0/32")}}
	withMail(&cfg)
	app, err := New(cfg)
	if err != nil {
		t.Fatalf("new app: %v", err)
	}
	// A second app on the same store serves the loopback port, so app.Test
	// never shares an app with a running listener.
	served, err := New(cfg)
	if err != nil {
		t.Fatalf("new app: %v", err)
	}
	driver, source := "sqlite3", "file:"+path+"?mode=ro&_query_only=true"
	if pgtest.Postgres() {
		driver, source = "pgx", path
	}
	db, err := sql.Open(driver, source)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return &hostileEnv{testEnv: &testEnv{app: app, store: store, clock: clock}, db: db,
		loopback: serveOnLoopback(t, served)}
}

// nextClient is a new client address for X-Forwarded-For.
func (e *hostileEnv) nextClient() string {
	e.forwarded++
	return fmt.Sprintf("198.51.%d.%d", e.forwarded/250, e.forwarded%250+1)
}

// dbSnapshot is every table's rows, in rowid order, as text.
type dbSnapshot map[string][]string

// snapshot reads every table listed in sqlite_master, in one query.
func (e *hostileEnv) snapshot(t *testing.T) dbSnapshot {
	t.Helper()
	if e.snapshotQuery == "" {
		query, err := e.buildSnapshotQuery()
		if err != nil {
			t.Fatalf("snapshot query: %v", err)
		}
		e.snapshotQuery = query
	}
	rows, err := e.db.Query(e.snapshotQuery)
	if err != nil {
		t.Fatalf("snapshot: %v", err)
	}
	defer rows.Close()
	snap := dbSnapshot{}
	for rows.Next() {
		var name string
		var content sql.NullString
		if err := rows.Scan(&name, &content); err != nil {
			t.Fatalf("snapshot: %v", err)
		}
		snap[name] = nil
		if content.Valid {
			snap[name] = strings.Split(content.String, rowSeparator)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("snapshot: %v", err)
	}
	return snap
}

// rowSeparator joins a table's rows in a snapshot (ASCII record separator).
const rowSeparator = "\x1e"

// buildSnapshotQuery makes one query that returns each table's name and all
// its rows, every column quoted, so a snapshot is one round trip.
func (e *hostileEnv) buildSnapshotQuery() (string, error) {
	if pgtest.Postgres() {
		return e.buildPostgresSnapshotQuery()
	}
	tables, err := e.column(`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'
		AND name <> 'audit_log' -- recording every export, hostile filter or not, is its job
		ORDER BY name`)
	if err != nil {
		return "", err
	}
	parts := make([]string, 0, len(tables))
	for _, table := range tables {
		cols, err := e.column(`SELECT name FROM pragma_table_info(?) ORDER BY cid`, table)
		if err != nil {
			return "", err
		}
		quoted := make([]string, len(cols))
		for i, c := range cols {
			quoted[i] = fmt.Sprintf(`'%s=' || quote("%s")`, c, c)
		}
		parts = append(parts, fmt.Sprintf(`SELECT '%s', (SELECT group_concat(r, char(30)) FROM (SELECT %s AS r FROM "%s" ORDER BY rowid))`,
			table, strings.Join(quoted, ` || ' ' || `), table))
	}
	return strings.Join(parts, " UNION ALL "), nil
}

// buildPostgresSnapshotQuery is buildSnapshotQuery for PostgreSQL, whose
// rows have no rowid: each table's rows as text, in text order.
func (e *hostileEnv) buildPostgresSnapshotQuery() (string, error) {
	tables, err := e.column(`SELECT table_name FROM information_schema.tables
		WHERE table_schema = 'public' AND table_type = 'BASE TABLE'
		AND table_name NOT IN ('rate_limits', 'audit_log') -- counting every attempt, recording every export is their job
		ORDER BY table_name`)
	if err != nil {
		return "", err
	}
	parts := make([]string, 0, len(tables))
	for _, table := range tables {
		parts = append(parts, fmt.Sprintf(`SELECT '%s', (SELECT string_agg(r, chr(30) ORDER BY r) FROM (SELECT t::text AS r FROM "%s" t) x)`,
			table, table))
	}
	return strings.Join(parts, " UNION ALL "), nil
}

// column reads the first column of a query's rows.
func (e *hostileEnv) column(query string, args ...any) ([]string, error) {
	rows, err := e.db.Query(query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// assertUnchanged fails when any table gained, lost or changed a row.
func assertUnchanged(t *testing.T, before, after dbSnapshot) {
	t.Helper()
	for _, name := range slices.Sorted(maps.Keys(after)) {
		if slices.Equal(before[name], after[name]) {
			continue
		}
		t.Errorf("table %s changed: %d rows before, %d after", name, len(before[name]), len(after[name]))
		for i, row := range after[name] {
			if i >= len(before[name]) || before[name][i] != row {
				t.Errorf("  now: %s", row)
			}
		}
	}
}

// goErrorText are fragments of Go, driver and framework errors that must
// never reach a visitor.
var goErrorText = []string{
	"strconv.", "sql:", "gorm", "sqlite", "runtime error", "parsing time", "goroutine", "panic",
	"json: ", "invalid syntax", "value out of range", ".go:", "fasthttp", "reflect", "UNIQUE constraint",
	"multipart:", "cannot read", "error when",
	"Something went wrong",
}

// assertNoGoErrors fails when an answer shows an internal error.
func assertNoGoErrors(t *testing.T, body string) {
	t.Helper()
	for _, frag := range goErrorText {
		if strings.Contains(body, frag) {
			t.Fatalf("answer shows %q:\n%s", frag, clipBody(body))
		}
	}
}

// defaultMessages are what a refusal says when a case names no message of
// its own: the pages of handlers/errors.go and the CSRF and sign-in pages.
var defaultMessages = map[int]string{
	400: "We could not accept this form",
	401: "The email or password is incorrect",
	403: "This form has expired",
	404: "We could not find that page",
	413: "What you sent is too large",
	422: "There is a problem",
}

// assertAnswer checks an HTML answer's status and that it says msg (or the
// status's usual message), without internal errors.
func assertAnswer(t *testing.T, r response, status int, msg string) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status = %d; want %d; body:\n%s", r.status, status, clipBody(r.body))
	}
	assertNoGoErrors(t, r.body)
	if msg == "" {
		msg = defaultMessages[status]
	}
	if msg != "" && !strings.Contains(html.UnescapeString(r.body), msg) {
		t.Fatalf("answer lacks %q:\n%s", msg, clipBody(r.body))
	}
}

// flashMessage is the message an admin action left for the next page.
func flashMessage(b *browser) string {
	text, _ := url.QueryUnescape(b.cookies[flashCookie])
	delete(b.cookies, flashCookie)
	return text
}

func clipBody(body string) string {
	if len(body) > 4000 {
		return body[:4000] + "…"
	}
	return body
}

// fixture is what every target's cases refer to, by the placeholders of
// fixture.expand: a published panel with custom questions and two sessions
// (the first full, with a confirmed and a waitlisted registrant), another
// published panel, a draft without sessions, an owner signed in and an API
// token.
type fixture struct {
	env         *hostileEnv
	owner       *browser
	apiSecret   string
	panel       *models.Panel
	other       *models.Panel
	draft       *models.Panel
	ada, bob    models.Registration
	manageToken string
	ownerID     int64
	tokenID     int64
	messageID   int64
	expander    *strings.Replacer
	// ownerTokens are the owner's CSRF tokens by form target.
	ownerTokens map[string]string
	// last is the database as the previous case left it, which is as the
	// next case finds it: each case takes one snapshot, after itself.
	last dbSnapshot
}

// unchangedBy runs a case's requests and fails when they changed any table.
func (fx *fixture) unchangedBy(t *testing.T, run func() response) response {
	t.Helper()
	if fx.last == nil {
		fx.last = fx.env.snapshot(t)
	}
	r := run()
	after := fx.env.snapshot(t)
	assertUnchanged(t, fx.last, after)
	fx.last = after
	return r
}

// Placeholders in paths, fields and bodies.
const (
	fxPanel        = "{panel}"
	fxSlug         = "{slug}"
	fxSession      = "{session}"       // the full session, with registrants
	fxOpenSession  = "{open}"          // the session with free places
	fxOther        = "{other}"         // another published panel
	fxOtherSlug    = "{other-slug}"    // another published panel
	fxOtherSession = "{other-session}" // and its session
	fxDraft        = "{draft}"
	fxRegistration = "{registration}" // Ada's confirmed registration
	fxWaitlisted   = "{waitlisted}"   // Bob's waitlisted registration
	fxToken        = "{token}"        // Ada's manage token
	fxOwner        = "{owner}"        // the owner's account id
	fxAPIToken     = "{api-token}"    // the API token's id
	fxMessage      = "{message}"      // an outbox message's id
)

// questionKeys are the placeholders of the panel's questions, in order:
// short text, long text, single choice (required), multiple choice, checkbox.
var questionKeys = []string{"{q-short}", "{q-long}", "{q-single}", "{q-multi}", "{q-check}"}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	env := newHostileEnv(t)
	fx := &fixture{env: env, ownerTokens: map[string]string{}}
	ctx := t.Context()
	owner := env.addOwner(t, "owner@example.com")
	fx.ownerID = owner.ID
	secret, tok, err := env.store.CreateAPIToken(ctx, owner.ID, "corpus")
	if err != nil {
		t.Fatal(err)
	}
	fx.apiSecret, fx.tokenID = secret, tok.ID
	// The token's first use is noted; later ones within a minute are not.
	user := env.browser(t)
	user.header.Set("Authorization", "Bearer "+secret)
	assertStatus(t, user.get("/api/v1/panels"), http.StatusOK)
	fx.owner = env.browser(t)
	fx.owner.header.Set("X-Forwarded-For", env.nextClient())
	assertStatus(t, fx.owner.signIn("owner@example.com", ownerPassword), http.StatusSeeOther)

	fx.panel = &models.Panel{Slug: "hostile", Title: "Hostile panel", Format: "Free virtual panel discussion",
		Status: models.PanelPublished, Summary: "A panel the corpus attacks.",
		LearningPoints: []models.LearningPoint{{Text: "One point"}},
		Speakers:       []models.Speaker{{Name: "Grace Hopper"}},
		Questions: []models.Question{
			{Kind: models.QuestionShortText, Label: "Dietary needs"},
			{Kind: models.QuestionLongText, Label: "Anything else?"},
			{Kind: models.QuestionSingleChoice, Label: "Track", Required: true, Options: models.Lines{"A", "B"}},
			{Kind: models.QuestionMultipleChoice, Label: "Topics", Options: models.Lines{"AI", "Jobs"}},
			{Kind: models.QuestionCheckbox, Label: "Send me news"},
		},
		Sessions: []models.Session{
			{StartsAt: testNow.Add(7 * 24 * time.Hour), DurationMinutes: 60, TimeZone: "Europe/London",
				Capacity: 1, Waitlist: true, JoinURL: "https://meet.example.com/full"},
			{StartsAt: testNow.Add(8 * 24 * time.Hour), DurationMinutes: 60, TimeZone: "Europe/London",
				Capacity: 10, JoinURL: "https://meet.example.com/open"},
		},
	}
	if err := env.store.CreatePanel(ctx, fx.panel); err != nil {
		t.Fatal(err)
	}
	fx.other = env.addPanel(t, "other", models.Session{Capacity: 10})
	fx.draft = &models.Panel{Slug: "draft", Title: "Draft without sessions", Status: models.PanelDraft}
	if err := env.store.CreatePanel(ctx, fx.draft); err != nil {
		t.Fatal(err)
	}
	track := map[int64][]string{fx.panel.Questions[2].ID: {"A"}}
	ada, err := env.store.Register(ctx, fx.panel.ID, models.RegistrationInput{SessionID: fx.panel.Sessions[0].ID,
		Name: "Ada Lovelace", Email: "ada@example.com", Consent: true, Answers: track})
	if err != nil {
		t.Fatal(err)
	}
	bob, err := env.store.Register(ctx, fx.panel.ID, models.RegistrationInput{SessionID: fx.panel.Sessions[0].ID,
		Name: "Bob Babbage", Email: "bob@example.com", Consent: true, Answers: track})
	if err != nil {
		t.Fatal(err)
	}
	fx.ada, fx.bob, fx.manageToken = ada.Registration, bob.Registration, ada.Token
	msgs, err := env.store.RecentMessages(ctx, 0, 1)
	if err != nil || len(msgs) != 1 {
		t.Fatalf("outbox = %v, %v", msgs, err)
	}
	fx.messageID = msgs[0].ID

	pairs := []string{
		fxPanel, itoa(fx.panel.ID), fxSlug, fx.panel.Slug,
		fxSession, itoa(fx.panel.Sessions[0].ID), fxOpenSession, itoa(fx.panel.Sessions[1].ID),
		fxOtherSlug, fx.other.Slug, fxOtherSession, itoa(fx.other.Sessions[0].ID),
		fxDraft, itoa(fx.draft.ID), fxRegistration, itoa(fx.ada.ID), fxWaitlisted, itoa(fx.bob.ID), fxToken, fx.manageToken,
		fxOwner, itoa(fx.ownerID), fxAPIToken, itoa(fx.tokenID), fxMessage, itoa(fx.messageID),
	}
	for i, key := range questionKeys {
		pairs = append(pairs, key, itoa(fx.panel.Questions[i].ID))
	}
	fx.expander = strings.NewReplacer(pairs...)
	return fx
}

// expand fills in the fixture's placeholders.
func (fx *fixture) expand(s string) string { return fx.expander.Replace(s) }

// TestHostileInput_CorpusHasAtLeast150Cases counts the corpus without
// running it, so the count holds whichever targets a -run pattern picks.
func TestHostileInput_CorpusHasAtLeast150Cases(t *testing.T) {
	forms, apis, gets := 0, 0, len(queryCases())
	for _, target := range formTargets() {
		t.Logf("%-24s %3d cases", target.name, len(target.cases))
		forms += len(target.cases)
	}
	for _, target := range apiTargets() {
		t.Logf("%-24s %3d cases", target.name, len(target.cases))
		apis += len(target.cases)
	}
	t.Logf("%-24s %3d cases", "query parameters", gets)
	total := forms + apis + gets
	t.Logf("hostile corpus: %d form cases, %d API cases, %d query cases, %d in all", forms, apis, gets, total)
	if total < 150 {
		t.Fatalf("the corpus has %d cases; want at least 150", total)
	}
}
