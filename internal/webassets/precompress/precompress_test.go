package precompress

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/andybalholm/brotli"

	"drawbridge/internal/webassets"
)

func writeTree(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, data := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestDirRoundTrip(t *testing.T) {
	t.Parallel()
	wasm := strings.Repeat("\x00asm wasm wasm wasm ", 500)
	dir := writeTree(t, map[string]string{
		"index.html":  `<html><script>fetch("/client.wasm")</script>` + strings.Repeat("<p>hello</p>", 100) + `</html>`,
		"client.wasm": wasm,
		"tiny.js":     "x=1",
		"img.png":     strings.Repeat("P", 4096), // not compressible by type
		// a leftover variant from an earlier build is replaced
		"client.wasm.gz": "stale",
	})
	res, err := Dir(dir, Options{BrotliQuality: 5})
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]Result{}
	for _, r := range res {
		names[r.Name] = r
	}
	if _, ok := names["tiny.js"]; ok {
		t.Error("compressed a file below MinSize")
	}
	if _, ok := names["img.png"]; ok {
		t.Error("compressed a PNG")
	}
	if r := names["client.wasm"]; r.Gzip == 0 || r.Brotli == 0 || r.Brotli >= r.Size {
		t.Errorf("client.wasm result = %+v", r)
	}
	site, err := webassets.Scan(os.DirFS(dir))
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"client.wasm", "index.html"} {
		want, err := site.Bytes(name)
		if err != nil {
			t.Fatal(err)
		}
		gz, err := os.ReadFile(filepath.Join(dir, name+".gz"))
		if err != nil {
			t.Fatal(err)
		}
		zr, err := gzip.NewReader(bytes.NewReader(gz))
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(zr)
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s.gz does not decode to the served bytes (err %v)", name, err)
		}
		br, err := os.ReadFile(filepath.Join(dir, name+".br"))
		if err != nil {
			t.Fatal(err)
		}
		got, err = io.ReadAll(brotli.NewReader(bytes.NewReader(br)))
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s.br does not decode to the served bytes (err %v)", name, err)
		}
	}
	// index.html's variants encode the page after rewriting.
	idx, _ := site.Bytes("index.html")
	if bytes.Contains(idx, []byte(`"/client.wasm"`)) {
		t.Error("served index still has the unhashed wasm name")
	}

	// The runtime handler picks the build-time variants up.
	h, err := webassets.New(os.DirFS(dir), webassets.Options{})
	if err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest("GET", h.Path("client.wasm"), nil)
	req.Header.Set("Accept-Encoding", "gzip, br")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Header().Get("Content-Encoding") != "br" {
		t.Fatalf("handler did not serve the brotli variant: %v", rec.Header())
	}
	got, err := io.ReadAll(brotli.NewReader(rec.Body))
	if err != nil || string(got) != wasm {
		t.Errorf("served brotli body does not decode to the asset (err %v)", err)
	}

	// Rebuilding after a change replaces the variants; a stale manifest
	// never makes the handler serve old bytes.
	if err := os.WriteFile(filepath.Join(dir, "client.wasm"), []byte(wasm+"changed"), 0o644); err != nil {
		t.Fatal(err)
	}
	h2, err := webassets.New(os.DirFS(dir), webassets.Options{})
	if err != nil {
		t.Fatal(err)
	}
	req = httptest.NewRequest("GET", h2.Path("client.wasm"), nil)
	req.Header.Set("Accept-Encoding", "br")
	rec = httptest.NewRecorder()
	h2.ServeHTTP(rec, req)
	if rec.Header().Get("Content-Encoding") == "br" {
		t.Error("handler served a brotli variant of the old wasm")
	}
}
