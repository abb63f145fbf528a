package sync

import (
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

// memWatch samples the process's memory while a benchmark runs: the Go
// heap in use, and resident memory split into anonymous pages (the heap,
// stacks, the runtime) and file pages (bbolt's read-only map of the
// database file), each at its peak; and the kernel's own peak (VmHWM),
// reset when the watch starts.
type memWatch struct {
	stop, done       chan struct{}
	heap, anon, file uint64
}

func watchMemory() *memWatch {
	os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) // resets VmHWM
	w := &memWatch{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(w.done)
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			w.heap = max(w.heap, ms.HeapInuse)
			w.anon = max(w.anon, procStatus("RssAnon:"))
			w.file = max(w.file, procStatus("RssFile:"))
			select {
			case <-w.stop:
				return
			case <-time.After(100 * time.Millisecond):
			}
		}
	}()
	return w
}

func (w *memWatch) report(b *testing.B) {
	close(w.stop)
	<-w.done
	const mib = 1 << 20
	b.ReportMetric(float64(w.heap)/mib, "peak-heap-MiB")
	b.ReportMetric(float64(procStatus("VmHWM:"))/mib, "peak-rss-MiB")
	b.ReportMetric(float64(w.anon)/mib, "peak-rss-anon-MiB")
	b.ReportMetric(float64(w.file)/mib, "peak-rss-file-MiB")
}

// procStatus reads one kB field of /proc/self/status, in bytes.
func procStatus(field string) uint64 {
	raw, _ := os.ReadFile("/proc/self/status")
	for _, l := range strings.Split(string(raw), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == field {
			n, _ := strconv.ParseUint(f[1], 10, 64)
			return n << 10
		}
	}
	return 0
}
