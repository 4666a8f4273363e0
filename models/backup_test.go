package models

import (
	"podium/models/pgtest"

	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
)

func TestBackup_CopyOpensWithTheSameData(t *testing.T) {
	s, _ := newTestStore(t)
	p, sess := newTestPanel(t, s, 10, false)
	ctx := context.Background()
	if _, err := s.Register(ctx, p.ID, validInput(sess.ID, "ada@example.com")); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "backup.db")
	if err := s.Backup(ctx, path); err != nil {
		t.Fatal(err)
	}
	if err := s.Backup(ctx, path); err == nil {
		t.Fatal("a backup overwrote an existing file")
	}
	if pgtest.Postgres() {
		// pg_dump's custom format, for pg_restore.
		if b, err := os.ReadFile(path); err != nil || !bytes.HasPrefix(b, []byte("PGDMP")) {
			t.Fatalf("backup is not a pg_dump archive: %v", err)
		}
		return
	}
	copyStore, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer copyStore.Close()
	if err := copyStore.IntegrityCheck(ctx); err != nil {
		t.Fatal(err)
	}
	counts, err := copyStore.RegistrationCounts(ctx, sess.ID)
	if err != nil || counts[RegistrationConfirmed] != 1 {
		t.Fatalf("backup counts = %v, %v; want the one registration", counts, err)
	}
}

// A backup copies the database as it is: an older schema stays older.
func TestBackup_DoesNotMigrateTheDatabaseItCopies(t *testing.T) {
	ctx := context.Background()
	s, err := Connect(testDSN(t))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.migrateTo(ctx, 1); err != nil {
		t.Fatal(err)
	}
	if err := s.Backup(ctx, filepath.Join(t.TempDir(), "backup")); err != nil {
		t.Fatal(err)
	}
	if v, err := s.SchemaVersion(ctx); err != nil || v != 1 {
		t.Fatalf("schema version after backup = %d, %v; want 1", v, err)
	}
}
