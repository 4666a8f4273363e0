package mailer

import (
	"context"
	"encoding/json"
	"flag"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"podium/models"
	"podium/views"
)

var updateGoldens = flag.Bool("update", false, "rewrite the golden files in testdata/")

// The demo session's invites, as Podium renders them, must not change
// without someone looking: its REQUEST, the update after a reschedule and
// the CANCEL after the attendee cancels.
func TestDemoSessionInvites_MatchGoldenFiles(t *testing.T) {
	clock := &testClock{now: time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)}
	ctx := context.Background()
	store, err := models.Open(ctx, filepath.Join(t.TempDir(), "demo.db"), models.WithClock(clock.Now))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	if _, err := store.SeedDemo(ctx); err != nil {
		t.Fatal(err)
	}
	panel, err := store.PublishedPanel(ctx, "keeping-the-lights-on")
	if err != nil {
		t.Fatal(err)
	}
	sess := panel.Sessions[0]
	res, err := store.Register(ctx, panel.ID, models.RegistrationInput{
		SessionID: sess.ID, Name: "Ada Lovelace, Countess of Lovelace", Email: "ada@example.com", Consent: true})
	if err != nil {
		t.Fatal(err)
	}
	invites := map[string][]byte{"demo_request.ics": renderNext(t, store, clock)}
	clock.Add(time.Hour)
	if _, err := store.UpdateSession(ctx, sess.ID, models.SessionUpdate{
		StartsAt: sess.StartsAt.Add(24 * time.Hour), DurationMinutes: 75, TimeZone: sess.TimeZone,
		Capacity: sess.Capacity, Waitlist: sess.Waitlist, JoinURL: sess.JoinURL,
	}); err != nil {
		t.Fatal(err)
	}
	NewJobs(store, func() {}, slog.New(slog.DiscardHandler)).RunOnce(ctx)
	invites["demo_update.ics"] = renderNext(t, store, clock)
	clock.Add(time.Hour)
	if _, err := store.CancelByToken(ctx, res.Token); err != nil {
		t.Fatal(err)
	}
	invites["demo_cancel.ics"] = renderNext(t, store, clock)

	for name, got := range invites {
		path := filepath.Join("testdata", name)
		if *updateGoldens {
			if err := os.WriteFile(path, got, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run go test ./mailer -run Golden -update)", err)
		}
		if string(got) != string(want) {
			t.Errorf("%s changed; got:\n%s", name, got)
		}
	}
	checkWithPython(t, filepath.Join("testdata", "demo_request.ics"), filepath.Join("testdata", "demo_update.ics"),
		filepath.Join("testdata", "demo_cancel.ics"))
}

// renderNext claims the next outbox message and renders its invite, with a
// fixed manage and join tokens so the golden file is stable.
func renderNext(t *testing.T, store *models.Store, clock *testClock) []byte {
	t.Helper()
	msgs, err := store.ClaimOutbox(context.Background(), 1, time.Minute)
	if err != nil || len(msgs) != 1 {
		t.Fatalf("claim = %d, %v", len(msgs), err)
	}
	if msgs[0].ManageToken != "" {
		msgs[0].ManageToken = "demo-manage-token"
	}
	if msgs[0].JoinToken != "" {
		msgs[0].JoinToken = "demo-join-token"
	}
	renderer, err := views.NewEmailRenderer()
	if err != nil {
		t.Fatal(err)
	}
	email, err := renderer.Render(testSite, &msgs[0], clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := store.RecordDeliveries(context.Background(), []models.DeliveryResult{{ID: msgs[0].ID, Attempts: 1}}); err != nil {
		t.Fatal(err)
	}
	return email.Calendar
}

const pythonReadInvites = `
import json, sys, icalendar
out = []
for path in sys.argv[1:]:
    cal = icalendar.Calendar.from_ical(open(path, 'rb').read())
    for ev in cal.walk('VEVENT'):
        out.append({"method": str(cal['METHOD']), "uid": str(ev['UID']), "sequence": int(ev['SEQUENCE']),
                    "start": ev.decoded('DTSTART').isoformat(), "status": str(ev['STATUS']),
                    "errors": [str(e) for e in getattr(ev, 'errors', [])]})
print(json.dumps(out))
`

// checkWithPython reads the invites with a second, independent parser
// (Debian's python3-icalendar, which CI installs).
func checkWithPython(t *testing.T, paths ...string) {
	t.Helper()
	python := "/usr/bin/python3"
	if exec.Command(python, "-c", "import icalendar").Run() != nil {
		t.Skip("second opinion skipped: no python3 with the icalendar module (apt-get install python3-icalendar)")
	}
	out, err := exec.Command(python, append([]string{"-c", pythonReadInvites}, paths...)...).Output()
	if err != nil {
		t.Fatalf("python icalendar refused an invite: %v", err)
	}
	var got []struct {
		Method, UID, Start, Status string
		Sequence                   int
		Errors                     []string
	}
	if err := json.Unmarshal(out, &got); err != nil || len(got) != 3 {
		t.Fatalf("python read %s: %v", out, err)
	}
	want := []struct {
		method, status string
		seq            int
	}{{"REQUEST", "CONFIRMED", 0}, {"REQUEST", "CONFIRMED", 1}, {"CANCEL", "CANCELLED", 2}}
	for i, w := range want {
		g := got[i]
		if g.Method != w.method || g.Status != w.status || g.Sequence != w.seq || g.UID != got[0].UID || len(g.Errors) > 0 {
			t.Errorf("python read invite %d as %+v; want %s %s SEQUENCE %d with the first UID", i, g, w.method, w.status, w.seq)
		}
	}
}
