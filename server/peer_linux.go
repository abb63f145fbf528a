package server

import (
	"net"
	"os/user"
	"strconv"
	"syscall"
)

// peerAccount is the account on the other end of a unix socket, from the
// kernel (SO_PEERCRED), by name when it has one.
func peerAccount(c net.Conn) string {
	uc, ok := c.(*net.UnixConn)
	if !ok {
		return serverAccount()
	}
	raw, err := uc.SyscallConn()
	if err != nil {
		return serverAccount()
	}
	var cred *syscall.Ucred
	if err := raw.Control(func(fd uintptr) {
		cred, err = syscall.GetsockoptUcred(int(fd), syscall.SOL_SOCKET, syscall.SO_PEERCRED)
	}); err != nil || cred == nil {
		return serverAccount()
	}
	uid := strconv.FormatUint(uint64(cred.Uid), 10)
	if u, err := user.LookupId(uid); err == nil && u.Username != "" {
		return u.Username
	}
	return "uid " + uid
}
