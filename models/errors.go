package models

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
)

// Code is the kind of a refusal, which the HTTP layer maps to a status in
// one place (handlers/errors.go).
type Code string

// The codes an Error carries.
const (
	CodeInvalid      Code = "invalid"      // the input breaks a rule: fix it and send again
	CodeNotFound     Code = "not_found"    // no such thing, or not public
	CodeConflict     Code = "conflict"     // the thing's state refuses it (full, closed)
	CodeGone         Code = "gone"         // the thing was withdrawn (a cancelled session)
	CodeUnauthorized Code = "unauthorized" // who is asking was not recognised
	CodeUnavailable  Code = "unavailable"  // the service declines for now: try again shortly
	CodeInternal     Code = "internal"     // anything else: a fault, logged, never described
)

// Error is the models' one coded error: a code, a heading and a message that
// are safe to show anyone, what the admin says to an organizer where that
// differs, and the cause, kept for the log.
type Error struct {
	Code    Code
	Title   string
	Message string
	// Organizer is what the admin says, naming what the organizer can do;
	// empty means Message.
	Organizer string
	// Cause is the underlying error, never shown.
	Cause error
}

// Error is the message with the cause, for logs.
func (e *Error) Error() string {
	if e.Cause != nil {
		return e.Message + ": " + e.Cause.Error()
	}
	return e.Message
}

// Unwrap gives the cause to errors.Is and errors.As.
func (e *Error) Unwrap() error { return e.Cause }

// ForOrganizer is what the admin shows an organizer.
func (e *Error) ForOrganizer() string {
	if e.Organizer != "" {
		return e.Organizer
	}
	return e.Message
}

// Named refusals, compared with errors.Is.
var (
	// ErrNotFound means the thing asked for does not exist (or is not public).
	ErrNotFound = &Error{Code: CodeNotFound, Title: "Page not found",
		Message: "We could not find that page. The link may be mistyped, or the panel may no longer be available."}
	// ErrSessionFull means the session has no seat left and no waitlist.
	ErrSessionFull = &Error{Code: CodeConflict, Title: "Fully booked",
		Message:   "Sorry, every place for this session has been taken.",
		Organizer: "The session is full and has no waitlist: raise the number of places first."}
	// ErrRegistrationClosed means the session no longer takes registrations.
	ErrRegistrationClosed = &Error{Code: CodeConflict, Title: "Registration closed",
		Message:   "Registration for this session has closed.",
		Organizer: "This session has already started or ended, so its registrations can no longer change."}
	// ErrSessionCancelled means the organizer cancelled the session.
	ErrSessionCancelled = &Error{Code: CodeGone, Title: "Session cancelled",
		Message: "The organiser has cancelled this session.", Organizer: "This session is cancelled."}
	// ErrBadCredentials is the one answer to every failed sign-in: unknown
	// address, wrong password or a locked account look the same.
	ErrBadCredentials = &Error{Code: CodeUnauthorized, Title: "Sign-in failed",
		Message: "The email or password is incorrect, or the account is locked for a few minutes."}
)

// NotFoundAs names what was not found, for a clearer message than
// ErrNotFound's (an API caller asked for it by id); other errors pass
// through. errors.Is(result, ErrNotFound) still holds.
func NotFoundAs(err error, what string, id int64) error {
	if !errors.Is(err, ErrNotFound) {
		return err
	}
	return &Error{Code: CodeNotFound, Title: "Not Found", Message: fmt.Sprintf("There is no %s with id %d.", what, id), Cause: ErrNotFound}
}

// errBusy is how the database declining for now reads (isBusy).
var errBusy = Error{Code: CodeUnavailable, Title: "Busy",
	Message: "Podium is very busy right now and nothing was saved. Please try again in a moment."}

// AsError is the coded error err is or wraps: a named refusal, a
// ValidationError (CodeInvalid, each field's message for the organizer),
// or the database declining for now (CodeUnavailable, isBusy). Anything
// else is CodeInternal with a message that says nothing of the cause.
func AsError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	var verr *ValidationError
	switch {
	case errors.As(err, &verr):
		return &Error{Code: CodeInvalid, Title: "Please check your details",
			Message: "Some of the details sent were not valid.", Organizer: verr.messages(), Cause: err}
	case isBusy(err):
		busy := errBusy
		busy.Cause = err
		return &busy
	}
	return &Error{Code: CodeInternal, Title: "Something went wrong",
		Message: "Sorry, something went wrong on our side. Please try again in a moment.", Cause: err}
}

// refused reports whether err is the models refusing (an input, a state)
// rather than the database failing: a refusal is decided before anything
// is written.
func refused(err error) bool {
	switch AsError(err).Code {
	case CodeInvalid, CodeNotFound, CodeConflict, CodeGone, CodeUnauthorized:
		return true
	}
	return false
}

// ValidationError carries a safe, user-facing message per field; AsError
// gives it CodeInvalid.
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

// messages is every field's message, in the fields' order.
func (e *ValidationError) messages() string {
	msgs := make([]string, 0, len(e.Fields))
	for _, k := range slices.Sorted(maps.Keys(e.Fields)) {
		msgs = append(msgs, e.Fields[k])
	}
	return strings.Join(msgs, " ")
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
