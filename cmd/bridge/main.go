// Command bridge is the Drawbridge server: a Drawpile session server for
// desktop clients (TCP) and browsers (WebSocket), and the web client's host.
package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"drawbridge/internal/bridge"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "bridge:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stderr io.Writer) error {
	cfg, err := bridge.ParseFlags(args, stderr)
	if err != nil {
		return err
	}
	logger := slog.New(cfg.LogHandler(stderr))
	return bridge.Run(ctx, cfg, logger)
}
