package main

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/schoolstatus/rostersync/server"
	rsync "github.com/schoolstatus/rostersync/sync"
	"github.com/schoolstatus/rostersync/untrusted"
)

func serveCommand() *cobra.Command {
	var listen, hostKey string
	var hosts, allowNets, sftpPorts []string
	var idle, grace, budget time.Duration
	var limits serveLimits
	var backupDir string
	var backupKeep int
	cmd := &cobra.Command{
		Use:   "serve [--listen 127.0.0.1:2222] [--host-key PATH] [--full-pull-days N]",
		Short: "Serve the wizard over SSH to the keys on the access list",
		Long: `Serves the same wizard over SSH. Only public keys on the access list
(rostersync access add) get in; password and keyboard-interactive logins are
refused. The server holds the database while it runs; rostersync access,
db check and db backup still work through a socket next to the database
(PATH.sock). With --backup-dir it backs the database up after each day's
scheduled runs, keeping the last --backup-keep backups.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) (err error) {
			if err := rsync.CheckRunBudget(budget); err != nil {
				return fmt.Errorf("--time-budget: %w", err)
			}
			if err := checkFullPullDays(); err != nil {
				return err
			}
			ports, err := rsync.ParseSFTPPorts(sftpPorts)
			if err != nil {
				return err
			}
			if backupKeep < 1 {
				return fmt.Errorf("--backup-keep: must be 1 or more backups, got %d", backupKeep)
			}
			if backupDir != "" {
				if err := server.PrepareBackupDir(backupDir); err != nil {
					return err
				}
			}
			db, err := openWithDemo()
			if err != nil {
				return err
			}
			defer func() {
				// A stop that gave up on a stuck sync must not then wait
				// for it on the database: what is committed stays.
				if !errors.Is(err, server.ErrStopTimedOut) {
					db.Close()
				}
			}()
			ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGINT, syscall.SIGTERM)
			defer stop()
			dialer := classLink()
			reach, err := rosterReach(hosts, allowNets, dialer.Root())
			if err != nil {
				return err
			}
			reach.SFTPPorts = ports
			dialer.Reach = reach
			engine := newEngine(db, dialer)
			engine.RunBudget = budget
			srv, err := server.New(server.Options{
				Listen:        listen,
				HostKeyPath:   hostKey,
				DB:            db,
				IdleTimeout:   idle,
				ShutdownGrace: grace,
				AdminSocket:   server.AdminSocketPath(dbPath),
				Dialer:        dialer,
				Engine:        engine,
				BackupDir:     backupDir,
				BackupKeep:    backupKeep,

				HandshakeTimeout:   limits.handshake,
				MaxUnauthenticated: limits.unauthenticated,
				MaxSessionsPerKey:  limits.perKey,
				RateLimit:          limits.rate,
				RateBurst:          limits.burst,
			})
			if err != nil {
				return err
			}
			return srv.Serve(ctx)
		},
	}
	defKey := os.Getenv("ROSTERSYNC_HOST_KEY")
	if defKey == "" {
		defKey = "rostersync_host_ed25519"
	}
	cmd.Flags().StringVar(&listen, "listen", "127.0.0.1:2222", "address to listen on")
	cmd.Flags().StringVar(&hostKey, "host-key", defKey, "ed25519 host key file, created 0600 if missing (env ROSTERSYNC_HOST_KEY)")
	cmd.Flags().DurationVar(&idle, "idle-timeout", server.DefaultIdleTimeout, "close sessions idle this long (the draft is kept)")
	cmd.Flags().DurationVar(&grace, "shutdown-grace", server.DefaultShutdownGrace, "on SIGTERM, how long sessions get to keep their drafts and leave")
	cmd.Flags().StringSliceVar(&hosts, "roster-hosts", rsync.DefaultRosterHosts, "roster hosts the server may fetch from: names, IP addresses or *.domain (ClassLink's proxy host is always added)")
	cmd.Flags().StringSliceVar(&allowNets, "roster-allow-net", nil, "address ranges (CIDR) the server may reach although they are loopback, private, link-local or metadata addresses")
	cmd.Flags().StringSliceVar(&sftpPorts, "sftp-ports", []string{"22"}, "ports the server connects to for districts' SFTP guardians folders")
	timeBudgetFlag(cmd, &budget)
	fullPullFlag(cmd)
	limits.flags(cmd)
	cmd.Flags().StringVar(&backupDir, "backup-dir", "", "write a backup here after each day's scheduled runs (created 0700; see rostersync db backup)")
	cmd.Flags().IntVar(&backupKeep, "backup-keep", server.DefaultBackupKeep, "how many daily backups --backup-dir keeps")
	return cmd
}

// rosterReach is serve's outbound policy from its flags.
func rosterReach(hosts, allowNets []string, proxyRoot string) (*rsync.Reach, error) {
	var clean []string
	for _, h := range hosts {
		h, err := rsync.ParseRosterHost(h)
		if err != nil {
			return nil, err
		}
		clean = append(clean, h)
	}
	reach := &rsync.Reach{Hosts: rsync.RosterHosts(clean, proxyRoot)}
	for _, n := range allowNets {
		p, err := netip.ParsePrefix(strings.TrimSpace(n))
		if err != nil {
			return nil, fmt.Errorf("--roster-allow-net: %s is not an address range such as 10.20.0.0/16", untrusted.Quote(n))
		}
		reach.Allow = append(reach.Allow, p.Masked())
	}
	return reach, nil
}

// serveLimits are what one client may cost the server before logging in.
type serveLimits struct {
	handshake       time.Duration
	unauthenticated int
	perKey          int
	rate            float64
	burst           int
}

func (l *serveLimits) flags(cmd *cobra.Command) {
	cmd.Flags().DurationVar(&l.handshake, "handshake-timeout", server.DefaultHandshakeTimeout, "time a new connection has to finish the SSH handshake and log in")
	cmd.Flags().IntVar(&l.unauthenticated, "max-unauthenticated", server.DefaultMaxUnauthenticated, "connections that have not logged in yet allowed at once; more are closed")
	cmd.Flags().IntVar(&l.perKey, "max-sessions-per-key", server.DefaultMaxSessionsPerKey, "sessions one access key may have open at once; more are refused with a message")
	cmd.Flags().Float64Var(&l.rate, "rate-limit", server.DefaultRateLimit, "new connections (and, apart, sessions) per second one address may open on average; 0 turns the limit off")
	cmd.Flags().IntVar(&l.burst, "rate-burst", server.DefaultRateBurst, "connections (and sessions) one address may open at once before --rate-limit applies")
	cmd.PreRunE = func(*cobra.Command, []string) error {
		switch {
		case l.handshake <= 0:
			return fmt.Errorf("--handshake-timeout: must be a positive duration such as 30s, got %s", l.handshake)
		case l.unauthenticated < 1:
			return fmt.Errorf("--max-unauthenticated: must be 1 or more, got %d", l.unauthenticated)
		case l.perKey < 1:
			return fmt.Errorf("--max-sessions-per-key: must be 1 or more, got %d", l.perKey)
		case l.rate < 0:
			return fmt.Errorf("--rate-limit: must be 0 (off) or more, got %g", l.rate)
		case l.burst < 1:
			return fmt.Errorf("--rate-burst: must be 1 or more, got %d", l.burst)
		}
		if l.rate == 0 {
			l.rate = -1 // server.Options: negative is off, zero the default
		}
		return nil
	}
}
