package e2e

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"drawbridge/internal/bridge"
	"drawbridge/internal/client"
	"drawbridge/internal/client/wsconn"
)

// selfSigned writes a certificate for 127.0.0.1 and its key to dir and
// returns a client TLS config that trusts it.
func selfSigned(t *testing.T, dir string) (certFile, keyFile string, conf *tls.Config) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "drawbridge test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, &tls.Config{RootCAs: pool, ServerName: "127.0.0.1", MinVersion: tls.VersionTLS12}
}

// TestTLS: with a certificate, TCP clients must STARTTLS (greeting flags
// TLS and SECURE, error tlsRequired otherwise), and WebSocket clients use
// wss://; both end up in the same session.
func TestTLS(t *testing.T) {
	t.Parallel()
	certFile, keyFile, conf := selfSigned(t, t.TempDir())
	e := newEnv(t, func(c *bridge.Config) { c.TLSCert, c.TLSKey = certFile, keyFile })

	host := e.dial(tcp)
	if _, err := host.Login(e.ctx, client.LoginOptions{TLS: conf, Ident: client.IdentOptions{Name: "Alice"}, Host: &client.HostOptions{Alias: "tls"}}); err != nil {
		t.Fatalf("host over STARTTLS: %v", err)
	}
	if !host.HasFlag("TLS") || !host.HasFlag("SECURE") {
		t.Errorf("greeting flags %v, want TLS and SECURE", host.Greeting().Flags)
	}
	if _, ok := host.Transport().(*client.TCP).Conn().(*tls.Conn); !ok {
		t.Errorf("transport not upgraded to TLS")
	}
	if err := host.Initialize(e.ctx, snapshot(t, host.UserID())); err != nil {
		t.Fatal(err)
	}

	// Skipping STARTTLS is refused.
	plain := e.dial(tcp)
	if _, err := plain.ReadGreeting(e.ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := plain.Ident(e.ctx, client.IdentOptions{Name: "Bob"}); client.ErrorCode(err) != client.CodeTLSRequired {
		t.Errorf("ident without TLS: %v, want tlsRequired", err)
	}

	// wss:// on the HTTP listener, no TLS flag in its greeting.
	tr, err := wsconn.Dial(e.ctx, "wss://"+e.httpAddr+"/ws", wsconn.DialOptions{
		HTTPClient: &http.Client{Transport: &http.Transport{TLSClientConfig: conf}},
	})
	if err != nil {
		t.Fatalf("wss dial: %v", err)
	}
	t.Cleanup(func() { tr.Close() })
	carol := client.New(tr, client.Options{Info: client.DefaultClientInfo(newSystemID())})
	if _, err := carol.Login(e.ctx, client.LoginOptions{Ident: client.IdentOptions{Name: "Carol"}, Join: &client.JoinOptions{Session: "tls"}}); err != nil {
		t.Fatalf("join over wss: %v", err)
	}
	if carol.HasFlag("TLS") {
		t.Errorf("WebSocket greeting advertises TLS")
	}
	if err := carol.WaitCaughtUp(e.ctx, nil); err != nil {
		t.Fatal(err)
	}
	e.draw(carol, 1)
	e.until(host, "Carol's PenUp", msgOf(140, carol.UserID()))
}
