package main

// Measurements of the built binary on big directories (DESIGN §7):
//
//	go test -run '^$' -bench DirectoryUsersJSON -benchtime 3x .                      # M tier
//	ROSTERSYNC_BENCH_L=1 go test -run '^$' -bench DirectoryUsersJSON -benchtime 1x -timeout 30m .
//	ROSTERSYNC_BENCH_L=1 go test -run '^$' -bench ServeScheduledSyncL -benchtime 1x -timeout 60m .
//
// DirectoryUsersJSON syncs a district in this process (untimed), then
// times `rostersync directory users --json` on it and reports the child's
// peak RSS. ServeScheduledSyncL starts `rostersync serve` on a database
// with two L districts due for their daily run and reports the server's
// peak RSS once both ran (the roster server runs in this process, so its
// memory is not counted).

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/schoolstatus/rostersync/classlink/classlinktest"
	"github.com/schoolstatus/rostersync/store"
)

func benchTier() classlinktest.Tier {
	if os.Getenv("ROSTERSYNC_BENCH_L") != "" {
		return classlinktest.TierL
	}
	return classlinktest.TierM
}

// syncedDatabase serves tier and syncs it into a new database as district
// 9; it returns the database's path.
func syncedDatabase(b *testing.B, tier classlinktest.Tier) string {
	b.Helper()
	srv, roster := syncServer(b, tier)
	defer srv.Close() // the roster is needed for the sync only
	path := seedSyncDB(b, srv, roster)
	db, err := store.Open(path, store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	syncInProcess(b, db)
	return path
}

// countingWriter counts what the child printed.
type countingWriter struct{ n int64 }

func (w *countingWriter) Write(p []byte) (int, error) { w.n += int64(len(p)); return len(p), nil }

func BenchmarkDirectoryUsersJSON(b *testing.B) {
	bin := binary(b)
	path := syncedDatabase(b, benchTier())
	var peakKB int
	var out countingWriter
	b.ResetTimer()
	for b.Loop() {
		out = countingWriter{}
		cmd := exec.Command(bin, "--db", path, "directory", "users", "--district", "9", "--json")
		cmd.Stdout = &out
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		// The child's own peak (VmHWM of its memory map): the rusage of a
		// child carries the peak of this process at the time it started,
		// and this one just synced a district.
		done := make(chan error)
		go func() { done <- cmd.Wait() }()
	watch:
		for {
			peakKB = max(peakKB, statusKB(cmd.Process.Pid, "VmHWM:"))
			select {
			case err := <-done:
				if err != nil {
					b.Fatal(err)
				}
				break watch
			case <-time.After(10 * time.Millisecond):
			}
		}
	}
	b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/op")
	b.ReportMetric(float64(peakKB)/1024, "peak-rss-MiB")
	b.ReportMetric(float64(out.n)/(1<<20), "MiB-printed")
}

func BenchmarkServeScheduledSyncL(b *testing.B) {
	if os.Getenv("ROSTERSYNC_BENCH_L") == "" {
		b.Skip("set ROSTERSYNC_BENCH_L=1 to sync two L districts inside serve (several minutes, a few GB)")
	}
	const districts = 2
	tier := classlinktest.TierL
	roster, err := classlinktest.NewDistrict(classlinktest.Options{Seed: 11, Tier: tier, Mess: classlinktest.DefaultMess()})
	if err != nil {
		b.Fatal(err)
	}
	var tenants []classlinktest.Tenant
	for i := range districts {
		tenants = append(tenants, classlinktest.Tenant{TenantID: int64(20 + i), ApplicationID: int64(200 + i), Name: fmt.Sprint("Serve USD ", i),
			ConsumerKey: fmt.Sprint("serve-key-", i), ConsumerSecret: "serve-secret", District: roster})
	}
	srv, err := classlinktest.NewServer(classlinktest.ServerOptions{Tenants: tenants})
	if err != nil {
		b.Fatal(err)
	}
	defer srv.Close()
	bin := binary(b)
	for b.Loop() {
		dir := b.TempDir()
		path := filepath.Join(dir, "rostersync.db")
		// Saved two days ago with Enable Daily sync on and a start time
		// that passed today: both are due as soon as serve starts.
		db, err := store.Open(path, store.Options{Clock: func() time.Time { return time.Now().Add(-48 * time.Hour) }})
		if err != nil {
			b.Fatal(err)
		}
		for _, t := range tenants {
			d := store.NewDistrict(t.TenantID, t.ApplicationID, t.Name)
			d.Connection = store.Connection{Mode: store.ModeOAuth1, BaseURL: srv.BaseURL(), ClientID: t.ConsumerKey, ClientSecret: t.ConsumerSecret, SignatureMethod: store.HMACSHA256}
			for p := range tier.Schools {
				d.Schools = append(d.Schools, roster.SchoolID(p))
			}
			d.Settings.DeletionThresholdPercent = 100
			d.Settings.EnableDailySync = true
			d.Settings.TimeZone = "UTC"
			d.Settings.DailyStart = time.Now().UTC().Add(-time.Hour).Format("15:04")
			if _, _, err := db.SaveDistrict(d, 0, store.Actor{User: "bench"}, []string{store.NoteEnabledBeforeSelfCheck}); err != nil {
				b.Fatal(err)
			}
		}
		db.Close()

		cmd := exec.Command(bin, "serve", "--db", path, "--host-key", filepath.Join(dir, "hk"), "--listen", "127.0.0.1:0",
			"--roster-hosts", "127.0.0.1", "--roster-allow-net", "127.0.0.0/8")
		stderr, _ := cmd.StderrPipe()
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		ran := make(chan string, districts)
		go func() {
			sc := bufio.NewScanner(stderr)
			for sc.Scan() {
				if line := sc.Text(); strings.Contains(line, "daily sync") {
					ran <- line
				}
			}
			io.Copy(io.Discard, stderr)
		}()
		for range districts {
			select {
			case line := <-ran:
				if !strings.Contains(line, "succeeded") {
					cmd.Process.Kill()
					b.Fatalf("daily run: %s", line)
				}
			case <-time.After(30 * time.Minute):
				cmd.Process.Kill()
				b.Fatal("the daily runs did not finish")
			}
		}
		hwm := statusKB(cmd.Process.Pid, "VmHWM:")
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
		b.ReportMetric(float64(hwm)/1024, "peak-rss-MiB")
	}
}
