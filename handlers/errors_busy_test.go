package handlers

import (
	"fmt"
	"strings"
	"testing"

	sqlite3 "github.com/mattn/go-sqlite3"
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
