package sync

import (
	"context"
	"errors"
	"time"

	"github.com/schoolstatus/rostersync/store"
)

// Clock is the scheduler's time source; tests pass a fake one.
type Clock interface {
	Now() time.Time
	After(d time.Duration) <-chan time.Time
}

type realClock struct{}

func (realClock) Now() time.Time                         { return time.Now() }
func (realClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// DefaultRecheck bounds the scheduler's sleep, so that settings saved
// meanwhile (daily sync switched on, a new start time) are seen.
const DefaultRecheck = time.Minute

// Scheduler starts the daily runs (trigger "schedule") of every district
// with Enable Daily sync on, once a day at its DailyStart in its TimeZone.
// A run missed while nothing was running the scheduler runs once at the
// next start, however many days were missed. Districts with the setting
// off never run on schedule.
//
// Engine.Now and Clock must tell the same time: whether today's run
// happened is read from the recorded runs' start times.
type Scheduler struct {
	Engine  *Engine
	Clock   Clock         // nil: the real clock
	Recheck time.Duration // 0: DefaultRecheck
	// OnRun, when set, hears about every scheduled run: its result, or the
	// error that kept it from being recorded.
	OnRun func(tenantID int64, res Result, err error)
	// AfterRound, when set, is called after every round of due runs with
	// the districts it ran (none, often): serve's daily backup follows
	// the scheduled runs.
	AfterRound func(ran []int64)

	// attempted is the due time last tried per district, so a run that
	// failed before being recorded is not retried in a loop.
	attempted map[int64]time.Time
}

func (s *Scheduler) clock() Clock {
	if s.Clock == nil {
		return realClock{}
	}
	return s.Clock
}

// Run runs due districts until ctx ends, sleeping until the next start
// time (or Recheck, whichever comes first) in between.
func (s *Scheduler) Run(ctx context.Context) error {
	reported := ""
	for {
		ran, err := s.RunDue(ctx)
		if s.AfterRound != nil && ctx.Err() == nil {
			s.AfterRound(ran)
		}
		if err != nil && ctx.Err() == nil && err.Error() != reported {
			// The database could not be read; try again after a pause,
			// telling once, not every minute, while it stays so.
			if s.OnRun != nil {
				s.OnRun(0, Result{}, err)
			}
		}
		if err == nil {
			reported = ""
		} else {
			reported = err.Error()
		}
		wait := s.Recheck
		if wait <= 0 {
			wait = DefaultRecheck
		}
		if next, ok := s.nextStart(); ok {
			wait = min(wait, max(next.Sub(s.clock().Now()), 0))
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-s.clock().After(wait):
		}
	}
}

// RunDue runs, one after another, every district whose daily run is due
// now, and returns their tenant IDs.
func (s *Scheduler) RunDue(ctx context.Context) ([]int64, error) {
	districts, err := s.Engine.DB.Districts()
	if err != nil {
		return nil, err
	}
	if s.attempted == nil {
		s.attempted = map[int64]time.Time{}
	}
	var ran []int64
	for _, d := range districts {
		if ctx.Err() != nil {
			return ran, ctx.Err()
		}
		due, err := s.due(d)
		if err != nil || due.IsZero() {
			continue // a district whose settings do not parse never runs
		}
		res, err := s.Engine.Run(ctx, d.TenantID, RunOptions{Trigger: store.TriggerSchedule})
		var busy *BusyError
		if !errors.As(err, &busy) { // a manual run is going: try again at the next check
			s.attempted[d.TenantID] = due
			ran = append(ran, d.TenantID)
		}
		if s.OnRun != nil {
			s.OnRun(d.TenantID, res, err)
		}
	}
	return ran, nil
}

// due returns the start time the district should run for now, zero when
// none: daily sync on, the latest start time passed, and no scheduled run
// since it that finished (a cancelled one does not count). A district
// never run on schedule counts from when Enable Daily sync was turned on.
//
// A scheduled run interrupted (the server was killed or crashed during it)
// is made up once at the next start; a second interrupted run for the same
// start counts as that day's run, so a run that takes the server down is
// not retried in a loop. A district whose latest run failed with reason
// storage (its data is damaged) waits until an operator acts: restores a
// backup, or (once db check passes) starts a run by hand. A run that could
// not even be recorded is tried once per start time (attempted).
func (s *Scheduler) due(d store.District) (time.Time, error) {
	if !d.Settings.EnableDailySync {
		return time.Time{}, nil
	}
	last, err := LastDailyStart(d.Settings, s.clock().Now())
	if err != nil {
		return time.Time{}, err
	}
	if at, ok := s.attempted[d.TenantID]; ok && !at.Before(last) {
		return time.Time{}, nil
	}
	since, err := dailySyncOnSince(s.Engine.DB, d)
	if err != nil {
		return time.Time{}, err
	}
	var newest, scheduled store.Run
	interrupted := 0
	err = s.Engine.DB.EachRunNewestFirst(d.TenantID, func(r store.Run) bool {
		if r.Status == store.RunRunning {
			return true
		}
		if newest.ID == "" {
			newest = r
		}
		if r.Trigger != store.TriggerSchedule || r.Cancelled() {
			return true
		}
		if r.Status == store.RunInterrupted && !r.StartedAt.Before(last) && interrupted == 0 {
			interrupted++
			return true
		}
		scheduled = r
		return false
	})
	if err != nil {
		return time.Time{}, err
	}
	if newest.Status == store.RunFailed && newest.Reason == store.ReasonStorage {
		return time.Time{}, nil
	}
	if scheduled.ID != "" && scheduled.StartedAt.After(since) {
		since = scheduled.StartedAt
	}
	if !last.After(since) {
		return time.Time{}, nil
	}
	return last, nil
}

// dailySyncOnSince is when Enable Daily sync was last turned on: the
// revision that switched it (or created the district with it on). Other
// saves since do not move it, so a run missed while the server was down is
// still made up after someone changed, say, the threshold.
func dailySyncOnSince(db *store.DB, d store.District) (time.Time, error) {
	audit, err := db.Audit(d.TenantID)
	if err != nil {
		return time.Time{}, err
	}
	for i := len(audit) - 1; i >= 0; i-- {
		for _, c := range audit[i].Changes {
			if c.Field == "settings.enable_daily_sync" && c.To == "on" {
				return audit[i].At, nil
			}
		}
	}
	return d.SavedAt, nil
}

// nextStart is the earliest upcoming daily start of any district with
// daily sync on.
func (s *Scheduler) nextStart() (time.Time, bool) {
	districts, err := s.Engine.DB.Districts()
	if err != nil {
		return time.Time{}, false
	}
	var next time.Time
	for _, d := range districts {
		if !d.Settings.EnableDailySync {
			continue
		}
		t, err := NextDailyStart(d.Settings, s.clock().Now())
		if err == nil && (next.IsZero() || t.Before(next)) {
			next = t
		}
	}
	return next, !next.IsZero()
}

// dailyStartOn is the start time on a calendar day in the district's zone
// (day may overflow the month). A start inside a spring-forward gap (02:30
// on the day Chicago's clocks jump from 02:00 to 03:00) runs just after
// the gap, at 03:30: the wall time read with the offset before the change.
func dailyStartOn(year int, month time.Month, day, hour, minute int, loc *time.Location) time.Time {
	year, month, day = time.Date(year, month, day, 12, 0, 0, 0, loc).Date()
	t := time.Date(year, month, day, hour, minute, 0, 0, loc)
	if t.Hour() == hour && t.Minute() == minute {
		return t
	}
	// Go resolves a missing wall time to either side of the gap.
	_, before := time.Date(year, month, day, 0, 0, 0, 0, loc).Zone()
	return time.Date(year, month, day, hour, minute, 0, 0, time.UTC).Add(-time.Duration(before) * time.Second).In(loc)
}

func startOf(st store.Settings) (hour, minute int, loc *time.Location, err error) {
	hour, minute, err = store.ParseDailyStart(st.DailyStart)
	if err != nil {
		return 0, 0, nil, err
	}
	loc, err = store.LoadTimeZone(st.TimeZone)
	return hour, minute, loc, err
}

// LastDailyStart is the latest daily start at or before now.
func LastDailyStart(st store.Settings, now time.Time) (time.Time, error) {
	hour, minute, loc, err := startOf(st)
	if err != nil {
		return time.Time{}, err
	}
	y, m, d := now.In(loc).Date()
	t := dailyStartOn(y, m, d, hour, minute, loc)
	if t.After(now) {
		t = dailyStartOn(y, m, d-1, hour, minute, loc)
	}
	return t, nil
}

// NextDailyStart is the first daily start after now.
func NextDailyStart(st store.Settings, now time.Time) (time.Time, error) {
	hour, minute, loc, err := startOf(st)
	if err != nil {
		return time.Time{}, err
	}
	y, m, d := now.In(loc).Date()
	t := dailyStartOn(y, m, d, hour, minute, loc)
	if !t.After(now) {
		t = dailyStartOn(y, m, d+1, hour, minute, loc)
	}
	return t, nil
}
