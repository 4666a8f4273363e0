package models

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"strings"
)

// ErrUsePgDump means a backup of a PostgreSQL database was asked for on a
// machine without pg_dump: PostgreSQL's own tool is the way to copy it.
var ErrUsePgDump = errors.New("backup: this is a PostgreSQL database; back it up with pg_dump (not found on this machine's PATH)")

// Backup writes a consistent copy of the live database to path. The file
// must not exist yet. On SQLite it is VACUUM INTO, which reads one snapshot
// while writers carry on, and restoring is copying the file back while
// Podium is stopped; on PostgreSQL it runs pg_dump in its custom format
// (restore with pg_restore), or fails with ErrUsePgDump without it. Neither
// needs the database migrated, nor migrates it.
func (s *Store) Backup(ctx context.Context, path string) error {
	if _, err := os.Stat(path); err == nil {
		return fmt.Errorf("backup: %s already exists", path)
	} else if !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("backup: %w", err)
	}
	if s.dialect.name() == "postgres" {
		return s.pgDump(ctx, path)
	}
	// A connection of its own: VACUUM INTO reads one snapshot (WAL lets
	// writers carry on) and needs a connection that may write the new file,
	// which the query-only read pool is not. Borrowing the single write
	// connection would hold every sign-up for the length of the copy.
	db, err := openPool(sqliteDSN(s.dsn, connMaintenance), 1)
	if err != nil {
		return err
	}
	defer closeDB(db)
	if err := db.WithContext(ctx).Exec("VACUUM INTO ?", path).Error; err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	return nil
}

// pgDump runs pg_dump, which takes one snapshot while instances carry on.
func (s *Store) pgDump(ctx context.Context, path string) error {
	bin, err := exec.LookPath("pg_dump")
	if err != nil {
		return ErrUsePgDump
	}
	env, err := libpqEnv(s.dsn)
	if err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, bin, "--format=custom", "--no-owner", "--file", path)
	cmd.Env = append(os.Environ(), env...)
	if out, err := cmd.CombinedOutput(); err != nil {
		os.Remove(path)
		return fmt.Errorf("backup: pg_dump failed: %s", clip(string(out), maxErrorLength))
	}
	return nil
}

// libpqEnv spells a PostgreSQL URL as libpq's environment variables, so the
// password reaches pg_dump without standing on a command line that other
// users of the machine can read.
func libpqEnv(dsn string) ([]string, error) {
	u, err := url.Parse(dsn)
	if err != nil {
		return nil, errors.New("backup: the PostgreSQL URL does not parse")
	}
	env := []string{"PGHOST=" + u.Hostname(), "PGDATABASE=" + strings.TrimPrefix(u.Path, "/")}
	if p := u.Port(); p != "" {
		env = append(env, "PGPORT="+p)
	}
	if u.User != nil {
		env = append(env, "PGUSER="+u.User.Username())
		if pw, ok := u.User.Password(); ok {
			env = append(env, "PGPASSWORD="+pw)
		}
	}
	if m := u.Query().Get("sslmode"); m != "" {
		env = append(env, "PGSSLMODE="+m)
	}
	return env, nil
}

// IntegrityCheck runs SQLite's integrity check and reports the first
// problem. PostgreSQL keeps its own checks (and data checksums), so there it
// only asks that the database answers.
func (s *Store) IntegrityCheck(ctx context.Context) error {
	if s.dialect.name() == "postgres" {
		return s.Ping(ctx)
	}
	var result string
	if err := s.read.WithContext(ctx).Raw("PRAGMA integrity_check").Scan(&result).Error; err != nil {
		return err
	}
	if result != "ok" {
		return fmt.Errorf("integrity check: %s", result)
	}
	return nil
}
