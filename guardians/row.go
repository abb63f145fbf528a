package guardians

import (
	"net/mail"
	"strings"

	"golang.org/x/text/language"

	"github.com/schoolstatus/rostersync/phone"
	"github.com/schoolstatus/rostersync/untrusted"
)

// readRow applies the rules one row can be checked by on its own.
func (f *File) readRow(line int, rec []string) Row {
	r := Row{Line: line, Fields: rec, cols: &f.header.index}
	if want := len(f.header.names); len(rec) != want {
		r.Fail("the row has %d fields; the header has %d", len(rec), want)
	}
	for c := range numColumns {
		i := f.header.index[c]
		if i < 0 || i >= len(rec) {
			continue
		}
		v := strings.TrimSpace(rec[i])
		if err := untrusted.CheckLength(v, MaxFieldLength); err != nil {
			r.Fail("%s %v", c, err)
			r.bad |= 1 << c
			continue
		}
		if err := untrusted.CheckLine(v); err != nil {
			r.Fail("%s %v", c, err)
			r.bad |= 1 << c
		}
	}
	for _, c := range []Column{StudentID, GuardianID, FirstName, LastName} {
		if r.raw(c) == "" && f.header.index[c] < len(rec) && !r.failedOn(c) {
			r.Fail("%s is empty", c)
		}
	}
	r.StudentID, r.GuardianID = r.raw(StudentID), r.raw(GuardianID)
	r.FirstName, r.LastName = r.raw(FirstName), r.raw(LastName)
	r.contacts()
	if lang := r.raw(Language); lang != "" {
		tag, err := language.Parse(lang)
		if err != nil || tag == language.Und {
			r.Warn("language %s is not a language code (such as en, es, zh-Hant); left empty", quote(lang))
		} else {
			r.Language = tag.String()
		}
	}
	return r
}

// failedOn reports whether a column already has an error (too long, a
// control character), so it is not also called empty.
func (r *Row) failedOn(c Column) bool {
	for _, e := range r.Errors {
		if strings.HasPrefix(e, c.String()+" ") {
			return true
		}
	}
	return false
}

// contacts reads email, mobile and home phone: a guardian needs an email
// or a valid mobile (uniqueness of the email is checked across rows, and
// by the sync across the directory). The phone rules are the roster
// sync's (phone.Normalize).
func (r *Row) contacts() {
	email, mobile := r.raw(Email), r.raw(Mobile)
	emailOK := email != "" && validEmail(email)
	mobileE164, mobileOK := phone.Normalize(mobile)
	switch {
	case !emailOK && !mobileOK:
		var why []string
		if email != "" {
			why = append(why, "email "+quote(email)+" is not a valid address")
		}
		if mobile != "" {
			why = append(why, "mobile "+quote(mobile)+" is not a valid phone number")
		}
		if len(why) == 0 {
			why = append(why, "email and mobile are both empty")
		}
		if !r.failedOn(Email) && !r.failedOn(Mobile) {
			r.Fail("%s: a guardian needs a unique email or a valid mobile", strings.Join(why, " and "))
		}
		return
	case email != "" && !emailOK:
		r.Warn("email %s is not a valid address; left empty", quote(email))
	case mobile != "" && !mobileOK:
		r.Warn("mobile %s is not a valid phone number; left empty", quote(mobile))
	}
	if emailOK {
		r.Email = email
	}
	r.Mobile = mobileE164
	if home := r.raw(HomePhone); home != "" {
		if e164, ok := phone.Normalize(home); ok {
			r.HomePhone = e164
		} else {
			r.Warn("home_phone %s is not a valid phone number; left empty", quote(home))
		}
	}
}

// validEmail accepts a bare address (no display name, no spaces).
func validEmail(s string) bool {
	a, err := mail.ParseAddress(s)
	return err == nil && a.Address == s && a.Name == ""
}

// quote is a value from the file in a message: quoted, escaped, short.
func quote(s string) string { return untrusted.Quote(s) }
