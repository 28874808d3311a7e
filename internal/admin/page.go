package admin

import (
	"embed"
	"io/fs"
	"net/http"
	"path"
	"strings"
)

// pageFiles is the built-in admin page: plain HTML, CSS and JavaScript
// that talk only to the public /api endpoints (no build step).
//
//go:embed page
var pageFiles embed.FS

// servePage serves the admin page's static files; unknown paths get
// index.html (single-page application fallback, as drawpile-srv does for
// its web admin directory). The files hold no server data, so they are
// served without authentication; the page asks for credentials and sends
// them with every API call.
func servePage(w http.ResponseWriter, r *http.Request) {
	sub, _ := fs.Sub(pageFiles, "page")
	name := strings.TrimPrefix(path.Clean("/"+r.URL.Path), "/")
	if name == "" {
		name = "index.html"
	}
	data, err := fs.ReadFile(sub, name)
	if err != nil {
		name = "index.html"
		data, err = fs.ReadFile(sub, name)
		if err != nil {
			writeError(w, http.StatusNotFound, "Not found")
			return
		}
	}
	switch path.Ext(name) {
	case ".html":
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
	case ".js":
		w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
	case ".css":
		w.Header().Set("Content-Type", "text/css; charset=utf-8")
	}
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'")
	_, _ = w.Write(data)
}
