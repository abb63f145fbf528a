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
// ctx ends. It never sleeps once ctx is done.
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
		if attempts >= c.cfg.MaxAttempts {
			return &Error{Kind: kind, Op: op, Offset: offset, Status: v.status, Attempts: attempts, Detail: "giving up", Err: v.err}
		}
		wait := c.backoff(max(attempts, 1))
		if v.hasAfter {
			if v.after > c.cfg.MaxRetryAfter {
				return &Error{Kind: kind, Op: op, Offset: offset, Status: v.status, Attempts: attempts,
					Detail: "Retry-After " + v.after.String() + " is longer than the " + c.cfg.MaxRetryAfter.String() + " this client waits", Err: v.err}
			}
			wait = v.after
		}
		if err := c.cfg.Sleep(ctx, wait); err != nil {
			return &Error{Kind: ErrUpstream, Op: op, Offset: offset, Status: v.status, Attempts: attempts, Detail: "cancelled", Err: err}
		}
	}
}
