//go:build !linux

package server

import "net"

// peerAccount is the server's own account where the kernel does not name
// a unix socket's peer: the socket is 0600, so only that account gets in.
func peerAccount(net.Conn) string { return serverAccount() }
