// Package store keeps rostersync's state in one embedded bbolt file: each
// district's saved DailySync settings, permissions matrix, ClassLink
// connection and connected schools, the revision history and audit trail,
// per-person drafts, the SSH access list, the sync runs and the Connect
// directory replica the sync maintains.
//
// Open the file once per process; bbolt holds an exclusive lock, so a second
// process gets an *InUseError after Options.Timeout instead of hanging:
//
//	db, err := store.Open("rostersync.db", store.Options{})
//	if err != nil { ... }
//	defer db.Close()
//	d, err := db.District(2)
//	d.Settings.ManageGuardians = false
//	saved, entry, err := db.SaveDistrict(d, d.Revision, store.Actor{User: "ana"}, nil)
//
// bbolt panics on a damaged file instead of returning errors; every
// transaction here runs through view or update, which turn those panics
// (and faults on a file cut short) into a *DamagedError naming the file
// (errors.Is(err, ErrDamaged)), so callers see an error and go on.
//
// A save is one bbolt transaction: the district record, its revision bump and
// its audit entry commit together or not at all. store imports nothing else
// from rostersync.
package store
