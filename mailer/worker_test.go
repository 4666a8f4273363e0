package mailer

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"mime"
	netmail "net/mail"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-ical"

	"podium/mailer/smtptest"
	"podium/models"
	"podium/views"
)

var testNow = time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)

type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

func (c *testClock) Add(d time.Duration) { c.mu.Lock(); defer c.mu.Unlock(); c.now = c.now.Add(d) }

// outboxEnv is a real store, a real SMTP server and a worker between them.
type outboxEnv struct {
	store  *models.Store
	clock  *testClock
	srv    *smtptest.Server
	worker *Worker
	panel  *models.Panel
	sess   models.Session
}

var testSite = views.Site{BaseURL: "https://podium.example", MailFrom: "events@podium.example", MailName: "Podium Events"}

func newOutboxEnv(t *testing.T, capacity int) *outboxEnv {
	t.Helper()
	srv, sender := startServer(t)
	panel := &models.Panel{
		Title: "Cities, heat; and \"us\" — 城市与气候", Status: models.PanelPublished, Summary: "Hot summers, cool heads.",
		OrganizerName: "Podium Events", OrganizerEmail: "organiser@podium.example",
		Speakers: []models.Speaker{{Name: "Zoë Al-Hakim"}},
		Sessions: []models.Session{{StartsAt: testNow.Add(7 * 24 * time.Hour), DurationMinutes: 60,
			TimeZone: "Europe/London", Capacity: capacity, Waitlist: true, JoinURL: "https://meet.example.com/heat"}},
	}
	store, clock, w := newTestWorker(t, panel, sender)
	return &outboxEnv{store: store, clock: clock, srv: srv, worker: w, panel: panel, sess: panel.Sessions[0]}
}

// newTestWorker opens a store on a test clock, stores panel in it and
// returns a worker delivering the store's outbox through sender.
func newTestWorker(tb testing.TB, panel *models.Panel, sender Deliverer) (*models.Store, *testClock, *Worker) {
	tb.Helper()
	clock := &testClock{now: testNow}
	store, err := models.Open(context.Background(), filepath.Join(tb.TempDir(), "podium.db"), models.WithClock(clock.Now))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = store.Close() })
	renderer, err := views.NewEmailRenderer()
	if err != nil {
		tb.Fatal(err)
	}
	if err := store.CreatePanel(context.Background(), panel); err != nil {
		tb.Fatal(err)
	}
	return store, clock, NewWorker(store, renderer, testSite, sender, slog.New(slog.DiscardHandler))
}

func (e *outboxEnv) register(t *testing.T, name, email string) *models.RegisterResult {
	t.Helper()
	res, err := e.store.Register(context.Background(), e.panel.ID, models.RegistrationInput{
		SessionID: e.sess.ID, Name: name, Email: email, Consent: true})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// drain runs the worker until nothing is due.
func (e *outboxEnv) drain(t *testing.T) {
	t.Helper()
	for {
		n, err := e.worker.RunOnce(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			return
		}
	}
}

// received is one delivered message, parsed like a mail client would.
type received struct {
	messageID   string
	subject     string
	text, html  string
	mimeMethod  string
	calendar    *ical.Calendar
	attachment  []byte
	calendarRaw []byte
}

func parseReceived(t *testing.T, m smtptest.Message) received {
	t.Helper()
	header, root := parseRaw(t, m.Data)
	subject, _ := new(mime.WordDecoder).DecodeHeader(header.Get("Subject"))
	r := received{messageID: header.Get("Message-Id"), subject: subject}
	var walk func(p *mimePart)
	walk = func(p *mimePart) {
		switch p.mediaType {
		case "text/plain":
			r.text = string(p.body)
		case "text/html":
			r.html = string(p.body)
		case "text/calendar":
			r.mimeMethod, r.calendarRaw = p.params["method"], p.body
		case "application/ics":
			r.attachment = p.body
		}
		for _, c := range p.parts {
			walk(c)
		}
	}
	walk(root)
	if r.calendarRaw != nil {
		cal, err := ical.NewDecoder(bytes.NewReader(r.calendarRaw)).Decode()
		if err != nil {
			t.Fatalf("go-ical cannot read the invite: %v\n%s", err, r.calendarRaw)
		}
		r.calendar = cal
		if !bytes.Equal(r.attachment, r.calendarRaw) {
			t.Fatal("the invite.ics attachment differs from the inline calendar")
		}
	}
	return r
}

func (r received) prop(t *testing.T, name string) string {
	t.Helper()
	for _, ev := range r.calendar.Events() {
		if p := ev.Props.Get(name); p != nil {
			return p.Value
		}
	}
	t.Fatalf("invite has no %s", name)
	return ""
}

// text reads a TEXT property with its escapes undone.
func (r received) textProp(t *testing.T, name string) string {
	t.Helper()
	for _, ev := range r.calendar.Events() {
		if v, err := ev.Props.Text(name); err == nil && v != "" {
			return v
		}
	}
	t.Fatalf("invite has no %s", name)
	return ""
}

func (r received) method(t *testing.T) string {
	t.Helper()
	return r.calendar.Props.Get(ical.PropMethod).Value
}

func lastMessage(t *testing.T, srv *smtptest.Server, count int) received {
	t.Helper()
	msgs := srv.Messages()
	if len(msgs) != count {
		t.Fatalf("server received %d messages; want %d", len(msgs), count)
	}
	return parseReceived(t, msgs[len(msgs)-1])
}

func TestWorker_DeliversConfirmationWithInvite(t *testing.T) {
	env := newOutboxEnv(t, 10)
	res := env.register(t, "Ana, \"Nana\" O'Neil; 王", "Ana@example.com")
	env.drain(t)
	got := lastMessage(t, env.srv, 1)
	if got.mimeMethod != "REQUEST" || got.method(t) != "REQUEST" {
		t.Fatalf("MIME method %q, METHOD %q; want REQUEST for both", got.mimeMethod, got.method(t))
	}
	wantUID := fmt.Sprintf("reg-%d-sess-%d@podium.example", res.Registration.ID, env.sess.ID)
	if uid := got.prop(t, ical.PropUID); uid != wantUID {
		t.Fatalf("UID = %q; want %q", uid, wantUID)
	}
	if seq := got.prop(t, ical.PropSequence); seq != "0" {
		t.Fatalf("SEQUENCE = %q; want 0", seq)
	}
	if start := got.prop(t, ical.PropDateTimeStart); start != env.sess.StartsAt.UTC().Format("20060102T150405Z") {
		t.Fatalf("DTSTART = %q; want %s in UTC", start, env.sess.StartsAt)
	}
	if att := got.prop(t, ical.PropAttendee); !strings.EqualFold(att, "mailto:Ana@example.com") {
		t.Fatalf("ATTENDEE = %q", att)
	}
	if summary := got.textProp(t, ical.PropSummary); summary != env.panel.Title {
		t.Fatalf("SUMMARY = %q; want the title back unharmed", summary)
	}
	manage := "https://podium.example/registrations/" + res.Token
	join := "https://podium.example/j/" + joinToken(t, env.store, res.Registration.ID)
	for _, body := range []string{got.text, got.html, got.textProp(t, ical.PropDescription)} {
		if !strings.Contains(body, manage) || !strings.Contains(body, join) {
			t.Fatalf("body lacks the manage or personal join link:\n%s", body)
		}
		if strings.Contains(body, "https://meet.example.com/heat") {
			t.Fatalf("body carries the session's shared join URL:\n%s", body)
		}
	}
	if url := got.prop(t, ical.PropURL); url != join {
		t.Fatalf("URL = %q; want the personal join link %s", url, join)
	}
	if loc := got.textProp(t, ical.PropLocation); loc != "Online" {
		t.Fatalf("LOCATION = %q; want Online", loc)
	}
	if !strings.Contains(got.text, "GMT (Europe/London)") || !strings.Contains(got.text, "calendar.google.com") {
		t.Fatalf("text body lacks the zone or calendar links:\n%s", got.text)
	}
	if got.messageID == "" || !strings.HasPrefix(got.subject, "You're registered: ") {
		t.Fatalf("Message-ID %q, subject %q", got.messageID, got.subject)
	}
	counts, _ := env.store.OutboxCounts(context.Background())
	if counts[models.OutboxSent] != 1 || len(counts) != 1 {
		t.Fatalf("outbox = %v; want one sent", counts)
	}
}

func TestWorker_SMTPDownThenUpDeliversEveryMessageOnce(t *testing.T) {
	env := newOutboxEnv(t, 100)
	env.srv.Stop()
	for i := range 6 {
		env.register(t, fmt.Sprintf("Guest %d", i), fmt.Sprintf("guest%d@example.com", i))
	}
	for range 3 { // three rounds of failures while the server is down
		env.drain(t)
		env.clock.Add(time.Hour)
	}
	counts, _ := env.store.OutboxCounts(context.Background())
	if counts[models.OutboxQueued] != 6 {
		t.Fatalf("outbox while down = %v; want all 6 still queued", counts)
	}
	if err := env.srv.Start(); err != nil {
		t.Fatal(err)
	}
	env.clock.Add(time.Hour)
	env.drain(t)
	ids := map[string]bool{}
	for _, m := range env.srv.Messages() {
		ids[parseReceived(t, m).messageID] = true
	}
	if len(env.srv.Messages()) != 6 || len(ids) != 6 {
		t.Fatalf("delivered %d messages with %d Message-IDs; want 6 and 6", len(env.srv.Messages()), len(ids))
	}
}

func TestWorker_TemporaryRefusalRetriedPermanentFailsOnce(t *testing.T) {
	env := newOutboxEnv(t, 100)
	env.register(t, "Temp", "temp@example.com")
	env.srv.FailNext(2, 451, smtptest.AtData)
	env.drain(t)
	env.clock.Add(time.Hour)
	env.drain(t)
	env.clock.Add(time.Hour)
	env.drain(t)
	lastMessage(t, env.srv, 1)

	env.register(t, "Perm", "perm@example.com")
	env.srv.FailNext(1, 550, smtptest.AtRcpt)
	env.drain(t)
	for range 5 {
		env.clock.Add(2 * time.Hour)
		env.drain(t)
	}
	counts, _ := env.store.OutboxCounts(context.Background())
	if counts[models.OutboxFailed] != 1 || counts[models.OutboxSent] != 1 || len(env.srv.Messages()) != 1 {
		t.Fatalf("outbox = %v, delivered %d; want one sent, one failed and no retry", counts, len(env.srv.Messages()))
	}
}

func TestWorker_PicksUpMessagesInFlightAtRestart(t *testing.T) {
	env := newOutboxEnv(t, 100)
	env.register(t, "Crash", "crash@example.com")
	// A worker claims the message and dies before sending it.
	if claimed, err := env.store.ClaimOutbox(context.Background(), 10, time.Hour); err != nil || len(claimed) != 1 {
		t.Fatalf("claim = %d, %v", len(claimed), err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- env.worker.Run(ctx) }()
	deadline := time.Now().Add(10 * time.Second)
	for len(env.srv.Messages()) == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	lastMessage(t, env.srv, 1)
}

func TestWorker_RescheduleUpdatesTheSameEntry(t *testing.T) {
	env := newOutboxEnv(t, 100)
	res := env.register(t, "Ada", "ada@example.com")
	env.drain(t)
	first := lastMessage(t, env.srv, 1)
	newStart := env.sess.StartsAt.Add(26 * time.Hour)
	_, err := env.store.UpdateSession(context.Background(), env.sess.ID, models.SessionUpdate{
		StartsAt: newStart, DurationMinutes: 90, TimeZone: "America/New_York", JoinURL: env.sess.JoinURL, Waitlist: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	NewJobs(env.store, func() {}, slog.New(slog.DiscardHandler)).RunOnce(context.Background())
	env.drain(t)
	update := lastMessage(t, env.srv, 2)
	if update.method(t) != "REQUEST" || update.mimeMethod != "REQUEST" {
		t.Fatalf("update method = %q/%q; want REQUEST", update.method(t), update.mimeMethod)
	}
	if update.prop(t, ical.PropUID) != first.prop(t, ical.PropUID) || update.prop(t, ical.PropSequence) != "1" {
		t.Fatalf("update UID %q seq %q; want the same UID %q with SEQUENCE 1",
			update.prop(t, ical.PropUID), update.prop(t, ical.PropSequence), first.prop(t, ical.PropUID))
	}
	if update.prop(t, ical.PropDateTimeStart) != newStart.UTC().Format("20060102T150405Z") {
		t.Fatalf("DTSTART = %q; want the new time", update.prop(t, ical.PropDateTimeStart))
	}
	if !strings.Contains(update.text, "EST (America/New_York)") || !strings.Contains(update.subject, "New details") {
		t.Fatalf("update email:\n%s\n%s", update.subject, update.text)
	}

	if _, err := env.store.CancelByToken(context.Background(), res.Token); err != nil {
		t.Fatal(err)
	}
	env.drain(t)
	cancelled := lastMessage(t, env.srv, 3)
	if cancelled.mimeMethod != "CANCEL" || cancelled.method(t) != "CANCEL" ||
		cancelled.prop(t, ical.PropUID) != first.prop(t, ical.PropUID) ||
		cancelled.prop(t, ical.PropSequence) != "2" || cancelled.prop(t, ical.PropStatus) != "CANCELLED" {
		t.Fatalf("cancel = %s seq %s status %s", cancelled.method(t), cancelled.prop(t, ical.PropSequence), cancelled.prop(t, ical.PropStatus))
	}
}

func TestWorker_SessionCancelledRemovesEntry(t *testing.T) {
	env := newOutboxEnv(t, 1)
	env.register(t, "Holder", "holder@example.com")
	env.register(t, "Waiting", "waiting@example.com")
	env.drain(t)
	if _, err := env.store.CancelSession(context.Background(), env.sess.ID); err != nil {
		t.Fatal(err)
	}
	NewJobs(env.store, func() {}, slog.New(slog.DiscardHandler)).RunOnce(context.Background())
	env.drain(t)
	msgs := env.srv.Messages()
	if len(msgs) != 4 {
		t.Fatalf("delivered %d; want confirmation, waitlisted and two cancellations", len(msgs))
	}
	byRecipient := map[string]received{}
	for _, m := range msgs[2:] {
		byRecipient[m.To[0]] = parseReceived(t, m)
	}
	holder, waiting := byRecipient["holder@example.com"], byRecipient["waiting@example.com"]
	if holder.calendar == nil || holder.method(t) != "CANCEL" || holder.prop(t, ical.PropSequence) != "1" {
		t.Fatal("the holder's cancellation lacks a CANCEL with SEQUENCE 1")
	}
	if waiting.calendar != nil || !strings.Contains(waiting.text, "cancelled") {
		t.Fatalf("the waitlisted registrant should be told in words only:\n%s", waiting.text)
	}
}

func TestWorker_RemindersAtTheirTimes(t *testing.T) {
	env := newOutboxEnv(t, 100)
	ada := env.register(t, "Ada", "ada@example.com")
	env.drain(t)
	jobs := NewJobs(env.store, func() {}, slog.New(slog.DiscardHandler))
	start := env.sess.StartsAt
	for _, step := range []struct {
		at   time.Duration // before the start
		want int           // messages delivered so far
	}{{25 * time.Hour, 1}, {24*time.Hour - time.Minute, 2}, {2 * time.Hour, 2}, {59 * time.Minute, 3}, {time.Minute, 3}} {
		env.clock.Add(start.Add(-step.at).Sub(env.clock.Now()))
		jobs.RunOnce(context.Background())
		env.drain(t)
		if n := len(env.srv.Messages()); n != step.want {
			t.Fatalf("%v before the start: %d messages; want %d", step.at, n, step.want)
		}
	}
	last := lastMessage(t, env.srv, 3)
	if !strings.HasPrefix(last.subject, "Reminder: ") || !strings.Contains(last.subject, "1 hour") || last.calendar != nil {
		t.Fatalf("reminder subject %q", last.subject)
	}
	// Reminders are bulk mail with a one-click unsubscribe (RFC 8058) that
	// works; the confirmation is not.
	msgs := env.srv.Messages()
	token, err := env.store.UnsubscribeToken(ada.Registration.ID)
	if err != nil {
		t.Fatal(err)
	}
	wantLink := "<" + testSite.URL("/unsubscribe/"+token) + ">"
	for i, m := range msgs {
		parsed, err := netmail.ReadMessage(bytes.NewReader(m.Data))
		if err != nil {
			t.Fatal(err)
		}
		link, post := parsed.Header.Get("List-Unsubscribe"), parsed.Header.Get("List-Unsubscribe-Post")
		reminder := i > 0
		if reminder && (link != wantLink || post != "List-Unsubscribe=One-Click") {
			t.Fatalf("reminder %d: List-Unsubscribe %q, -Post %q; want %q and one-click", i, link, post, wantLink)
		}
		if reminder && !bytes.Contains(m.Data, []byte("/unsubscribe/"+token)) {
			t.Fatalf("reminder %d has no unsubscribe link in its body", i)
		}
		if !reminder && (link != "" || post != "") {
			t.Fatalf("the confirmation carries List-Unsubscribe %q", link)
		}
	}
}

func TestWorker_SilentServerTimesOutWithoutWedging(t *testing.T) {
	env := newOutboxEnv(t, 100)
	env.srv.SetSilent(true)
	env.register(t, "Ada", "ada@example.com")
	started := time.Now()
	if _, err := env.worker.RunOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	if waited := time.Since(started); waited > 4*testTimeout {
		t.Fatalf("a silent server held the worker for %v", waited)
	}
	counts, _ := env.store.OutboxCounts(context.Background())
	if counts[models.OutboxQueued] != 1 {
		t.Fatalf("outbox = %v; want the message queued for retry", counts)
	}
}

func TestWorker_SkipsMessagesOvertakenByEvents(t *testing.T) {
	env := newOutboxEnv(t, 100)
	res := env.register(t, "Ada", "ada@example.com")
	if _, err := env.store.CancelByToken(context.Background(), res.Token); err != nil {
		t.Fatal(err)
	}
	env.drain(t)
	got := lastMessage(t, env.srv, 1) // only the cancellation; the stale confirmation is skipped
	if got.method(t) != "CANCEL" {
		t.Fatalf("delivered %s; want only the CANCEL", got.method(t))
	}
	counts, _ := env.store.OutboxCounts(context.Background())
	if counts[models.OutboxSkipped] != 1 {
		t.Fatalf("outbox = %v; want the confirmation skipped", counts)
	}
}

// concurrentSends counts how many Send calls run at once.
type concurrentSends struct {
	Deliverer
	mu        sync.Mutex
	now, most int
}

func (c *concurrentSends) Send(ctx context.Context, msgs []Message) []error {
	c.mu.Lock()
	c.now++
	c.most = max(c.most, c.now)
	c.mu.Unlock()
	defer func() { c.mu.Lock(); c.now--; c.mu.Unlock() }()
	return c.Deliverer.Send(ctx, msgs)
}

func TestWorker_WhileBusyDeliversOnOneConnectionAndStillDeliversEverything(t *testing.T) {
	env := newOutboxEnv(t, 1000)
	const n = 120
	for i := range n {
		env.register(t, "Busy", fmt.Sprintf("busy%d@example.com", i))
	}
	sends := &concurrentSends{Deliverer: env.worker.sender}
	env.worker.sender = sends
	env.worker.Concurrency, env.worker.Batch = 4, 10
	env.worker.Busy = func() bool { return true }
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- env.worker.Run(ctx) }()
	deadline := time.Now().Add(30 * time.Second)
	for len(env.srv.Messages()) < n && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	stop()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got := len(env.srv.Messages()); got != n {
		t.Fatalf("delivered %d of %d while busy; want every one, at a slower pace", got, n)
	}
	if sends.most != 1 {
		t.Fatalf("%d batches were sent at once while busy; want 1", sends.most)
	}
}

// sendAfterStop is a Deliverer that holds its first batch until the test
// has told the worker to stop, then hands it to the real sender.
type sendAfterStop struct {
	Deliverer
	started, stopped chan struct{}
	once             sync.Once
}

func (s *sendAfterStop) Send(ctx context.Context, msgs []Message) []error {
	s.once.Do(func() { close(s.started); <-s.stopped; time.Sleep(50 * time.Millisecond) })
	return s.Deliverer.Send(ctx, msgs)
}

// A batch already being sent when the worker is told to stop (a shutdown,
// a rolling deploy) is sent, not interrupted and left for a retry.
func TestWorker_FinishesTheBatchItIsSendingWhenStopped(t *testing.T) {
	env := newOutboxEnv(t, 10)
	const n = 5
	for i := range n {
		env.register(t, "Stopping", fmt.Sprintf("stop%d@example.com", i))
	}
	held := &sendAfterStop{Deliverer: env.worker.sender, started: make(chan struct{}), stopped: make(chan struct{})}
	env.worker.sender = held
	env.worker.Concurrency = 1
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- env.worker.Run(ctx) }()
	<-held.started
	stop()
	close(held.stopped)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got := len(env.srv.Messages()); got != n {
		t.Fatalf("%d of %d messages of the batch in flight were sent after the stop; want all", got, n)
	}
	counts, err := env.store.OutboxCounts(context.Background())
	if err != nil || counts[models.OutboxSent] != n {
		t.Fatalf("outbox after the stop: %v (%v); want %d sent", counts, err, n)
	}
}

// joinToken is a registration's personal join link token, as its manage
// page offers it.
func joinToken(t *testing.T, store *models.Store, registrationID int64) string {
	t.Helper()
	token, err := store.PersonalLink(context.Background(), registrationID, models.LinkJoin)
	if err != nil {
		t.Fatal(err)
	}
	return token
}
