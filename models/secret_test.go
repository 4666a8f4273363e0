package models

import (
	"bytes"
	"context"
	"path/filepath"
	"testing"
)

func TestSigningKey_SurvivesReopeningAndDiffersByPurposeAndSite(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "podium.db")
	keys := func(path string) (csrf, other []byte) {
		t.Helper()
		s, err := Open(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		if csrf, err = s.SigningKey("csrf"); err != nil {
			t.Fatal(err)
		}
		if other, err = s.SigningKey("other"); err != nil {
			t.Fatal(err)
		}
		return csrf, other
	}
	csrf, other := keys(path)
	if len(csrf) != 32 || bytes.Equal(csrf, other) {
		t.Fatalf("keys %x and %x; want two different 32-byte keys", csrf, other)
	}
	if again, _ := keys(path); !bytes.Equal(again, csrf) {
		t.Fatal("reopening the database changed the key: forms opened before a restart would fail")
	}
	if elsewhere, _ := keys(filepath.Join(t.TempDir(), "other.db")); bytes.Equal(elsewhere, csrf) {
		t.Fatal("two databases have the same key")
	}
}

func TestSigningKey_FailsBeforeMigrate(t *testing.T) {
	s, err := Connect(filepath.Join(t.TempDir(), "podium.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if key, err := s.SigningKey("csrf"); err == nil {
		t.Fatalf("SigningKey before Migrate = %x; want an error", key)
	}
}
