package models

import (
	"errors"
	"sort"
	"strings"
)

// Named errors the HTTP layer maps to status codes in one place.
var (
	// ErrNotFound means the thing asked for does not exist (or is not public).
	ErrNotFound = errors.New("not found")
	// ErrSessionFull means the session has no seat left and no waitlist.
	ErrSessionFull = errors.New("session is fully booked")
	// ErrRegistrationClosed means the session no longer takes registrations.
	ErrRegistrationClosed = errors.New("registration is closed")
	// ErrSessionCancelled means the organizer cancelled the session.
	ErrSessionCancelled = errors.New("session is cancelled")
)

// ValidationError carries a safe, user-facing message per field.
type ValidationError struct {
	Fields map[string]string
}

// Error lists the invalid fields in a stable order.
func (e *ValidationError) Error() string {
	keys := make([]string, 0, len(e.Fields))
	for k := range e.Fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return "invalid " + strings.Join(keys, ", ")
}

// validator collects field messages; the first message for a field wins.
type validator struct{ fields map[string]string }

func (v *validator) check(ok bool, field, message string) {
	if ok {
		return
	}
	if v.fields == nil {
		v.fields = map[string]string{}
	}
	if _, seen := v.fields[field]; !seen {
		v.fields[field] = message
	}
}

func (v *validator) err() error {
	if len(v.fields) == 0 {
		return nil
	}
	return &ValidationError{Fields: v.fields}
}
