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

// M11: a membership example names the person and the classroom, not only
// the two sourcedIds.
func TestMembershipSamplesAreNamed(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	res, err := f.engine.Run(t.Context(), testTenant, RunOptions{DryRun: true, Samples: 2})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, s := range res.Samples {
		if s.Type != TypeMemberships {
			continue
		}
		n++
		if before, after, ok := strings.Cut(s.Name, " in "); !ok || strings.TrimSpace(before) == "" || strings.TrimSpace(after) == "" {
			t.Fatalf("membership sample %q named %q", s.SourcedID, s.Name)
		}
	}
	if n != 2 {
		t.Fatalf("%d membership samples: %+v", n, res.Samples)
	}
}
