// Package classlink is the OneRoster 1.1 client rostersync uses to pull a
// district's roster from ClassLink.
//
// A district is reached one of two ways (DESIGN §3):
//
//   - ModeOAuth1: straight to the district's Roster Server, signing every
//     request with two-legged OAuth 1.0a (consumer key and secret, no token,
//     HMAC-SHA256 unless HMAC-SHA1 is chosen).
//   - ModeProxy: through ClassLink's OneRoster proxy with the partner bearer
//     token (the CLI reads it from the environment variable named by
//     TokenEnv) and the district's application_id in the path; ProxyBaseURL
//     builds that base URL from a template.
//
// Typical use:
//
//	c, err := classlink.New(classlink.Config{
//		Mode:         classlink.ModeOAuth1,
//		BaseURL:      "https://acme-ca-v2.oneroster.com/ims/oneroster/v1p1/",
//		ClientID:     key,
//		ClientSecret: secret,
//	})
//	err = classlink.Consistent(ctx, func(ctx context.Context) error {
//		users = users[:0] // a restart begins from scratch
//		_, err := c.Users(ctx, classlink.ListOptions{}, func(u classlink.User) error {
//			users = append(users, u.SourcedID)
//			return nil
//		})
//		return err
//	})
//
// Every collection is streamed: pages of up to 10,000 records are requested
// with limit/offset, sort=sourcedId and a fields= list holding only what the
// sync uses; each page is read whole (a few MB) while the next one is
// already being fetched, and decoded record by record by a hand-written
// decoder (decode.go) that reads what encoding/json would, so memory does
// not grow with the size of the district. A server may send fewer records than
// asked (many cap their pages): the next page is asked at offset + records
// received, or taken from a Link: <…>; rel="next" header when the target is
// under the base URL (a link elsewhere is ignored, so credentials never
// leave for another host or path). A pull only succeeds when every page
// arrived, the envelope key was present, the records add up to X-Total-Count
// (or x-count; a server that sends neither is read until an empty page) and
// x-perm-rev stayed the same; anything else, such as an empty page short of
// the total, or a sourcedId that arrives twice (the order shifted between
// pages, so another record was skipped), is an error, never a shorter
// collection. Errors wrap the sentinels ErrCredentials, ErrNotFound,
// ErrRateLimited, ErrUpstream, ErrMalformed, ErrRevisionChanged and
// ErrInconsistentPages (Consistent restarts a pull on the last two); Reason
// turns an error into the sync run's failure reason.
//
// 429 and 5xx answers are retried with exponential backoff and jitter,
// honouring Retry-After, but never past the context's deadline (a caller's
// time budget): a wait that would end after it fails at once, and RetryAt
// tells when the server asked to be tried again; a 502 halves the page size for the rest of the pull
// (down to 50). Secrets and tokens never appear in errors or in Config's
// String, GoString or slog output.
//
// The package classlinktest serves a generated district over loopback HTTP
// for tests, benchmarks and the built-in demo district.
package classlink
