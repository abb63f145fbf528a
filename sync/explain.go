package sync

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"syscall"

	"github.com/schoolstatus/rostersync/classlink"
	"github.com/schoolstatus/rostersync/guardians"
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

// ExplainRun says what became of a finished run that failed (or did not
// finish), in a person's words: what happened to the directory, why, and
// what to do. It is built on the run's record alone (reason, counts,
// guardians_file, message), so the wizard, the accessible prompts and the
// CLI say the same about a run read back from the history. "" for a run
// with nothing to explain.
func ExplainRun(r store.Run) string {
	dry := r.Mode == store.ModeDryRun
	changes := r.Counts.Changes()
	switch {
	case r.Status == store.RunInterrupted:
		return upper(r.Message) + "."
	case r.Status != store.RunFailed:
		return ""
	case r.Reason == store.ReasonCancelled: // stopped after it began to write
		return "Stopped before it finished: the counts are the changes it made. The next sync completes the rest."
	case r.Cancelled():
		return upper(strings.TrimPrefix(r.Message, store.CancelledPrefix)) + "."
	case r.Reason == store.ReasonGuardiansFile && !r.Roster():
		return explainUpload(r)
	case r.Reason == store.ReasonGuardiansFile:
		return explainSFTPFile(r, dry, changes)
	case r.Reason == store.ReasonThreshold && !r.Roster():
		if dry {
			return "Over the guardians' deletion threshold: nothing would be archived; the file's creates, updates and links would still be made. Check the file lists every guardian, or raise the threshold if the change is expected."
		}
		return "Over the guardians' deletion threshold: nothing was archived; the file's creates, updates and links were applied. Check the file lists every guardian, or raise the threshold if the change is expected."
	case r.Reason == store.ReasonThreshold:
		if dry {
			return "Over the deletion threshold: nothing would be archived (numbers in brackets are what the run would try to archive); creates and updates would still be made. Check the roster in ClassLink, or raise the threshold if the change is expected."
		}
		return "Over the deletion threshold: nothing was archived (numbers in brackets are what the run tried to archive); creates and updates were applied. Check the roster in ClassLink, or raise the threshold if the change is expected."
	case r.Reason == store.ReasonSchoolsNotFound:
		return upper(r.Message) + ". Check School connection to SIS; nothing was changed."
	case r.Reason == store.ReasonCredentials:
		return "ClassLink refused the connection, so nothing was changed: check ⋮ → ClassLink connection (t on the District Home Page tests it)."
	case r.Reason == store.ReasonStorage:
		return upper(r.Message) + "."
	case r.Reason == store.ReasonUpstream && changes > 0 && !dry:
		return fmt.Sprintf("The run stopped after applying %s: %s. The next run completes the changes.", plural(changes, "change"), r.Message)
	case r.Reason == store.ReasonUpstream && strings.Contains(r.Message, "time budget"):
		return upper(r.Message) + "."
	case r.Reason == store.ReasonUpstream:
		return "ClassLink could not be reached, or its answer was incomplete; nothing was changed. Try again in a few minutes."
	}
	return upper(r.Message) + "."
}

// explainUpload: a guardians file upload that was refused (or stopped).
func explainUpload(r store.Run) string {
	gf := r.GuardiansFile
	why := r.Message
	if gf != nil && gf.Message != "" {
		why = gf.Message
	}
	why = strings.TrimPrefix(why, guardians.RefusedPrefix)
	if gf != nil && gf.Status == store.FileFailed {
		return upper(why) + "."
	}
	return "The guardians file was refused, so nothing was changed: " + why + "."
}

// explainSFTPFile: a roster run whose guardians.csv from the SFTP folder
// could not be read or was refused, after the roster part was applied
// (or planned, in a preview).
func explainSFTPFile(r store.Run, dry bool, changes int) string {
	roster := fmt.Sprintf("The roster was applied (%s)", plural(changes, "change"))
	if dry {
		roster = fmt.Sprintf("The roster part of the preview planned %s", plural(changes, "change"))
	}
	gf := r.GuardiansFile
	if gf == nil {
		return roster + "; the guardians file failed: " + r.Message + "."
	}
	why := strings.TrimPrefix(gf.Message, guardians.RefusedPrefix)
	if gf.Status == store.FileRefused {
		return roster + "; guardians.csv from the SFTP folder was refused, so guardians were left as they are: " + why + "."
	}
	return roster + "; guardians.csv was not read: " + why + "."
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}
