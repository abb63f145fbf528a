package classlink

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Sentinels for errors.Is. Every error this package returns for a failed
// request or pull is an *Error wrapping exactly one of them.
var (
	// ErrCredentials: the server answered 401 or 403.
	ErrCredentials = errors.New("credentials rejected")
	// ErrNotFound: the server answered 404 (usually a wrong base URL or
	// application_id).
	ErrNotFound = errors.New("not found")
	// ErrRateLimited: still 429 after the last attempt, or a Retry-After
	// longer than Config.MaxRetryAfter.
	ErrRateLimited = errors.New("rate limited")
	// ErrUpstream: 5xx after the last attempt, network failures, timeouts,
	// and unexpected statuses.
	ErrUpstream = errors.New("upstream error")
	// ErrMalformed: a 200 that cannot be trusted: bad JSON, a missing
	// envelope key, missing or inconsistent counts, a short page.
	ErrMalformed = errors.New("malformed response")
	// ErrRevisionChanged: x-perm-rev (or the total) changed between pages
	// of one pull. Restart the pull; Consistent does that.
	ErrRevisionChanged = errors.New("roster revision changed during the pull")
	// ErrInconsistentPages: a sourcedId arrived twice in one pull, so the
	// server's order shifted between pages and a record was skipped.
	// Restart the pull; Consistent does that too.
	ErrInconsistentPages = errors.New("pages were inconsistent")

	// ErrOutOfTime is not a Kind: it comes with one when a retry was not
	// started because its wait would end past the context's deadline (the
	// caller's time budget), together with context.DeadlineExceeded.
	ErrOutOfTime = errors.New("out of time")
)

// Error is a failed request or pull.
type Error struct {
	Kind     error  // one of the sentinels above
	Op       string // what was being done, e.g. "users" or "applications"
	Offset   int    // the page's offset, -1 when not paging
	Status   int    // last HTTP status, 0 when none arrived
	Attempts int    // requests made for the failing page
	Detail   string // human explanation; never holds secrets
	Err      error  // underlying cause, may be nil
	// RetryAt is when the server asked to be tried again (the Retry-After
	// of its last answer); zero when it did not say.
	RetryAt time.Time
}

// RetryAt is when the server behind err asked to be tried again, if it
// said (a 429 or 5xx with Retry-After).
func RetryAt(err error) (time.Time, bool) {
	var e *Error
	if errors.As(err, &e) && !e.RetryAt.IsZero() {
		return e.RetryAt, true
	}
	return time.Time{}, false
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("classlink: ")
	b.WriteString(e.Op)
	if e.Offset >= 0 {
		fmt.Fprintf(&b, " (offset %d)", e.Offset)
	}
	b.WriteString(": ")
	b.WriteString(e.Kind.Error())
	if e.Status != 0 {
		fmt.Fprintf(&b, ": HTTP %d", e.Status)
	}
	if e.Attempts > 1 {
		fmt.Fprintf(&b, " after %d attempts", e.Attempts)
	}
	if e.Detail != "" {
		b.WriteString(": ")
		b.WriteString(e.Detail)
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

// Unwrap exposes both the sentinel and the cause to errors.Is and errors.As.
func (e *Error) Unwrap() []error {
	if e.Err == nil {
		return []error{e.Kind}
	}
	return []error{e.Kind, e.Err}
}

// Reason maps an error to the sync run's failure reason (DESIGN §5):
// "credentials" for rejected credentials and for a 404 (a wrong base URL or
// application_id is fixed in the same connection settings), "upstream" for
// everything else, "" for nil. Callers that cancelled the run themselves
// should check their context first.
func Reason(err error) string {
	switch {
	case err == nil:
		return ""
	case errors.Is(err, ErrCredentials), errors.Is(err, ErrNotFound):
		return "credentials"
	default:
		return "upstream"
	}
}

func malformed(op string, offset int, detail string, cause error) *Error {
	return &Error{Kind: ErrMalformed, Op: op, Offset: offset, Detail: detail, Err: cause}
}
