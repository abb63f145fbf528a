package screens

import (
	"fmt"
	"testing"
)

// The guardians screens' scrolled lists take no more lines than they are
// given, however few (a long result leaves the row list one or two), and
// keep the focus in view.
func TestScrolledKeepsToItsHeight(t *testing.T) {
	st := NewStyles(true)
	for n := 1; n <= 8; n++ {
		lines := make([]string, n)
		for i := range lines {
			lines[i] = fmt.Sprint("row ", i)
		}
		for h := 1; h <= n+1; h++ {
			for focus := range n {
				got := scrolled(st, lines, focus, h)
				if lineCount(got) > h {
					t.Fatalf("%d lines, focus %d, in %d rows: %d lines:\n%s", n, focus, h, lineCount(got), got)
				}
				if !containsLine(got, lines[focus]) {
					t.Fatalf("%d lines, focus %d, in %d rows: the focus is not shown:\n%s", n, focus, h, got)
				}
			}
		}
	}
}

func containsLine(s, line string) bool {
	for _, l := range splitLines(s) {
		if l == line {
			return true
		}
	}
	return false
}
