package classlinktest

// Request is what the server saw and did for one request.
type Request struct {
	Path          string
	Endpoint      string // "users", "schools", "applications", …
	ApplicationID int64  // tenant served, 0 when unknown
	Auth          string // "oauth1", "bearer" or ""
	Limit, Offset int
	Filter        string
	Fields        string
	Sort          string
	Status        int
	Fault         FaultKind // 0 when none applied
	Records       int       // records written
	Bytes         int64     // body bytes written
	PermRev       string
}

func (s *Server) record(r Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests = append(s.requests, r)
}

// Requests returns a copy of every request recorded since the start or
// the last ResetRequests.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// ResetRequests forgets the recorded requests.
func (s *Server) ResetRequests() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests = nil
}

// RequestsTo filters Requests by endpoint.
func (s *Server) RequestsTo(endpoint string) []Request {
	var out []Request
	for _, r := range s.Requests() {
		if r.Endpoint == endpoint {
			out = append(out, r)
		}
	}
	return out
}
