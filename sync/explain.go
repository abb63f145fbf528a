package sync

import (
	"context"
	"crypto/x509"
	"errors"
	"net"
	"net/url"
	"strings"
	"syscall"

	"github.com/schoolstatus/rostersync/classlink"
	"github.com/schoolstatus/rostersync/store"
)

// Explain says in one line what went wrong talking to ClassLink, the
// likely cause and what to do, in words a district IT person uses (no
// "upstream", no error chain). The error's own text is the technical
// detail, shown on request.
func Explain(err error) string {
	var (
		dns   *net.DNSError
		cert  *x509.UnknownAuthorityError
		host  x509.HostnameError
		uerr  *url.Error
		field *store.FieldError
		cl    *classlink.Error
	)
	errors.As(err, &cl)
	switch {
	case err == nil:
		return ""
	case errors.Is(err, context.Canceled):
		return "Cancelled."
	case errors.As(err, &field):
		return upper(field.Msg) + "."
	case errors.Is(err, classlink.ErrCredentials):
		return "ClassLink refused the client ID and secret. Check them on ⋮ → ClassLink connection; if they are right, ask the district to check the rostering app is shared and enabled."
	case errors.Is(err, classlink.ErrNotFound):
		return "Nothing answers at this address: the base URL or the application_id is probably wrong. Check them on ⋮ → ClassLink connection."
	case errors.Is(err, classlink.ErrRateLimited):
		return "ClassLink is limiting requests right now. Wait a few minutes, then try again."
	case errors.As(err, &dns):
		return "The roster server's name " + quoteHost(dns.Name) + " does not exist. Check the base URL for a typo on ⋮ → ClassLink connection."
	case errors.Is(err, syscall.ECONNREFUSED):
		return "Nothing is listening at the roster server's address. Check the base URL (host and port) on ⋮ → ClassLink connection."
	case errors.Is(err, context.DeadlineExceeded), isTimeout(err):
		return "The roster server did not answer in time. Check the base URL, or try again in a few minutes."
	case errors.As(err, &cert), errors.As(err, &host), strings.Contains(strings.ToLower(errText(uerr, err)), "certificate"):
		return "The roster server's certificate was not accepted. Check the base URL is the district's ClassLink address."
	case errors.Is(err, classlink.ErrMalformed):
		return "The answer was not complete OneRoster data. Check the base URL ends in /ims/oneroster/v1p1/; if it does, try again later."
	case cl != nil && cl.Status >= 300 && cl.Status < 400 && cl.Detail != "":
		return upper(cl.Detail) + ": rostersync never follows a redirect with the credentials. Check the base URL on ⋮ → ClassLink connection."
	case cl != nil && cl.Status >= 500:
		return "ClassLink's server had a problem. Try again in a few minutes; if it keeps failing, contact ClassLink support."
	case cl != nil && cl.Status != 0:
		return "The roster server gave an answer rostersync does not expect. Check the base URL on ⋮ → ClassLink connection."
	case cl != nil:
		return "Could not reach the roster server. Check the base URL and this machine's network, then try again."
	}
	return upper(err.Error()) + "."
}

func isTimeout(err error) bool {
	var t interface{ Timeout() bool }
	return errors.As(err, &t) && t.Timeout()
}

func errText(uerr *url.Error, err error) string {
	if errors.As(err, &uerr) && uerr.Err != nil {
		return uerr.Err.Error()
	}
	return ""
}

func quoteHost(h string) string { return "“" + h + "”" }

func upper(s string) string {
	s = strings.TrimSuffix(strings.TrimSpace(s), ".")
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
