package phone

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

func TestNormalize(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"(212) 874-1234", "+12128741234"},
		{"212.874.1234", "+12128741234"},
		{"+1 212 874 1234", "+12128741234"},
		{"2128741234", "+12128741234"},
		{"1-212-874-1234", "+12128741234"},
		{"+12128741234", "+12128741234"},
		{"212-874-1234 x204", "+12128741234"},
		{"212-874-1234 ext. 204", "+12128741234"},
		{"  (212)874-1234  ", "+12128741234"},
		{"+44 20 7946 0958", "+442079460958"}, // not North American: libphonenumber's path
		{"n/a", ""}, {"123", ""}, {"000-000-0000", ""}, {"555-1234", ""}, {"TBD", ""}, {"", ""}, {"   ", ""},
		{"(555) 010-1234", ""}, // 555 is no area code
		{"000-310-5555", ""}, {"0003105555", ""}, {"+1 031 055 5512", ""}, {"1-131-055-5512", ""},
	} {
		got, ok := Normalize(tc.in)
		if got != tc.want || ok != (tc.want != "") {
			t.Errorf("Normalize(%q) = %q, %v; want %q", tc.in, got, ok, tc.want)
		}
	}
}

// The fast path must give libphonenumber's answer for every shape it
// takes on, across area codes (including the deep ones), exchanges and
// formats.
func TestPhoneFastPathAgrees(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	formats := []func(a, x, l string) string{
		func(a, x, l string) string { return "(" + a + ") " + x + "-" + l },
		func(a, x, l string) string { return a + "." + x + "." + l + " x12" },
		func(a, x, l string) string { return "+1 " + a + " " + x + " " + l },
		func(a, x, l string) string { return "1-" + a + "-" + x + "-" + l + " ext. 7" },
		func(a, x, l string) string { return a + x + l },
	}
	n := 600
	if testing.Short() {
		n = 150
	}
	for i := range n {
		npa := 200 + rng.IntN(800)
		if i%10 == 0 {
			npa = []int{246, 876}[i/10%2]
		}
		a, x, l := fmt.Sprint(npa), fmt.Sprintf("%03d", rng.IntN(1000)), fmt.Sprintf("%04d", rng.IntN(10000))
		s := formats[i%len(formats)](a, x, l)
		if _, handled := nanpDigits(s); !handled {
			t.Fatalf("%q should take the fast path", s)
		}
		got, gotOK := Normalize(s)
		want, wantOK := slowNormalize(s)
		if got != want || gotOK != wantOK {
			t.Fatalf("%q: fast %q %v, libphonenumber %q %v", s, got, gotOK, want, wantOK)
		}
	}
}

func FuzzNormalize(f *testing.F) {
	for _, s := range []string{"(212) 874-1234", "212.874.1234 x204", "+1 212 874 1234", "1-212-874-1234 ext. 9",
		"n/a", "123", "+442079460958", "(246) 521-2345", "876 606 0000", "2128741234#", "(212)-874-1234", "1 (212) 874 1234", "000-310-5555", "+1 031 055 5512"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, ok := Normalize(s)
		want, wantOK := "", false
		if strings.TrimSpace(s) != "" {
			want, wantOK = slowNormalize(strings.TrimSpace(s))
		}
		if got != want || ok != wantOK {
			t.Fatalf("Normalize(%q) = %q %v, libphonenumber says %q %v", s, got, ok, want, wantOK)
		}
		if ok {
			if again, ok2 := Normalize(got); again != got || !ok2 {
				t.Fatalf("not idempotent: %q → %q → %q", s, got, again)
			}
		}
	})
}

// The generated table gives libphonenumber's verdict on either side of
// every place it says the verdict flips, and at random prefixes; if the
// phonenumbers module changed, run go generate ./phone.
func TestNANPTable(t *testing.T) {
	lines := []int{0, 5555, 9999}
	check := func(prefix int) {
		if prefix < 0 || prefix >= 1_000_000 || deepNPAs[prefix/1000] {
			return
		}
		want := tableValid(prefix)
		for _, l := range lines {
			national := fmt.Sprintf("%06d%04d", prefix, l)
			if got := validNANP(national); got != want {
				t.Fatalf("NPA-NXX %06d: the table says valid=%v, libphonenumber says %v for %s (go generate ./phone)", prefix, want, got, national)
			}
		}
	}
	if !slices.IsSorted(nanpBounds[:]) || len(nanpBounds) < 100 {
		t.Fatalf("the table has %d bounds, unsorted or too few", len(nanpBounds))
	}
	for _, b := range nanpBounds {
		check(int(b) - 1)
		check(int(b))
	}
	rng := rand.New(rand.NewPCG(3, 4))
	n := 3000
	if testing.Short() {
		n = 500
	}
	for range n {
		check(rng.IntN(1_000_000))
	}
	// A few everyone knows.
	for national, want := range map[string]bool{"2128741234": true, "5550101234": false, "0001234567": false, "9999999999": false, "4155552671": true} {
		if got := nanpValid(national); got != want {
			t.Errorf("%s: valid=%v, want %v", national, got, want)
		}
	}
}
