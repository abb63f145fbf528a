package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"
	"github.com/creack/pty"
)

// BenchmarkStartupToFirstFrame measures, with the built binary in a real
// pseudo-terminal, the time from exec to the Dropdown's first frame
// ("Choose a district" on screen). Report with:
//
//	go test -run '^$' -bench StartupToFirstFrame -benchtime 20x .
func BenchmarkStartupToFirstFrame(b *testing.B) {
	bin := binary(b)
	db := filepath.Join(b.TempDir(), "r.db")
	var total time.Duration
	var each []time.Duration
	for b.Loop() {
		cmd := exec.Command(bin, "--db", db)
		cmd.Env = append(os.Environ(), "TERM=xterm-256color")
		start := time.Now()
		f, err := pty.StartWithSize(cmd, &pty.Winsize{Cols: 80, Rows: 24})
		if err != nil {
			b.Fatal(err)
		}
		var seen bytes.Buffer
		buf := make([]byte, 4096)
		for !bytes.Contains([]byte(ansi.Strip(seen.String())), []byte("Choose a district")) {
			n, err := f.Read(buf)
			if err != nil {
				b.Fatalf("%v after %q", err, seen.String())
			}
			seen.Write(buf[:n])
		}
		total += time.Since(start)
		each = append(each, time.Since(start))
		f.Write([]byte{3}) // ctrl+c
		cmd.Wait()
		f.Close()
	}
	// The median and the fastest start say more than the mean on a
	// machine other work shares.
	slices.Sort(each)
	b.ReportMetric(float64(total.Microseconds())/1000/float64(b.N), "ms/first-frame")
	b.ReportMetric(float64(each[len(each)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(each[0].Microseconds())/1000, "min-ms")
}
