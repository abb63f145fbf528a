package classlink

import (
	"context"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// backoff is the wait before attempt n+1 after n failed attempts: a random
// point in [d/2, d], d = base·2^(n-1) capped at max, so clients that failed
// together do not come back together.
func (c *Client) backoff(n int) time.Duration {
	d := c.cfg.RetryBaseDelay
	for i := 1; i < n && d < c.cfg.RetryMaxDelay; i++ {
		d *= 2
	}
	d = min(d, c.cfg.RetryMaxDelay)
	half := d / 2
	return half + rand.N(half+1)
}

// retryAfter reads a Retry-After header: delay-seconds or an HTTP date.
func retryAfter(h http.Header, now time.Time) (time.Duration, bool) {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0, false
	}
	if s, err := strconv.ParseInt(v, 10, 64); err == nil {
		if s < 0 {
			return 0, false
		}
		if s > int64(24*time.Hour/time.Second) {
			s = int64(24 * time.Hour / time.Second)
		}
		return time.Duration(s) * time.Second, true
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	return max(t.Sub(now), 0), true
}

// sleep waits d or until ctx ends, whichever is first.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// verdict is what one attempt tells the retry loop.
type verdict struct {
	retry       bool          // try again (if attempts remain)
	free        bool          // does not use up an attempt (502 that shrank the page)
	after       time.Duration // server-requested wait
	hasAfter    bool
	rateLimited bool
	status      int
	err         error // the reason; final when retry is false
}

// retrying runs try until it succeeds, fails for good, attempts run out or
// ctx ends. It never sleeps once ctx is done, and it does not start a wait
// that would outlast ctx's deadline (the caller's time budget): it gives up
// at once with an error that wraps context.DeadlineExceeded and, when the
// server sent Retry-After, says when to try again (Error.RetryAt); it
// also wraps ErrOutOfTime.
func (c *Client) retrying(ctx context.Context, op string, offset int, try func() verdict) error {
	attempts := 0
	for {
		if err := ctx.Err(); err != nil {
			return &Error{Kind: ErrUpstream, Op: op, Offset: offset, Attempts: attempts, Detail: "cancelled", Err: err}
		}
		v := try()
		if !v.free {
			attempts++
		}
		if v.err == nil {
			return nil
		}
		if err := ctx.Err(); err != nil {
			return &Error{Kind: ErrUpstream, Op: op, Offset: offset, Status: v.status, Attempts: attempts, Detail: "cancelled", Err: err}
		}
		if !v.retry {
			if e, ok := v.err.(*Error); ok && e.Attempts == 0 {
				e.Attempts = attempts
			}
			return v.err
		}
		kind := ErrUpstream
		if v.rateLimited {
			kind = ErrRateLimited
		}
		now := c.cfg.Now()
		var retryAt time.Time
		if v.hasAfter {
			retryAt = now.Add(v.after)
		}
		giveUp := func(detail string, cause error) error {
			return &Error{Kind: kind, Op: op, Offset: offset, Status: v.status, Attempts: attempts, Detail: detail, Err: cause, RetryAt: retryAt}
		}
		if attempts >= c.cfg.MaxAttempts {
			return giveUp("giving up", v.err)
		}
		wait := c.backoff(max(attempts, 1))
		if v.hasAfter {
			if v.after > c.cfg.MaxRetryAfter {
				return giveUp("Retry-After "+v.after.String()+" is longer than the "+c.cfg.MaxRetryAfter.String()+" this client waits", v.err)
			}
			wait = v.after
		}
		if deadline, ok := ctx.Deadline(); ok && now.Add(wait).After(deadline) {
			return giveUp("waiting "+wait.Round(time.Second).String()+" to try again would pass the time allowed", outOfTime{v.err})
		}
		if err := c.cfg.Sleep(ctx, wait); err != nil {
			return &Error{Kind: ErrUpstream, Op: op, Offset: offset, Status: v.status, Attempts: attempts, Detail: "cancelled", Err: err}
		}
	}
}

// outOfTime is the last answer of a request that was not tried again
// because the caller's deadline would pass first; errors.Is sees it,
// ErrOutOfTime and context.DeadlineExceeded.
type outOfTime struct{ last error }

func (o outOfTime) Error() string   { return o.last.Error() }
func (o outOfTime) Unwrap() []error { return []error{o.last, ErrOutOfTime, context.DeadlineExceeded} }
