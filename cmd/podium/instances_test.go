package main

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"podium/mailer/smtptest"
	"podium/models"
	"podium/models/pgtest"
)

// These tests run two real podium processes on one PostgreSQL database, as
// two instances behind a load balancer (issue 11): started together on an
// empty database, racing for seats, seeing one address at once, sharing one
// outbox, and one of them killed with -9 during a fan-out. Each instance is
// fault_test.go's process; models/instances_test.go proves the same races
// with two stores in one process. Without PostgreSQL they skip (pgtest),
// and with CI=true they fail instead.

func TestInstances_StartTogetherOnAnEmptyDatabaseMigrateAndSeedOnce(t *testing.T) {
	const rounds = 3
	for round := range rounds {
		url, db := sharedDatabase(t)
		ps := startPair(t, url, append(ownerEnv, "PODIUM_DEMO=true")...)

		versions := column(t, db, "SELECT version FROM schema_migrations ORDER BY version")
		if len(versions) != models.LatestSchemaVersion() || versions[0] != 1 || versions[len(versions)-1] != int64(len(versions)) {
			t.Fatalf("round %d: schema_migrations holds versions %v; want 1 to %d, once each", round, versions, models.LatestSchemaVersion())
		}
		for what, query := range map[string]string{
			"accounts":        "SELECT COUNT(*) FROM accounts",
			"first owners":    "SELECT COUNT(*) FROM accounts WHERE email_key = '" + ownerEmail + "' AND role = 'owner'",
			"panels":          "SELECT COUNT(*) FROM panels",
			"demo panels":     "SELECT COUNT(*) FROM panels WHERE slug = 'keeping-the-lights-on'",
			"sessions":        "SELECT COUNT(*) FROM sessions",
			"signing secrets": "SELECT COUNT(*) FROM site_secrets",
		} {
			if n := count(t, db, query); n != 1 {
				t.Fatalf("round %d: %d %s after two instances started together; want 1", round, n, what)
			}
		}
		// Both serve the one demo panel, and each takes a sign-up on a form
		// the other served: they sign with the same secret.
		client := noRedirects()
		for i, p := range ps {
			f := loadForm(t, client, ps[1-i].base).postTo(p.base)
			status, loc, err := f.post(client, fmt.Sprintf("start-%d-%d@example.com", round, i))
			if err != nil || status != http.StatusSeeOther || !strings.HasPrefix(loc, "/registrations/") {
				t.Fatalf("round %d: instance %d took a form from the other with %d %q, %v; want 303 to the manage page",
					round, i, status, loc, err)
			}
		}
		if n := count(t, db, "SELECT seats_taken FROM sessions"); n != 2 {
			t.Fatalf("round %d: %d seats taken after one sign-up through each instance; want 2", round, n)
		}
		for _, p := range ps {
			p.kill(t)
		}
	}
}

func TestInstances_SplitARaceOf1000SignUpsFor100SeatsExactly(t *testing.T) {
	url, db := sharedDatabase(t)
	ps := startPair(t, url) // the demo panel: 100 seats and a waitlist
	const signUps, seats = 1000, 100
	client := noRedirects()
	forms := make([]demoForm, signUps)
	for i := range forms {
		forms[i] = loadForm(t, client, ps[i%2].base)
	}
	var answers tally
	start := time.Now()
	pgtest.AtOnce(signUps, func(i int) {
		status, _, err := forms[i].post(client, fmt.Sprintf("race-%d@example.com", i))
		answers.add(i%2, status, err)
	})
	elapsed := time.Since(start)
	answers.only(t, http.StatusSeeOther, signUps/2)

	byStatus := map[string]int{}
	for _, status := range []string{"confirmed", "waitlisted", "cancelled"} {
		byStatus[status] = count(t, db, "SELECT COUNT(*) FROM registrations WHERE status = $1", status)
	}
	if byStatus["confirmed"] != seats || byStatus["waitlisted"] != signUps-seats || byStatus["cancelled"] != 0 {
		t.Fatalf("registrations %v; want %d confirmed and %d waitlisted", byStatus, seats, signUps-seats)
	}
	if taken := count(t, db, "SELECT seats_taken FROM sessions"); taken != seats {
		t.Fatalf("seats_taken %d; want %d", taken, seats)
	}
	if n := count(t, db, "SELECT COUNT(DISTINCT email_key) FROM registrations"); n != signUps {
		t.Fatalf("%d addresses registered; want each of the %d once", n, signUps)
	}
	for kind, want := range map[string]int{"confirmation": seats, "waitlisted": signUps - seats} {
		if n := count(t, db, "SELECT COUNT(*) FROM outbox_messages WHERE kind = $1", kind); n != want {
			t.Fatalf("%d %s messages queued; want %d", n, kind, want)
		}
	}
	t.Logf("%d sign-ups through two instances in %v: %d confirmed, %d waitlisted, every answer 303",
		signUps, elapsed.Round(time.Millisecond), seats, signUps-seats)
}

func TestInstances_SameAddressFromBothAtOnceRegistersOnce(t *testing.T) {
	url, db := sharedDatabase(t)
	ps := startPair(t, url)
	const rounds, perRound = 20, 4
	client := noRedirects()
	var manage []string
	for r := range rounds {
		email := fmt.Sprintf("same-%d@example.com", r)
		// Each form is served by one instance and sent to the other.
		forms := make([]demoForm, perRound)
		for i := range forms {
			forms[i] = loadForm(t, client, ps[1-i%2].base).postTo(ps[i%2].base)
		}
		var answers tally
		locations := make([]string, perRound)
		pgtest.AtOnce(perRound, func(i int) {
			status, loc, err := forms[i].post(client, email)
			answers.add(i%2, status, err)
			locations[i] = loc
		})
		answers.only(t, http.StatusSeeOther, perRound/2)
		manage = append(manage, locations...)
	}
	if n := count(t, db, "SELECT COUNT(*) FROM registrations"); n != rounds {
		t.Fatalf("%d registrations for %d addresses; want one each", n, rounds)
	}
	if n := count(t, db, "SELECT seats_taken FROM sessions"); n != rounds {
		t.Fatalf("seats_taken %d; want %d", n, rounds)
	}
	// Each submission was answered as a duplicate is: a manage link of its
	// own for the one registration, and a message telling the address so.
	for what, query := range map[string]string{
		"manage links": "SELECT COUNT(*) FROM manage_tokens GROUP BY registration_id",
		"messages":     "SELECT COUNT(*) FROM outbox_messages GROUP BY registration_id",
	} {
		for _, n := range column(t, db, query) {
			if n != perRound {
				t.Fatalf("a registration has %d %s after %d submissions of its address; want %d", n, what, perRound, perRound)
			}
		}
	}
	for i, loc := range manage {
		if page := getBody(t, client, ps[i%2].base+loc); !strings.Contains(page, "You're registered") {
			t.Fatalf("manage page %s does not show the registration:\n%s", loc, page)
		}
	}
	t.Logf("%d addresses each sent %d times at once through both instances: one registration each, every answer 303", rounds, perRound)
}

func TestInstances_BothWorkersDeliverEachMessageOnce(t *testing.T) {
	url, db := sharedDatabase(t)
	// A backlog queued while no mail server was configured...
	queue := startProcess(t, url, "PODIUM_SMTP_URL=")
	backlog := recipients("backlog", 200)
	signUpAll(t, queue.base, backlog)
	queue.kill(t)

	// ...then two instances with one mail server start at the same moment
	// and find it, while more sign-ups come in through both.
	srv := smtptest.NewServer(t)
	metrics := []string{freeLoopbackAddr(t), freeLoopbackAddr(t)}
	ps := startTogether(t, url, append(mailEnv(srv), "PODIUM_METRICS_ADDR="+metrics[0]),
		append(mailEnv(srv), "PODIUM_METRICS_ADDR="+metrics[1]))
	live := recipients("live", 200)
	client := noRedirects()
	forms := make([]demoForm, len(live))
	for i := range forms {
		forms[i] = loadForm(t, client, ps[i%2].base)
	}
	var answers tally
	pgtest.AtOnce(len(live), func(i int) {
		status, _, err := forms[i].post(client, live[i])
		answers.add(i%2, status, err)
	})
	answers.only(t, http.StatusSeeOther, len(live)/2)

	all := append(backlog, live...)
	waitAllSent(t, db, len(all))
	checkDeliveredOnce(t, srv, all)
	ids := map[string]bool{}
	for _, msgs := range delivered(t, srv) {
		for _, m := range msgs {
			ids[m[0]] = true
		}
	}
	if got := len(srv.Messages()); got != len(all) || len(ids) != len(all) {
		t.Fatalf("the server received %d messages with %d Message-IDs; want %d, each once", got, len(ids), len(all))
	}
	// Both workers took part: each counted what it delivered.
	var by []int
	waitUntil(t, 10*time.Second, "the instances' metrics to count every delivery", func() bool {
		by = []int{sentBy(t, metrics[0]), sentBy(t, metrics[1])}
		return by[0]+by[1] == len(all)
	})
	if by[0] == 0 || by[1] == 0 {
		t.Fatalf("instances delivered %v; want both workers to have taken part", by)
	}
	t.Logf("%d messages delivered once each, %d by one instance and %d by the other", len(all), by[0], by[1])
}

func TestInstances_KillDuringFanOutLosesNoMessage(t *testing.T) {
	const n, kills = 2000, 2
	url, db := sharedDatabase(t)
	srv := smtptest.NewServer(t)
	env := append(mailEnv(srv), ownerEnv...)
	ps := startPair(t, url, env...)
	sessionID := demoSessionID(t, db)
	addConfirmed(t, db, sessionID, n)
	rescheduleByAPI(t, ps[0].base, ownerToken(t, url), sessionID, n)

	// The first kill lands on the instance that took the change while the
	// fan-out is being queued, the second on the other one while messages
	// go out; the one not killed keeps running, and a replacement starts.
	heldByTheDead := map[int64]bool{}
	for k := range kills {
		target := k * n / kills
		for deadline := time.Now().Add(30 * time.Second); len(srv.Messages()) < target && time.Now().Before(deadline); {
			time.Sleep(2 * time.Millisecond)
		}
		victim := k % 2
		ps[victim].kill(t)
		received, queued := len(srv.Messages()), count(t, db, "SELECT COUNT(*) FROM outbox_messages")
		inFlight := column(t, db, "SELECT id FROM outbox_messages WHERE status = 'sending'")
		ps[victim] = startProcess(t, url, env...)
		// On PostgreSQL a dead instance's messages come back when their
		// lease runs out, not at the next start, and the worker's lease is
		// ten minutes: once the live instance has recorded its own batches
		// that were in flight at the kill, the test ends the dead one's
		// leases as the clock would.
		time.Sleep(time.Second)
		ended := expireLeases(t, db, inFlight)
		for _, id := range ended {
			heldByTheDead[id] = true
		}
		t.Logf("kill %d: %d of %d queued, %d received, %d in flight, %d of them held by the dead instance",
			k+1, queued, n, received, len(inFlight), len(ended))
	}
	waitUntil(t, 30*time.Second, "every registrant to receive the update", func() bool { return recipientsReached(srv) == n })
	waitAllSent(t, db, n)
	got := delivered(t, srv)
	checkFanOut(t, got, n, kills)
	// Only what a dead instance held went out twice: no start took
	// messages from the instance that kept running.
	for to, msgs := range got {
		if id := outboxID(t, msgs[0][0]); len(msgs) > 1 && !heldByTheDead[id] {
			t.Fatalf("%s received message %d %d times, though no dead instance held it", to, id, len(msgs))
		}
	}
}

// checkFanOut checks what the SMTP server received (delivered) after a fan-out
// to fan-0@example.com … fan-(n-1)@example.com during which an instance was
// killed kills times: everyone reached, and repeats only of what a killed
// instance had in flight, identical to the first copy.
func checkFanOut(t *testing.T, got map[string][][2]string, n, kills int) {
	t.Helper()
	duplicates := 0
	for i := range n {
		to := fmt.Sprintf("fan-%d@example.com", i)
		msgs := got[to]
		if len(msgs) == 0 || len(msgs) > 1+kills {
			t.Fatalf("%s received %d copies of the update after %d kills (%d of %d recipients reached); want 1 to %d",
				to, len(msgs), kills, len(got), n, 1+kills)
		}
		for _, m := range msgs[1:] {
			if m != msgs[0] {
				t.Fatalf("%s: a repeat differs from the first copy: %v vs %v", to, m, msgs[0])
			}
		}
		duplicates += len(msgs) - 1
	}
	// A kill can only repeat what was in flight: four workers' batches of 25.
	if duplicates > kills*4*25 {
		t.Fatalf("%d duplicates after %d kills; want at most the batches in flight", duplicates, kills)
	}
	t.Logf("%d recipients reached after %d kills, %d duplicates (same Message-ID and UID)", len(got), kills, duplicates)
}

// Both instances count one client address's sign-ups together: a limit of
// three a minute allows three through the two of them, not six.
func TestInstances_ShareTheSignUpLimit(t *testing.T) {
	url, _ := sharedDatabase(t)
	ps := startPair(t, url, "PODIUM_REGISTER_LIMIT=3")
	client := noRedirects()
	for i, want := range []int{http.StatusSeeOther, http.StatusSeeOther, http.StatusSeeOther, http.StatusTooManyRequests, http.StatusTooManyRequests} {
		p := ps[i%2]
		status, _, err := loadForm(t, client, p.base).post(client, fmt.Sprintf("limit-%d@example.com", i))
		if err != nil || status != want {
			t.Fatalf("sign-up %d from one address, through instance %d: %d, %v; want %d", i+1, i%2+1, status, err, want)
		}
	}
}

// An organizer's change through one instance shows on the other's public
// page within about a second (it is told at once; its cache lives a second).
func TestInstances_AChangeThroughOneShowsOnTheOther(t *testing.T) {
	url, db := sharedDatabase(t)
	ps := startPair(t, url, ownerEnv...)
	client := noRedirects()
	page := ps[1].base + "/panels/keeping-the-lights-on"
	panelID := count(t, db, "SELECT id FROM panels WHERE slug = 'keeping-the-lights-on'")
	getBody(t, client, page) // cached there now
	token := ownerToken(t, url)
	req, _ := http.NewRequest(http.MethodPatch, fmt.Sprintf("%s/api/v1/panels/%d", ps[0].base, panelID), strings.NewReader(`{"title": "Renamed through the other instance"}`))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("PATCH the demo panel = %d; want 200", resp.StatusCode)
	}
	changed := time.Now()
	waitUntil(t, 2*time.Second, "the other instance to show the new title", func() bool {
		return strings.Contains(getBody(t, client, page), "Renamed through the other instance")
	})
	t.Logf("the other instance showed the change %v after it was made", time.Since(changed).Round(time.Millisecond))
}
