package classlink

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
)

// Application is one district that shared the app, as listed by the proxy.
type Application struct {
	ID                     int64  // ClassLink's row id, 0 when absent
	TenantID               int64  // "District Tenant ID"
	ApplicationID          int64  // "District application_id"
	TenantName             string // the district's name
	Name                   string // the app's name
	OneRosterApplicationID string // opaque, e.g. "MoYPlyQWmG0%3D"
}

// flexInt is a JSON number or a numeric string.
type flexInt int64

func (f *flexInt) UnmarshalJSON(b []byte) error {
	s := strings.Trim(string(b), `"`)
	if s == "null" || s == "" {
		*f = 0
		return nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return fmt.Errorf("expected an integer, got %.30s", b)
	}
	*f = flexInt(n)
	return nil
}

// flexString is a JSON string, or a number kept as written.
type flexString string

func (f *flexString) UnmarshalJSON(b []byte) error {
	if len(b) >= 2 && b[0] == '"' {
		if bytes.IndexByte(b, '\\') < 0 {
			*f = flexString(b[1 : len(b)-1])
			return nil
		}
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*f = flexString(s)
		return nil
	}
	switch {
	case string(b) == "null":
		*f = ""
	case len(b) > 0 && (b[0] == '-' || '0' <= b[0] && b[0] <= '9'):
		*f = flexString(b)
	default:
		return fmt.Errorf("expected a string, got %.40s", b)
	}
	return nil
}

type applicationWire struct {
	ID                     flexInt    `json:"id"`
	TenantID               flexInt    `json:"tenant_id"`
	ApplicationID          flexInt    `json:"application_id"`
	TenantName             string     `json:"tenant_name"`
	Name                   string     `json:"name"`
	OneRosterApplicationID flexString `json:"oneroster_application_id"`
}

// Applications lists the districts that shared the app:
// GET {proxyRoot}/applications with cfg.Token as bearer (proxyRoot is
// DefaultProxyRoot for ClassLink). cfg's BaseURL and Mode are ignored; its
// HTTP client, timeouts and retry settings apply.
//
// ClassLink documents the answer as {"status":1,"applications":…}, showing a
// single object where a list is meant; a bare list, a list under
// "applications" and a single object there are all accepted.
func Applications(ctx context.Context, proxyRoot string, cfg Config) ([]Application, error) {
	cfg.Mode = ModeProxy
	cfg.BaseURL = strings.TrimSuffix(proxyRoot, "/") + "/"
	c, err := New(cfg)
	if err != nil {
		return nil, err
	}
	const op = "applications"
	var apps []Application
	err = c.retrying(ctx, op, -1, func() verdict {
		resp, err := c.send(ctx, c.endpoint("applications", nil))
		if err != nil {
			return transportVerdict(op, -1, err)
		}
		defer resp.close()
		if resp.StatusCode != http.StatusOK {
			return c.judge(op, -1, resp)
		}
		body, err := io.ReadAll(io.LimitReader(resp.body, 32<<20))
		if err != nil {
			if ctx.Err() != nil {
				return verdict{err: ctx.Err()}
			}
			return transportVerdict(op, -1, err)
		}
		apps, err = decodeApplications(body)
		if err != nil {
			return verdict{status: 200, err: malformed(op, -1, "", err)}
		}
		return verdict{}
	})
	if err != nil {
		return nil, err
	}
	return apps, nil
}

func decodeApplications(body []byte) ([]Application, error) {
	body = bytes.TrimSpace(body)
	var list []applicationWire
	switch {
	case len(body) > 0 && body[0] == '[':
		if err := json.Unmarshal(body, &list); err != nil {
			return nil, err
		}
	case len(body) > 0 && body[0] == '{':
		var env struct {
			Applications json.RawMessage `json:"applications"`
		}
		if err := json.Unmarshal(body, &env); err != nil {
			return nil, err
		}
		raw := bytes.TrimSpace(env.Applications)
		switch {
		case len(raw) == 0:
			return nil, errNoEnvelope{"applications"}
		case raw[0] == '[':
			if err := json.Unmarshal(raw, &list); err != nil {
				return nil, err
			}
		case raw[0] == '{':
			var one applicationWire
			if err := json.Unmarshal(raw, &one); err != nil {
				return nil, err
			}
			list = []applicationWire{one}
		default:
			return nil, fmt.Errorf("\"applications\" is neither a list nor an object")
		}
	default:
		return nil, fmt.Errorf("the response is not JSON")
	}
	out := make([]Application, 0, len(list))
	for i, w := range list {
		if w.ApplicationID <= 0 || w.TenantID <= 0 {
			return nil, fmt.Errorf("applications[%d] lacks a positive tenant_id or application_id", i)
		}
		out = append(out, Application{int64(w.ID), int64(w.TenantID), int64(w.ApplicationID), w.TenantName, w.Name, string(w.OneRosterApplicationID)})
	}
	return out, nil
}
