package server

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"slices"
	"time"

	"charm.land/log/v2"

	"github.com/schoolstatus/rostersync/guardians"
	"github.com/schoolstatus/rostersync/store"
	rsync "github.com/schoolstatus/rostersync/sync"
	"github.com/schoolstatus/rostersync/wizard"
)

// The admin socket lets `rostersync access add|list|remove` change the
// access list, and `rostersync db check|backup` check and back up the
// database, while `rostersync serve` holds it (bbolt allows one process).
// It is a unix socket created 0600 next to the database, so only the
// account that runs the server can use it. One JSON request per
// connection, one JSON answer.

// AdminRequest is an access list change, a guardians upload or a database
// task sent to a running server.
type AdminRequest struct {
	Op string `json:"op"` // "add", "update", "list", "remove", "guardians_upload", "check", "backup"
	// Key is the key to add: its name, key line, role and districts; the
	// rest (fingerprint, who added it, when) the receiver works out. For
	// "update", the new role (empty: unchanged) and districts (nil:
	// unchanged).
	Key  store.AccessKey `json:"key,omitempty"`
	Name string          `json:"name,omitempty"` // "update", "remove"
	// Guardians is a guardians file upload (admin_guardians.go).
	Guardians *GuardiansUpload `json:"guardians,omitempty"`
	// Backup: the file to write (an absolute path, written by the
	// server's account) and whether to replace an existing one.
	Path  string `json:"path,omitempty"`
	Force bool   `json:"force,omitempty"`
}

// AdminResponse is the server's answer.
type AdminResponse struct {
	Keys      []store.AccessKey      `json:"keys,omitempty"`
	Guardians *GuardiansUploadResult `json:"guardians,omitempty"`
	Check     *store.CheckReport     `json:"check,omitempty"`
	Backup    *store.BackupInfo      `json:"backup,omitempty"`
	Error     string                 `json:"error,omitempty"`
	Field     string                 `json:"field,omitempty"`
}

// adminTaskTime bounds a database task over the socket: checking or
// copying a large database takes minutes, an access change a moment.
const adminTaskTime = time.Hour

func dbTask(op string) bool { return op == "check" || op == "backup" }

// DatabaseTask runs a check or a backup on the server's database handle.
func DatabaseTask(db *store.DB, req AdminRequest) (AdminResponse, error) {
	switch req.Op {
	case "check":
		r := db.Check()
		return AdminResponse{Check: &r}, nil
	case "backup":
		if !filepath.IsAbs(req.Path) {
			return AdminResponse{}, fmt.Errorf("backup: the server needs an absolute path, got %q", req.Path)
		}
		info, err := db.Backup(req.Path, req.Force)
		return AdminResponse{Backup: &info}, err
	}
	return AdminResponse{}, fmt.Errorf("unknown admin operation %q", req.Op)
}

// maxAdminRequest bounds one request: a guardians file of the size limit
// in base64, and room for the rest.
const maxAdminRequest = guardians.MaxFileBytes/3*4 + 1<<20

// AdminSocketPath is where the server listens for a database at dbPath.
func AdminSocketPath(dbPath string) string { return dbPath + ".sock" }

// AccessChange applies req to db on behalf of by (the account making the
// change); the CLI (when it can open the database) and the admin socket
// (when the server holds it) share this. A key's fingerprint is always
// worked out here from the key itself, never taken from the request. It
// returns the keys added, changed or removed, or the whole list.
func AccessChange(db *store.DB, req AdminRequest, by string) ([]store.AccessKey, error) {
	switch req.Op {
	case "add":
		k, err := ParseAccessKey(req.Key.Name, req.Key.Key, req.Key.Role, req.Key.Districts)
		if err != nil {
			return nil, err
		}
		k.AddedBy = by
		k, err = db.AddAccess(k)
		return []store.AccessKey{k}, err
	case "update":
		k, err := db.UpdateAccess(req.Name, func(k *store.AccessKey) {
			if req.Key.Role != "" {
				k.Role = req.Key.Role
			}
			if req.Key.Role == store.RoleSpecialist {
				k.Districts = nil
			}
			if req.Key.Districts != nil {
				k.Districts = req.Key.Districts
			}
		})
		return []store.AccessKey{k}, err
	case "remove":
		keys, err := db.Access()
		if err != nil {
			return nil, err
		}
		i := slices.IndexFunc(keys, func(k store.AccessKey) bool { return k.Name == req.Name })
		if err := db.RemoveAccess(req.Name); err != nil || i < 0 {
			return nil, err
		}
		return keys[i : i+1], nil
	case "list":
		return db.Access()
	}
	return nil, fmt.Errorf("unknown admin operation %q", req.Op)
}

// serveAdmin answers requests on path until stop; changed is called after
// every access list change.
func serveAdmin(ctx context.Context, path string, db *store.DB, engine *rsync.Engine, logger *log.Logger, changed func()) (stop func(), err error) {
	if c, err := net.DialTimeout("unix", path, 200*time.Millisecond); err == nil {
		c.Close()
		return nil, fmt.Errorf("another rostersync server answers on %s", path)
	}
	os.Remove(path) // a stale socket from a killed server
	l, err := net.Listen("unix", path)
	if err != nil {
		return nil, err
	}
	if err := os.Chmod(path, 0o600); err != nil {
		l.Close()
		return nil, err
	}
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go answerAdmin(ctx, c, db, engine, logger, changed)
		}
	}()
	return func() { l.Close(); os.Remove(path) }, nil
}

func answerAdmin(ctx context.Context, c net.Conn, db *store.DB, engine *rsync.Engine, logger *log.Logger, changed func()) {
	defer c.Close()
	// Long enough to receive a guardians file of the size limit; the
	// socket is the server account's alone.
	c.SetDeadline(time.Now().Add(2 * time.Minute))
	var req AdminRequest
	dec := json.NewDecoder(bufio.NewReader(io.LimitReader(c, maxAdminRequest)))
	if err := dec.Decode(&req); err != nil {
		json.NewEncoder(c).Encode(AdminResponse{Error: "bad request: " + err.Error()})
		return
	}
	if req.Op == opGuardiansUpload {
		resp := answerGuardians(ctx, c, engine, req)
		if resp.Guardians != nil && resp.Guardians.Run != nil {
			r := resp.Guardians.Run
			logger.Info("guardians file processed", "district", r.TenantID, "run", r.ID, "mode", r.Mode, "status", r.Status)
		}
		json.NewEncoder(c).Encode(resp)
		return
	}
	if dbTask(req.Op) {
		c.SetDeadline(time.Now().Add(adminTaskTime))
		resp, err := DatabaseTask(db, req)
		if err != nil {
			resp.Error = err.Error()
		}
		logger.Info("database task", "op", req.Op, "path", req.Path, "by", peerAccount(c), "err", resp.Error)
		json.NewEncoder(c).Encode(resp)
		return
	}
	// Who asked is the account on the other end of the socket, as the
	// kernel tells it; nothing the request says.
	by := peerAccount(c)
	keys, err := AccessChange(db, req, by)
	resp := AdminResponse{Keys: keys}
	if err != nil {
		resp = errorAnswer(resp, err)
	} else if req.Op != "list" {
		for _, k := range keys {
			logger.Info("access list changed", "op", req.Op, "name", k.Name, "fingerprint", k.Fingerprint, "role", k.Role, "districts", k.Districts, "by", by)
		}
		changed()
	}
	json.NewEncoder(c).Encode(resp)
}

// errorAnswer is resp saying err; a *store.FieldError keeps its field, so Ask
// gives the CLI the same error back.
func errorAnswer(resp AdminResponse, err error) AdminResponse {
	resp.Error = err.Error()
	var fe *store.FieldError
	if errors.As(err, &fe) {
		resp.Field, resp.Error = fe.Field, fe.Msg
	}
	return resp
}

// AskServer sends an access change to the server listening on path.
func AskServer(path string, req AdminRequest) ([]store.AccessKey, error) {
	resp, err := Ask(path, req)
	return resp.Keys, err
}

// Ask sends req to the server listening on path and returns its answer.
func Ask(path string, req AdminRequest) (AdminResponse, error) {
	c, err := net.DialTimeout("unix", path, 2*time.Second)
	if err != nil {
		return AdminResponse{}, err
	}
	defer c.Close()
	wait := 10 * time.Second
	switch {
	case req.Op == opGuardiansUpload:
		wait = guardiansUploadTime
	case dbTask(req.Op):
		wait = adminTaskTime
	}
	c.SetDeadline(time.Now().Add(wait))
	if err := json.NewEncoder(c).Encode(req); err != nil {
		return AdminResponse{}, err
	}
	var resp AdminResponse
	if err := json.NewDecoder(c).Decode(&resp); err != nil {
		return AdminResponse{}, fmt.Errorf("reading the server's answer: %w", err)
	}
	if resp.Error != "" {
		if resp.Field != "" {
			return resp, &store.FieldError{Field: resp.Field, Msg: resp.Error}
		}
		return resp, errors.New(resp.Error)
	}
	return resp, nil
}

// serverAccount is the account the server runs as: the socket is 0600, so
// it is also who may use it.
func serverAccount() string { return wizard.LocalActor().User }
