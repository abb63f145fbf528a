package classlink

import "net/http"

// authorize adds the Authorization header for the client's mode. The header
// is the only place a secret or token ever goes.
func (c *Client) authorize(req *http.Request) error {
	switch c.cfg.Mode {
	case ModeProxy:
		req.Header.Set("Authorization", "Bearer "+c.cfg.Token)
		return nil
	default:
		h, err := c.signer.Authorization(req.Method, req.URL, nil,
			formatUnix(c.cfg.Now().Unix()), c.cfg.Nonce())
		if err != nil {
			return err
		}
		req.Header.Set("Authorization", h)
		return nil
	}
}
