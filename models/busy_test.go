package models

import (
	"context"
	"errors"
	"fmt"
	"testing"

	sqlite3 "github.com/mattn/go-sqlite3"
	"gorm.io/gorm"

	"podium/models/pgtest"
)

// A wait for a row lock past lock_timeout (PostgreSQL), or a busy file
// (SQLite), is IsBusy: the HTTP layer answers 503 for it, not 500.
func TestIsBusy_LockTimeoutsAreBusyOtherErrorsAreNot(t *testing.T) {
	if IsBusy(errors.New("boom")) || IsBusy(ErrNotFound) || IsBusy(nil) {
		t.Fatal("IsBusy true for an error that is not the database declining")
	}
	if !IsBusy(fmt.Errorf("wrapped: %w", sqlite3.Error{Code: sqlite3.ErrBusy})) {
		t.Fatal("IsBusy false for SQLITE_BUSY")
	}
	if !pgtest.Postgres() {
		return
	}
	s, _ := newTestStore(t)
	_, sess := newTestPanel(t, s, 10, false)
	ctx := context.Background()
	holding := make(chan struct{})
	release := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- s.inWriteTx(ctx, func(tx *gorm.DB) error {
			if err := tx.Exec("SELECT id FROM sessions WHERE id = ? FOR UPDATE", sess.ID).Error; err != nil {
				return err
			}
			close(holding)
			<-release
			return nil
		})
	}()
	<-holding
	err := s.inWriteTx(ctx, func(tx *gorm.DB) error {
		if err := tx.Exec("SET LOCAL lock_timeout = '50ms'").Error; err != nil {
			return err
		}
		return tx.Exec("UPDATE sessions SET capacity = 11 WHERE id = ?", sess.ID).Error
	})
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if err == nil || !IsBusy(err) {
		t.Fatalf("update behind a held row lock = %v; want an IsBusy lock timeout", err)
	}
}
