package guardians

import (
	"encoding/csv"
	"io"
)

// WriteSample writes a small guardians.csv showing every column: a guardian
// of two students (one row per student), one reached only by mobile, one
// only by email with a home phone. students are the student sourcedIds to
// use (a district's own make a file that can be uploaded as it is); with
// fewer than three, placeholders fill in.
func WriteSample(w io.Writer, students []string) error {
	ids := []string{"student-1001", "student-1002", "student-1003"}
	for i := range ids {
		if i < len(students) && students[i] != "" {
			ids[i] = students[i]
		}
	}
	rows := [][]string{
		Columns[:],
		{ids[0], "guardian-5001", "Maria", "Lopez", "maria.lopez@example.org", "(212) 874-1234", "", "es"},
		{ids[1], "guardian-5001", "Maria", "Lopez", "maria.lopez@example.org", "(212) 874-1234", "", "es"},
		{ids[1], "guardian-5002", "James", "Lopez", "", "+1 415 871 2233", "", "en"},
		{ids[2], "guardian-5003", "Anh", "Nguyen", "anh.nguyen@example.org", "", "312-555-0199", "vi"},
	}
	cw := csv.NewWriter(w)
	if err := cw.WriteAll(rows); err != nil {
		return err
	}
	return cw.Error()
}
