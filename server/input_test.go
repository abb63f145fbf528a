package server

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"golang.org/x/time/rate"
)

// unlimited is an input whose rate limit never waits, for the tests of
// the paste cut.
func unlimited() *input {
	in := newInput()
	in.limit = rate.NewLimiter(rate.Inf, 0)
	return in
}

// feed passes chunks through one input as successive reads and returns all
// that came out.
func feed(t *testing.T, in *input, chunks ...string) string {
	t.Helper()
	src := chunks
	read := func(b []byte) (int, error) {
		if len(src) == 0 {
			return 0, io.EOF
		}
		n := copy(b, src[0])
		if src[0] = src[0][n:]; src[0] == "" {
			src = src[1:]
		}
		return n, nil
	}
	var out bytes.Buffer
	buf := make([]byte, 512)
	for {
		n, err := in.read(context.Background(), read, buf)
		out.Write(buf[:n])
		if err == io.EOF {
			return out.String()
		}
		if err != nil {
			t.Fatal(err)
		}
	}
}

func TestAPasteIsCutAtItsLimitAndTheRestOfItDropped(t *testing.T) {
	long := strings.Repeat("y", maxPaste+5000)
	got := feed(t, unlimited(), "ab", "\x1b[20", "0~"+long[:3000], long[3000:]+"\x1b[2", "01~cd")
	want := "ab\x1b[200~" + strings.Repeat("y", maxPaste) + "\x1b[201~cd"
	if got != want {
		t.Fatalf("got %d bytes (%q…%q), want %d: the paste cut at %d bytes, its end once, and the keys after it",
			len(got), got[:12], got[max(0, len(got)-12):], len(want), maxPaste)
	}
}

func TestAPasteWithinItsLimitPassesWhole(t *testing.T) {
	key := "-----BEGIN OPENSSH PRIVATE KEY-----\n" + strings.Repeat("b3BlbnNzaC1rZXktdjEAAAAA\n", 150) + "-----END OPENSSH PRIVATE KEY-----\n"
	in := unlimited()
	for range 3 { // the state is reset by each paste's end
		msg := "x\x1b[200~" + key + "\x1b[201~y"
		if got := feed(t, in, msg[:10], msg[10:1000], msg[1000:]); got != msg {
			t.Fatalf("a %d-byte paste came out as %d bytes", len(msg), len(got))
		}
	}
}

func TestAPasteThatNeverEndsKeepsNothingPastItsLimit(t *testing.T) {
	in := unlimited()
	got := feed(t, in, "\x1b[200~", strings.Repeat("z", maxPaste+1), strings.Repeat("z", 100_000))
	if len(got) != len(pasteStart)+maxPaste+len(pasteEnd) || !strings.HasSuffix(got, "\x1b[201~") {
		t.Fatalf("%d bytes came out of an endless paste", len(got))
	}
	if !in.cut || !in.inPaste {
		t.Fatal("the rest of the paste is not being dropped")
	}
	if got := feed(t, in, "zzz\x1b[201~", "q"); got != "q" {
		t.Fatalf("after the paste's own end: %q, want the next key", got)
	}
}

func TestASessionSendingFasterThanItsRateIsHeldBack(t *testing.T) {
	in := newInput()
	in.limit = rate.NewLimiter(1, readChunk) // one byte a second after the first chunk
	src := func(b []byte) (int, error) { return copy(b, strings.Repeat("a", len(b))), nil }
	buf := make([]byte, 2*readChunk)
	if n, err := in.read(context.Background(), src, buf); err != nil || n != readChunk {
		t.Fatalf("first read: %d, %v; want one chunk of %d", n, err, readChunk)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if n, err := in.read(ctx, src, buf); err == nil {
		t.Fatalf("a second chunk went through at once (%d bytes): the rate is not enforced", n)
	}
}

// The rest of a cut paste is dropped at a 64th of the rate: pasting a
// clipboard far over the limit holds the session for seconds, not the
// minutes it would take at a byte a byte (121 s for 200 KB before).
func TestTheDroppedRestOfAPasteCostsLittleOfTheRate(t *testing.T) {
	in := newInput()
	in.limit = rate.NewLimiter(1, readChunk+len(pasteEnd)) // a chunk, then a byte a second
	in.inPaste, in.cut = true, true                        // past maxPaste already
	rest := strings.Repeat("z", 60*readChunk)              // 240 KiB more of the paste
	src := strings.NewReader(rest + "\x1b[201~q")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	buf := make([]byte, readChunk)
	n, err := in.read(ctx, src.Read, buf)
	if err != nil || string(buf[:n]) != "q" {
		t.Fatalf("after 240 KiB dropped: %q, %v; want the next key within the burst", buf[:n], err)
	}
	if got := cost(readChunk, 0); got != readChunk/droppedShare {
		t.Errorf("a dropped chunk costs %d, want %d", got, readChunk/droppedShare)
	}
	if got := cost(10, 10); got != 10 {
		t.Errorf("10 bytes passed on cost %d", got)
	}
}
