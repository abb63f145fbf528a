package classlink

import (
	"encoding/binary"
	"math/bits"
	"math/rand/v2"
	"testing"
)

// special's lowest mark is the first byte a string cannot hold as it is,
// whatever the other bytes of the word.
func TestSpecialFindsTheFirstSpecialByte(t *testing.T) {
	interesting := []byte{0, 1, 0x1f, 0x20, 0x21, '"', '#', '[', '\\', ']', 0x7f, 0x80, 0xc3, 0xff, 'a'}
	rng := rand.New(rand.NewPCG(1, 2))
	var w [8]byte
	for n := range 2_000_000 {
		for i := range w {
			if n%2 == 0 {
				w[i] = interesting[rng.IntN(len(interesting))]
			} else {
				w[i] = byte(rng.Uint32())
			}
		}
		want := 8
		for i, c := range w {
			if strClass[c] != 0 {
				want = i
				break
			}
		}
		m := special(binary.LittleEndian.Uint64(w[:]))
		got := 8
		if m != 0 {
			got = bits.TrailingZeros64(m) >> 3
		}
		if got != want {
			t.Fatalf("% x: first special byte at %d, special says %d", w, want, got)
		}
	}
}
