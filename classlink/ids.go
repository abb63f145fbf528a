package classlink

import (
	"fmt"
	"hash/maphash"
	"slices"
)

// idCheck notices a sourcedId that arrives twice in one pull. With
// limit/offset paging that means the server's order shifted between two
// pages: one record came twice, and as the counts still add up, another
// was never sent. Such a pull cannot be trusted; it is restarted like one
// whose x-perm-rev moved.
//
// It keeps a 64-bit hash per record (8 bytes; a few MB at 2.5 million
// enrollments), seeded anew for every pull, so a collision can only cost a
// restart, never the same one twice. The hashes are sorted and compared
// only when the ids did not arrive in strictly increasing byte order:
// ordered ids cannot repeat.
type idCheck struct {
	seed    maphash.Seed
	hashes  []uint64
	last    string
	ordered bool
	checked int // len(hashes) at the last check
}

func newIDCheck(expect int) *idCheck {
	return &idCheck{seed: maphash.MakeSeed(), hashes: make([]uint64, 0, max(expect, 0)), ordered: true}
}

func (c *idCheck) add(id string) {
	if c.ordered && len(c.hashes) > 0 && id <= c.last {
		c.ordered = false
	}
	if c.ordered {
		c.last = id // the decoder's own string: no copy
	}
	c.hashes = append(c.hashes, maphash.String(c.seed, id))
}

// repeated counts the ids that arrived more than once so far.
func (c *idCheck) repeated() int {
	c.checked = len(c.hashes)
	if c.ordered {
		return 0
	}
	s := slices.Clone(c.hashes)
	slices.Sort(s)
	n := 0
	for i := 1; i < len(s); i++ {
		if s[i] == s[i-1] {
			n++
		}
	}
	return n
}

// due: while no total bounds the pull, look again whenever the records
// doubled, so a server that serves the same pages forever is caught.
func (c *idCheck) due() bool { return !c.ordered && len(c.hashes) >= 2*max(c.checked, 1000) }

func (c *idCheck) err(op string, offset int) error {
	n := c.repeated()
	if n == 0 {
		return nil
	}
	return &Error{Kind: ErrInconsistentPages, Op: op, Offset: offset,
		Detail: fmt.Sprintf("%d sourcedId(s) arrived twice, so as many records were never sent (the server's order shifted between pages)", n)}
}
