package server

import (
	"slices"
	"strings"

	gossh "golang.org/x/crypto/ssh"

	"github.com/schoolstatus/rostersync/store"
	"github.com/schoolstatus/rostersync/wizard"
)

// ParseAccessKey builds an access list entry from what an operator typed:
// the key must be an OpenSSH public key line ("ssh-ed25519 AAAA… comment").
func ParseAccessKey(name, keyLine, role string, districts []int64) (store.AccessKey, error) {
	pub, _, _, _, err := gossh.ParseAuthorizedKey([]byte(strings.TrimSpace(keyLine)))
	if err != nil {
		return store.AccessKey{}, &store.FieldError{Field: "key", Msg: `must be an OpenSSH public key line such as "ssh-ed25519 AAAA… you@laptop" (the .pub file, never the private key)`}
	}
	k := store.AccessKey{
		Name:        strings.TrimSpace(name),
		Key:         strings.TrimSpace(string(gossh.MarshalAuthorizedKey(pub))),
		Fingerprint: gossh.FingerprintSHA256(pub),
		Role:        role,
		Districts:   districts,
	}
	return k, k.Validate()
}

// recheckAccess holds every open session to the access list as it is now:
// the sessions of a removed key end (keeping their drafts), and those of a
// key whose role or districts changed lose, at once, what is no longer
// allowed. The admin socket calls it after each change.
func (s *Server) recheckAccess() {
	keys, err := s.opts.DB.Access()
	if err != nil {
		s.log.Error("access list unreadable; open sessions were not checked against it", "err", err)
		return
	}
	for _, ls := range s.sessionsNow() {
		s.recheck(ls, keys)
	}
}

func (s *Server) recheck(ls *session, keys []store.AccessKey) {
	had := ls.accessKey()
	i := slices.IndexFunc(keys, func(k store.AccessKey) bool { return k.Fingerprint == had.Fingerprint })
	switch {
	case i < 0 || keys[i].Name != had.Name:
		ls.log.Warn("access removed: ending the session; its draft is kept")
		ls.end(endRevoked)
	case keys[i].Role != had.Role || !slices.Equal(keys[i].Districts, had.Districts):
		now := keys[i]
		ls.mu.Lock()
		ls.key = now
		ls.mu.Unlock()
		ls.log.Info("access changed: the session keeps only what the key now allows", "role", now.Role, "districts", now.Districts)
		go ls.p.Send(wizard.AccessChangedMsg{CanOpen: ls.canOpen, Role: now.Role})
	}
}
