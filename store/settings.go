package store

import (
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // a fresh machine may lack /usr/share/zoneinfo; time zones are validated against this copy

	"github.com/schoolstatus/rostersync/untrusted"
)

// Settings are the District-Level Daily Sync settings of Connect's
// SIS Rostering page, plus the safeguards rostersync adds.
type Settings struct {
	// EnableDailySync off means no scheduled run. It stays off until the
	// guide's self-check step is done.
	EnableDailySync bool `json:"enable_daily_sync"`
	// ManageGuardians on: guardians come from ClassLink. Off: they come from a
	// guardians.csv upload or the SFTP guardians sync, and the sync leaves them alone.
	ManageGuardians bool `json:"manage_guardians"`
	// UnarchiveReappearingClassrooms on: an archived classroom that shows up
	// in the roster again is made active.
	UnarchiveReappearingClassrooms bool `json:"unarchive_reappearing_classrooms"`
	// UpdateActiveUserContacts on: the sync overwrites names, email and phones
	// of users who have joined. Users who have not joined are always updated.
	UpdateActiveUserContacts bool `json:"update_active_user_contacts"`
	// DeletionThresholdPercent caps how many SIS-managed records of one type a
	// run may archive; over it the run fails with reason "threshold".
	DeletionThresholdPercent int `json:"deletion_threshold_percent"`
	// DailyStart is the local start time of the daily run, "HH:MM".
	DailyStart string `json:"daily_start"`
	// TimeZone is the IANA zone DailyStart is read in.
	TimeZone string `json:"time_zone"`
}

// DefaultSettings are a new district's settings: daily sync off (the guide
// says to enable it last), a 10 % deletion threshold, a 02:00 start.
func DefaultSettings() Settings {
	return Settings{
		EnableDailySync:                false,
		ManageGuardians:                true,
		UnarchiveReappearingClassrooms: true,
		UpdateActiveUserContacts:       false,
		DeletionThresholdPercent:       10,
		DailyStart:                     "02:00",
		TimeZone:                       "America/Chicago",
	}
}

// FieldError names the field that is wrong and what is allowed, so every
// caller (wizard, import, CLI) can say the same thing.
type FieldError struct {
	Field string // contract key, e.g. "settings.time_zone"
	Msg   string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Msg }

// fieldErr formats a FieldError. Strings among args are values that may
// come from outside: %q shows a short escaped prefix of them, %s escapes
// them, so a message never echoes a huge or hostile value whole.
func fieldErr(field, format string, args ...any) *FieldError {
	for i, a := range args {
		if s, ok := a.(string); ok {
			args[i] = echoed(s)
		}
	}
	return &FieldError{Field: field, Msg: fmt.Sprintf(format, args...)}
}

// echoed is a value repeated in an error message.
type echoed string

func (e echoed) Format(f fmt.State, verb rune) {
	if verb == 'q' {
		io.WriteString(f, untrusted.Quote(string(e)))
		return
	}
	s := string(e)
	if len(s) > 200 {
		s = strings.ToValidUTF8(s[:200], "") + "…"
	}
	io.WriteString(f, untrusted.Text(s))
}

// ParseThreshold reads a deletion threshold typed by a person.
func ParseThreshold(s string) (int, error) {
	s = strings.TrimSuffix(strings.TrimSpace(s), "%")
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || n < 0 || n > 100 {
		return 0, fieldErr("settings.deletion_threshold_percent", "must be a whole number from 0 to 100, got %q", s)
	}
	return n, nil
}

// ParseDailyStart checks a 24-hour time, "HH:MM" or "H:MM".
func ParseDailyStart(s string) (hour, minute int, err error) {
	s = strings.TrimSpace(s)
	t, perr := time.Parse("15:04", s)
	if perr != nil {
		t, perr = time.Parse("15:04", "0"+s) // "7:00"
	}
	if perr != nil || len(s) < 4 || len(s) > 5 {
		return 0, 0, fieldErr("settings.daily_start", "must be a 24-hour time HH:MM such as 02:00, got %q", s)
	}
	return t.Hour(), t.Minute(), nil
}

// CanonicalDailyStart is a valid start time as it is stored: "7:00" is
// "07:00".
func CanonicalDailyStart(s string) (string, error) {
	h, m, err := ParseDailyStart(s)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%02d:%02d", h, m), nil
}

// CanonicalTimeZone is the IANA name matching name in any letter case, as
// IANA spells it ("america/chicago" is "America/Chicago").
func CanonicalTimeZone(name string) (string, error) {
	name = strings.TrimSpace(name)
	// "Local" and "" are accepted by time.LoadLocation but mean the server's
	// zone, which is not the district's.
	if name == "" || strings.EqualFold(name, "Local") {
		return "", fieldErr("settings.time_zone", "must be an IANA time zone such as America/Chicago, got %q", name)
	}
	for _, z := range zoneNames {
		if strings.EqualFold(z, name) {
			return z, nil
		}
	}
	if _, err := time.LoadLocation(name); err == nil {
		return name, nil // a zone newer than the list
	}
	return "", fieldErr("settings.time_zone", "unknown IANA time zone %q; use a name such as America/Chicago", name)
}

// ZoneNames lists every IANA time zone name, for completion.
func ZoneNames() []string { return slices.Clone(zoneNames) }

// LoadTimeZone reads an IANA time zone name such as America/Chicago, in
// any letter case.
func LoadTimeZone(name string) (*time.Location, error) {
	canon, err := CanonicalTimeZone(name)
	if err != nil {
		return nil, err
	}
	loc, err := time.LoadLocation(canon)
	if err != nil {
		return nil, fieldErr("settings.time_zone", "unknown IANA time zone %q; use a name such as America/Chicago", name)
	}
	return loc, nil
}

// Canonical is s with the start time and time zone spelled as they are
// stored; invalid values are left for Validate to name.
func (s Settings) Canonical() Settings {
	if v, err := CanonicalDailyStart(s.DailyStart); err == nil {
		s.DailyStart = v
	}
	if v, err := CanonicalTimeZone(s.TimeZone); err == nil {
		s.TimeZone = v
	}
	return s
}

// Validate checks every field and returns the first problem as a *FieldError.
func (s Settings) Validate() error {
	if s.DeletionThresholdPercent < 0 || s.DeletionThresholdPercent > 100 {
		return fieldErr("settings.deletion_threshold_percent", "must be from 0 to 100, got %d", s.DeletionThresholdPercent)
	}
	if _, _, err := ParseDailyStart(s.DailyStart); err != nil {
		return err
	}
	if _, err := LoadTimeZone(s.TimeZone); err != nil {
		return err
	}
	return nil
}
