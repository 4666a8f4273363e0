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
// (SQLite), is isBusy: the HTTP layer answers 503 for it, not 500.
func TestIsBusy_LockTimeoutsAreBusyOtherErrorsAreNot(t *testing.T) {
	if isBusy(errors.New("boom")) || isBusy(ErrNotFound) || isBusy(nil) {
		t.Fatal("isBusy true for an error that is not the database declining")
	}
	if !isBusy(fmt.Errorf("wrapped: %w", sqlite3.Error{Code: sqlite3.ErrBusy})) {
		t.Fatal("isBusy false for SQLITE_BUSY")
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
	if err == nil || !isBusy(err) {
		t.Fatalf("update behind a held row lock = %v; want an isBusy lock timeout", err)
	}
}
