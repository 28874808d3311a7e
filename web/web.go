// Package web holds the browser client's static files (HTML, CSS, the
// WebAssembly client built by `make web`, wasm_exec.js) as an embedded file
// system. It is a leaf package: it imports nothing but embed and io/fs.
package web

import (
	"embed"
	"io/fs"
)

//go:embed static
var static embed.FS

// FS returns the static files, rooted at the static directory.
func FS() fs.FS {
	sub, err := fs.Sub(static, "static")
	if err != nil {
		panic(err) // the directory is embedded at build time; this cannot fail
	}
	return sub
}
