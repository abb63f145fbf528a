package server

import (
	"os"
	"testing"

	"github.com/schoolstatus/rostersync/store/storetest"
)

// Secrets are sealed with a key of the tests' own.
func TestMain(m *testing.M) { os.Exit(storetest.WithSecretsKey(m.Run)) }
