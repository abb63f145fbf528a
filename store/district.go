package store

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Demo district identity: the built-in district served by classlinktest so a
// newcomer can walk every screen without ClassLink credentials.
const (
	DemoTenantID      int64 = 2
	DemoApplicationID int64 = 57
	DemoName                = "ClassLink Demo"
)

// District is one district's saved configuration and its setup progress.
type District struct {
	TenantID      int64  `json:"tenant_id"`
	ApplicationID int64  `json:"application_id"`
	Name          string `json:"name"`
	// Demo marks the built-in demo district, whose roster is served locally.
	Demo bool `json:"demo,omitempty"`
	// Revision counts saves; 0 means never saved.
	Revision    int64       `json:"revision"`
	Settings    Settings    `json:"settings"`
	Permissions Permissions `json:"permissions"`
	Connection  Connection  `json:"connection"`
	// Schools are the org sourcedIds connected to the SIS (School connection to SIS).
	Schools []string `json:"schools"`
	// Guardians is where guardians come from while Manage Guardians is off.
	Guardians GuardiansSource `json:"guardians"`
	// Checklist is the guide's setup progress; it changes without a new revision.
	Checklist Checklist `json:"checklist"`
	SavedAt   time.Time `json:"saved_at"`
	SavedBy   Actor     `json:"saved_by"`
}

// NewDistrict is a district as it is first added: defaults everywhere.
func NewDistrict(tenantID, applicationID int64, name string) District {
	if strings.TrimSpace(name) == "" {
		name = fmt.Sprintf("Tenant %d", tenantID)
	}
	return District{
		TenantID:      tenantID,
		ApplicationID: applicationID,
		Name:          name,
		Settings:      DefaultSettings(),
		Permissions:   DefaultPermissions(),
		Schools:       []string{},
	}
}

// NewDemoDistrict is the built-in demo district with schools connected
// (its roster's schools, so that a preview works at once).
func NewDemoDistrict(schools ...string) District {
	d := NewDistrict(DemoTenantID, DemoApplicationID, DemoName)
	d.Demo = true
	d.Schools = slices.Clone(schools)
	if d.Schools == nil {
		d.Schools = []string{}
	}
	return d
}

// DemoNote is the audit note of the revision that adds the demo district.
const DemoNote = "added the built-in demo district"

// MaxID is the largest Tenant ID or application_id rostersync accepts:
// 2^53 − 1, the largest whole number every JSON reader (JavaScript's
// included) reads exactly.
const MaxID int64 = 1<<53 - 1

// Validate checks IDs, settings and connection.
func (d District) Validate() error {
	if err := checkID("tenant_id", "District Tenant ID", d.TenantID); err != nil {
		return err
	}
	if err := checkID("application_id", "District application_id", d.ApplicationID); err != nil {
		return err
	}
	if err := CheckName(d.Name); err != nil {
		return err
	}
	if err := d.Settings.Validate(); err != nil {
		return err
	}
	if err := checkSchools(d.Schools); err != nil {
		return err
	}
	if err := d.Guardians.Validate(); err != nil {
		return err
	}
	return d.Connection.Validate()
}

// CheckName applies the rules for a district name: not blank, one line of
// printable text, at most MaxNameLength characters.
func CheckName(name string) error {
	if strings.TrimSpace(name) == "" {
		return fieldErr("name", "must not be blank")
	}
	return checkText("name", name, MaxNameLength)
}

// ParseTenantID reads a District Tenant ID typed by a person.
func ParseTenantID(s string) (int64, error) { return parseID("tenant_id", "District Tenant ID", s) }

// ParseApplicationID reads a District application_id typed by a person.
func ParseApplicationID(s string) (int64, error) {
	return parseID("application_id", "District application_id", s)
}

// idRule is what every ID message says is allowed.
const idRule = "a positive whole number no larger than 9007199254740991"

func parseID(field, label, s string) (int64, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, fieldErr(field, "%s is required: %s from ClassLink", label, idRule)
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 || n > MaxID {
		return 0, fieldErr(field, "%s must be %s, got %q", label, idRule, s)
	}
	return n, nil
}

// checkID is parseID's rule for an ID that is already a number.
// An empty label leaves the message to the field key ("tenant_id: must be …").
func checkID(field, label string, n int64) error {
	if n > 0 && n <= MaxID {
		return nil
	}
	if label == "" {
		return fieldErr(field, "must be %s, got %d", idRule, n)
	}
	return fieldErr(field, "%s must be %s, got %d", label, idRule, n)
}

// Actor is who saved: the OS user locally, the SSH user and key fingerprint
// over SSH.
type Actor struct {
	User        string `json:"user"`
	Fingerprint string `json:"fingerprint,omitempty"`
	// Key is the access list entry the SSH key belongs to.
	Key string `json:"key,omitempty"`
	Via string `json:"via,omitempty"` // "local", "ssh", "import", "schedule"
}

// Owner is whose drafts these are: the access entry over SSH (several
// people may log in as the same SSH user), the OS user locally.
func (a Actor) Owner() string {
	if a.Key != "" {
		return "key:" + a.Key
	}
	return a.User
}

// Name is who people read as having done it: the access list name of the
// SSH key (the SSH user name is whatever the client typed), else the OS user.
func (a Actor) Name() string {
	if a.Key != "" {
		return a.Key
	}
	return a.User
}

func (a Actor) String() string {
	if a.Fingerprint != "" {
		return a.Name() + " (" + a.Fingerprint + ")"
	}
	return a.Name()
}

// GuideStep is one of the nine steps of Connect's ClassLink setup guide.
type GuideStep int

const (
	StepRosteringApp GuideStep = iota
	StepSSOApp
	StepSchoolsMatched
	StepExistingClassrooms
	StepSyncSettings
	StepSelfCheck
	StepEnable
	StepResults
	StepCleanUp
)

// GuideSteps lists the checklist in the guide's order.
var GuideSteps = []GuideStep{
	StepRosteringApp, StepSSOApp, StepSchoolsMatched, StepExistingClassrooms,
	StepSyncSettings, StepSelfCheck, StepEnable, StepResults, StepCleanUp,
}

var guideStepTitles = [...]string{
	"Rostering app shared and enabled in ClassLink",
	"SSO app shared in ClassLink",
	"Schools matched to ClassLink orgs",
	"Existing classrooms reviewed",
	"Sync settings chosen",
	"Self-check: preview the sync",
	"Enable and launch the daily sync",
	"Review sync results",
	"Clean up unmatched users and classrooms",
}

func (s GuideStep) Title() string { return guideStepTitles[s] }

// ChecklistItem is one step's state. Verified means rostersync checked it
// itself (e.g. a passing connection test), not only that a person ticked it.
type ChecklistItem struct {
	Done     bool      `json:"done"`
	Verified bool      `json:"verified,omitempty"`
	At       time.Time `json:"at,omitzero"`
	By       string    `json:"by,omitempty"`
}

// Checklist is the district's progress through the guide.
type Checklist [len(guideStepTitles)]ChecklistItem
