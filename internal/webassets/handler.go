package webassets

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Cache-Control values.
const (
	// CacheImmutable is sent for content-hashed names.
	CacheImmutable = "public, max-age=31536000, immutable"
	// CacheRevalidate is sent for HTML and unhashed names: the browser may
	// store the response but must revalidate it (ETag → 304) before use.
	CacheRevalidate = "no-cache"
)

// runtimeGzipMax bounds the assets gzipped at start-up when the build left
// no variant: small text only, so start-up stays cheap.
const runtimeGzipMax = 2 << 20

// Options configure a Handler. The zero value is usable.
type Options struct {
	// Logger receives one Warn per ignored stale variant and one Info
	// summary; nil discards.
	Logger *slog.Logger
	// AppPrefixes are URL path prefixes that serve index.html (client-side
	// routes). nil means []string{"/r/"}; an empty non-nil slice means none.
	AppPrefixes []string
}

// encoding names, in order of preference when q-values tie.
const (
	encBrotli   = "br"
	encGzip     = "gzip"
	encIdentity = "identity"
)

// variant is one stored representation of an asset.
type variant struct {
	encoding string // encBrotli, encGzip or encIdentity
	etag     string // strong ETag, quoted
	file     string // file in fsys, or "" when body holds the bytes
	body     []byte
	size     int64
}

// entry is what the handler knows about one asset; immutable after New.
type entry struct {
	asset    Asset
	variants []variant // identity first
}

// Handler serves a Site. It is immutable after New and safe for concurrent
// use.
type Handler struct {
	site     *Site
	byPath   map[string]*entry // URL path without leading slash → entry
	hashed   map[string]bool   // URL paths that are content-hashed
	index    *entry            // index.html, may be nil
	prefixes []string
}

// New scans fsys and prepares every representation. Errors come from
// reading fsys or a malformed manifest; a stale variant is ignored with a
// warning.
func New(fsys fs.FS, opts Options) (*Handler, error) {
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	site, err := Scan(fsys)
	if err != nil {
		return nil, err
	}
	man, err := ReadManifest(fsys)
	if err != nil {
		return nil, err
	}
	h := &Handler{site: site, byPath: map[string]*entry{}, hashed: map[string]bool{}, prefixes: opts.AppPrefixes}
	if h.prefixes == nil {
		h.prefixes = []string{"/r/"}
	}
	for _, a := range site.Assets() {
		e := &entry{asset: a}
		tag := a.SHA256[:hashLen]
		e.variants = append(e.variants, variant{encoding: encIdentity, etag: `"` + tag + `"`, body: a.body, file: fileIfNoBody(a), size: a.Size})
		if me, ok := man.Files[a.Name]; ok {
			if me.SHA256 != a.SHA256 {
				logger.Warn("ignoring stale precompressed variants; run `make web`", "asset", a.Name)
			} else {
				for _, v := range []struct{ enc, file, sfx string }{{encBrotli, me.Brotli, "-br"}, {encGzip, me.Gzip, "-gz"}} {
					if v.file == "" {
						continue
					}
					st, err := fs.Stat(fsys, v.file)
					if err != nil {
						logger.Warn("precompressed variant listed but missing", "asset", a.Name, "file", v.file)
						continue
					}
					e.variants = append(e.variants, variant{encoding: v.enc, etag: `"` + tag + v.sfx + `"`, file: v.file, size: st.Size()})
				}
			}
		}
		if a.Compressible() && !e.has(encGzip) && a.Size >= 256 && a.Size <= runtimeGzipMax {
			raw, err := site.Bytes(a.Name)
			if err != nil {
				return nil, fmt.Errorf("webassets: read %s: %w", a.Name, err)
			}
			gz, err := gzipBytes(raw)
			if err != nil {
				return nil, err
			}
			if len(gz) < len(raw) {
				e.variants = append(e.variants, variant{encoding: encGzip, etag: `"` + tag + `-gz"`, body: gz, size: int64(len(gz))})
			}
		}
		if a.Size > runtimeGzipMax && a.Compressible() && !e.has(encGzip) {
			logger.Warn("large asset has no precompressed variant; run `make web`", "asset", a.Name, "bytes", a.Size)
		}
		h.byPath[a.Name] = e
		if a.Hashed != "" {
			h.byPath[a.Hashed] = e
			h.hashed[a.Hashed] = true
		}
		if a.Name == "index.html" {
			h.index = e
		}
	}
	logger.Info("web assets ready", "assets", len(site.assets), "precompressed", len(man.Files))
	return h, nil
}

func fileIfNoBody(a Asset) string {
	if a.body != nil {
		return ""
	}
	return a.Name
}

func (e *entry) has(enc string) bool {
	for _, v := range e.variants {
		if v.encoding == enc {
			return true
		}
	}
	return false
}

func gzipBytes(b []byte) ([]byte, error) {
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		return nil, err
	}
	if _, err := zw.Write(b); err != nil {
		return nil, fmt.Errorf("webassets: gzip: %w", err)
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("webassets: gzip: %w", err)
	}
	return buf.Bytes(), nil
}

// Site returns the scanned assets.
func (h *Handler) Site() *Site { return h.site }

// Path returns the URL path to reference the asset with the logical name:
// the content-hashed path for hashed assets ("/client.3f2a….wasm"), the
// plain path otherwise; "" when there is no such asset.
func (h *Handler) Path(name string) string {
	a, ok := h.site.Asset(name)
	if !ok {
		return ""
	}
	if a.Hashed != "" {
		return "/" + a.Hashed
	}
	return "/" + a.Name
}

// ServeHTTP serves GET and HEAD requests for the assets.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	p := r.URL.Path
	var e *entry
	immutable := false
	switch {
	case p == "/" || h.isAppRoute(p):
		e = h.index
	case strings.HasPrefix(p, "/"):
		name := p[1:]
		if fs.ValidPath(name) {
			e = h.byPath[name]
			immutable = h.hashed[name]
		}
	}
	if e == nil {
		http.NotFound(w, r)
		return
	}
	v := e.choose(r.Header.Get("Accept-Encoding"))
	hd := w.Header()
	hd.Set("Content-Type", e.asset.Type)
	hd.Set("X-Content-Type-Options", "nosniff")
	if len(e.variants) > 1 {
		hd.Add("Vary", "Accept-Encoding")
	}
	if immutable {
		hd.Set("Cache-Control", CacheImmutable)
	} else {
		hd.Set("Cache-Control", CacheRevalidate)
	}
	hd.Set("ETag", v.etag)
	if v.encoding != encIdentity {
		hd.Set("Content-Encoding", v.encoding)
	}
	var body io.ReadSeeker
	if v.body != nil {
		body = bytes.NewReader(v.body)
	} else {
		f, err := h.site.fsys.Open(v.file)
		if err != nil {
			http.Error(w, "asset unavailable", http.StatusInternalServerError)
			return
		}
		defer f.Close()
		rs, ok := f.(io.ReadSeeker)
		if !ok {
			b, err := io.ReadAll(f)
			if err != nil {
				http.Error(w, "asset unavailable", http.StatusInternalServerError)
				return
			}
			rs = bytes.NewReader(b)
		}
		body = rs
	}
	// ServeContent handles If-None-Match (304), Range and HEAD; the zero
	// modtime keeps Last-Modified out (embedded files have none).
	http.ServeContent(w, r, "", time.Time{}, body)
}

func (h *Handler) isAppRoute(p string) bool {
	for _, pre := range h.prefixes {
		if strings.HasPrefix(p, pre) && len(p) > len(pre) {
			return true
		}
	}
	return false
}

// choose picks the variant for an Accept-Encoding header: the highest
// q-value among available encodings, ties broken by br, gzip, identity.
// Identity is the fallback even when the client refuses it, because a
// 406 helps nobody.
func (e *entry) choose(accept string) variant {
	q := ParseAcceptEncoding(accept)
	best, bestQ := e.variants[0], -1.0
	for _, enc := range []string{encBrotli, encGzip, encIdentity} {
		for _, v := range e.variants {
			if v.encoding != enc {
				continue
			}
			if vq := q.Quality(enc); vq > 0 && vq > bestQ {
				best, bestQ = v, vq
			}
		}
	}
	return best
}

// AcceptEncoding holds the parsed q-values of an Accept-Encoding header.
type AcceptEncoding struct {
	q    map[string]float64
	star float64 // q of "*", -1 when absent
}

// ParseAcceptEncoding parses an Accept-Encoding header leniently: bad
// q-values count as 0, unknown parameters are ignored. Input length is
// bounded by the HTTP server's header limit.
func ParseAcceptEncoding(h string) AcceptEncoding {
	ae := AcceptEncoding{q: map[string]float64{}, star: -1}
	for part := range strings.SplitSeq(h, ",") {
		name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		name = strings.ToLower(strings.TrimSpace(name))
		if name == "" {
			continue
		}
		if name == "x-gzip" {
			name = encGzip
		}
		q := 1.0
		for param := range strings.SplitSeq(params, ";") {
			k, val, ok := strings.Cut(strings.TrimSpace(param), "=")
			if !ok || strings.ToLower(strings.TrimSpace(k)) != "q" {
				continue
			}
			f, err := strconv.ParseFloat(strings.TrimSpace(val), 64)
			if err != nil || f < 0 || f > 1 {
				f = 0
			}
			q = f
		}
		if name == "*" {
			ae.star = q
		} else {
			ae.q[name] = q
		}
	}
	return ae
}

// Quality returns the q-value for an encoding: its own, else "*"'s, else 0
// for others and a token 0.001 for identity: identity is always acceptable
// unless refused (RFC 9110 §12.5.3), but when a client lists compressed
// encodings without identity we prefer what it listed.
func (ae AcceptEncoding) Quality(enc string) float64 {
	if q, ok := ae.q[enc]; ok {
		return q
	}
	if ae.star >= 0 {
		return ae.star
	}
	if enc == encIdentity {
		return 0.001
	}
	return 0
}

// ETagFor returns the strong ETag the handler sends for the identity
// representation of bytes (useful to tests and to callers that embed
// pages).
func ETagFor(b []byte) string {
	sum := sha256.Sum256(b)
	return `"` + hex.EncodeToString(sum[:])[:hashLen] + `"`
}
