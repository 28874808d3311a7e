// Package bridge wires the Drawbridge server together: listeners, HTTP
// routes, static files of the web client, and graceful shutdown. It owns no
// session logic (see internal/session) and no rendering.
package bridge

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"drawbridge/web"
)

// Run starts the bridge and blocks until ctx is cancelled, then shuts down
// gracefully.
func Run(ctx context.Context, cfg Config, logger *slog.Logger) error {
	ln, err := net.Listen("tcp", cfg.HTTP)
	if err != nil {
		return fmt.Errorf("listen http: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("/", http.FileServerFS(web.FS()))
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	logger.Info("http listening", "addr", ln.Addr().String())
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve http: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("shutdown http: %w", err)
	}
	return nil
}
