package handlers

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"hash"
	"sync"
	"sync/atomic"
	"time"

	"podium/models"
)

// csrfTokens makes the CSRF tokens of Fiber's csrf middleware signed rather
// than stored. Fiber keeps every token it hands out in a map for its whole
// lifetime, and a visitor without a cookie gets a new one with each page, so
// a flood of anonymous page views grows memory for hours: podium-bench's
// landing phase alone left 53 MB of tokens. A signed token needs no memory:
// it carries the time it was issued and an HMAC of it under a key derived
// from the site's secret, which lives in the database so a form opened
// before a restart can still be sent after it.
//
// The middleware still checks that the form's token equals the cookie's
// (double submit); as its Storage, csrfTokens answers whether a token is
// one Podium issued that has not expired. Set and Delete have nothing to
// do: a token cannot be revoked before it expires, and Podium never asks
// it to be (no single-use tokens, no DeleteToken).
type csrfTokens struct {
	store  *models.Store
	signer atomic.Pointer[csrfSigner]
}

// csrfSigner computes MACs under the CSRF key. hmac.New hashes the key into
// two blocks and allocates each time, a third of the cost of a first visit's
// token, so the MACs are kept in a pool and reset instead.
type csrfSigner struct{ macs sync.Pool }

const (
	// csrfLifetime is how long a token is good for from when it was first
	// issued; a page view with a good token keeps it, so a visitor's forms
	// stop working only if their token is older than this when they send
	// one, and then they are asked to reload the page.
	csrfLifetime = 12 * time.Hour
	// csrfClockSkew tolerates a clock set slightly back since issuing.
	csrfClockSkew = time.Minute

	csrfIssuedLen = 8
	csrfNonceLen  = 16
	csrfMACLen    = 16
	csrfTokenLen  = csrfIssuedLen + csrfNonceLen + csrfMACLen
)

var csrfEncoding = base64.RawURLEncoding

// loadSigner is the signer under the store's CSRF key, made once. It is nil
// only before the database is migrated, and no route with a form is served
// before then.
func (t *csrfTokens) loadSigner() *csrfSigner {
	if s := t.signer.Load(); s != nil {
		return s
	}
	key, err := t.store.SigningKey("csrf")
	if err != nil {
		return nil
	}
	t.signer.CompareAndSwap(nil, &csrfSigner{macs: sync.Pool{New: func() any { return hmac.New(sha256.New, key) }}})
	return t.signer.Load()
}

// mac writes the MAC of signed into dst (csrfMACLen bytes).
func (s *csrfSigner) mac(dst, signed []byte) {
	m := s.macs.Get().(hash.Hash)
	m.Reset()
	m.Write(signed)
	var sum [sha256.Size]byte
	copy(dst, m.Sum(sum[:0]))
	s.macs.Put(m)
}

// generate makes a new token: the time, a random nonce and their MAC.
func (t *csrfTokens) generate() string {
	raw := make([]byte, csrfTokenLen)
	binary.BigEndian.PutUint64(raw, uint64(t.store.Now().Unix()))
	_, _ = rand.Read(raw[csrfIssuedLen : csrfIssuedLen+csrfNonceLen]) // never fails
	if signer := t.loadSigner(); signer != nil {
		signer.mac(raw[csrfIssuedLen+csrfNonceLen:], raw[:csrfIssuedLen+csrfNonceLen])
	}
	return csrfEncoding.EncodeToString(raw)
}

// valid reports whether token is one Podium signed and is not expired.
func (t *csrfTokens) valid(token string) bool {
	signer := t.loadSigner()
	if signer == nil || csrfEncoding.DecodedLen(len(token)) != csrfTokenLen {
		return false
	}
	var raw [csrfTokenLen]byte
	if n, err := csrfEncoding.Decode(raw[:], []byte(token)); err != nil || n != csrfTokenLen {
		return false
	}
	var want [csrfMACLen]byte
	signer.mac(want[:], raw[:csrfIssuedLen+csrfNonceLen])
	if !hmac.Equal(raw[csrfIssuedLen+csrfNonceLen:], want[:]) {
		return false
	}
	issued := time.Unix(int64(binary.BigEndian.Uint64(raw[:])), 0)
	age := t.store.Now().Sub(issued)
	return age > -csrfClockSkew && age < csrfLifetime
}

// csrfIssued is what Get answers for a good token; the middleware only
// checks that there is an answer.
var csrfIssued = []byte{1}

// Get answers csrfIssued for a good token and nothing otherwise.
func (t *csrfTokens) Get(token string) ([]byte, error) {
	if t.valid(token) {
		return csrfIssued, nil
	}
	return nil, nil
}

// Set has nothing to store: the token carries everything.
func (t *csrfTokens) Set(string, []byte, time.Duration) error { return nil }

// Delete cannot revoke a signed token; Podium never asks it to.
func (t *csrfTokens) Delete(string) error { return nil }

// Reset and Close complete fiber.Storage.
func (t *csrfTokens) Reset() error { return nil }
func (t *csrfTokens) Close() error { return nil }
