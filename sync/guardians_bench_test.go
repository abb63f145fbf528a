package sync

// A 100,000-row guardians file against the same number of guardians
// through the roster sync (issue 10):
//
//	go test ./sync -run '^$' -bench GuardiansFile -benchtime 1x
//
// GuardiansFile/file applies a 100,000-row guardians.csv (100,000
// guardians, one student each, two per student) to a directory that
// already holds the district's students; GuardiansFile/roster is a first roster sync
// of the same district with Manage Guardians on (50,000 students and
// 100,000 guardians created), GuardiansFile/roster_without_guardians the
// same with it off, so the difference is what the guardians cost the
// roster sync.

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/schoolstatus/rostersync/classlink/classlinktest"
	"github.com/schoolstatus/rostersync/store"
)

var tierGuardians = classlinktest.Tier{Name: "G", Schools: 2, Students: 50_000, Staff: 100, Guardians: 100_000,
	Courses: 20, Classes: 100, Enrollments: 50_100}

const fileRows = 100_000

func BenchmarkGuardiansFile(b *testing.B) {
	_, fresh := benchDistrict(b, tierGuardians)
	guardiansOff := func(db *store.DB) {
		d, err := db.District(testTenant)
		if err != nil {
			b.Fatal(err)
		}
		d.Settings.ManageGuardians = false
		if _, _, err := db.SaveDistrict(d, d.Revision, store.Actor{User: "bench"}, nil); err != nil {
			b.Fatal(err)
		}
	}

	b.Run("roster", func(b *testing.B) {
		var run store.Run
		for range b.N {
			b.StopTimer()
			db := fresh()
			b.StartTimer()
			records := 0
			run = syncOnce(b, db, &records)
		}
		b.ReportMetric(float64(run.Counts.Guardians.Create), "guardians/op")
		b.ReportMetric(float64(run.Counts.Changes()), "writes/op")
	})
	b.Run("roster_without_guardians", func(b *testing.B) {
		var run store.Run
		for range b.N {
			b.StopTimer()
			db := fresh()
			guardiansOff(db)
			b.StartTimer()
			records := 0
			run = syncOnce(b, db, &records)
		}
		b.ReportMetric(float64(run.Counts.Guardians.Create), "guardians/op")
		b.ReportMetric(float64(run.Counts.Changes()), "writes/op")
	})
	b.Run("file", func(b *testing.B) {
		// One synced directory, copied for every iteration.
		seed := fresh()
		guardiansOff(seed)
		records := 0
		syncOnce(b, seed, &records)
		var students []string
		err := seed.EachDirectoryUser(testTenant, func(u store.DirectoryUser) error {
			if u.Kind == store.KindStudent && u.Active() {
				students = append(students, u.SourcedID)
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
		seedPath := seed.Path()
		seed.Close()
		var text strings.Builder
		text.WriteString("student_id,guardian_id,first_name,last_name,email,mobile,home_phone,language\n")
		for i := range fileRows {
			fmt.Fprintf(&text, "%s,G-%06d,Pat,Doe %d,pat.doe%06d@example.org,(212) 874-%04d,,en\n", students[i%len(students)], i, i, i, i%10_000)
		}
		file := text.String()
		b.SetBytes(int64(len(file)))
		var run store.Run
		b.ResetTimer()
		for range b.N {
			b.StopTimer()
			path := filepath.Join(b.TempDir(), "copy.db")
			copyFile(b, seedPath, path)
			db, err := store.Open(path, store.Options{})
			if err != nil {
				b.Fatal(err)
			}
			e := &Engine{DB: db}
			b.StartTimer()
			res, err := e.RunGuardiansFile(context.Background(), testTenant, strings.NewReader(file), FileOptions{})
			b.StopTimer()
			if err != nil || res.Run.Status != store.RunSucceeded {
				b.Fatalf("upload: %v %+v %+v", err, res.Run, res.Run.GuardiansFile)
			}
			run = res.Run
			db.Close()
			b.StartTimer()
		}
		if gf := run.GuardiansFile; gf.Created != fileRows || gf.Errors != 0 {
			b.Fatalf("the file did %+v", gf)
		}
		b.ReportMetric(float64(run.GuardiansFile.Created), "guardians/op")
	})
}

func copyFile(b *testing.B, from, to string) {
	in, err := os.Open(from)
	if err != nil {
		b.Fatal(err)
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		b.Fatal(err)
	}
	if err := out.Close(); err != nil {
		b.Fatal(err)
	}
}
