package store

import (
	"slices"
	"strconv"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
)

// The rules of Connect's ClassLink setup guide that every path to a save or
// a run follows (the wizard, the accessible prompts, config import, resume,
// the sync command and the daily schedule): they live here, in the
// transactions that save and record, so no path can skip them.

// NoteEnabledBeforeSelfCheck is the audit note of a save that turns Enable
// Daily sync on before the guide's self-check (step 6) is done. Such a save
// is refused unless the caller passes this note, which it may only do after
// the person confirmed the guide's warning (the wizard's y, the accessible
// prompt's second yes, import's --enable-before-self-check).
const NoteEnabledBeforeSelfCheck = "Enable Daily sync turned on before the self-check step was done (the guide's warning was shown and confirmed)"

// EnablesBeforeSelfCheck reports whether saving next over prev turns Enable
// Daily sync on while prev's checklist does not have the self-check done.
func EnablesBeforeSelfCheck(prev, next District) bool {
	return next.Settings.EnableDailySync && !prev.Settings.EnableDailySync && !prev.Checklist[StepSelfCheck].Done
}

// EnableBeforeSelfCheckError refuses a save that would turn the daily sync
// on before the self-check without the person's confirmation.
type EnableBeforeSelfCheckError struct{ TenantID int64 }

func (e *EnableBeforeSelfCheckError) Error() string {
	return "settings.enable_daily_sync: the guide says not to turn on Enable Daily sync until the self-check (step 6: a Preview sync without a threshold failure) is done, and district " +
		strconv.FormatInt(e.TenantID, 10) + " has not done it; confirm that you want it on anyway"
}

// checkGuide applies the Enable Daily sync rule and keeps the note only
// when it is true of this save.
func checkGuide(prev, next District, notes []string) ([]string, error) {
	early := EnablesBeforeSelfCheck(prev, next)
	confirmed := slices.Contains(notes, NoteEnabledBeforeSelfCheck)
	if early && !confirmed {
		return nil, &EnableBeforeSelfCheckError{TenantID: next.TenantID}
	}
	if !early && confirmed {
		notes = slices.DeleteFunc(slices.Clone(notes), func(n string) bool { return n == NoteEnabledBeforeSelfCheck })
	}
	return notes, nil
}

// followGuideOnSave updates the checklist a save affects: saving the sync
// settings or permissions is step 5 (sync settings chosen); turning the
// daily sync off undoes step 7's verification, which needs it on.
func followGuideOnSave(d *District, changes []Change, who Actor, at time.Time) {
	for _, c := range changes {
		if strings.HasPrefix(c.Field, "settings.") || strings.HasPrefix(c.Field, "permissions.") {
			if !d.Checklist[StepSyncSettings].Done {
				d.Checklist[StepSyncSettings] = ChecklistItem{Done: true, Verified: true, At: at, By: who.User}
			}
			break
		}
	}
	if !d.Settings.EnableDailySync && d.Checklist[StepEnable].Verified {
		d.Checklist[StepEnable] = ChecklistItem{}
	}
}

// RunChecker is who ticks the steps a run verifies.
const RunChecker = "rostersync"

// followGuideOnRun ticks the steps a recorded run verifies, in the run's
// transaction: a preview of the saved revision without a failure is the
// self-check (step 6); an applied run that succeeded while Enable Daily
// sync is on in the saved revision is the launch (step 7).
func (db *DB) followGuideOnRun(tx *bolt.Tx, r Run, at time.Time) error {
	districts := tx.Bucket(bucketDistricts)
	d, ok, err := db.getDistrict(districts, tenantKey(r.TenantID))
	if err != nil || !ok || r.ConfigRevision != d.Revision || !r.Roster() {
		return err // a guardians file upload is not the roster sync the guide checks
	}
	step := GuideStep(-1)
	switch {
	case r.Mode == ModeDryRun && (r.Status == RunSucceeded || r.Status == RunUnchanged):
		step = StepSelfCheck
	case r.Applied() && d.Settings.EnableDailySync:
		step = StepEnable
	}
	if step < 0 || d.Checklist[step].Verified {
		return nil
	}
	d.Checklist[step] = ChecklistItem{Done: true, Verified: true, At: at, By: RunChecker}
	return db.putDistrict(districts, d)
}
