package server

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"time"

	"github.com/schoolstatus/rostersync/guardians"
	"github.com/schoolstatus/rostersync/store"
	rsync "github.com/schoolstatus/rostersync/sync"
)

// `rostersync guardians upload` run on the server while `serve` holds the
// database goes through the admin socket (only the server's account can
// use it) and is processed by the server's own engine, so it never runs
// beside a sync of the same district.

// GuardiansUpload is a guardians file sent to a running server.
type GuardiansUpload struct {
	TenantID int64  `json:"tenant_id"`
	Name     string `json:"name"`
	DryRun   bool   `json:"dry_run"`
	Abandon  bool   `json:"abandon"`
	Encoding string `json:"encoding,omitempty"`
	Data     []byte `json:"data"`
	// WantResult asks for the result file.
	WantResult bool `json:"want_result,omitempty"`
}

// GuardiansRow is one row of a processed file as the CLI summarises it.
type GuardiansRow struct {
	Line       int    `json:"line"`
	Action     string `json:"action"`
	GuardianID string `json:"guardian_id"`
	StudentID  string `json:"student_id"`
	Result     string `json:"result"`
}

// GuardiansUploadResult is the server's answer: the recorded run, the
// notable rows (errors first) and, when asked, the result file.
type GuardiansUploadResult struct {
	Run       *store.Run     `json:"run,omitempty"`
	Rows      []GuardiansRow `json:"rows,omitempty"`
	RowsTotal int            `json:"rows_total"`
	Result    []byte         `json:"result,omitempty"`
}

// guardiansUploadTime bounds one upload through the socket: a file of the
// size limit takes well under a minute on the machines DESIGN §7 plans for.
const guardiansUploadTime = 30 * time.Minute

// NotableRows is what a summary lists of a processed file: up to n rows,
// errors first.
func NotableRows(f *guardians.File, n int) []GuardiansRow {
	var out []GuardiansRow
	for _, i := range f.Notable(n) {
		r := &f.Rows[i]
		action := r.Action
		if !r.OK() {
			action = guardians.ActionError
		}
		out = append(out, GuardiansRow{Line: r.Line, Action: action, GuardianID: r.GuardianID, StudentID: r.StudentID, Result: r.Result()})
	}
	return out
}

// ProcessGuardians runs upload up with engine, its file read from in (or
// up.Data when in is nil), and sums it up for the CLI: the CLI (when it
// holds the database) and the admin socket (when the server does) share it.
func ProcessGuardians(ctx context.Context, engine *rsync.Engine, up GuardiansUpload, in io.Reader, progress func(rsync.Progress)) (GuardiansUploadResult, error) {
	res, err := engine.RunGuardiansFile(ctx, up.TenantID, in, rsync.FileOptions{Data: up.Data,
		DryRun: up.DryRun, Abandon: up.Abandon, Name: up.Name, Encoding: up.Encoding, Progress: progress})
	if err != nil {
		return GuardiansUploadResult{}, err
	}
	out := GuardiansUploadResult{Run: &res.Run}
	if res.File != nil {
		out.Rows, out.RowsTotal = NotableRows(res.File, summaryRows), len(res.File.Rows)
		if up.WantResult {
			var b bytes.Buffer
			if err := res.File.WriteResult(&b); err != nil {
				return out, err
			}
			out.Result = b.Bytes()
		}
	}
	return out, nil
}

func answerGuardians(ctx context.Context, c net.Conn, engine *rsync.Engine, req AdminRequest) AdminResponse {
	if engine == nil || req.Guardians == nil {
		return AdminResponse{Error: "this server does not process guardians files"}
	}
	c.SetDeadline(time.Now().Add(guardiansUploadTime))
	res, err := ProcessGuardians(ctx, engine, *req.Guardians, nil, nil)
	if err != nil {
		return errorAnswer(AdminResponse{}, err)
	}
	return AdminResponse{Guardians: &res}
}

// summaryRows is how many rows the CLI lists after an upload.
const summaryRows = 10

// UploadGuardians sends up to the server listening on path.
func UploadGuardians(path string, up GuardiansUpload) (GuardiansUploadResult, error) {
	resp, err := Ask(path, AdminRequest{Op: opGuardiansUpload, Guardians: &up})
	if err != nil {
		return GuardiansUploadResult{}, err
	}
	if resp.Guardians == nil {
		return GuardiansUploadResult{}, errors.New("the server sent no result")
	}
	return *resp.Guardians, nil
}

// opGuardiansUpload is the admin operation of an upload.
const opGuardiansUpload = "guardians_upload"
