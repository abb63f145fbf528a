package sync

import (
	"strings"
	"testing"

	"github.com/schoolstatus/rostersync/store"
)

// A run stopped after it began to write says its counts are what it
// changed, never that nothing was changed; one stopped before any write
// says it was cancelled.
func TestExplainRunTellsCancelledRunsApart(t *testing.T) {
	wrote := store.Run{Status: store.RunFailed, Reason: store.ReasonCancelled, Message: store.CancelledPrefix + "stopped by the person"}
	if got := ExplainRun(wrote); !strings.Contains(got, "the counts are the changes it made") || strings.Contains(got, "nothing was changed") {
		t.Fatalf("cancelled after writing: %q", got)
	}
	before := store.Run{Status: store.RunFailed, Reason: store.ReasonUpstream, Message: store.CancelledPrefix + "stopped by the person"}
	if got := ExplainRun(before); got != "Stopped by the person." {
		t.Fatalf("cancelled before writing: %q", got)
	}
}
