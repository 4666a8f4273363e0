package models

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"

	"gorm.io/gorm"
)

//go:embed migrations/sqlite/*.sql migrations/postgres/*.sql
var migrationFiles embed.FS

// migration is one versioned schema step, numbered by its file name
// (0001_init.sql is version 1).
type migration struct {
	version int
	name    string
	sql     string
}

// loadMigrations reads one database's migrations, from migrations/NAME:
// each database spells the same versions in its own SQL.
func loadMigrations(database string) ([]migration, error) {
	dir := "migrations/" + database + "/"
	names, err := fs.Glob(migrationFiles, dir+"*.sql")
	if err != nil {
		return nil, err
	}
	var ms []migration
	for _, name := range names {
		base := strings.TrimPrefix(name, dir)
		num, _, ok := strings.Cut(base, "_")
		version, err := strconv.Atoi(num)
		if !ok || err != nil || version <= 0 {
			return nil, fmt.Errorf("migration %s: name must start with a version number", base)
		}
		body, err := migrationFiles.ReadFile(name)
		if err != nil {
			return nil, err
		}
		ms = append(ms, migration{version: version, name: base, sql: string(body)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].version < ms[j].version })
	for i, m := range ms {
		if m.version != i+1 {
			return nil, fmt.Errorf("migration %s: expected version %d", m.name, i+1)
		}
	}
	return ms, nil
}

// LatestSchemaVersion is the version the running code migrates to.
func LatestSchemaVersion() int {
	ms, err := loadMigrations(sqliteDialect{}.name())
	if err != nil {
		return 0
	}
	return len(ms)
}

// migrationLockKey is the advisory lock every instance takes around
// migrations, the first owner and the demo panel ("podium" in ASCII).
const migrationLockKey = 0x706f6469756d

// withMigrationLock runs fn while no other instance migrates or seeds the
// same database, so instances started together do it one after another and
// the later ones find it done.
func (s *Store) withMigrationLock(ctx context.Context, fn func() error) error {
	_, err := s.dialect.exclusive(ctx, s.write, migrationLockKey, true, fn)
	return err
}

// Migrate applies every migration newer than the database's version, each in
// its own transaction together with the version bump, then reads the site's
// secret (see SigningKey). Instances started together on one PostgreSQL
// migrate one after another (withMigrationLock); the later ones find
// nothing left to do.
func (s *Store) Migrate(ctx context.Context) error {
	err := s.withMigrationLock(ctx, func() error { return s.migrateTo(ctx, -1) })
	if err != nil {
		return err
	}
	if err := s.loadSecret(ctx); err != nil {
		return err
	}
	return s.loadConsentWording(ctx)
}

// migrateTo applies migrations up to version target (-1 means all).
func (s *Store) migrateTo(ctx context.Context, target int) error {
	ms, err := loadMigrations(s.dialect.name())
	if err != nil {
		return err
	}
	db := s.write.WithContext(ctx)
	if err := db.Exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
		version INTEGER PRIMARY KEY,
		name TEXT NOT NULL,
		applied_at TIMESTAMP NOT NULL)`).Error; err != nil {
		return fmt.Errorf("create schema_migrations: %w", err)
	}
	current, err := s.SchemaVersion(ctx)
	if err != nil {
		return err
	}
	if current > len(ms) {
		return fmt.Errorf("database schema version %d is newer than this Podium (%d): upgrade Podium", current, len(ms))
	}
	for _, m := range ms[current:] {
		if target >= 0 && m.version > target {
			break
		}
		err := s.withoutForeignKeys(db, m, func() error {
			return db.Transaction(func(tx *gorm.DB) error {
				if err := tx.Exec(m.sql).Error; err != nil {
					return err
				}
				if err := s.checkForeignKeys(tx, m); err != nil {
					return err
				}
				return tx.Exec("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
					m.version, m.name, s.Now()).Error
			})
		})
		if err != nil {
			return fmt.Errorf("migration %s: %w", m.name, err)
		}
		s.log.Info("migrated database", "version", m.version, "name", m.name)
	}
	return nil
}

// foreignKeysOff marks a SQLite migration that copies a table others refer
// to (SQLite's way to change a CHECK constraint): dropping the old table
// with foreign keys on would delete every row that refers to it.
const foreignKeysOff = "-- podium: foreign_keys off\n"

// withoutForeignKeys runs fn with SQLite's foreign keys off when m asks for
// it (foreignKeysOff), as SQLite's own procedure for such changes does. The
// pragma works outside a transaction only, on the single write connection
// the migration then uses.
func (s *Store) withoutForeignKeys(db *gorm.DB, m migration, fn func() error) error {
	if _, ok := s.dialect.(sqliteDialect); !ok || !strings.HasPrefix(m.sql, foreignKeysOff) {
		return fn()
	}
	if err := db.Exec("PRAGMA foreign_keys = OFF").Error; err != nil {
		return err
	}
	err := fn()
	if on := db.Exec("PRAGMA foreign_keys = ON").Error; err == nil {
		err = on
	}
	return err
}

// checkForeignKeys fails the migration, before it commits, if it left a
// row referring to nothing while foreign keys were off.
func (s *Store) checkForeignKeys(tx *gorm.DB, m migration) error {
	if _, ok := s.dialect.(sqliteDialect); !ok || !strings.HasPrefix(m.sql, foreignKeysOff) {
		return nil
	}
	var broken []map[string]any
	if err := tx.Raw("PRAGMA foreign_key_check").Scan(&broken).Error; err != nil {
		return err
	}
	if len(broken) > 0 {
		return fmt.Errorf("%d rows refer to rows that are not there: %v", len(broken), broken[0])
	}
	return nil
}

// SchemaVersion is the newest migration applied to the database.
func (s *Store) SchemaVersion(ctx context.Context) (int, error) {
	var v *int
	err := s.write.WithContext(ctx).Raw("SELECT MAX(version) FROM schema_migrations").Scan(&v).Error
	if err != nil {
		return 0, fmt.Errorf("read schema version: %w", err)
	}
	if v == nil {
		return 0, nil
	}
	return *v, nil
}
