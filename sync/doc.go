// Package sync is rostersync's sync engine: it pulls a district's roster
// from ClassLink, plans what the district's saved settings make of it,
// checks the deletion threshold, applies the plan to the Connect directory
// replica in the store, and records the run.
//
// Use one Engine per process (it refuses a second concurrent run of the
// same district):
//
//	dialer := sync.DialerFromEnv(demo)  // main: the proxy token, the demo district
//	e := &sync.Engine{DB: db, Dial: dialer.Dial}
//	res, err := e.Run(ctx, tenantID, sync.RunOptions{DryRun: true, Trigger: store.TriggerManual,
//		Samples: 5, Progress: func(p sync.Progress) { ... }})
//	if err != nil { ... }            // nothing was recorded: no such district, already running, database error
//	switch res.Run.Status { ... }    // succeeded, failed (res.Run.Reason says why) or unchanged
//
// A run goes pull → plan → check → apply → record:
//
//   - Pull reads the roster (orgs, classes, users, enrollments) under
//     classlink.Consistent before anything is written, keeping what the
//     plan can need in a compact form (pulled.go) from which it builds the
//     in-scope roster (roster.go). The district keeps what was pulled;
//     a daily run pulls only what changed since, plus a sweep of the
//     sourcedIds still there, and builds the same roster (changes.go),
//     pulling everything again when that cannot be trusted (pull.go). Any
//     failure ends the run as failed with reason credentials or upstream,
//     directory untouched; a selected school missing from ClassLink fails
//     it with schools_not_found.
//   - Plan walks the sorted roster against the stored directory in
//     sourcedId order and decides per record: create, update (which fields),
//     archive, unarchive or skip (with a reason), applying the district's
//     settings (DESIGN §3). It reads the directory a chunk at a time and
//     commits the creates, updates and unarchives as it goes, BatchSize
//     writes per bbolt transaction (a dry run commits nothing); the
//     archives are only noted, as keys.
//   - Check compares each type's archives with the deletion threshold; over
//     it the run fails with reason threshold: it created and updated,
//     archives nothing and reports tried_to_archive.
//   - Apply commits the archives the threshold allowed, in batches. A kill
//     at any point leaves a directory from which the next run converges,
//     because every planned record depends only on the roster, the settings
//     and that record's own stored state, read before this run wrote it
//     (the walk only writes records it has passed), and an archive
//     archives the record as it is when its batch commits.
//   - Record stores the run (dry runs too, which write nothing else). When
//     neither ClassLink's x-perm-rev nor the config revision moved since the
//     last applied run (and nobody edited the directory by hand), the run
//     is recorded as unchanged after one cheap request.
//
// Scheduler starts each district's daily run at its DailyStart in its time
// zone; a Dialer turns a stored connection into a classlink.Client (the
// built-in demo district is served in-process by main); TestConnection is
// the connection test and Schools lists ClassLink's schools for the
// "School connection to SIS" screen, both through the same dial function.
//
// Inside this package the standard library's sync is imported as gosync.
package sync
