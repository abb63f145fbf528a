package sync

// The time and size of a backup, and of db check, of a synced M-tier
// database (README: Operating it):
//
//	go test ./sync -run '^$' -bench 'BackupM|CheckM' -benchtime 3x

import (
	"fmt"
	"path/filepath"
	"testing"

	"github.com/schoolstatus/rostersync/classlink/classlinktest"
	"github.com/schoolstatus/rostersync/store"
)

// syncedM is a database with the M tier synced once.
func syncedM(b *testing.B) *store.DB {
	_, fresh := benchDistrict(b, classlinktest.TierM)
	db := fresh()
	var records int
	syncOnce(b, db, &records)
	return db
}

func BenchmarkBackupM(b *testing.B) {
	db := syncedM(b)
	dir := b.TempDir()
	var bytes int64
	i := 0
	for b.Loop() {
		info, err := db.Backup(filepath.Join(dir, fmt.Sprintf("backup-%d.db", i)), false)
		if err != nil {
			b.Fatal(err)
		}
		bytes = info.Bytes
		i++
	}
	b.ReportMetric(float64(bytes)/(1<<20), "MiB/backup")
}

func BenchmarkCheckM(b *testing.B) {
	db := syncedM(b)
	var r store.CheckReport
	for b.Loop() {
		if r = db.Check(); !r.OK() {
			b.Fatal(r.Problems)
		}
	}
	b.ReportMetric(float64(r.DirectoryRecords), "records")
	b.ReportMetric(float64(r.Bytes)/(1<<20), "MiB-file")
}
