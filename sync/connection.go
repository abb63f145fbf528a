package sync

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/schoolstatus/rostersync/classlink"
	"github.com/schoolstatus/rostersync/store"
	"github.com/schoolstatus/rostersync/untrusted"
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
	// Summary is the failure in one line for people (Explain); Error is
	// the technical detail.
	Summary string `json:"summary,omitempty"`
	Error   string `json:"error,omitempty"`
	// RetryAt is when ClassLink asked to be tried again (Retry-After), set
	// when the test failed because it is rate-limiting.
	RetryAt *time.Time `json:"retry_at,omitempty"`
}

// ConnectionTestBudget bounds a whole connection test, waits for
// Retry-After included; the District Home Page shows it while a test
// runs. A caller's earlier deadline still applies.
const ConnectionTestBudget = 90 * time.Second

// TestConnection is the connection test: one school, the totals of every
// collection, the latency and x-perm-rev, through dial. It retries like a
// sync (429 and 5xx, honouring Retry-After) within ConnectionTestBudget,
// with shorter backoffs; when ClassLink is still rate-limiting it says so
// and when to try again.
func TestConnection(ctx context.Context, dial DialFunc, d store.District) ConnectionReport {
	r := ConnectionReport{TenantID: d.TenantID}
	budget := ConnectionTestBudget
	if deadline, ok := ctx.Deadline(); ok {
		budget = min(budget, time.Until(deadline))
	}
	ctx, cancel := context.WithTimeout(ctx, budget)
	defer cancel()
	budgetText := budget.Round(time.Second).String()
	fail := func(err error) ConnectionReport {
		r.Reason, r.Summary, r.Error = classlink.Reason(err), Explain(err), fieldText(err)
		if r.Reason == "" {
			r.Reason = store.ReasonCredentials
		}
		if errors.Is(err, classlink.ErrRateLimited) {
			when := "in a few minutes"
			if at, ok := classlink.RetryAt(err); ok {
				at = at.Round(time.Second)
				r.RetryAt, when = &at, "after "+at.Local().Format("15:04:05")
			}
			r.Error = fmt.Sprintf("ClassLink is rate-limiting requests (HTTP 429) and did not let the test through within %s; try again %s", budgetText, when)
			r.Summary = "ClassLink is limiting requests right now: try the test again " + when + "."
		} else if errors.Is(err, classlink.ErrOutOfTime) || errors.Is(ctx.Err(), context.DeadlineExceeded) {
			r.Error = fmt.Sprintf("ClassLink did not answer within the test's %s: %s", budgetText, r.Error)
		}
		return r
	}
	c, err := dial(ctx, d)
	if err != nil {
		// What cannot be dialled is the connection's settings, as in a run.
		r.Reason, r.Summary, r.Error = store.ReasonCredentials, Explain(err), fieldText(err)
		return r
	}
	c = c.With(func(cfg *classlink.Config) {
		// A wrong URL should answer in seconds: short backoffs where the
		// server names no wait; Retry-After is still honoured as given.
		cfg.RequestTimeout = 20 * time.Second
		cfg.RetryBaseDelay, cfg.RetryMaxDelay = 100*time.Millisecond, 500*time.Millisecond
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

// Text is the report for the CLI: one line, or a failure and its
// detail on a second line (values from outside escaped).
func (r ConnectionReport) Text() string {
	if !r.OK {
		return fmt.Sprintf("Connection test failed: %s\n  detail (%s): %s", untrusted.Text(r.Summary), r.Reason, untrusted.Text(r.Error))
	}
	school := "no school"
	if r.School != "" {
		school = "first school " + r.School
	}
	rev := r.PermRev
	if rev == "" {
		rev = "–"
	}
	return fmt.Sprintf("Connected in %d ms · %s · %s orgs, %s users, %s classes, %s enrollments · x-perm-rev %s",
		r.LatencyMS, school, r.count("orgs"), r.count("users"), r.count("classes"), r.count("enrollments"), rev)
}

// count is a collection's total, "?" when the server sends none.
func (r ConnectionReport) count(name string) string {
	if n, ok := r.Counts[name]; ok {
		return strconv.Itoa(n)
	}
	return "?"
}

// fieldText is an error without the contract key a *store.FieldError
// puts in front.
func fieldText(err error) string {
	if fe, ok := err.(*store.FieldError); ok {
		return fe.Msg
	}
	return err.Error()
}
