package server

import (
	"bytes"
	"context"

	"golang.org/x/time/rate"
)

// What one session may send. The terminal library keeps a whole bracketed
// paste in memory (and copies it twice) before the wizard sees it, and
// every byte typed costs an update of the wizard, so both are bounded here,
// where the bytes arrive, not in the fields.
const (
	// maxPaste is the most of one paste passed on; no field takes more
	// than a private key's few kilobytes.
	maxPaste = 64 << 10
	// inputRate is the sustained bytes a second a session may send, far
	// above typing and below what keeps a core busy; inputBurst lets a
	// whole paste through at once.
	inputRate  = 1 << 10
	inputBurst = maxPaste + 4<<10
	// readChunk keeps every wait for the limiter within its burst (a
	// chunk and the paste end the filter may add).
	readChunk = 4 << 10
	// droppedShare: so many bytes dropped from a cut paste cost one byte
	// of the rate.
	droppedShare = 64
)

var (
	pasteStart = []byte("\x1b[200~")
	pasteEnd   = []byte("\x1b[201~")
)

// input is what a session's reads pass through: a rate limit that holds
// the client back (SSH flow control does the rest) and a cut of any paste
// longer than maxPaste. Only the session's one reader uses it.
type input struct {
	limit *rate.Limiter

	recent  []byte // the last bytes seen, to find a marker split across reads
	inPaste bool
	pasted  int  // bytes of the current paste passed on
	cut     bool // the current paste went over maxPaste: its end was sent on, the rest is dropped
	pending []byte
}

func newInput() *input {
	return &input{limit: rate.NewLimiter(inputRate, inputBurst)}
}

// read fills p from src through the limit and the paste cut.
func (in *input) read(ctx context.Context, src func([]byte) (int, error), p []byte) (int, error) {
	for len(in.pending) == 0 {
		buf := p
		if len(buf) > readChunk {
			buf = buf[:readChunk]
		}
		n, err := src(buf)
		if n > 0 {
			in.pending = in.filter(in.pending[:0], buf[:n])
			if werr := in.limit.WaitN(ctx, cost(n, len(in.pending))); werr != nil {
				return 0, werr
			}
		}
		if err != nil {
			if len(in.pending) > 0 {
				break
			}
			return 0, err
		}
		if n == 0 {
			return 0, nil
		}
	}
	n := copy(p, in.pending)
	in.pending = in.pending[n:]
	return n, nil
}

// cost is what n bytes read, of which passed went on, take from the rate
// limit: a byte passed on costs the wizard an update, one dropped from a
// cut paste only this filter, so it counts a droppedShare of one. A
// person who pastes far too much waits seconds, not minutes.
func cost(n, passed int) int {
	dropped := max(0, n-passed)
	return passed + (dropped+droppedShare-1)/droppedShare
}

// filter appends to out what of b goes on: everything outside a paste,
// and a paste up to maxPaste bytes followed by its end marker.
func (in *input) filter(out, b []byte) []byte {
	for _, c := range b {
		in.recent = append(in.recent, c)
		if len(in.recent) > len(pasteEnd) {
			in.recent = in.recent[1:]
		}
		if !in.inPaste {
			out = append(out, c)
			if bytes.HasSuffix(in.recent, pasteStart) {
				in.inPaste, in.pasted, in.cut = true, 0, false
			}
			continue
		}
		if bytes.HasSuffix(in.recent, pasteEnd) {
			in.inPaste = false
			if !in.cut {
				out = append(out, c)
			}
			continue
		}
		if in.cut {
			continue
		}
		if in.pasted++; in.pasted > maxPaste {
			in.cut = true
			out = append(out, pasteEnd...)
			continue
		}
		out = append(out, c)
	}
	return out
}
