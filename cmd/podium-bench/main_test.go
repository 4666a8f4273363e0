package main

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestParseOptions(t *testing.T) {
	o, err := parseOptions(nil, io.Discard)
	if err != nil || o.db != "" || o.instances != 1 || o.dbPool != 0 {
		t.Fatalf("defaults: %+v, %v; want SQLite, one instance, the models' pool", o, err)
	}
	pg := "postgres://postgres@127.0.0.1:55432/bench?sslmode=disable"
	for _, args := range [][]string{
		{"--db", pg, "--instances", "2"},
		{"--db", "postgresql://u:p@db/bench", "--instances", "3", "--db-pool", "4"},
		{"--db", pg},
	} {
		if _, err := parseOptions(args, io.Discard); err != nil {
			t.Errorf("%q: %v", args, err)
		}
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--instances", "2"}, "needs --db postgres"},
		{[]string{"--db", "bench.db"}, "postgres:// or postgresql:// URL"},
		{[]string{"--db", pg, "--instances", "0"}, "1 or more"},
		{[]string{"--db-pool", "4"}, "needs --db postgres"},
		{[]string{"--url", "http://127.0.0.1:8080", "--db", pg}, "does not go with"},
	} {
		_, err := parseOptions(c.args, io.Discard)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: %v, want an error saying %q", c.args, err, c.want)
		}
	}
}

func TestLogProblems(t *testing.T) {
	path := filepath.Join(t.TempDir(), "podium.log")
	log := `time=2026-12-07T01:26:40.100Z level=INFO msg="podium is serving"
time=2026-12-07T01:26:40.200Z level=WARN msg="slow statement"
time=2026-12-07T01:26:41.000Z level=ERROR msg="request failed" status=500
time=2026-12-07T01:26:41.851Z level=WARN msg="send failed" err="mailer: interrupted: context canceled"
`
	if err := os.WriteFile(path, []byte(log), 0o600); err != nil {
		t.Fatal(err)
	}
	s := &server{logPath: path}
	// Stopping began within the last line's millisecond, which its
	// millisecond time stamp rounds down to before.
	stopping := time.Date(2026, 12, 7, 1, 26, 41, 851_400_000, time.UTC)
	lines, before, after := s.logProblems(1, stopping)
	if before != 2 || after != 1 || len(lines) != 1 || !strings.Contains(lines[0], "slow statement") {
		t.Errorf("got %q, %d before, %d after; want the first warning, 2 before stopping, 1 after", lines, before, after)
	}
	if _, before, after := s.logProblems(10, time.Time{}); before != 3 || after != 0 {
		t.Errorf("without a stopping time: %d before, %d after; want all 3 before", before, after)
	}
}
