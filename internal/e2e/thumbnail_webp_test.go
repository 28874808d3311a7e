package e2e

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"image"
	"image/draw"
	"image/png"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	xwebp "golang.org/x/image/webp"

	"drawbridge/internal/client"
)

// thumbGet sends GET url with an optional Accept header (and the admin
// credentials when basic is set) and returns status, headers and body.
func thumbGet(t *testing.T, e *adminEnv, url, accept string, basic bool) (int, http.Header, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(e.ctx, "GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	if basic {
		req.SetBasicAuth(e.user, e.pass)
		req.Header.Set("X-Requested-With", "XMLHttpRequest")
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return res.StatusCode, res.Header, body
}

// decodeThumb decodes a PNG or WebP thumbnail to NRGBA at the origin.
func decodeThumb(t *testing.T, format string, b []byte) *image.NRGBA {
	t.Helper()
	var img image.Image
	var err error
	switch format {
	case "webp":
		if len(b) < 16 || string(b[:4]) != "RIFF" || string(b[8:16]) != "WEBPVP8L" {
			t.Fatalf("not a lossless WebP: % x", b[:min(len(b), 16)])
		}
		img, err = xwebp.Decode(bytes.NewReader(b))
	default:
		img, err = png.Decode(bytes.NewReader(b))
	}
	if err != nil {
		t.Fatalf("decode %s: %v", format, err)
	}
	if n, ok := img.(*image.NRGBA); ok && n.Rect.Min == (image.Point{}) {
		return n
	}
	n := image.NewNRGBA(image.Rect(0, 0, img.Bounds().Dx(), img.Bounds().Dy()))
	draw.Draw(n, n.Rect, img, img.Bounds().Min, draw.Src)
	return n
}

// TestThumbnailWebP: the admin and the public thumbnail endpoints serve
// lossless WebP when asked (?format=webp or Accept: image/webp), PNG
// otherwise, with the same pixels, and Vary: Accept.
func TestThumbnailWebP(t *testing.T) {
	e := newAdminEnv(t, "admin", "pw")
	host := e.login("Painter", client.LoginOptions{Host: &client.HostOptions{Alias: "webpthumbs"}})
	for _, f := range snapshot(t, host.UserID()) {
		if err := host.SendFrame(e.ctx, f); err != nil {
			t.Fatal(err)
		}
	}
	id := host.JoinInfo().ID

	// Admin API: {data, at, format}.
	admin := func(query, accept string) (string, *image.NRGBA, http.Header) {
		st, hdr, body := thumbGet(t, e, e.base+"/api/sessions/webpthumbs/thumbnail"+query, accept, true)
		if st != 200 {
			t.Fatalf("admin thumbnail%s (Accept %q): status %d %s", query, accept, st, body)
		}
		var got struct{ Data, At, Format string }
		if err := json.Unmarshal(body, &got); err != nil {
			t.Fatal(err)
		}
		raw, err := base64.StdEncoding.DecodeString(got.Data)
		if err != nil || got.At == "" {
			t.Fatalf("admin thumbnail: data %v, at %q", err, got.At)
		}
		return got.Format, decodeThumb(t, got.Format, raw), hdr
	}
	f, ref, _ := admin("", "")
	if f != "png" {
		t.Fatalf("no Accept: format %q, want png", f)
	}
	for _, c := range []struct{ query, accept, want string }{
		{"?format=webp", "", "webp"},
		{"", "image/avif,image/webp,image/apng,*/*;q=0.8", "webp"},
		{"?format=png", "image/webp", "png"},
		{"", "image/webp;q=0", "png"},
		{"", "application/json, */*", "png"},
	} {
		f, img, hdr := admin(c.query, c.accept)
		if f != c.want {
			t.Errorf("admin %q Accept %q: format %q, want %q", c.query, c.accept, f, c.want)
		}
		if hdr.Get("Vary") != "Accept" {
			t.Errorf("admin: Vary %q, want Accept", hdr.Get("Vary"))
		}
		if img.Rect != ref.Rect || !bytes.Equal(img.Pix, ref.Pix) {
			t.Errorf("admin %q Accept %q: pixels differ from the PNG's", c.query, c.accept)
		}
	}
	if st, _, _ := thumbGet(t, e, e.base+"/api/sessions/webpthumbs/thumbnail?format=gif", "", true); st != 400 {
		t.Errorf("?format=gif: status %d, want 400", st)
	}

	// Public endpoint: the image itself.
	wsrv := httptest.NewServer(e.b.WatchHandler())
	defer wsrv.Close()
	for _, c := range []struct{ path, accept, want string }{
		{"/thumbnail.png", "", "png"},
		{"/thumbnail", "image/webp,*/*", "webp"},
		{"/thumbnail.png", "image/avif,image/webp,*/*;q=0.8", "webp"},
		{"/thumbnail?format=webp", "", "webp"},
		{"/thumbnail.png?format=png", "image/webp", "png"},
	} {
		st, hdr, body := thumbGet(t, e, wsrv.URL+"/api/sessions/"+id+c.path, c.accept, false)
		if st != 200 {
			t.Fatalf("%s (Accept %q): status %d %s", c.path, c.accept, st, body)
		}
		if ct := hdr.Get("Content-Type"); ct != "image/"+c.want {
			t.Errorf("%s (Accept %q): Content-Type %q, want image/%s", c.path, c.accept, ct, c.want)
		}
		if hdr.Get("Vary") != "Accept" {
			t.Errorf("%s: Vary %q, want Accept", c.path, hdr.Get("Vary"))
		}
		img := decodeThumb(t, c.want, body)
		if img.Rect != ref.Rect || !bytes.Equal(img.Pix, ref.Pix) {
			t.Errorf("%s (Accept %q): pixels differ from the admin PNG's", c.path, c.accept)
		}
	}
	if st, _, _ := thumbGet(t, e, wsrv.URL+"/api/sessions/"+id+"/thumbnail?format=jpeg", "", false); st != 400 {
		t.Errorf("?format=jpeg: status %d, want 400", st)
	}
}
