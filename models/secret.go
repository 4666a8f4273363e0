package models

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
)

// siteSecretName names the site's one secret in site_secrets.
const siteSecretName = "site"

// loadSecret reads the site's secret, creating it on first start. Every
// process serving the database reads the same one.
func (s *Store) loadSecret(ctx context.Context) error {
	fresh := make([]byte, 32)
	_, _ = rand.Read(fresh) // crypto/rand.Read never fails
	db := s.write.WithContext(ctx)
	if err := db.Exec("INSERT INTO site_secrets (name, value, created_at) VALUES (?, ?, ?) ON CONFLICT (name) DO NOTHING",
		siteSecretName, fresh, s.Now()).Error; err != nil {
		return fmt.Errorf("create the site secret: %w", err)
	}
	var secret []byte
	if err := db.Raw("SELECT value FROM site_secrets WHERE name = ?", siteSecretName).Row().Scan(&secret); err != nil {
		return fmt.Errorf("read the site secret: %w", err)
	}
	if len(secret) < 32 {
		return errors.New("read the site secret: it is shorter than 32 bytes")
	}
	s.secret.Store(&secret)
	s.keys.Clear() // derived from the secret just read
	return nil
}

// SigningKey is a key for one purpose (such as "csrf"), derived from the
// site's secret, so that no two uses share a key. It fails before Migrate.
// Keys are derived once and shared: callers must not change them (some are
// asked for on every sign-up).
func (s *Store) SigningKey(purpose string) ([]byte, error) {
	if key, ok := s.keys.Load(purpose); ok {
		return key.([]byte), nil
	}
	secret := s.secret.Load()
	if secret == nil {
		return nil, errors.New("signing key: the database has not been migrated")
	}
	mac := hmac.New(sha256.New, *secret)
	mac.Write([]byte("podium signing key: " + purpose))
	key, _ := s.keys.LoadOrStore(purpose, mac.Sum(nil))
	return key.([]byte), nil
}
