// Package webassets serves the browser client's static files (web.FS())
// the way browsers and caches want them:
//
//   - every asset except HTML is also served under a content-hashed name
//     (client.wasm → /client.3f2a9c1b0d4e5f60.wasm) with
//     "Cache-Control: public, max-age=31536000, immutable"; HTML pages are
//     rewritten at start-up to reference the hashed names and are served
//     with "Cache-Control: no-cache" and a strong ETag (so a reload costs a
//     304);
//   - gzip and brotli variants are chosen by Accept-Encoding; they are
//     precompressed at build time by internal/webassets/precompress (run by
//     `make web`) and recorded in precompressed.json with the SHA-256 of the
//     bytes they encode, so a stale variant is never served. Small text
//     assets without a build-time gzip variant are gzipped once at start-up;
//   - MIME types come from a fixed table (application/wasm for .wasm),
//     never from the host's mime.types, and nosniff is set.
//
// The page routes of the single-page client ("/" and the prefixes in
// Options.AppPrefixes, "/r/" by default for room links) serve index.html.
//
// It does not own the WebSocket endpoint or any other route of the bridge,
// and it never compresses on the fly per request.
//
// The Handler is immutable after New and safe for concurrent use.
package webassets

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"sort"
	"strings"
)

// ManifestName is the file, beside the assets, that lists the precompressed
// variants written at build time.
const ManifestName = "precompressed.json"

// hashLen is the number of hex digits of the SHA-256 in hashed names: 64
// bits, far beyond any chance collision among a handful of assets.
const hashLen = 16

// Manifest is the content of ManifestName: for each asset (by logical
// name), the SHA-256 of the bytes the variants encode and the variants'
// file names relative to the asset root.
type Manifest struct {
	Files map[string]ManifestEntry `json:"files"`
}

// ManifestEntry describes the precompressed variants of one asset.
type ManifestEntry struct {
	// SHA256 is the hex SHA-256 of the served (uncompressed) bytes.
	SHA256 string `json:"sha256"`
	// Gzip and Brotli are the variant files, empty when absent.
	Gzip   string `json:"gzip,omitempty"`
	Brotli string `json:"br,omitempty"`
}

// Asset is one served file as computed by Scan.
type Asset struct {
	// Name is the logical path relative to the root, e.g. "client.wasm".
	Name string
	// Hashed is the content-hashed name ("client.3f2a9c1b0d4e5f60.wasm"),
	// empty for HTML pages, which are always served under Name.
	Hashed string
	// Type is the Content-Type.
	Type string
	// SHA256 is the hex SHA-256 of the served bytes.
	SHA256 string
	// Size is the length of the served bytes.
	Size int64
	// body holds the served bytes when they differ from the file (HTML
	// after rewriting); nil means read the file.
	body []byte
}

// Compressible reports whether the asset's type benefits from gzip or
// brotli (text, JavaScript, JSON, SVG, WebAssembly).
func (a Asset) Compressible() bool {
	t := a.Type
	return strings.HasPrefix(t, "text/") || strings.HasPrefix(t, "application/wasm") ||
		strings.HasPrefix(t, "application/json") || strings.HasPrefix(t, "image/svg+xml") ||
		strings.HasPrefix(t, "application/manifest+json")
}

// Site is the set of assets of one file system.
type Site struct {
	fsys   fs.FS
	assets map[string]*Asset // by Name; immutable after Scan
}

// Scan reads every regular file of fsys (except the manifest, variant files
// ending in .gz or .br, and dot files), hashes it, and rewrites HTML pages
// to reference hashed names. It reads each file once.
func Scan(fsys fs.FS) (*Site, error) {
	s := &Site{fsys: fsys, assets: map[string]*Asset{}}
	var htmls []string
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		base := path.Base(p)
		if d.IsDir() {
			if p != "." && strings.HasPrefix(base, ".") {
				return fs.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() || strings.HasPrefix(base, ".") || p == ManifestName ||
			strings.HasSuffix(p, ".gz") || strings.HasSuffix(p, ".br") {
			return nil
		}
		a := &Asset{Name: p, Type: TypeByName(p)}
		if isHTML(p) {
			htmls = append(htmls, p)
			s.assets[p] = a
			return nil
		}
		sum, n, err := hashFile(fsys, p)
		if err != nil {
			return err
		}
		a.SHA256, a.Size, a.Hashed = sum, n, HashedName(p, sum)
		s.assets[p] = a
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("webassets: scan: %w", err)
	}
	// HTML last: its rewritten bytes depend on the other assets' hashes.
	for _, p := range htmls {
		src, err := fs.ReadFile(fsys, p)
		if err != nil {
			return nil, fmt.Errorf("webassets: read %s: %w", p, err)
		}
		body := s.rewrite(src)
		sum := sha256.Sum256(body)
		a := s.assets[p]
		a.body, a.SHA256, a.Size = body, hex.EncodeToString(sum[:]), int64(len(body))
	}
	return s, nil
}

func hashFile(fsys fs.FS, p string) (string, int64, error) {
	f, err := fsys.Open(p)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return "", 0, fmt.Errorf("hash %s: %w", p, err)
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}

// HashedName inserts the first 16 hex digits of sum before the extension
// of name: ("js/app.js", "3f2a…") → "js/app.3f2a9c1b0d4e5f60.js".
func HashedName(name, sum string) string {
	if len(sum) > hashLen {
		sum = sum[:hashLen]
	}
	dir, base := path.Split(name)
	ext := path.Ext(base)
	return dir + strings.TrimSuffix(base, ext) + "." + sum + ext
}

// rewrite replaces quoted absolute references to assets ("/client.wasm" or
// '/client.wasm') by their hashed names. Longer names are replaced first so
// that "/a.js" never matches inside "/a.js.map".
func (s *Site) rewrite(src []byte) []byte {
	names := make([]string, 0, len(s.assets))
	for n, a := range s.assets {
		if a.Hashed != "" {
			names = append(names, n)
		}
	}
	sort.Slice(names, func(i, j int) bool {
		if len(names[i]) != len(names[j]) {
			return len(names[i]) > len(names[j])
		}
		return names[i] < names[j]
	})
	pairs := make([]string, 0, 4*len(names))
	for _, n := range names {
		h := s.assets[n].Hashed
		pairs = append(pairs, `"/`+n+`"`, `"/`+h+`"`, `'/`+n+`'`, `'/`+h+`'`)
	}
	return []byte(strings.NewReplacer(pairs...).Replace(string(src)))
}

// Assets returns the assets sorted by name.
func (s *Site) Assets() []Asset {
	out := make([]Asset, 0, len(s.assets))
	for _, a := range s.assets {
		out = append(out, *a)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Asset returns the asset with the logical name.
func (s *Site) Asset(name string) (Asset, bool) {
	a, ok := s.assets[name]
	if !ok {
		return Asset{}, false
	}
	return *a, true
}

// Bytes returns the served bytes of an asset (rewritten for HTML).
func (s *Site) Bytes(name string) ([]byte, error) {
	a, ok := s.assets[name]
	if !ok {
		return nil, fmt.Errorf("webassets: no asset %q: %w", name, fs.ErrNotExist)
	}
	if a.body != nil {
		return bytes.Clone(a.body), nil
	}
	return fs.ReadFile(s.fsys, name)
}

// ReadManifest reads ManifestName from fsys; a missing manifest is an
// empty one.
func ReadManifest(fsys fs.FS) (Manifest, error) {
	m := Manifest{Files: map[string]ManifestEntry{}}
	b, err := fs.ReadFile(fsys, ManifestName)
	if errors.Is(err, fs.ErrNotExist) {
		return m, nil
	}
	if err != nil {
		return m, fmt.Errorf("webassets: read manifest: %w", err)
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return m, fmt.Errorf("webassets: decode %s: %w", ManifestName, err)
	}
	if m.Files == nil {
		m.Files = map[string]ManifestEntry{}
	}
	return m, nil
}

func isHTML(name string) bool {
	return strings.HasSuffix(name, ".html") || strings.HasSuffix(name, ".htm")
}

// mimeTypes is the fixed type table; it does not depend on the host's
// /etc/mime.types, so every machine serves the same headers.
var mimeTypes = map[string]string{
	".html":        "text/html; charset=utf-8",
	".htm":         "text/html; charset=utf-8",
	".css":         "text/css; charset=utf-8",
	".js":          "text/javascript; charset=utf-8",
	".mjs":         "text/javascript; charset=utf-8",
	".json":        "application/json",
	".webmanifest": "application/manifest+json",
	".wasm":        "application/wasm",
	".svg":         "image/svg+xml",
	".png":         "image/png",
	".jpg":         "image/jpeg",
	".jpeg":        "image/jpeg",
	".gif":         "image/gif",
	".webp":        "image/webp",
	".ico":         "image/x-icon",
	".woff2":       "font/woff2",
	".woff":        "font/woff",
	".ttf":         "font/ttf",
	".otf":         "font/otf",
	".txt":         "text/plain; charset=utf-8",
	".map":         "application/json",
}

// TypeByName returns the Content-Type for a file name from the fixed table,
// application/octet-stream when unknown.
func TypeByName(name string) string {
	if t, ok := mimeTypes[strings.ToLower(path.Ext(name))]; ok {
		return t
	}
	return "application/octet-stream"
}
