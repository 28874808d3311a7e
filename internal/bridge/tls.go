package bridge

import (
	"crypto/tls"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"
)

// certLoader serves the certificate and reloads it when either file's
// modification time changes (hot renewal, server.md §7.2). If a reload
// fails, the previous certificate stays in use.
type certLoader struct {
	certFile, keyFile string
	logger            *slog.Logger

	mu      sync.Mutex // guards below
	cert    *tls.Certificate
	modCert time.Time
	modKey  time.Time
}

func newCertLoader(certFile, keyFile string, logger *slog.Logger) (*certLoader, error) {
	if certFile == "" || keyFile == "" {
		return nil, fmt.Errorf("tls: both a certificate and a key are needed")
	}
	l := &certLoader{certFile: certFile, keyFile: keyFile, logger: logger}
	if err := l.reload(); err != nil {
		return nil, err
	}
	return l, nil
}

func mtime(path string) time.Time {
	fi, err := os.Stat(path)
	if err != nil {
		return time.Time{}
	}
	return fi.ModTime()
}

func (l *certLoader) reload() error {
	mc, mk := mtime(l.certFile), mtime(l.keyFile)
	cert, err := tls.LoadX509KeyPair(l.certFile, l.keyFile)
	if err != nil {
		return fmt.Errorf("tls: load certificate: %w", err)
	}
	l.mu.Lock()
	l.cert, l.modCert, l.modKey = &cert, mc, mk
	l.mu.Unlock()
	return nil
}

func (l *certLoader) get(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	mc, mk := mtime(l.certFile), mtime(l.keyFile)
	l.mu.Lock()
	changed := !mc.Equal(l.modCert) || !mk.Equal(l.modKey)
	l.mu.Unlock()
	if changed {
		if err := l.reload(); err != nil {
			l.logger.Warn("certificate reload failed, keeping the old one", "err", err)
			l.mu.Lock()
			l.modCert, l.modKey = mc, mk // do not retry on every handshake
			l.mu.Unlock()
		} else {
			l.logger.Info("certificate reloaded")
		}
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.cert, nil
}
