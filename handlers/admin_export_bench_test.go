package handlers

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"

	"podium/models"
)

// benchRegistrants is the size the admin must stay fast at.
const benchRegistrants = 100_000

// BenchmarkAdminRegistrants_100000 measures the registrant pages and the CSV
// export of a session with 100,000 registrations (each with an answer)
// through the real app: time and allocated bytes per request, so the memory
// bound of the streamed export is measured rather than asserted.
func BenchmarkAdminRegistrants_100000(b *testing.B) {
	app, cookie, session := benchAdmin(b)
	for name, url := range map[string]string{
		"first page": session, "deep page": session + "?before=60", "search": session + "?q=person99999",
		"waitlisted filter": session + "?status=waitlisted",
	} {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				req := httptest.NewRequest(http.MethodGet, url, nil)
				req.AddCookie(&http.Cookie{Name: "podium_admin", Value: cookie})
				resp, err := app.Test(req, -1)
				if err != nil || resp.StatusCode != http.StatusOK {
					b.Fatalf("GET %s: %v %v", url, resp.StatusCode, err)
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		})
	}
	b.Run("csv export", func(b *testing.B) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			b.Fatal(err)
		}
		go func() { _ = app.Listener(ln) }()
		defer app.Shutdown()
		url := "http://" + ln.Addr().String() + session + "/registrants.csv"
		b.ReportAllocs()
		var size int64
		peak := watchHeap(b)
		for b.Loop() {
			req, _ := http.NewRequest(http.MethodGet, url, nil)
			req.AddCookie(&http.Cookie{Name: "podium_admin", Value: cookie})
			resp, err := http.DefaultClient.Do(req)
			if err != nil || resp.StatusCode != http.StatusOK {
				b.Fatalf("GET csv: %v %v", resp, err)
			}
			size, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
		b.ReportMetric(float64(size)/1e6, "MB/export")
		b.ReportMetric(float64(peak())/1e6, "peak-heap-MB")
	})
}

// watchHeap samples the live heap until the returned function is called,
// which reports the highest value seen: the memory an export holds at once,
// as opposed to B/op, which adds up everything it ever allocated.
func watchHeap(b *testing.B) func() uint64 {
	b.Helper()
	runtime.GC()
	var highest atomic.Uint64
	done := make(chan struct{})
	go func() {
		var m runtime.MemStats
		for {
			select {
			case <-done:
				return
			case <-time.After(5 * time.Millisecond):
				runtime.ReadMemStats(&m)
				if m.HeapInuse > highest.Load() {
					highest.Store(m.HeapInuse)
				}
			}
		}
	}()
	return func() uint64 {
		close(done)
		return highest.Load()
	}
}

// benchAdmin is an app whose one session has benchRegistrants
// registrations, with a signed-in owner's cookie and the session's admin path.
func benchAdmin(b *testing.B) (app *fiber.App, cookie, session string) {
	b.Helper()
	ctx := context.Background()
	path := filepath.Join(b.TempDir(), "podium.db")
	store, err := models.Open(ctx, path, models.WithClock(func() time.Time { return testNow }))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = store.Close() })
	if app, err = New(Config{Store: store, BaseURL: "http://localhost:3000"}); err != nil {
		b.Fatal(err)
	}
	p := &models.Panel{Title: "Big", Status: models.PanelPublished,
		Questions: []models.Question{{Kind: models.QuestionShortText, Label: "Dietary needs"}},
		Sessions: []models.Session{{StartsAt: testNow.Add(7 * 24 * time.Hour), DurationMinutes: 60,
			TimeZone: "Europe/London", JoinURL: "https://meet.example.com/big"}}}
	if err := store.CreatePanel(ctx, p); err != nil {
		b.Fatal(err)
	}
	seedRegistrants(b, path, p.Sessions[0].ID, p.Questions[0].ID)
	acc, err := store.CreateAccount(ctx, models.NewAccount{Email: "o@example.com", Password: ownerPassword, Role: models.RoleOwner})
	if err != nil {
		b.Fatal(err)
	}
	if cookie, err = store.StartAdminSession(ctx, acc.ID); err != nil {
		b.Fatal(err)
	}
	return app, cookie, fmt.Sprintf("/admin/panels/%d/sessions/%d", p.ID, p.Sessions[0].ID)
}

// seedRegistrants writes n confirmed registrations with one answer each in
// two statements, which the sign-up path would take minutes to do.
func seedRegistrants(b *testing.B, path string, sessionID, questionID int64) {
	b.Helper()
	db, err := sql.Open("sqlite3", "file:"+path+"?_foreign_keys=on&_busy_timeout=10000")
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	at := testNow.Add(-time.Hour)
	stmts := []struct {
		sql  string
		args []any
	}{
		{`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
		  INSERT INTO registrations (session_id, name, email, email_key, organisation, consent_at, status, created_at, updated_at)
		  SELECT ?, 'Person ' || i, 'person' || i || '@example.com', 'person' || i || '@example.com', 'Org ' || (i % 100),
		         ?, 'confirmed', ?, ? FROM n`, []any{benchRegistrants, sessionID, at, at, at}},
		{`INSERT INTO answers (registration_id, question_id, value) SELECT id, ?, 'Vegan' FROM registrations`, []any{questionID}},
		{`UPDATE sessions SET seats_taken = ? WHERE id = ?`, []any{benchRegistrants, sessionID}},
	}
	for _, s := range stmts {
		if _, err := db.Exec(s.sql, s.args...); err != nil {
			b.Fatal(err)
		}
	}
}
