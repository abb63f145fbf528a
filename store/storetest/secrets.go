package storetest

import (
	"os"
	"path/filepath"

	"github.com/schoolstatus/rostersync/store"
)

// WithSecretsKey runs a package's tests with store.SecretsKeyEnv naming a
// key file in a temporary folder of their own (unless it is set already,
// as in a re-executed test binary or a child process), so that no test
// seals secrets with, or creates, the person's real key:
//
//	func TestMain(m *testing.M) { os.Exit(storetest.WithSecretsKey(m.Run)) }
func WithSecretsKey(run func() int) int {
	if os.Getenv(store.SecretsKeyEnv) != "" {
		return run()
	}
	dir, err := os.MkdirTemp("", "rostersync-secrets-key")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	os.Setenv(store.SecretsKeyEnv, filepath.Join(dir, "secrets.key"))
	return run()
}
