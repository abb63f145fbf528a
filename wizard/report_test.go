package wizard

import (
	"bytes"
	"io/fs"
	"strings"
	"testing"

	"github.com/schoolstatus/rostersync/store"
)

// M10: config show prints everything config import accepts (the
// guardians source and the schools' IDs among it) and says when the
// district is the demo; no secret is printed.
func TestConfigTextShowsTheGuardiansSourceAndTheDemo(t *testing.T) {
	d := store.NewDistrict(4021, 5, "Springfield USD")
	d.Settings.ManageGuardians = false
	d.Schools = []string{"org-1", "org-2"}
	d.Guardians = store.GuardiansSource{Source: store.GuardiansSFTP, Encoding: store.EncodingISO88591, Abandon: true,
		SFTP: store.SFTPFolder{Host: "sftp.example.org", Port: 2022, User: "washoe", Password: "pa55word", Folder: "/in", HostKey: "SHA256:uNiVztksCsDhcc0u9e8BujQXVUpKZIDTMczCvj3tD2s"}}
	var out bytes.Buffer
	WriteConfigText(&out, d)
	text := out.String()
	for _, want := range []string{"Guardians source", "Source       sftp", "Encoding     ISO-8859-1", "Abandon      on",
		`SFTP server  sftp.example.org port 2022, user "washoe"`, "Folder       /in", "Password     ********", "Private key  none",
		"Host key     SHA256:uNiVztksCsDhcc0u9e8BujQXVUpKZIDTMczCvj3tD2s", "Schools connected: 2\n  org-1\n  org-2"} {
		if !strings.Contains(text, want) {
			t.Errorf("config show lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "pa55word") || strings.Contains(text, "demo") {
		t.Fatalf("config show:\n%s", text)
	}
	demo := store.NewDemoDistrict("org-1")
	out.Reset()
	WriteConfigText(&out, demo)
	if text := out.String(); !strings.Contains(text, "The built-in demo district") || !strings.Contains(text, "the built-in demo roster (no ClassLink credentials needed)") || strings.Contains(text, "not set up") {
		t.Fatalf("demo's config show:\n%s", text)
	}
}

// A local file that cannot be opened is explained without Go's "open
// PATH:" wording.
func TestLocalFileProblemsInAPersonsWords(t *testing.T) {
	dir := t.TempDir()
	_, err := readLocal(dir + "/missing.csv")
	if err == nil || !strings.Contains(err.Error(), "missing.csv does not exist (or its folder does not): check the path") || strings.Contains(err.Error(), "open ") {
		t.Fatalf("missing file: %v", err)
	}
	if err := fileProblem(dir+"/g.csv", &fs.PathError{Op: "open", Path: dir + "/g.csv", Err: fs.ErrExist}); !strings.Contains(err.Error(), "already exists, and a sample is never written over a file") {
		t.Fatalf("existing file: %v", err)
	}
}
