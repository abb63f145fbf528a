package sync

import (
	"context"
	"fmt"
	"time"

	"github.com/schoolstatus/rostersync/classlink"
	"github.com/schoolstatus/rostersync/store"
)

// ConnectionReport is what a connection test found; `classlink test
// --json` prints it. The connection itself (and its secret) is left out.
type ConnectionReport struct {
	TenantID  int64          `json:"tenant_id"`
	OK        bool           `json:"ok"`
	Latency   time.Duration  `json:"-"`
	LatencyMS int64          `json:"latency_ms"`
	School    string         `json:"school,omitempty"` // the first school's name
	Counts    map[string]int `json:"counts,omitempty"` // X-Total-Count per collection
	PermRev   string         `json:"perm_rev,omitempty"`
	Reason    string         `json:"reason,omitempty"` // "credentials" or "upstream" when it failed
	Error     string         `json:"error,omitempty"`
}

// connectionTestAttempts bounds the tries per request of a connection
// test, so that a wrong URL answers in seconds, not minutes.
const connectionTestAttempts = 2

// TestConnection is the connection test: one school, the totals of every
// collection, the latency and x-perm-rev, through dial.
func TestConnection(ctx context.Context, dial DialFunc, d store.District) ConnectionReport {
	r := ConnectionReport{TenantID: d.TenantID}
	fail := func(err error) ConnectionReport {
		r.Reason, r.Error = classlink.Reason(err), fieldText(err)
		if r.Reason == "" {
			r.Reason = store.ReasonCredentials
		}
		return r
	}
	c, err := dial(ctx, d)
	if err != nil {
		// What cannot be dialled is the connection's settings, as in a run.
		r.Reason, r.Error = store.ReasonCredentials, fieldText(err)
		return r
	}
	c = c.With(func(cfg *classlink.Config) {
		cfg.MaxAttempts = connectionTestAttempts
		cfg.RequestTimeout = 20 * time.Second
	})
	p, err := c.Probe(ctx)
	if err != nil {
		return fail(err)
	}
	r.OK, r.Latency, r.LatencyMS, r.Counts, r.PermRev = true, p.Latency, p.Latency.Milliseconds(), p.Counts, p.PermRev
	if p.School != nil {
		r.School = p.School.Name
	}
	return r
}

// Text is the report in one line, for the CLI.
func (r ConnectionReport) Text() string {
	if !r.OK {
		return fmt.Sprintf("Connection test failed (%s): %s", r.Reason, r.Error)
	}
	school := "no school"
	if r.School != "" {
		school = "first school " + r.School
	}
	rev := r.PermRev
	if rev == "" {
		rev = "–"
	}
	return fmt.Sprintf("Connected in %d ms · %s · %d orgs, %d users, %d classes, %d enrollments · x-perm-rev %s",
		r.LatencyMS, school, r.Counts["orgs"], r.Counts["users"], r.Counts["classes"], r.Counts["enrollments"], rev)
}

// fieldText is an error without the contract key a *store.FieldError
// puts in front.
func fieldText(err error) string {
	if fe, ok := err.(*store.FieldError); ok {
		return fe.Msg
	}
	return err.Error()
}
