package bridge

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"testing"
	"time"

	"drawbridge/internal/store"
	"drawbridge/internal/systemd"
)

// TestSocketActivatedListeners hands the bridge pre-opened listeners, as
// systemd socket activation does, and checks it serves on them.
func TestSocketActivatedListeners(t *testing.T) {
	tcpLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	httpLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{
		TCPAddr:   "127.0.0.1:1", // must be ignored
		HTTPAddr:  "127.0.0.1:1",
		Listeners: []systemd.Listener{{Name: "http", Listener: httpLn}, {Name: "drawpile", Listener: tcpLn}},
	}
	b, err := Start(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if b.TCPAddr() != tcpLn.Addr().String() || b.HTTPAddr() != httpLn.Addr().String() {
		t.Fatalf("bridge on %s/%s, want the activated %s/%s", b.TCPAddr(), b.HTTPAddr(), tcpLn.Addr(), httpLn.Addr())
	}
	resp, err := http.Get("http://" + b.HTTPAddr() + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("/healthz on the activated listener: %s", resp.Status)
	}
	conn, err := net.DialTimeout("tcp", b.TCPAddr(), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	hdr := make([]byte, 4)
	if _, err := io.ReadFull(conn, hdr); err != nil {
		t.Fatalf("no greeting on the activated Drawpile listener: %v", err)
	}
	if hdr[2] != 0 {
		t.Errorf("first message type %d, want 0 (ServerCommand greeting)", hdr[2])
	}
}

// TestSettingsApplyLive changes a setting in the store, as the admin API
// does, and checks the session server picks it up.
func TestSettingsApplyLive(t *testing.T) {
	st, err := store.Open(context.Background(), store.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	b, err := Start(context.Background(), Config{TCPAddr: "127.0.0.1:0", HTTPAddr: "127.0.0.1:0", Store: st},
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if got := b.Server().Settings().ServerTitle; got != "" {
		t.Fatalf("initial title %q", got)
	}
	if err := st.SetSetting("serverTitle", "Live Title"); err != nil {
		t.Fatal(err)
	}
	if err := st.SetSetting("sessionUserLimit", "7"); err != nil {
		t.Fatal(err)
	}
	b.syncSettings() // what the admin API's SettingsChanged hook calls
	got := b.Server().Settings()
	if got.ServerTitle != "Live Title" || got.SessionUserLimit != 7 {
		t.Errorf("settings not applied: title %q, user limit %d", got.ServerTitle, got.SessionUserLimit)
	}
	if !got.WebSockets {
		t.Error("WebSockets flag lost in the mapping")
	}
}
