package sync

// A first sync with the OneRoster server in a process of its own (this
// test binary run again as TestBenchRosterServer), so that the sync's CPU
// time and the server's are measured apart; both still share the machine's
// cores, as in the in-process benchmarks:
//
//	go test ./sync -run '^$' -bench SyncMSplit -benchtime 3x
//	ROSTERSYNC_BENCH_L=1 go test ./sync -run '^$' -bench SyncLSplit -benchtime 1x -timeout 30m
//
// It reports the wall time of a sync (s/sync) and of its pull (until the
// plan starts, s-until-plan), the CPU seconds of this
// process while it ran (sync-cpu-s, the product's) and of the server
// (server-cpu-s), and this process's peak RSS (the server's memory is not
// in it). ROSTERSYNC_BENCH_SERVE_PROFILE=FILE writes the server's CPU
// profile; -cpuprofile is then the sync's alone.

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/schoolstatus/rostersync/classlink/classlinktest"
	"github.com/schoolstatus/rostersync/store"
)

// benchServeEnv names the tier the child process serves.
const benchServeEnv = "ROSTERSYNC_BENCH_SERVE"

var benchTiers = map[string]classlinktest.Tier{"S": classlinktest.TierS, "M": classlinktest.TierM, "L": classlinktest.TierL}

// cpuSeconds is this process's user and system time so far.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}

// TestBenchRosterServer is the split benchmarks' server: it serves the tier
// named by ROSTERSYNC_BENCH_SERVE, prints "url BASE", answers each "cpu"
// line on stdin with "cpu SECONDS" and stops when stdin closes.
func TestBenchRosterServer(t *testing.T) {
	name := os.Getenv(benchServeEnv)
	if name == "" {
		t.Skip("the split benchmarks' roster server; it only runs as their child process")
	}
	srv := benchServer(t, benchRoster(t, benchTiers[name]))
	if path := os.Getenv(benchServeEnv + "_PROFILE"); path != "" { // the server's own CPU profile
		f, err := os.Create(path)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			t.Fatal(err)
		}
		defer pprof.StopCPUProfile()
	}
	fmt.Printf("url %s\n", srv.BaseURL())
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		if in.Text() == "cpu" {
			fmt.Printf("cpu %f\n", cpuSeconds())
		}
	}
}

// rosterServerProcess starts TestBenchRosterServer for tier and returns its
// base URL and a way to read its CPU seconds.
func rosterServerProcess(b *testing.B, tier classlinktest.Tier) (string, func() float64) {
	cmd := exec.Command(os.Args[0], "-test.run=^TestBenchRosterServer$", "-test.count=1")
	cmd.Env = append(os.Environ(), benchServeEnv+"="+tier.Name)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		stdin.Close()
		_, _ = io.Copy(io.Discard, stdout)
		_ = cmd.Wait()
	})
	lines := bufio.NewScanner(stdout)
	next := func(prefix string) string {
		for lines.Scan() {
			if v, ok := strings.CutPrefix(lines.Text(), prefix+" "); ok {
				return v
			}
		}
		b.Fatalf("the roster server process ended without %q", prefix)
		return ""
	}
	url := next("url")
	return url, func() float64 {
		if _, err := io.WriteString(stdin, "cpu\n"); err != nil {
			b.Fatal(err)
		}
		s, err := strconv.ParseFloat(next("cpu"), 64)
		if err != nil {
			b.Fatal(err)
		}
		return s
	}
}

func benchSplit(b *testing.B, tier classlinktest.Tier) {
	url, serverCPU := rosterServerProcess(b, tier)
	fresh := benchDBs(b, benchRoster(b, tier), url)
	LimitMemory() // as main does
	records := 0
	var wall, pulling time.Duration
	var own, served float64
	var run store.Run
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		db := fresh()
		runtime.GC()
		own0, served0, start := cpuSeconds(), serverCPU(), time.Now()
		count := countPulled(&records)
		var planned time.Time
		b.StartTimer()
		res, err := (&Engine{DB: db, Dial: (&Dialer{}).Dial}).Run(context.Background(), testTenant, RunOptions{Progress: func(p Progress) {
			count(p)
			if p.Phase == PhasePlan && planned.IsZero() {
				planned = time.Now()
			}
		}})
		b.StopTimer()
		if err != nil || res.Run.Status != store.RunSucceeded {
			b.Fatalf("run: %+v %v", res.Run, err)
		}
		run = res.Run
		wall += time.Since(start)
		pulling += planned.Sub(start)
		own += cpuSeconds() - own0
		served += serverCPU() - served0
	}
	n := float64(b.N)
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	b.ReportMetric(wall.Seconds()/n, "s/sync")
	b.ReportMetric(pulling.Seconds()/n, "s-until-plan/sync")
	b.ReportMetric(own/n, "sync-cpu-s/op")
	b.ReportMetric(served/n, "server-cpu-s/op")
	b.ReportMetric(float64(records)/wall.Seconds(), "records/s")
	b.ReportMetric(float64(ru.Maxrss)/1024, "peak-rss-MiB")
	b.ReportMetric(float64(run.Counts.Changes()), "writes/op")
}

func BenchmarkSyncMSplit(b *testing.B) { benchSplit(b, classlinktest.TierM) }

func BenchmarkSyncLSplit(b *testing.B) {
	if os.Getenv("ROSTERSYNC_BENCH_L") == "" {
		b.Skip("set ROSTERSYNC_BENCH_L=1 to sync the L tier (a few minutes, a few GB)")
	}
	benchSplit(b, classlinktest.TierL)
}
