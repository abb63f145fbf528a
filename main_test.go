package main

import (
	"os"
	"testing"

	"github.com/schoolstatus/rostersync/store/storetest"
)

// Secrets are sealed with a key of the tests' own; the binaries the tests
// start inherit it.
func TestMain(m *testing.M) { os.Exit(storetest.WithSecretsKey(m.Run)) }
