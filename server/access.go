package server

import (
	"strings"

	gossh "golang.org/x/crypto/ssh"

	"github.com/schoolstatus/rostersync/store"
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
