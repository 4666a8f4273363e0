package models

import (
	"context"
	"errors"
	"fmt"
	"os"
)

// Backup writes a consistent copy of the live database to path with SQLite's
// VACUUM INTO, which reads one snapshot while writers carry on. The file must
// not exist yet. Restoring is copying it back while Podium is stopped.
func (s *Store) Backup(ctx context.Context, path string) error {
	if _, err := os.Stat(path); err == nil {
		return fmt.Errorf("backup: %s already exists", path)
	} else if !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("backup: %w", err)
	}
	// A connection of its own: VACUUM INTO reads one snapshot (WAL lets
	// writers carry on) and needs a connection that may write the new file,
	// which the query-only read pool is not. Borrowing the single write
	// connection would hold every sign-up for the length of the copy.
	db, err := openPool(sqliteDSN(s.path, connMaintenance), 1)
	if err != nil {
		return err
	}
	defer closeDB(db)
	if err := db.WithContext(ctx).Exec("VACUUM INTO ?", path).Error; err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	return nil
}

// IntegrityCheck runs SQLite's integrity check and reports the first problem.
func (s *Store) IntegrityCheck(ctx context.Context) error {
	var result string
	if err := s.read.WithContext(ctx).Raw("PRAGMA integrity_check").Scan(&result).Error; err != nil {
		return err
	}
	if result != "ok" {
		return fmt.Errorf("integrity check: %s", result)
	}
	return nil
}
