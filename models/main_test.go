package models

import (
	"os"
	"testing"

	"podium/models/pgtest"
)

// TestMain runs every test on SQLite, then again on PostgreSQL.
func TestMain(m *testing.M) { os.Exit(pgtest.Main(m, "models")) }

// testDSN is a new, empty database for one test on this pass's database.
func testDSN(t testing.TB) string { t.Helper(); return pgtest.DSN(t) }
