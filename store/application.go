package store

import "fmt"

// Tenant isolation: the partner token opens every district that shared the
// app, so which application_id a district has decides whose roster it
// reads. One rule, CheckApplicationID, serves every path that sets one
// (the wizard's forms, ClassLink's list, config import, District details);
// the dialer checks the stored one again before the token is sent.

// Listing is what ClassLink's list of the districts that shared the app
// (GET {proxy}/applications) says about one tenant.
type Listing struct {
	// Checked: the list was read. ApplicationID is then the tenant's, or 0
	// when the list does not have the tenant.
	Checked       bool
	ApplicationID int64
	// Why says why there is nothing to check against (no partner token,
	// ClassLink unavailable, the tenant not listed), for messages and the
	// audit.
	Why string
	// Pending: a partner token is set and the list is still on its way;
	// nothing is decided without it.
	Pending bool
}

// ListingOf finds tenantID in ClassLink's list (pairs of tenant_id and
// application_id). listErr is why the list could not be read, nil when it
// was.
func ListingOf(tenantID int64, apps map[int64]int64, listErr error) Listing {
	if listErr != nil {
		return Listing{Why: "ClassLink's list of districts could not be read: " + listErr.Error()}
	}
	if app, ok := apps[tenantID]; ok {
		return Listing{Checked: true, ApplicationID: app}
	}
	return Listing{Checked: true, Why: fmt.Sprintf("ClassLink's list of districts that shared the app does not have District Tenant ID %d", tenantID)}
}

// NoListing is the Listing when no partner token is set.
var NoListing = Listing{Why: "no partner token is set, so ClassLink's list of districts cannot be read"}

// CheckApplicationID applies the rule to setting district tenantID's
// application_id: with ClassLink's list, it must be the one the list has
// for the tenant (a mismatch names both); without it (no token, the list
// unavailable, the tenant not on it) only an onboarding specialist may set
// one, and note is what the audit records about it.
func CheckApplicationID(tenantID, applicationID int64, l Listing, specialist bool) (note string, err error) {
	switch {
	case l.Pending:
		return "", fieldErr("application_id", "ClassLink's list of districts, which it is checked against, has not arrived yet: try again in a moment")
	case l.Checked && l.ApplicationID == applicationID:
		return fmt.Sprintf("application_id %d matches ClassLink's list for District Tenant ID %d", applicationID, tenantID), nil
	case l.Checked && l.ApplicationID != 0:
		return "", fieldErr("application_id", "%d is not District Tenant ID %d's: ClassLink's list of districts that shared the app gives it application_id %d", applicationID, tenantID, l.ApplicationID)
	case !specialist:
		return "", fieldErr("application_id", "only an onboarding specialist can set a district's application_id when it cannot be checked against ClassLink (%s); ask your specialist or connectsupport@schoolstatus.com", l.Why)
	}
	return fmt.Sprintf("application_id %d set by a specialist without ClassLink's list to check it (%s)", applicationID, l.Why), nil
}

// AddDistrict stores a new district after CheckApplicationID, with the
// rule's note and notes in its audit entry. Every way of adding a district
// (the wizard's form, ClassLink's list, accessible prompts, config import)
// comes here.
func (db *DB) AddDistrict(d District, l Listing, who Actor, specialist bool, notes ...string) (District, AuditEntry, error) {
	note, err := CheckApplicationID(d.TenantID, d.ApplicationID, l, specialist)
	if err != nil {
		return District{}, AuditEntry{}, err
	}
	return db.SaveDistrict(d, 0, who, append(notes, note))
}
