package classlink

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sync"
)

// maxPageBytes bounds one page's body: a page of 10,000 users with every
// field is a few MB, so more means a server that ignores limit.
const maxPageBytes = 128 << 20

// pageBuffers keeps page bodies' arrays from pull to pull, so a sync's
// seven pulls (and the next sync) do not grow new ones page by page.
var pageBuffers sync.Pool

// getBuffer returns a buffer for a body of about size bytes.
func getBuffer(size int) []byte {
	if b, ok := pageBuffers.Get().(*[]byte); ok && cap(*b) >= size {
		return (*b)[:0]
	}
	if size > 0 {
		return make([]byte, 0, size+size/8)
	}
	return nil
}

func putBuffer(b []byte) {
	if cap(b) > 0 && cap(b) <= maxPageBytes {
		pageBuffers.Put(&b)
	}
}

// pageAsk is a page to fetch: the server's next link, or the page at
// offset of size records.
type pageAsk struct {
	link   *url.URL
	offset int
	size   int
}

func (a pageAsk) same(b pageAsk) bool {
	if a.link != nil || b.link != nil {
		return a.link != nil && b.link != nil && a.link.String() == b.link.String()
	}
	return a.offset == b.offset && a.size == b.size
}

// page is one page as it arrived: headers and the whole body, or why it
// did not.
type page struct {
	header   http.Header
	reqURL   *url.URL
	body     []byte
	size     int // the page size asked at last (smaller after a 502)
	requests int
	bytes    int64
	err      error
}

// fetch gets one page with retries: 429 and 5xx with backoff and
// Retry-After, a 502 halving the page size (asked by offset from then
// on), a connection lost mid-body asked again. buf is reused for the body.
func (c *Client) fetch(ctx context.Context, coll collection, opt ListOptions, ask pageAsk, buf []byte) page {
	p := page{size: ask.size}
	op := coll.path
	p.err = c.retrying(ctx, op, ask.offset, func() verdict {
		p.requests++
		u := ask.link
		if u == nil {
			u = c.endpoint(coll.path, c.query(coll, opt, p.size, ask.offset))
		}
		resp, err := c.send(ctx, u)
		if err != nil {
			return transportVerdict(op, ask.offset, err)
		}
		defer func() {
			resp.close()
			p.bytes += resp.body.n
		}()
		if resp.StatusCode != http.StatusOK {
			v := c.judge(op, ask.offset, resp)
			if resp.StatusCode == http.StatusBadGateway && p.size > MinPageSize {
				// A big page is the usual reason for a 502 from ClassLink.
				p.size = max(p.size/2, MinPageSize)
				ask.link = nil
				v.free = true
			}
			return v
		}
		body, err := readBody(resp, buf)
		if err != nil {
			if resp.body.err != nil || ctx.Err() != nil {
				return transportVerdict(op, ask.offset, err) // lost mid-body: ask again
			}
			return verdict{status: 200, err: malformed(op, ask.offset, err.Error(), nil)}
		}
		p.header, p.reqURL, p.body = resp.Header, resp.Request.URL, body
		return verdict{}
	})
	if p.body == nil {
		p.body = buf[:0] // hand the buffer back even when the page failed
	}
	return p
}

// readBody reads a whole body into buf's array, growing it as needed.
func readBody(resp *response, buf []byte) ([]byte, error) {
	b := buf[:0]
	if n := resp.ContentLength; n > 0 && n <= maxPageBytes && int64(cap(b)) < n+1 {
		b = make([]byte, 0, n+1) // +1: the read that sees EOF needs room
	} else if cap(b) == 0 {
		b = make([]byte, 0, 64<<10)
	}
	for {
		if len(b) == cap(b) {
			if len(b) >= maxPageBytes {
				return b, fmt.Errorf("the page is larger than %d MiB", maxPageBytes>>20)
			}
			b = append(b, 0)[:len(b)]
		}
		n, err := resp.body.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err == io.EOF {
			return b, nil
		}
		if err != nil {
			return b, err
		}
	}
}

// prefetch is a page being fetched ahead while the one before it is
// decoded, so the server prepares the next page meanwhile.
type prefetch struct {
	ask    pageAsk
	done   chan page
	cancel context.CancelFunc
}

func (c *Client) startFetch(ctx context.Context, coll collection, opt ListOptions, ask pageAsk, buf []byte) *prefetch {
	ctx, cancel := context.WithCancel(ctx)
	f := &prefetch{ask: ask, done: make(chan page, 1), cancel: cancel}
	go func() { f.done <- c.fetch(ctx, coll, opt, ask, buf) }()
	return f
}

// drop abandons a prefetch; the page it returns once its goroutine ended
// has the requests made and the buffer to reuse.
func (f *prefetch) drop() page {
	f.cancel()
	return <-f.done
}
