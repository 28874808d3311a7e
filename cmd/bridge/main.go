// Command bridge is the Drawbridge server: a Drawpile session server for
// desktop clients (TCP) and browsers (WebSocket), and the web client's host.
// Flags are documented by `bridge -h`; see README.md.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"drawbridge/internal/bridge"
	"drawbridge/internal/systemd"
)

// stdout receives --generate-crypt-key's key (a variable for tests).
var stdout io.Writer = os.Stdout

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "bridge:", err)
		os.Exit(1)
	}
}

// run parses flags, reads the environment variables drawpile-srv and
// systemd define, and runs the bridge until ctx ends.
func run(ctx context.Context, args []string, getenv func(string) string, stderr io.Writer) error {
	cfg, err := bridge.ParseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return nil // usage already printed
	}
	if err != nil {
		return err
	}
	if cfg.GenerateCryptKey {
		key, err := bridge.GenerateCryptKey()
		if err != nil {
			return err
		}
		_, err = fmt.Fprintln(stdout, key)
		return err
	}
	if cfg.Admin.Auth == "" {
		cfg.Admin.Auth = getenv("DRAWPILESRV_WEB_ADMIN_AUTH")
	}
	pid := os.Getpid()
	cfg.Notifier = systemd.NewNotifier(getenv("NOTIFY_SOCKET"))
	if cfg.WatchdogInterval, err = systemd.WatchdogInterval(getenv("WATCHDOG_USEC"), getenv("WATCHDOG_PID"), pid); err != nil {
		return err
	}
	cfg.Listeners, err = systemd.Listeners(getenv("LISTEN_PID"), getenv("LISTEN_FDS"), getenv("LISTEN_FDNAMES"), pid)
	if err != nil && !errors.Is(err, systemd.ErrNotActivated) {
		return err
	}
	logger := slog.New(cfg.LogHandler(stderr))
	return bridge.Run(ctx, cfg, logger)
}
