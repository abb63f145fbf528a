package classlink_test

// Benchmarks of a pull against the in-process server (DESIGN §7).
//
//	go test ./classlink -run '^$' -bench 'PullM|DecodeM' -benchtime 3x
//	ROSTERSYNC_BENCH_L=1 go test ./classlink -run '^$' -bench 'PullL|DecodeL' -benchtime 1x -timeout 30m
//
// PullM/PullL go through the real client and the real loopback server
// (which generates and encodes every page on the same two cores);
// PullMReplay serves the M pages from memory, so only the client and HTTP
// are measured; DecodeM/DecodeL only JSON-decode the same bytes from memory
// and are the floor the client can reach. PullL reports the peak HeapInuse
// seen while pulling.

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/schoolstatus/rostersync/classlink"
	"github.com/schoolstatus/rostersync/classlink/classlinktest"
)

func benchServer(b *testing.B, tier classlinktest.Tier) *classlinktest.Server {
	b.Helper()
	d, err := classlinktest.NewDistrict(classlinktest.Options{Seed: 42, Tier: tier, Mess: classlinktest.DefaultMess()})
	if err != nil {
		b.Fatal(err)
	}
	srv, err := classlinktest.NewServer(classlinktest.ServerOptions{
		Tenants:    []classlinktest.Tenant{{TenantID: 1, ApplicationID: 1, Name: "bench", ConsumerKey: "k", ConsumerSecret: "s", District: d}},
		ProxyToken: "t",
	})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(srv.Close)
	return srv
}

// pullCollection pulls users or enrollments, returning records and bytes.
func pullCollection(b *testing.B, c *classlink.Client, name string) (int, int64) {
	n := 0
	var info classlink.PullInfo
	var err error
	switch name {
	case "users":
		info, err = c.Users(context.Background(), classlink.ListOptions{}, func(classlink.User) error { n++; return nil })
	case "enrollments":
		info, err = c.Enrollments(context.Background(), classlink.ListOptions{}, func(classlink.Enrollment) error { n++; return nil })
	}
	if err != nil {
		b.Fatal(err)
	}
	return n, info.Bytes
}

func reportRate(b *testing.B, records int) {
	b.ReportMetric(float64(records)*float64(b.N)/b.Elapsed().Seconds(), "records/s")
}

func benchPull(b *testing.B, cfg classlink.Config) {
	for _, name := range []string{"users", "enrollments"} {
		b.Run(name, func(b *testing.B) {
			c, err := classlink.New(cfg)
			if err != nil {
				b.Fatal(err)
			}
			records, size := pullCollection(b, c, name) // warm up, learn the size
			b.SetBytes(size)
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				pullCollection(b, c, name)
			}
			reportRate(b, records)
		})
	}
}

func BenchmarkPullM(b *testing.B) {
	srv := benchServer(b, classlinktest.TierM)
	benchPull(b, srv.OAuth1Config(1))
}

// fetchPages reads every page of a collection as the client would ask for
// it, keeping the bodies and headers.
type page struct {
	offset int
	body   []byte
	header http.Header
}

func fetchPage(b *testing.B, srv *classlinktest.Server, name string, offset int) page {
	q := "limit=10000&offset=" + strconv.Itoa(offset) + "&sort=sourcedId&fields=" + strings.Join(classlink.DefaultFields(classlink.Collection(name)), ",")
	req, _ := http.NewRequest("GET", srv.ProxyBaseURL(1)+name+"?"+q, nil)
	req.Header.Set("Authorization", "Bearer t")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != 200 {
		b.Fatalf("page %s@%d: %v %d", name, offset, err, resp.StatusCode)
	}
	return page{offset, body, resp.Header}
}

func fetchPages(b *testing.B, srv *classlinktest.Server, name string) []page {
	var pages []page
	for offset := 0; ; offset += 10000 {
		p := fetchPage(b, srv, name, offset)
		pages = append(pages, p)
		total, _ := strconv.Atoi(p.header.Get("X-Total-Count"))
		if offset+10000 >= total {
			return pages
		}
	}
}

func decodePage(b *testing.B, name string, body []byte) int { return decodeWith(b, name, body, false) }

// decodeWith decodes a page with the hand-written decoder, or with the
// encoding/json reference it replaced (ref).
func decodeWith(b *testing.B, name string, body []byte, ref bool) int {
	var n int
	var err error
	switch {
	case name == "users" && ref:
		n, err = classlink.RefDecodeUsers(bytes.NewReader(body), func(classlink.User) error { return nil })
	case name == "users":
		n, err = classlink.DecodeUsersBytes(body, func(classlink.User) error { return nil })
	case ref:
		n, err = classlink.RefDecodeEnrollments(bytes.NewReader(body), func(classlink.Enrollment) error { return nil })
	default:
		n, err = classlink.DecodeEnrollmentsBytes(body, func(classlink.Enrollment) error { return nil })
	}
	if err != nil {
		b.Fatal(err)
	}
	return n
}

// BenchmarkDecodeM is PullM's baseline: the same bytes, decoded from
// memory, by the hand-written decoder and (ref) by the encoding/json
// reference it replaced.
func BenchmarkDecodeM(b *testing.B) {
	srv := benchServer(b, classlinktest.TierM)
	for _, name := range []string{"users", "enrollments"} {
		pages := fetchPages(b, srv, name)
		for _, ref := range []bool{false, true} {
			sub := name
			if ref {
				sub += "-ref"
			}
			b.Run(sub, func(b *testing.B) {
				var size int64
				records := 0
				for _, p := range pages {
					size += int64(len(p.body))
					records += decodeWith(b, name, p.body, ref)
				}
				b.SetBytes(size)
				b.ReportAllocs()
				b.ResetTimer()
				for range b.N {
					for _, p := range pages {
						decodeWith(b, name, p.body, ref)
					}
				}
				reportRate(b, records)
			})
		}
	}
}

// BenchmarkPullMReplay serves PullM's pages from memory, so the numbers are
// the client's and HTTP's alone.
func BenchmarkPullMReplay(b *testing.B) {
	srv := benchServer(b, classlinktest.TierM)
	pages := map[string][]page{"users": fetchPages(b, srv, "users"), "enrollments": fetchPages(b, srv, "enrollments")}
	replay := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := r.URL.Path[strings.LastIndex(r.URL.Path, "/")+1:]
		offset, _ := strconv.Atoi(r.URL.Query().Get("offset"))
		p := pages[name][offset/10000]
		for _, h := range []string{"X-Total-Count", "x-count", "x-perm-rev", "Content-Type"} {
			w.Header().Set(h, p.header.Get(h))
		}
		_, _ = w.Write(p.body)
	}))
	b.Cleanup(replay.Close)
	benchPull(b, classlink.Config{Mode: classlink.ModeProxy, BaseURL: replay.URL + "/ims/oneroster/v1p1/", Token: "t"})
}

func skipUnlessL(b *testing.B) {
	if os.Getenv("ROSTERSYNC_BENCH_L") == "" {
		b.Skip("set ROSTERSYNC_BENCH_L=1 to pull the L tier (about a minute, a few GB of traffic)")
	}
}

// heapPeak samples HeapInuse until stopped.
func heapPeak() (stop func() uint64) {
	var peak atomic.Uint64
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(5 * time.Millisecond)
		defer t.Stop()
		var m runtime.MemStats
		for {
			runtime.ReadMemStats(&m)
			if m.HeapInuse > peak.Load() {
				peak.Store(m.HeapInuse)
			}
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	})
	return func() uint64 { close(done); wg.Wait(); return peak.Load() }
}

func BenchmarkPullL(b *testing.B) {
	skipUnlessL(b)
	srv := benchServer(b, classlinktest.TierL)
	for _, name := range []string{"users", "enrollments"} {
		b.Run(name, func(b *testing.B) {
			c, err := classlink.New(srv.OAuth1Config(1))
			if err != nil {
				b.Fatal(err)
			}
			runtime.GC()
			stop := heapPeak()
			b.ResetTimer()
			var records int
			var size int64
			for range b.N {
				records, size = pullCollection(b, c, name)
			}
			b.StopTimer()
			peak := stop()
			b.SetBytes(size)
			reportRate(b, records)
			b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MB")
			b.Logf("%s: %d records, %.1f MB of JSON, peak HeapInuse %.1f MB", name, records, float64(size)/1e6, float64(peak)/(1<<20))
		})
	}
}

// BenchmarkDecodeL is PullL's baseline, page by page so the L tier is
// never in memory at once: fetching is off the clock, decoding on it.
func BenchmarkDecodeL(b *testing.B) {
	skipUnlessL(b)
	srv := benchServer(b, classlinktest.TierL)
	for _, name := range []string{"users", "enrollments"} {
		b.Run(name, func(b *testing.B) {
			var size int64
			records := 0
			b.ResetTimer()
			for range b.N {
				size, records = 0, 0
				for offset := 0; ; offset += 10000 {
					b.StopTimer()
					p := fetchPage(b, srv, name, offset)
					b.StartTimer()
					size += int64(len(p.body))
					records += decodePage(b, name, p.body)
					if total, _ := strconv.Atoi(p.header.Get("X-Total-Count")); offset+10000 >= total {
						break
					}
				}
			}
			b.SetBytes(size)
			reportRate(b, records)
			b.Logf("%s: %d records, %.1f MB", name, records, float64(size)/1e6)
		})
	}
}
