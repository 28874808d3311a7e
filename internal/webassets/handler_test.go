package webassets

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"
)

var wasmBytes = bytes.Repeat([]byte("\x00asm\x01\x00\x00\x00 some wasm code "), 100)

const indexSrc = `<!doctype html><html><head><link rel="stylesheet" href="/app.css">` +
	`<script src="/wasm_exec.js"></script></head><body>` + `<script>fetch('/client.wasm')</script>` +
	`<p>padding padding padding padding padding padding padding padding padding padding padding padding padding padding padding padding padding padding padding padding padding padding padding padding padding padding padding</p></body></html>`

func testFS() fstest.MapFS {
	return fstest.MapFS{
		"index.html":   {Data: []byte(indexSrc)},
		"app.css":      {Data: []byte("body{margin:0}")},
		"wasm_exec.js": {Data: []byte(strings.Repeat("// wasm_exec\n", 100))},
		"client.wasm":  {Data: wasmBytes},
		"icon.png":     {Data: []byte("\x89PNG\r\n\x1a\n")},
	}
}

func newHandler(t *testing.T, fsys fstest.MapFS) *Handler {
	t.Helper()
	h, err := New(fsys, Options{})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func get(t *testing.T, h http.Handler, method, target string, hdr map[string]string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, target, nil)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func TestHashedNamesStable(t *testing.T) {
	t.Parallel()
	h1 := newHandler(t, testFS())
	h2 := newHandler(t, testFS())
	for _, name := range []string{"client.wasm", "wasm_exec.js", "app.css", "icon.png"} {
		p1, p2 := h1.Path(name), h2.Path(name)
		if p1 != p2 {
			t.Errorf("%s: hashed path differs between scans: %s vs %s", name, p1, p2)
		}
		if p1 == "/"+name || !strings.HasPrefix(p1, "/") {
			t.Errorf("%s: path %q is not hashed", name, p1)
		}
	}
	// The hash is of the content: sha256("body{margin:0}") starts with
	// these 16 hex digits (computed with sha256sum).
	if got, want := h1.Path("app.css"), "/app.2007703776e20c24.css"; got != want {
		t.Errorf("app.css path = %s, want %s", got, want)
	}
	// Changing one asset changes its name and the page, not the others.
	fs2 := testFS()
	fs2["app.css"] = &fstest.MapFile{Data: []byte("body{margin:1px}")}
	h3 := newHandler(t, fs2)
	if h3.Path("app.css") == h1.Path("app.css") {
		t.Error("changed content kept the same hashed name")
	}
	if h3.Path("client.wasm") != h1.Path("client.wasm") {
		t.Error("unchanged asset got a new name")
	}
	if h3.Path("index.html") != "/index.html" {
		t.Errorf("HTML must not be hashed, got %s", h3.Path("index.html"))
	}
}

func TestIndexRewritten(t *testing.T) {
	t.Parallel()
	h := newHandler(t, testFS())
	rec := get(t, h, "GET", "/", nil)
	if rec.Code != 200 {
		t.Fatalf("GET / = %d", rec.Code)
	}
	body := rec.Body.String()
	for _, name := range []string{"client.wasm", "wasm_exec.js", "app.css"} {
		if !strings.Contains(body, h.Path(name)) {
			t.Errorf("index does not reference %s as %s:\n%s", name, h.Path(name), body)
		}
		if strings.Contains(body, `"/`+name+`"`) || strings.Contains(body, `'/`+name+`'`) {
			t.Errorf("index still references unhashed /%s", name)
		}
	}
	if got := rec.Header().Get("Cache-Control"); got != CacheRevalidate {
		t.Errorf("index Cache-Control = %q, want %q", got, CacheRevalidate)
	}
	// Client-side routes serve the same page.
	for _, p := range []string{"/r/K7QX2M", "/index.html"} {
		r2 := get(t, h, "GET", p, nil)
		if r2.Code != 200 || r2.Body.String() != body {
			t.Errorf("GET %s = %d, body differs from /", p, r2.Code)
		}
	}
}

func TestHeaders(t *testing.T) {
	t.Parallel()
	h := newHandler(t, testFS())
	tests := []struct {
		name      string
		path      string
		wantCode  int
		wantType  string
		wantCache string
	}{
		{"hashed wasm", h.Path("client.wasm"), 200, "application/wasm", CacheImmutable},
		{"plain wasm", "/client.wasm", 200, "application/wasm", CacheRevalidate},
		{"hashed js", h.Path("wasm_exec.js"), 200, "text/javascript; charset=utf-8", CacheImmutable},
		{"hashed css", h.Path("app.css"), 200, "text/css; charset=utf-8", CacheImmutable},
		{"png", h.Path("icon.png"), 200, "image/png", CacheImmutable},
		{"html", "/", 200, "text/html; charset=utf-8", CacheRevalidate},
		{"missing", "/nope.js", 404, "", ""},
		{"wrong hash", "/client.0000000000000000.wasm", 404, "", ""},
		{"dotdot", "/../etc/passwd", 404, "", ""},
		{"manifest hidden", "/" + ManifestName, 404, "", ""},
		{"bare room prefix", "/r/", 404, "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := get(t, h, "GET", tc.path, nil)
			if rec.Code != tc.wantCode {
				t.Fatalf("GET %s = %d, want %d", tc.path, rec.Code, tc.wantCode)
			}
			if tc.wantCode != 200 {
				return
			}
			if got := rec.Header().Get("Content-Type"); got != tc.wantType {
				t.Errorf("Content-Type = %q, want %q", got, tc.wantType)
			}
			if got := rec.Header().Get("Cache-Control"); got != tc.wantCache {
				t.Errorf("Cache-Control = %q, want %q", got, tc.wantCache)
			}
			if rec.Header().Get("X-Content-Type-Options") != "nosniff" {
				t.Error("missing nosniff")
			}
			if rec.Header().Get("ETag") == "" {
				t.Error("missing ETag")
			}
		})
	}
	rec := get(t, h, "POST", "/", nil)
	if rec.Code != http.StatusMethodNotAllowed || rec.Header().Get("Allow") == "" {
		t.Errorf("POST / = %d, Allow %q", rec.Code, rec.Header().Get("Allow"))
	}
}

func TestConditionalGet(t *testing.T) {
	t.Parallel()
	h := newHandler(t, testFS())
	for _, p := range []string{"/", h.Path("client.wasm")} {
		first := get(t, h, "GET", p, map[string]string{"Accept-Encoding": "gzip"})
		etag := first.Header().Get("ETag")
		again := get(t, h, "GET", p, map[string]string{"Accept-Encoding": "gzip", "If-None-Match": etag})
		if again.Code != http.StatusNotModified {
			t.Errorf("%s with If-None-Match %s = %d, want 304", p, etag, again.Code)
		}
		if again.Body.Len() != 0 {
			t.Errorf("%s: 304 with a body", p)
		}
		other := get(t, h, "GET", p, map[string]string{"If-None-Match": `"0000"`})
		if other.Code != 200 {
			t.Errorf("%s with a foreign ETag = %d, want 200", p, other.Code)
		}
	}
}

// withVariants returns the test FS plus build-time variants of client.wasm
// and a manifest naming them, as precompress writes them.
func withVariants(t *testing.T, sum string) fstest.MapFS {
	t.Helper()
	fsys := testFS()
	gz, err := gzipBytes(wasmBytes)
	if err != nil {
		t.Fatal(err)
	}
	fsys["client.wasm.gz"] = &fstest.MapFile{Data: gz}
	// Not real brotli: the handler serves bytes, it never decodes them.
	fsys["client.wasm.br"] = &fstest.MapFile{Data: []byte("BROTLI-BYTES")}
	man := Manifest{Files: map[string]ManifestEntry{
		"client.wasm": {SHA256: sum, Gzip: "client.wasm.gz", Brotli: "client.wasm.br"},
	}}
	b, err := json.Marshal(man)
	if err != nil {
		t.Fatal(err)
	}
	fsys[ManifestName] = &fstest.MapFile{Data: b}
	return fsys
}

func TestEncodingNegotiation(t *testing.T) {
	t.Parallel()
	site, err := Scan(testFS())
	if err != nil {
		t.Fatal(err)
	}
	a, _ := site.Asset("client.wasm")
	h := newHandler(t, withVariants(t, a.SHA256))
	p := h.Path("client.wasm")
	tests := []struct {
		accept  string
		wantEnc string
	}{
		{"", ""},
		{"gzip", "gzip"},
		{"x-gzip", "gzip"},
		{"br", "br"},
		{"gzip, deflate, br, zstd", "br"},
		{"br;q=0.5, gzip;q=0.9", "gzip"},
		{"br;q=0, gzip", "gzip"},
		{"*", "br"},
		{"*;q=0.1, identity;q=1", ""},
		{"identity;q=0, *;q=0", ""}, // nothing acceptable: identity rather than 406
		{"deflate", ""},
		{"gzip;q=bogus", ""},
		{"GZIP", "gzip"},
	}
	for _, tc := range tests {
		t.Run(tc.accept, func(t *testing.T) {
			rec := get(t, h, "GET", p, map[string]string{"Accept-Encoding": tc.accept})
			if rec.Code != 200 {
				t.Fatalf("code %d", rec.Code)
			}
			if got := rec.Header().Get("Content-Encoding"); got != tc.wantEnc {
				t.Fatalf("Content-Encoding = %q, want %q", got, tc.wantEnc)
			}
			if rec.Header().Get("Vary") != "Accept-Encoding" {
				t.Errorf("Vary = %q", rec.Header().Get("Vary"))
			}
			if rec.Header().Get("Content-Type") != "application/wasm" {
				t.Errorf("Content-Type = %q", rec.Header().Get("Content-Type"))
			}
			body := rec.Body.Bytes()
			switch tc.wantEnc {
			case "":
				if !bytes.Equal(body, wasmBytes) {
					t.Error("identity body differs from the asset")
				}
			case "gzip":
				zr, err := gzip.NewReader(bytes.NewReader(body))
				if err != nil {
					t.Fatal(err)
				}
				got, err := io.ReadAll(zr)
				if err != nil || !bytes.Equal(got, wasmBytes) {
					t.Errorf("gunzipped body differs (err %v)", err)
				}
			case "br":
				if string(body) != "BROTLI-BYTES" {
					t.Errorf("br body = %q", body)
				}
			}
		})
	}
	// Each representation has its own ETag.
	e1 := get(t, h, "GET", p, map[string]string{"Accept-Encoding": "br"}).Header().Get("ETag")
	e2 := get(t, h, "GET", p, map[string]string{"Accept-Encoding": "gzip"}).Header().Get("ETag")
	e3 := get(t, h, "GET", p, nil).Header().Get("ETag")
	if e1 == e2 || e2 == e3 || e1 == e3 {
		t.Errorf("ETags not distinct: %s %s %s", e1, e2, e3)
	}
}

func TestStaleVariantIgnored(t *testing.T) {
	t.Parallel()
	h := newHandler(t, withVariants(t, strings.Repeat("ab", 32)))
	rec := get(t, h, "GET", h.Path("client.wasm"), map[string]string{"Accept-Encoding": "br, gzip"})
	if enc := rec.Header().Get("Content-Encoding"); enc == "br" {
		t.Fatal("served a brotli variant whose manifest hash does not match the asset")
	}
	// The runtime gzip fallback (small asset) may serve gzip; either way
	// the decoded bytes must be the real asset.
	body := rec.Body.Bytes()
	if rec.Header().Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		if body, err = io.ReadAll(zr); err != nil {
			t.Fatal(err)
		}
	}
	if !bytes.Equal(body, wasmBytes) {
		t.Error("body differs from the asset")
	}
}

func TestRuntimeGzipForHTML(t *testing.T) {
	t.Parallel()
	h := newHandler(t, testFS())
	rec := get(t, h, "GET", "/", map[string]string{"Accept-Encoding": "gzip"})
	if rec.Header().Get("Content-Encoding") != "gzip" {
		t.Fatalf("index not gzipped: %v", rec.Header())
	}
	zr, err := gzip.NewReader(rec.Body)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(zr)
	plain := get(t, h, "GET", "/", nil).Body.String()
	if string(got) != plain {
		t.Error("gzipped index differs from identity index")
	}
}

func TestHeadAndRange(t *testing.T) {
	t.Parallel()
	h := newHandler(t, testFS())
	rec := get(t, h, "HEAD", h.Path("client.wasm"), nil)
	if rec.Code != 200 || rec.Body.Len() != 0 {
		t.Errorf("HEAD = %d with %d body bytes", rec.Code, rec.Body.Len())
	}
	rec = get(t, h, "GET", h.Path("client.wasm"), map[string]string{"Range": "bytes=0-3"})
	if rec.Code != http.StatusPartialContent || rec.Body.String() != "\x00asm" {
		t.Errorf("Range = %d %q", rec.Code, rec.Body.String())
	}
}

func TestTypeByName(t *testing.T) {
	t.Parallel()
	for name, want := range map[string]string{
		"a.wasm": "application/wasm", "A.WASM": "application/wasm", "x.js": "text/javascript; charset=utf-8",
		"f.woff2": "font/woff2", "noext": "application/octet-stream", "m.webmanifest": "application/manifest+json",
	} {
		if got := TypeByName(name); got != want {
			t.Errorf("TypeByName(%q) = %q, want %q", name, got, want)
		}
	}
}

func TestHashedName(t *testing.T) {
	t.Parallel()
	sum := "0123456789abcdef0123456789abcdef"
	for in, want := range map[string]string{
		"client.wasm":   "client.0123456789abcdef.wasm",
		"js/app.min.js": "js/app.min.0123456789abcdef.js",
		"LICENSE":       "LICENSE.0123456789abcdef",
	} {
		if got := HashedName(in, sum); got != want {
			t.Errorf("HashedName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestBadManifest(t *testing.T) {
	t.Parallel()
	fsys := testFS()
	fsys[ManifestName] = &fstest.MapFile{Data: []byte("{not json")}
	if _, err := New(fsys, Options{}); err == nil {
		t.Fatal("New accepted a malformed manifest")
	}
}

func FuzzParseAcceptEncoding(f *testing.F) {
	for _, s := range []string{"", "gzip", "br;q=0.5, gzip;q=0.9", "*;q=0", ";;;,,=q", "gzip;q=1e400"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ae := ParseAcceptEncoding(s)
		for _, enc := range []string{"br", "gzip", "identity", "zstd"} {
			if q := ae.Quality(enc); q < 0 || q > 1 {
				t.Fatalf("Quality(%s) = %v for %q", enc, q, s)
			}
		}
	})
}
