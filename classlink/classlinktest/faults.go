package classlinktest

import (
	"time"
)

// FaultKind is a way the server misbehaves on purpose.
type FaultKind int

// Faults the server can inject.
const (
	// FaultRateLimit answers 429 with Fault.RetryAfter as Retry-After.
	FaultRateLimit FaultKind = iota + 1
	// FaultBadGateway answers 502 when the page asked for is larger than
	// Fault.AbovePageSize (0: any page).
	FaultBadGateway
	// FaultServerError answers 500.
	FaultServerError
	// FaultMissingEnvelope answers 200 with a body lacking the envelope key.
	FaultMissingEnvelope
	// FaultShortPage answers 200 with half the records the page should hold
	// while the headers still announce the full total, as a server that caps
	// its pages does; the rest comes with the next page.
	FaultShortPage
	// FaultRevisionFlip moves the district's revision before answering, as
	// when ClassLink syncs the district mid-pull.
	FaultRevisionFlip
	// FaultDelay waits Fault.Delay before answering normally.
	FaultDelay
	// FaultUnauthorized answers 401.
	FaultUnauthorized
	// FaultCutConnection sends half the page and drops the connection.
	FaultCutConnection
	// FaultEmptyCollection answers 200 with an empty list and a total of 0,
	// the "suddenly everyone was deleted" answer the sync must distrust.
	FaultEmptyCollection
	// FaultEmptyPage answers 200 with an empty list while the total still
	// counts the records from offset on: the rest never comes.
	FaultEmptyPage
	// FaultOrderShift serves the page from one record earlier, as when the
	// server's order shifted between two pages: the last record of the
	// previous page comes again and the page's own last record is never
	// served. Totals and x-perm-rev stay as they are. Pages at offset 0 are
	// not affected.
	FaultOrderShift
	// FaultRefuseFilter answers 400 to a request with a filter, as a
	// server that cannot filter does; requests without one are served.
	FaultRefuseFilter
)

func (k FaultKind) String() string {
	switch k {
	case FaultRateLimit:
		return "rate-limit"
	case FaultBadGateway:
		return "bad-gateway"
	case FaultServerError:
		return "server-error"
	case FaultMissingEnvelope:
		return "missing-envelope"
	case FaultShortPage:
		return "short-page"
	case FaultRevisionFlip:
		return "revision-flip"
	case FaultDelay:
		return "delay"
	case FaultUnauthorized:
		return "unauthorized"
	case FaultCutConnection:
		return "cut-connection"
	case FaultEmptyCollection:
		return "empty-collection"
	case FaultEmptyPage:
		return "empty-page"
	case FaultOrderShift:
		return "order-shift"
	case FaultRefuseFilter:
		return "refuse-filter"
	}
	return ""
}

// Fault is one injected misbehaviour and the requests it applies to.
type Fault struct {
	Kind FaultKind
	// Endpoint limits the fault to one endpoint ("users", "schools",
	// "applications", …); "" means any.
	Endpoint string
	// Skip lets this many matching requests through untouched first.
	Skip int
	// Times is how many matching requests the fault affects; 0 means every
	// one until ClearFaults.
	Times int
	// MinOffset limits the fault to pages at or after this offset.
	MinOffset int
	// AbovePageSize: FaultBadGateway fires only for limit > AbovePageSize.
	AbovePageSize int
	// RetryAfter is FaultRateLimit's Retry-After value ("3", or an HTTP
	// date); "" sends none.
	RetryAfter string
	// Delay is FaultDelay's wait.
	Delay time.Duration
}

type activeFault struct {
	Fault
	skipped, fired int
}

// Inject adds a fault. Faults are checked in the order injected; the first
// that matches a request applies.
func (s *Server) Inject(f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, &activeFault{Fault: f})
}

// ClearFaults removes every fault.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = nil
}

// fault picks the fault for a request, if any, and counts it.
func (s *Server) fault(endpoint string, limit, offset int, filtered bool) *Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, f := range s.faults {
		if f.Endpoint != "" && f.Endpoint != endpoint || offset < f.MinOffset {
			continue
		}
		if f.Kind == FaultOrderShift && offset == 0 {
			continue
		}
		if f.Kind == FaultBadGateway && limit <= f.AbovePageSize || f.Kind == FaultRefuseFilter && !filtered {
			continue
		}
		if f.skipped < f.Skip {
			f.skipped++
			continue
		}
		f.fired++
		out := f.Fault
		if f.Times > 0 && f.fired >= f.Times {
			s.faults = append(s.faults[:i:i], s.faults[i+1:]...)
		}
		return &out
	}
	return nil
}
