package webhooks

import (
	"os"
	"testing"

	"podium/models/pgtest"
)

// TestMain runs every test on SQLite, then again on PostgreSQL.
func TestMain(m *testing.M) { os.Exit(pgtest.Main(m, "webhooks")) }
