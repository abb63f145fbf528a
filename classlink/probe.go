package classlink

import (
	"context"
	"net/http"
	"sync"
	"time"
)

// Probe is the connection test's answer.
type Probe struct {
	// Latency is the round trip of the first request (one school).
	Latency time.Duration
	// School is the first school in sourcedId order, nil when there is none.
	School *Org
	// Counts holds X-Total-Count per collection name (see Collections); a
	// collection whose server sends no total is absent.
	Counts map[string]int
	// PermRev is x-perm-rev of the first answer, "" when not sent.
	PermRev string
}

// Probe checks the connection: it fetches one school (limit=1) and asks
// every collection for its total with limit=1 requests, four at a time.
// Any failure is returned as the pulls would return it (ErrCredentials for
// a rejected key, and so on).
func (c *Client) Probe(ctx context.Context) (Probe, error) {
	p := Probe{Counts: map[string]int{}}
	start := time.Now()
	var schools []Org
	info, err := c.Schools(ctx, ListOptions{PageSize: 1}, func(o Org) error {
		schools = append(schools, o)
		return errStopProbe
	})
	if err != nil && err != errStopProbe {
		return p, err
	}
	p.Latency = time.Since(start)
	p.PermRev = info.PermRev
	if len(schools) > 0 {
		p.School = &schools[0]
	}

	var (
		mu       sync.Mutex
		wg       sync.WaitGroup
		firstErr error
		slots    = make(chan struct{}, 4)
	)
	for _, name := range Collections {
		coll, _ := collectionByName(name)
		wg.Go(func() {
			slots <- struct{}{}
			defer func() { <-slots }()
			total, err := c.count(ctx, coll)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				if firstErr == nil {
					firstErr = err
				}
				return
			}
			if total >= 0 {
				p.Counts[string(name)] = total
			}
		})
	}
	wg.Wait()
	if firstErr != nil {
		return p, firstErr
	}
	return p, nil
}

type stopProbe struct{}

func (stopProbe) Error() string { return "probe has its school" }

var errStopProbe error = stopProbe{}

// count asks for one record and reads the total from the headers; -1 when
// the server sends none.
func (c *Client) count(ctx context.Context, coll collection) (int, error) {
	total := 0
	op := coll.path + " count"
	err := c.retrying(ctx, op, -1, func() verdict {
		resp, err := c.send(ctx, c.endpoint(coll.path, c.query(coll, ListOptions{Fields: []string{"sourcedId"}}, 1, 0)))
		if err != nil {
			return transportVerdict(op, -1, err)
		}
		defer resp.close()
		if resp.StatusCode != http.StatusOK {
			return c.judge(op, -1, resp)
		}
		ph, problem := readPageHeaders(resp.Header)
		if problem != "" {
			return verdict{status: 200, err: malformed(op, -1, problem, nil)}
		}
		total = ph.total
		return verdict{}
	})
	return total, err
}
