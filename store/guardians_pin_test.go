package store

import (
	"errors"
	"testing"
)

// M6: an SFTP folder is saved only with its host key pinned, whatever the
// path (every one saves through SaveEdit); a district saved before the
// rule keeps saving its other settings until its folder changes.
func TestSaveRequiresThePinnedHostKeyOfAnSFTPFolder(t *testing.T) {
	db := openTemp(t)
	d := NewDistrict(4021, 5, "Springfield USD")
	d.Settings.ManageGuardians = false
	d.Guardians = GuardiansSource{Source: GuardiansSFTP, SFTP: SFTPFolder{Host: "sftp.example.org", User: "u", Password: "pw"}}
	_, _, err := db.SaveDistrict(d, 0, ana, nil)
	var fe *FieldError
	if !errors.As(err, &fe) || fe.Field != "guardians.sftp.host_key" {
		t.Fatalf("unpinned folder saved: %v", err)
	}
	if _, err := db.District(4021); err == nil {
		t.Fatal("the refused save wrote the district")
	}
	data := []byte(`{"tenant_id": 4021, "application_id": 5, "settings": {"enable_daily_sync": false, "manage_guardians": false, "unarchive_reappearing_classrooms": true,
 "update_active_user_contacts": false, "deletion_threshold_percent": 10, "daily_start": "02:00", "time_zone": "America/Chicago"},
 "permissions": {"district_admin": [], "school_admin": [], "teacher": [], "support_staff": []},
 "guardians": {"source": "sftp", "sftp": {"host": "sftp.example.org", "user": "u", "password": "pw"}}}`)
	if _, _, err := db.ImportConfig(4021, data, ana, ImportOptions{Specialist: true}); !errors.As(err, &fe) || fe.Field != "guardians.sftp.host_key" {
		t.Fatalf("import of an unpinned folder: %v", err)
	}
	d.Guardians.SFTP.HostKey = "SHA256:uNiVztksCsDhcc0u9e8BujQXVUpKZIDTMczCvj3tD2s"
	saved, _, err := db.SaveDistrict(d, 0, ana, nil)
	if err != nil {
		t.Fatal(err)
	}
	// A pinned key cannot be dropped, nor another folder saved without one.
	for _, host := range []string{"sftp.example.org", "sftp2.example.org"} {
		unpinned := saved
		unpinned.Guardians.SFTP.HostKey = ""
		unpinned.Guardians.SFTP.Host = host
		if _, _, err := db.SaveDistrict(unpinned, saved.Revision, ana, nil); !errors.As(err, &fe) || fe.Field != "guardians.sftp.host_key" {
			t.Fatalf("%s saved unpinned: %v", host, err)
		}
	}
}
