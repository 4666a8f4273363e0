package models

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
	"gorm.io/gorm"
)

// Role is what an account may do.
type Role string

// Roles: an owner does everything and manages accounts; an organizer runs
// panels, sessions and registrants.
const (
	RoleOwner     Role = "owner"
	RoleOrganizer Role = "organizer"
)

// Account is an organizer who signs in to the admin.
type Account struct {
	ID           int64
	Email        string
	EmailKey     string
	Name         string
	PasswordHash string
	Role         Role
	FailedLogins int
	LockedUntil  *time.Time
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// Sign-in rules.
const (
	MinPasswordLength = 12
	maxPasswordLength = 1024
	// After lockoutThreshold failures in a row an account is locked for lockoutPeriod.
	lockoutThreshold = 5
	lockoutPeriod    = 15 * time.Minute
	// SessionIdleTimeout ends an admin session nobody used for this long.
	SessionIdleTimeout = 2 * time.Hour
	// SessionLifetime ends every admin session this long after sign-in.
	SessionLifetime   = 12 * time.Hour
	sessionTouchEvery = time.Minute
)

// argon2id parameters (RFC 9106's second recommendation, lighter memory).
const (
	argonTime    = 2
	argonMemory  = 19 * 1024
	argonThreads = 1
	argonKeyLen  = 32
)

// HashPassword hashes a password with argon2id in the PHC string format.
func HashPassword(password string) (string, error) {
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	key := argon2.IDKey([]byte(password), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemory, argonTime, argonThreads,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key)), nil
}

// checkPassword compares a password with a PHC argon2id hash in constant time.
func checkPassword(hash, password string) bool {
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false
	}
	var version int
	var memory, iterations uint32
	var threads uint8
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return false
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &memory, &iterations, &threads); err != nil {
		return false
	}
	salt, err1 := base64.RawStdEncoding.DecodeString(parts[4])
	want, err2 := base64.RawStdEncoding.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(want) == 0 {
		return false
	}
	got := argon2.IDKey([]byte(password), salt, iterations, memory, threads, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1
}

// dummyHash is verified for unknown addresses so they take as long as known ones.
const dummyHash = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$2jL0rHW3iIhq3fuvXNnqVquJzTgk1Tq0vRRV7qbxF3c"

// NewAccount is what creating an account takes.
type NewAccount struct {
	Email, Name, Password string
	Role                  Role
}

func (n *NewAccount) validate() (emailKey string, err error) {
	v := &validator{}
	n.Email, n.Name = strings.TrimSpace(n.Email), strings.TrimSpace(n.Name)
	emailKey, emailErr := normaliseEmail(n.Email)
	v.check(emailErr == nil, "email", "Enter a valid email address, like name@example.com.")
	v.check(utf8.RuneCountInString(n.Name) <= MaxNameLength && isPlainLine(n.Name), "name", "Enter a name of at most 200 characters.")
	v.check(utf8.RuneCountInString(n.Password) >= MinPasswordLength, "password",
		fmt.Sprintf("Use a password of at least %d characters.", MinPasswordLength))
	v.check(len(n.Password) <= maxPasswordLength, "password", "Use a password of at most 1,024 bytes.")
	v.check(n.Role == RoleOwner || n.Role == RoleOrganizer, "role", "Choose owner or organizer.")
	return emailKey, v.err()
}

// CreateAccount stores a new account with its password hashed.
func (s *Store) CreateAccount(ctx context.Context, n NewAccount) (*Account, error) {
	emailKey, err := n.validate()
	if err != nil {
		return nil, err
	}
	hash, err := HashPassword(n.Password)
	if err != nil {
		return nil, err
	}
	now := s.Now()
	acc := &Account{Email: n.Email, EmailKey: emailKey, Name: n.Name, PasswordHash: hash, Role: n.Role,
		CreatedAt: now, UpdatedAt: now}
	err = s.inWriteTx(ctx, func(tx *gorm.DB) error {
		var taken int64
		if err := tx.Model(&Account{}).Where("email_key = ?", emailKey).Count(&taken).Error; err != nil {
			return err
		}
		err := tx.Create(acc).Error
		// Another instance may add the address between the count and the
		// insert; the unique index then answers as the count would have.
		if taken > 0 || s.dialect.isUniqueViolation(err) {
			return &ValidationError{Fields: map[string]string{"email": "An account with this email already exists."}}
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return acc, nil
}

// CreateFirstOwner creates an owner account only when no account exists. It
// reports whether it created one. Instances started together create it
// once: the check and the insert run under the migration lock.
func (s *Store) CreateFirstOwner(ctx context.Context, email, password string) (created bool, err error) {
	err = s.withMigrationLock(ctx, func() error {
		var n int64
		if err := s.write.WithContext(ctx).Model(&Account{}).Count(&n).Error; err != nil || n > 0 {
			return err
		}
		_, err := s.CreateAccount(ctx, NewAccount{Email: email, Name: "", Password: password, Role: RoleOwner})
		created = err == nil
		return err
	})
	return created, err
}

// Accounts lists every account, oldest first.
func (s *Store) Accounts(ctx context.Context) ([]Account, error) {
	var accs []Account
	return accs, s.read.WithContext(ctx).Order("id").Find(&accs).Error
}

// AccountByEmail finds an account by address.
func (s *Store) AccountByEmail(ctx context.Context, email string) (*Account, error) {
	if strings.ContainsRune(email, 0) {
		// No address holds a NUL, and PostgreSQL refuses one in a query.
		return nil, ErrNotFound
	}
	var acc Account
	err := s.read.WithContext(ctx).Where("email_key = ?", strings.ToLower(strings.TrimSpace(email))).Take(&acc).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, ErrNotFound
	}
	return &acc, err
}

// DeleteAccount removes an account; the last owner cannot be removed.
func (s *Store) DeleteAccount(ctx context.Context, id int64) error {
	return s.inWriteTx(ctx, func(tx *gorm.DB) error {
		var acc Account
		if err := tx.Take(&acc, id).Error; errors.Is(err, gorm.ErrRecordNotFound) {
			return ErrNotFound
		} else if err != nil {
			return err
		}
		// Two owners removed at once through two instances: the second
		// waits for the first and then counts what is left.
		if err := s.dialect.lockRows(tx, "SELECT id FROM accounts WHERE role = ?", RoleOwner); err != nil {
			return err
		}
		var owners int64
		if err := tx.Model(&Account{}).Where("role = ?", RoleOwner).Count(&owners).Error; err != nil {
			return err
		}
		if acc.Role == RoleOwner && owners <= 1 {
			return &ValidationError{Fields: map[string]string{"account": "The last owner cannot be removed."}}
		}
		return tx.Delete(&acc).Error
	})
}

// Authenticate checks an email and password. Every failure is
// ErrBadCredentials, and an unknown address costs the same hashing work as a
// known one. Five failures in a row lock the account for 15 minutes.
func (s *Store) Authenticate(ctx context.Context, email, password string) (*Account, error) {
	if len(password) > maxPasswordLength {
		password = password[:maxPasswordLength]
	}
	acc, err := s.AccountByEmail(ctx, email)
	if errors.Is(err, ErrNotFound) {
		checkPassword(dummyHash, password)
		return nil, ErrBadCredentials
	}
	if err != nil {
		return nil, err
	}
	now := s.Now()
	ok := checkPassword(acc.PasswordHash, password)
	if acc.LockedUntil != nil && now.Before(*acc.LockedUntil) {
		return nil, ErrBadCredentials
	}
	err = s.inWriteTx(ctx, func(tx *gorm.DB) error {
		if ok {
			return tx.Model(acc).Updates(map[string]any{"failed_logins": 0, "locked_until": nil}).Error
		}
		update := map[string]any{"failed_logins": gorm.Expr("failed_logins + 1")}
		if acc.FailedLogins+1 >= lockoutThreshold {
			update["failed_logins"], update["locked_until"] = 0, now.Add(lockoutPeriod)
		}
		return tx.Model(acc).Updates(update).Error
	})
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, ErrBadCredentials
	}
	return acc, nil
}

// AdminSession is a signed-in browser.
type AdminSession struct {
	TokenHash  string `gorm:"primaryKey"`
	AccountID  int64
	CreatedAt  time.Time
	LastSeenAt time.Time
	ExpiresAt  time.Time
}

// StartAdminSession signs an account in and returns the cookie's secret.
func (s *Store) StartAdminSession(ctx context.Context, accountID int64) (string, error) {
	token, hash := newManageToken()
	now := s.Now()
	return token, s.inWriteTx(ctx, func(tx *gorm.DB) error {
		// Sign-in is a good moment to forget sessions that have run out.
		if err := tx.Where("expires_at < ? OR last_seen_at < ?", now, now.Add(-SessionIdleTimeout)).
			Delete(&AdminSession{}).Error; err != nil {
			return err
		}
		return tx.Create(&AdminSession{TokenHash: hash, AccountID: accountID, CreatedAt: now, LastSeenAt: now,
			ExpiresAt: now.Add(SessionLifetime)}).Error
	})
}

// AccountBySession returns the account behind a session cookie, enforcing
// the idle and absolute timeouts, and notes the use.
func (s *Store) AccountBySession(ctx context.Context, token string) (*Account, error) {
	if len(token) != 43 {
		return nil, ErrNotFound
	}
	var sess AdminSession
	err := s.read.WithContext(ctx).Where("token_hash = ?", hashToken(token)).Take(&sess).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	now := s.Now()
	if !now.Before(sess.ExpiresAt) || !now.Before(sess.LastSeenAt.Add(SessionIdleTimeout)) {
		return nil, ErrNotFound
	}
	if now.Sub(sess.LastSeenAt) > sessionTouchEvery {
		if err := s.inWriteTx(ctx, func(tx *gorm.DB) error {
			return tx.Model(&sess).Update("last_seen_at", now).Error
		}); err != nil {
			return nil, err
		}
	}
	var acc Account
	if err := s.read.WithContext(ctx).Take(&acc, sess.AccountID).Error; err != nil {
		return nil, ErrNotFound
	}
	return &acc, nil
}

// EndAdminSession signs a browser out.
func (s *Store) EndAdminSession(ctx context.Context, token string) error {
	return s.inWriteTx(ctx, func(tx *gorm.DB) error {
		return tx.Where("token_hash = ?", hashToken(token)).Delete(&AdminSession{}).Error
	})
}

// APIToken lets an integration act for an account.
type APIToken struct {
	ID         int64
	AccountID  int64
	Name       string
	TokenHash  string
	CreatedAt  time.Time
	LastUsedAt *time.Time
	RevokedAt  *time.Time
}

// apiTokenPrefix makes Podium tokens recognisable to secret scanners.
const apiTokenPrefix = "podium_"

// CreateAPIToken makes a token for an account; the secret is returned once
// and only its hash is kept.
func (s *Store) CreateAPIToken(ctx context.Context, accountID int64, name string) (string, *APIToken, error) {
	name = strings.TrimSpace(name)
	if name == "" || utf8.RuneCountInString(name) > 100 || !isPlainLine(name) {
		return "", nil, &ValidationError{Fields: map[string]string{"name": "Name the token (at most 100 characters), e.g. CRM sync."}}
	}
	secret, _ := newManageToken()
	secret = apiTokenPrefix + secret
	tok := &APIToken{AccountID: accountID, Name: name, TokenHash: hashToken(secret), CreatedAt: s.Now()}
	err := s.inWriteTx(ctx, func(tx *gorm.DB) error {
		var exists int64
		if err := tx.Model(&Account{}).Where("id = ?", accountID).Count(&exists).Error; err != nil {
			return err
		}
		if exists == 0 {
			return ErrNotFound
		}
		return tx.Create(tok).Error
	})
	if err != nil {
		return "", nil, err
	}
	return secret, tok, nil
}

// AccountByAPIToken returns the account behind a live token and notes its use.
func (s *Store) AccountByAPIToken(ctx context.Context, secret string) (*Account, error) {
	if !strings.HasPrefix(secret, apiTokenPrefix) || len(secret) != len(apiTokenPrefix)+43 {
		return nil, ErrNotFound
	}
	var tok APIToken
	err := s.read.WithContext(ctx).Where("token_hash = ? AND revoked_at IS NULL", hashToken(secret)).Take(&tok).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	now := s.Now()
	if tok.LastUsedAt == nil || now.Sub(*tok.LastUsedAt) > sessionTouchEvery {
		if err := s.inWriteTx(ctx, func(tx *gorm.DB) error {
			return tx.Model(&tok).Update("last_used_at", now).Error
		}); err != nil {
			return nil, err
		}
	}
	var acc Account
	if err := s.read.WithContext(ctx).Take(&acc, tok.AccountID).Error; err != nil {
		return nil, ErrNotFound
	}
	return &acc, nil
}

// APITokens lists every token, newest first.
func (s *Store) APITokens(ctx context.Context) ([]APIToken, error) {
	var toks []APIToken
	return toks, s.read.WithContext(ctx).Order("id DESC").Find(&toks).Error
}

// RevokeAPIToken stops a token from working; revoking twice is harmless.
func (s *Store) RevokeAPIToken(ctx context.Context, id int64) error {
	return s.inWriteTx(ctx, func(tx *gorm.DB) error {
		r := tx.Model(&APIToken{}).Where("id = ? AND revoked_at IS NULL", id).Update("revoked_at", s.Now())
		if r.Error == nil && r.RowsAffected == 0 {
			var n int64
			tx.Model(&APIToken{}).Where("id = ?", id).Count(&n)
			if n == 0 {
				return ErrNotFound
			}
		}
		return r.Error
	})
}
