package models

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"podium/models/pgtest"
)

// testDatabase is the database the package's tests run on in this pass:
// TestMain runs every test on SQLite, then again on PostgreSQL.
var testDatabase = "sqlite"

func TestMain(m *testing.M) {
	os.Exit(runOnBothDatabases(m))
}

// runOnBothDatabases runs the tests on SQLite, then on PostgreSQL when a
// server can be had; without one the second pass is skipped with a hint, or
// fails with CI=true.
func runOnBothDatabases(m *testing.M) int {
	if code := m.Run(); code != 0 {
		return code
	}
	if err := pgtest.Available(); err != nil {
		if os.Getenv("CI") == "true" {
			fmt.Printf("FAIL: PostgreSQL is needed in CI: %v\n", err)
			return 1
		}
		fmt.Printf("models: PostgreSQL pass skipped: %v (install Debian's postgresql package, or set PODIUM_TEST_POSTGRES)\n", err)
		return 0
	}
	fmt.Println("=== models: the same tests on PostgreSQL")
	testDatabase = "postgres"
	return pgtest.Main(m)
}

// testDSN is a new, empty database for one test on this pass's database.
func testDSN(t testing.TB) string {
	t.Helper()
	if testDatabase == "postgres" {
		return pgtest.URL(t)
	}
	return filepath.Join(t.TempDir(), "podium.db")
}

// sqliteOnly skips a test of something only SQLite has (its query plans,
// its files).
func sqliteOnly(t testing.TB) {
	t.Helper()
	if testDatabase != "sqlite" {
		t.Skip("SQLite only")
	}
}
