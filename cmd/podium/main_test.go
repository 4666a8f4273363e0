package main

import (
	"os"
	"testing"

	"podium/models/pgtest"
)

// TestMain runs the tests once and then stops the throw-away PostgreSQL
// cluster that the multi-instance tests start (pgtest.URL), if they did.
func TestMain(m *testing.M) {
	code := m.Run()
	pgtest.Stop()
	os.Exit(code)
}
