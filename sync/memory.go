package sync

import (
	"os"
	"runtime/debug"
)

// MemoryLimit is the heap size the garbage collector works to stay under
// while rostersync runs (DESIGN §7: 2 cores, a large district, near the
// machine's limit). Without it the heap of a large sync grows to twice
// what the sync holds before the collector runs, and a second sync in the
// same process (serve's scheduler) starts from the first one's peak. It is
// a soft limit: a sync that needs more gets it, at the cost of more
// collections.
const MemoryLimit = 450 << 20

// LimitMemory sets MemoryLimit for the process, unless GOMEMLIMIT set a
// limit of the operator's choosing. main calls it for every command that
// can run a sync.
func LimitMemory() {
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(MemoryLimit)
	}
}
