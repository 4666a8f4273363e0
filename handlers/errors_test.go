package handlers

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/gofiber/fiber/v2"
	sqlite3 "github.com/mattn/go-sqlite3"

	"podium/models"
)

// A database that declines for now (a lock timeout, SQLite busy) is a 503
// with a safe message, never a 500 with the driver's text.
func TestClassify_BusyDatabaseIsServiceUnavailable(t *testing.T) {
	err := fmt.Errorf("register: %w", sqlite3.Error{Code: sqlite3.ErrBusy})
	status, heading, message := classify(err)
	if status != 503 || heading == "" || strings.Contains(message, "database is locked") || strings.Contains(message, "register") {
		t.Fatalf("classify(busy) = %d %q %q; want 503 with a safe message", status, heading, message)
	}
}

// Every error reaches a status through its models code, in one table, and
// its message never carries the cause.
func TestClassify_MapsEveryCodeToItsStatus(t *testing.T) {
	cause := errors.New("pq: secret internals")
	cases := []struct {
		err  error
		want int
	}{
		{models.ErrNotFound, http.StatusNotFound},
		{fmt.Errorf("read: %w", models.ErrNotFound), http.StatusNotFound},
		{models.NotFoundAs(models.ErrNotFound, "session", 7), http.StatusNotFound},
		{models.ErrSessionFull, http.StatusConflict},
		{models.ErrRegistrationClosed, http.StatusConflict},
		{models.ErrSessionCancelled, http.StatusGone},
		{models.ErrBadCredentials, http.StatusUnauthorized},
		{&models.ValidationError{Fields: map[string]string{"email": "Enter an email address."}}, http.StatusUnprocessableEntity},
		{errStarting, http.StatusServiceUnavailable},
		{fiber.ErrMethodNotAllowed, http.StatusMethodNotAllowed},
		{cause, http.StatusInternalServerError},
	}
	for _, c := range cases {
		status, heading, message := classify(c.err)
		if status != c.want || heading == "" || message == "" || strings.Contains(message, "secret internals") {
			t.Errorf("classify(%v) = %d %q %q; want %d with a safe heading and message", c.err, status, heading, message, c.want)
		}
	}
	for code := range statusOf {
		if status := statusOf[code]; status < 400 {
			t.Errorf("code %q maps to %d; want an error status", code, status)
		}
	}
	if _, _, message := classify(models.NotFoundAs(models.ErrNotFound, "session", 7)); message != "There is no session with id 7." {
		t.Errorf("a named not-found says %q; want it to name the session", message)
	}
}
