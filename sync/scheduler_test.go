package sync

import (
	"bytes"
	"context"
	"errors"
	"strings"
	gosync "sync"
	"testing"
	"time"

	"charm.land/log/v2"

	"github.com/schoolstatus/rostersync/classlink"
	"github.com/schoolstatus/rostersync/classlink/classlinktest"
	"github.com/schoolstatus/rostersync/store"
)

// fakeClock is a settable clock whose After channels fire when the time
// is set past their deadline.
type fakeClock struct {
	mu      gosync.Mutex
	now     time.Time
	timers  []fakeTimer
	waiting chan struct{} // one signal per After call
}

type fakeTimer struct {
	at time.Time
	ch chan time.Time
}

func newFakeClock(t time.Time) *fakeClock {
	return &fakeClock{now: t, waiting: make(chan struct{}, 100)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch := make(chan time.Time, 1)
	if d <= 0 {
		ch <- c.now
	} else {
		c.timers = append(c.timers, fakeTimer{c.now.Add(d), ch})
	}
	select {
	case c.waiting <- struct{}{}:
	default:
	}
	return ch
}

func (c *fakeClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
	kept := c.timers[:0]
	for _, tm := range c.timers {
		if !tm.at.After(t) {
			tm.ch <- t
		} else {
			kept = append(kept, tm)
		}
	}
	c.timers = kept
}

var chicago = func() *time.Location {
	loc, err := time.LoadLocation("America/Chicago")
	if err != nil {
		panic(err)
	}
	return loc
}()

func TestDailyStartTimes(t *testing.T) {
	st := store.DefaultSettings() // 02:00 America/Chicago
	at := func(y int, m time.Month, d, h, mi int) time.Time { return time.Date(y, m, d, h, mi, 0, 0, chicago) }
	cases := []struct {
		name       string
		start      string
		now        time.Time
		last, next time.Time
	}{
		{"before today's start", "02:00", at(2027, 7, 10, 1, 59), at(2027, 7, 9, 2, 0), at(2027, 7, 10, 2, 0)},
		{"at today's start", "02:00", at(2027, 7, 10, 2, 0), at(2027, 7, 10, 2, 0), at(2027, 7, 11, 2, 0)},
		{"month boundary", "23:30", at(2027, 8, 1, 0, 10), at(2027, 7, 31, 23, 30), at(2027, 8, 1, 23, 30)},
		// 2027-03-14 02:00 CST the clocks jump to 03:00 CDT.
		{"start in the spring-forward gap runs after it", "02:30", at(2027, 3, 14, 0, 0), at(2027, 3, 13, 2, 30),
			time.Date(2027, 3, 14, 8, 30, 0, 0, time.UTC)},
		{"spring-forward day, start after the gap", "06:00", at(2027, 3, 14, 1, 0), at(2027, 3, 13, 6, 0),
			time.Date(2027, 3, 14, 11, 0, 0, 0, time.UTC)},
		// 2027-11-07 02:00 CDT the clocks go back to 01:00 CST; 01:30 happens twice.
		{"fall-back day runs at the first 01:30", "01:30", at(2027, 11, 7, 0, 0), at(2027, 11, 6, 1, 30),
			time.Date(2027, 11, 7, 6, 30, 0, 0, time.UTC)},
		{"and not at the second", "01:30", time.Date(2027, 11, 7, 7, 15, 0, 0, time.UTC), time.Date(2027, 11, 7, 6, 30, 0, 0, time.UTC),
			time.Date(2027, 11, 8, 7, 30, 0, 0, time.UTC)},
	}
	for _, tc := range cases {
		st.DailyStart = tc.start
		last, err := LastDailyStart(st, tc.now)
		if err != nil {
			t.Fatal(err)
		}
		next, _ := NextDailyStart(st, tc.now)
		if !last.Equal(tc.last) || !next.Equal(tc.next) {
			t.Errorf("%s: last %v next %v, want %v %v", tc.name, last, next, tc.last.In(chicago), tc.next.In(chicago))
		}
	}
	st.TimeZone = "Mars/Olympus"
	if _, err := NextDailyStart(st, time.Now()); err == nil {
		t.Error("a bad zone gave a start time")
	}
}

// scheduled sets up a district with daily sync on (02:00 Chicago) and a
// scheduler on a fake clock that starts at the real now (the save time).
func scheduled(t *testing.T, enable bool) (*fixture, *Scheduler, *fakeClock) {
	f := newFixture(t, fixtureOptions{edit: func(d *store.District) { d.Settings.EnableDailySync = enable }})
	clock := newFakeClock(time.Now())
	f.engine.Now = clock.Now
	return f, &Scheduler{Engine: f.engine, Clock: clock}, clock
}

func runDue(t *testing.T, s *Scheduler) []int64 {
	t.Helper()
	ran, err := s.RunDue(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return ran
}

func scheduledRuns(t *testing.T, f *fixture) []store.Run {
	runs, err := f.db.Runs(testTenant)
	if err != nil {
		t.Fatal(err)
	}
	var out []store.Run
	for _, r := range runs {
		if r.Trigger == store.TriggerSchedule {
			out = append(out, r)
		}
	}
	return out
}

func TestSchedulerRunsOnceADayAtTheDailyStart(t *testing.T) {
	f, s, clock := scheduled(t, true)
	if ran := runDue(t, s); len(ran) != 0 {
		t.Fatalf("ran right after enabling: %v", ran)
	}
	next, _ := NextDailyStart(store.DefaultSettings(), clock.Now())
	clock.Set(next.Add(-time.Minute))
	if ran := runDue(t, s); len(ran) != 0 {
		t.Fatalf("ran a minute early: %v", ran)
	}
	clock.Set(next)
	if ran := runDue(t, s); len(ran) != 1 || ran[0] != testTenant {
		t.Fatalf("at the start: %v", ran)
	}
	clock.Set(next.Add(3 * time.Hour))
	if ran := runDue(t, s); len(ran) != 0 {
		t.Fatalf("ran twice the same day: %v", ran)
	}
	tomorrow, _ := NextDailyStart(store.DefaultSettings(), clock.Now())
	clock.Set(tomorrow.Add(10 * time.Second))
	if ran := runDue(t, s); len(ran) != 1 {
		t.Fatalf("next day: %v", ran)
	}
	runs := scheduledRuns(t, f)
	if len(runs) != 2 || !runs[0].StartedAt.Equal(next) || runs[0].Status != store.RunSucceeded || runs[1].Status != store.RunUnchanged {
		t.Fatalf("scheduled runs: %+v", runs)
	}
	if local := runs[0].StartedAt.In(chicago); local.Hour() != 2 || local.Minute() != 0 {
		t.Fatalf("ran at %v, want 02:00 Chicago", local)
	}
}

func TestSchedulerCatchesUpOnceAfterDowntime(t *testing.T) {
	f, s, clock := scheduled(t, true)
	next, _ := NextDailyStart(store.DefaultSettings(), clock.Now())
	clock.Set(next)
	runDue(t, s)
	// The server is down for three days and comes back mid-afternoon.
	back := next.Add(3*24*time.Hour + 13*time.Hour)
	clock.Set(back)
	restarted := &Scheduler{Engine: f.engine, Clock: clock} // a new process remembers nothing
	if ran := runDue(t, restarted); len(ran) != 1 {
		t.Fatalf("catch-up: %v", ran)
	}
	clock.Set(back.Add(time.Hour))
	if ran := runDue(t, restarted); len(ran) != 0 {
		t.Fatalf("caught up twice: %v", ran)
	}
	following, _ := NextDailyStart(store.DefaultSettings(), back)
	clock.Set(following)
	if ran := runDue(t, restarted); len(ran) != 1 {
		t.Fatalf("the day after catching up: %v", ran)
	}
	if runs := scheduledRuns(t, f); len(runs) != 3 || !runs[1].StartedAt.Equal(back) {
		t.Fatalf("runs: %+v", runs)
	}
}

func TestSchedulerNeverRunsADistrictWithDailySyncOff(t *testing.T) {
	f, s, clock := scheduled(t, false)
	day, _ := NextDailyStart(store.DefaultSettings(), clock.Now())
	for range 5 {
		clock.Set(day)
		if ran := runDue(t, s); len(ran) != 0 {
			t.Fatalf("ran with daily sync off: %v", ran)
		}
		day = day.Add(24 * time.Hour)
	}
	if runs, _ := f.db.Runs(testTenant); len(runs) != 0 {
		t.Fatalf("runs recorded: %+v", runs)
	}
	// Switching it on takes effect at the next start, not before.
	f.editDistrict(func(d *store.District) { d.Settings.EnableDailySync = true })
	clock.Set(time.Now())
	if ran := runDue(t, s); len(ran) != 0 {
		t.Fatalf("ran at once when enabled: %v", ran)
	}
}

func TestSchedulerAcrossDaylightSavingChanges(t *testing.T) {
	f, s, clock := scheduled(t, true)
	f.editDistrict(func(d *store.District) { d.Settings.DailyStart = "02:30" })
	// Pretend the schedule has been running: the last run was the day
	// before spring forward, 2027-03-13 02:30 CST.
	if _, err := f.db.RecordRun(store.Run{TenantID: testTenant, Mode: store.ModeApply, Trigger: store.TriggerSchedule,
		Status: store.RunSucceeded, StartedAt: time.Date(2027, 3, 13, 8, 30, 0, 0, time.UTC)}); err != nil {
		t.Fatal(err)
	}
	clock.Set(time.Date(2027, 3, 14, 3, 29, 0, 0, chicago)) // 02:30 never happens today
	if ran := runDue(t, s); len(ran) != 0 {
		t.Fatalf("ran before 03:30 CDT: %v", ran)
	}
	clock.Set(time.Date(2027, 3, 14, 3, 30, 0, 0, chicago))
	if ran := runDue(t, s); len(ran) != 1 {
		t.Fatalf("spring forward: %v", ran)
	}
	// Fall back: 01:30 happens twice on 2027-11-07; one run.
	f.editDistrict(func(d *store.District) { d.Settings.DailyStart = "01:30" })
	clock.Set(time.Date(2027, 11, 6, 12, 0, 0, 0, chicago))
	runDue(t, s)                                           // the missed days since March: one catch-up
	first := time.Date(2027, 11, 7, 6, 30, 0, 0, time.UTC) // 01:30 CDT
	clock.Set(first)
	if ran := runDue(t, s); len(ran) != 1 {
		t.Fatalf("first 01:30: %v", ran)
	}
	clock.Set(first.Add(time.Hour)) // 01:30 CST
	if ran := runDue(t, s); len(ran) != 0 {
		t.Fatalf("ran again at the second 01:30: %v", ran)
	}
	runs := scheduledRuns(t, f)
	if len(runs) != 4 || !runs[1].StartedAt.Equal(time.Date(2027, 3, 14, 8, 30, 0, 0, time.UTC)) || !runs[3].StartedAt.Equal(first) {
		t.Fatalf("runs: %+v", runs)
	}
}

func TestSchedulerLoopSleepsUntilTheStart(t *testing.T) {
	f, s, clock := scheduled(t, true)
	runs := make(chan store.Run, 4)
	s.OnRun = func(tenant int64, res Result, err error) {
		if err != nil {
			t.Error(err)
		}
		runs <- res.Run
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- s.Run(ctx) }()
	<-clock.waiting // asleep
	next, _ := NextDailyStart(f.mustDistrict().Settings, clock.Now())
	// Wake-ups for the recheck before the start run nothing.
	for now := clock.Now().Add(DefaultRecheck); now.Before(next) && now.Before(clock.Now().Add(3*DefaultRecheck)); now = now.Add(DefaultRecheck) {
		clock.Set(now)
		<-clock.waiting
	}
	select {
	case r := <-runs:
		t.Fatalf("ran early: %+v", r)
	default:
	}
	clock.Set(next)
	r := <-runs
	if r.Trigger != store.TriggerSchedule || r.Status != store.RunSucceeded || !r.StartedAt.Equal(next) {
		t.Fatalf("scheduled run: %+v", r)
	}
	<-clock.waiting
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Run returned %v", err)
	}
}

func (f *fixture) mustDistrict() store.District {
	d, err := f.db.District(testTenant)
	if err != nil {
		f.t.Fatal(err)
	}
	return d
}

// A save that does not touch Enable Daily sync must not swallow a run
// missed while the server was down, nor may a cancelled run count.
func TestMissedRunSurvivesAnUnrelatedSaveAndACancelledRun(t *testing.T) {
	clock := newFakeClock(time.Date(2026, 11, 1, 12, 0, 0, 0, chicago))
	f := newFixture(t, fixtureOptions{clock: clock.Now, edit: func(d *store.District) { d.Settings.EnableDailySync = true }})
	f.engine.Now = clock.Now
	s := &Scheduler{Engine: f.engine, Clock: clock}
	day2, _ := NextDailyStart(store.DefaultSettings(), clock.Now())
	clock.Set(day2)
	if ran := runDue(t, s); len(ran) != 1 {
		t.Fatalf("day 2: %v", ran)
	}
	// Day 3: the server is down at the start time; at 08:00 someone
	// changes the threshold; at 09:00 the server is back.
	day3 := day2.Add(24 * time.Hour)
	clock.Set(day3.Add(6 * time.Hour))
	f.editDistrict(func(d *store.District) { d.Settings.DeletionThresholdPercent = 20 })
	clock.Set(day3.Add(7 * time.Hour))
	// The run starts, and the server stops while the users page is slow.
	f.srv.Inject(classlinktest.Fault{Kind: classlinktest.FaultDelay, Endpoint: "users", Delay: 5 * time.Second, Times: 1})
	restarted := &Scheduler{Engine: f.engine, Clock: clock}
	ctx, cancel := context.WithCancel(context.Background())
	go func() { time.Sleep(300 * time.Millisecond); cancel() }()
	restarted.RunDue(ctx)
	if runs := scheduledRuns(t, f); !runs[len(runs)-1].Cancelled() {
		t.Fatalf("the stopped run is not recorded as cancelled: %+v", runs[len(runs)-1])
	}
	again := &Scheduler{Engine: f.engine, Clock: clock}
	if ran := runDue(t, again); len(ran) != 1 {
		t.Fatalf("the missed day-3 run did not run after an unrelated save and a cancelled run: %v", ran)
	}
	runs := scheduledRuns(t, f)
	last := runs[len(runs)-1]
	if last.Status != store.RunSucceeded || !last.StartedAt.Equal(day3.Add(7*time.Hour)) {
		t.Fatalf("runs: %+v", runs)
	}
}

// A bug that panics in one district's run does not take down the process
// (serve runs every district's daily sync in one): the run is recorded
// failed with reason internal, its message says where, the stack goes to
// the log, the scheduler goes on with the next district, and the
// district is not left out of the next day's schedule.
func TestAPanicInARunIsRecordedAndTheScheduleGoesOn(t *testing.T) {
	f, s, clock := scheduled(t, true)
	var logged bytes.Buffer
	f.engine.Log = log.New(&logged)
	other := f.mustDistrict() // the same ClassLink, another tenant
	other.TenantID, other.ApplicationID, other.Revision = testTenant+1, testApp+1, 0
	if _, _, err := f.db.SaveDistrict(other, 0, store.Actor{User: "test"}, []string{store.NoteEnabledBeforeSelfCheck}); err != nil {
		t.Fatal(err)
	}
	f.engine.Dial = func(ctx context.Context, d store.District) (*classlink.Client, error) {
		if d.TenantID == testTenant {
			_ = store.RoleGroup(d.TenantID).Key() // a bug
		}
		return f.dial(ctx, d)
	}
	next, _ := NextDailyStart(store.DefaultSettings(), clock.Now())
	clock.Set(next)
	if ran := runDue(t, s); len(ran) != 2 {
		t.Fatalf("ran %v", ran)
	}
	r, _, _ := f.db.LastRun(testTenant)
	if r.Status != store.RunFailed || r.Reason != store.ReasonInternal || !strings.Contains(r.Message, "internal error") ||
		!strings.Contains(r.Message, "index out of range") || !strings.Contains(r.Message, "at store/permissions.go:") {
		t.Fatalf("the run that panicked: %s/%s %q", r.Status, r.Reason, r.Message)
	}
	if !strings.Contains(logged.String(), "ERRO") || !strings.Contains(logged.String(), "goroutine") || !strings.Contains(logged.String(), "permissions.go") {
		t.Errorf("log: %.300q", logged.String())
	}
	if o, _, _ := f.db.LastRun(testTenant + 1); o.Status != store.RunSucceeded {
		t.Errorf("the other district's run: %s/%s %q", o.Status, o.Reason, o.Message)
	}
	if _, err := f.engine.Run(context.Background(), testTenant, RunOptions{}); err != nil {
		t.Fatalf("the claim of the district was not released: %v", err)
	}
	f.engine.Dial = f.dial
	clock.Set(next.Add(24 * time.Hour))
	if ran := runDue(t, s); len(ran) != 2 {
		t.Fatalf("the next day ran %v", ran)
	}
	if r, _, _ := f.db.LastRun(testTenant); r.Status != store.RunSucceeded && r.Status != store.RunUnchanged {
		t.Fatalf("the next day's run: %s/%s %q", r.Status, r.Reason, r.Message)
	}
}
