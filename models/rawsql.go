package models

import (
	"database/sql"

	"gorm.io/gorm"
)

// execSQL, queryRowSQL and querySQL run one statement on tx's connection (the write
// transaction, usually) without GORM's statement building. They are for the
// statements every sign-up runs while other writers wait: there a Statement
// per call, the SQL scanned for its placeholders and the callback chain cost
// about as much as SQLite's own work. The SQL uses ? placeholders, rebound
// here for PostgreSQL.
func execSQL(tx *gorm.DB, query string, args ...any) (sql.Result, error) {
	return tx.Statement.ConnPool.ExecContext(tx.Statement.Context, bindFor(tx, query), args...)
}

func queryRowSQL(tx *gorm.DB, query string, args ...any) *sql.Row {
	return tx.Statement.ConnPool.QueryRowContext(tx.Statement.Context, bindFor(tx, query), args...)
}

func querySQL(tx *gorm.DB, query string, args ...any) (*sql.Rows, error) {
	return tx.Statement.ConnPool.QueryContext(tx.Statement.Context, bindFor(tx, query), args...)
}

func bindFor(tx *gorm.DB, query string) string {
	if tx.Dialector.Name() == "postgres" {
		return rebind(query)
	}
	return query
}
