// Package classlinktest is an in-process OneRoster 1.1 server that behaves
// like ClassLink's, serving a deterministic generated district. Tests and
// benchmarks use it to exercise the classlink client over real loopback
// HTTP, and the product uses it for the built-in demo district (Demo).
//
// A District is a generator plus a small overlay. Record i of a collection
// is computed from the seed and i alone, and sourcedIds are zero-padded so
// that sourcedId order is index order; a page is generated when it is
// served, so even the L tier (820k users, 2.5M enrollments) is never held
// in memory. The overlay (Put, Remove, MarkToBeDeleted, Modify, AdvanceDay)
// holds the day-over-day changes; the served collection is the generated one
// with the overlay applied, still in sourcedId order, and every change moves
// x-perm-rev.
//
// A Server (NewServer) hosts one or more tenants: direct OneRoster paths
// /ims/oneroster/v1p1/{collection} signed with OAuth 1.0a (HMAC-SHA1 or
// HMAC-SHA256, ±5 minutes of clock skew, nonces not reusable), the proxy form
// /{application_id}/ims/oneroster/v1p1/{collection} and /applications with a
// bearer token. It implements limit (max 10000), offset, sort=sourcedId,
// fields and filter on dateLastModified and status, sends X-Total-Count,
// x-count and x-perm-rev, and streams each page as it encodes it; Paging
// makes it page like other servers (a page cap below limit, Link rel="next"
// headers, no totals). Faults (429, 502 above a page size, 500, a missing
// envelope, short and empty pages, a shifted order, revision flips, delays,
// 401, cut connections) are injected with Inject,
// and every request is recorded for assertions (Requests).
package classlinktest
