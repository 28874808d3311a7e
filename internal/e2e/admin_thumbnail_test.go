package e2e

import (
	"bytes"
	"encoding/base64"
	"image/png"
	"testing"

	"drawbridge/internal/client"
)

// TestAdminThumbnail: GET /api/sessions/:id/thumbnail answers drawpile-srv's
// {data, at} shape with a PNG of the session's canvas, rendered by the
// bridge's server-side canvas.
func TestAdminThumbnail(t *testing.T) {
	e := newAdminEnv(t, "admin", "pw")
	host := e.login("Painter", client.LoginOptions{Host: &client.HostOptions{Alias: "thumbs"}})
	for _, f := range snapshot(t, host.UserID()) {
		if err := host.SendFrame(e.ctx, f); err != nil {
			t.Fatal(err)
		}
	}
	var got struct {
		Data string `json:"data"`
		At   string `json:"at"`
	}
	if st, _ := e.call("GET", "/api/sessions/thumbs/thumbnail", nil, &got); st != 200 {
		t.Fatalf("thumbnail: status %d", st)
	}
	raw, err := base64.StdEncoding.DecodeString(got.Data)
	if err != nil {
		t.Fatalf("data is not base64: %v", err)
	}
	img, err := png.Decode(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("data is not a PNG: %v", err)
	}
	if b := img.Bounds(); b.Dx() == 0 || b.Dy() == 0 || got.At == "" {
		t.Errorf("thumbnail %v at %q", b, got.At)
	}
	if st, _ := e.call("GET", "/api/sessions/nosuch/thumbnail", nil, nil); st != 404 {
		t.Errorf("unknown session: status %d, want 404", st)
	}
}
