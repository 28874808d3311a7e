// Package deptest enforces the import rules of the package layout
// (docs/architecture.md): which package may depend on which. It has no
// non-test code.
package deptest

import (
	"bytes"
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
)

const module = "drawbridge"

// rule restricts what one package (or package tree, with a trailing "/...")
// may import.
type rule struct {
	pkg string
	// direct: check only the package's own imports, not its dependencies.
	direct bool
	// stdlibOnly: every dependency must be in the standard library, except
	// the listed allow prefixes.
	stdlibOnly bool
	allow      []string
	// forbid lists import path prefixes that must not appear.
	forbid []string
	why    string
	// goos, when set, checks the package as built for that GOOS (GOARCH=wasm
	// for js).
	goos string
}

var rules = []rule{
	{pkg: "protocol", stdlibOnly: true, forbid: []string{"net", "log/slog", "os/exec"},
		why: "protocol is the foundation: stdlib only, no I/O policy, no logging"},
	{pkg: "protocol", goos: "js", stdlibOnly: true, forbid: []string{"net", "log/slog"},
		why: "protocol must build as wasm with stdlib only"},
	{pkg: "protocol/imagecodec", stdlibOnly: true, allow: []string{module + "/protocol", "github.com/klauspost/compress"},
		forbid: []string{"net", "log/slog", "os/exec", module + "/internal", module + "/canvas"},
		why:    "imagecodec is a pure codec: stdlib plus the only pure-Go zstd"},
	{pkg: "protocol/imagecodec", goos: "js", stdlibOnly: true, allow: []string{module + "/protocol", "github.com/klauspost/compress"},
		forbid: []string{"net", "log/slog", module + "/internal", module + "/canvas"},
		why:    "imagecodec runs in the browser"},
	{pkg: "canvas/...", stdlibOnly: true, allow: []string{module + "/protocol", "github.com/klauspost/compress"},
		forbid: []string{"net", "syscall/js", "log/slog", module + "/internal"},
		why:    "canvas is a deterministic engine: no network, no logging, no server packages"},
	{pkg: "canvas/...", goos: "js", stdlibOnly: true, allow: []string{module + "/protocol", "github.com/klauspost/compress"},
		forbid: []string{"net/http", "log/slog", module + "/internal"},
		why:    "canvas runs in the browser"},
	{pkg: "internal/session/...", forbid: []string{"net/http", "github.com/go-chi", "github.com/coder/websocket", module + "/canvas", "github.com/hajimehoshi/ebiten"},
		why: "the session core is transport-free and never renders"},
	{pkg: "internal/wsproxy/...", forbid: []string{module + "/internal/session", module + "/canvas", "github.com/go-chi", "github.com/hajimehoshi/ebiten"},
		why: "the proxy re-frames bytes; it has no sessions and no canvas"},
	{pkg: "internal/store/...", forbid: []string{"net/http", "github.com/go-chi", "github.com/coder/websocket", module + "/canvas", "github.com/hajimehoshi/ebiten"},
		why: "storage knows files and databases, not transports or pixels"},
	{pkg: "internal/mirror/...", forbid: []string{"net/http", "github.com/go-chi", "github.com/coder/websocket", "github.com/hajimehoshi/ebiten"},
		why: "the mirror renders sessions; transports belong to the bridge"},
	{pkg: "internal/listing/...", forbid: []string{module + "/internal/session", module + "/internal/bridge", module + "/canvas", "github.com/go-chi", "github.com/coder/websocket", "github.com/hajimehoshi/ebiten"},
		why: "the list-server client knows HTTP and listings, not sessions; the session core calls it through an interface"},
	{pkg: "internal/webp/...", stdlibOnly: true, forbid: []string{"net", "log/slog", module + "/internal", module + "/canvas"},
		why: "the WebP encoder is a pure codec"},
	{pkg: "internal/bridge/...", forbid: []string{"github.com/hajimehoshi/ebiten", "syscall/js"},
		why: "the server never links the client's UI stack"},
	{pkg: "internal/bridge", direct: true, forbid: []string{module + "/canvas"},
		why: "only internal/mirror may use the canvas on the server"},
	{pkg: "internal/client", forbid: []string{"github.com/hajimehoshi/ebiten", "syscall/js", "github.com/coder/websocket", "net/http"},
		why: "client logic is tested natively; transports are injected"},
	{pkg: "internal/client", goos: "js", forbid: []string{"github.com/hajimehoshi/ebiten", "github.com/coder/websocket", "net/http"},
		why: "the client core is linked into the browser client"},
	{pkg: "internal/client/wsconn", forbid: []string{"github.com/hajimehoshi/ebiten", "syscall/js", module + "/internal/session", module + "/internal/bridge"},
		why: "wsconn only adapts coder/websocket to client.Transport"},
	{pkg: "cmd/bridge", direct: true, forbid: []string{module + "/canvas", "github.com/hajimehoshi/ebiten"},
		why: "main is tiny: flags to bridge.Run"},
	{pkg: "cmd/dptool", forbid: []string{"github.com/hajimehoshi/ebiten", "syscall/js"},
		why: "dptool is a native command-line tool"},
	{pkg: "cmd/webclient", goos: "js", forbid: []string{"github.com/go-chi", module + "/internal/session", module + "/internal/bridge", module + "/internal/store"},
		why: "the browser client never links server code"},
	{pkg: "web", direct: true, stdlibOnly: true, forbid: []string{"net", "os"},
		why: "web is a leaf package holding embedded files"},
}

type listed struct {
	ImportPath string
	Standard   bool
	Imports    []string
	Deps       []string
}

func goList(t *testing.T, goos string, args ...string) []listed {
	t.Helper()
	cmd := exec.Command("go", append([]string{"list", "-e", "-json=ImportPath,Standard,Imports,Deps"}, args...)...)
	if goos != "" {
		cmd.Env = append(cmd.Environ(), "GOOS="+goos, "GOARCH=wasm")
	}
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list %v: %v", args, err)
	}
	var pkgs []listed
	dec := json.NewDecoder(bytes.NewReader(out))
	for dec.More() {
		var p listed
		if err := dec.Decode(&p); err != nil {
			t.Fatalf("decode go list output: %v", err)
		}
		pkgs = append(pkgs, p)
	}
	return pkgs
}

func TestImportRules(t *testing.T) {
	stdByGOOS := map[string]map[string]bool{}
	checked := 0
	for _, r := range rules {
		std := stdByGOOS[r.goos]
		if std == nil {
			std = map[string]bool{}
			for _, p := range goList(t, r.goos, "std") {
				std[p.ImportPath] = true
			}
			stdByGOOS[r.goos] = std
		}
		pattern := module + "/" + r.pkg
		pkgs := goList(t, r.goos, pattern)
		for _, p := range pkgs {
			if !strings.HasPrefix(p.ImportPath, module) {
				continue
			}
			checked++
			deps := p.Deps
			if r.direct {
				deps = p.Imports
			}
			for _, d := range deps {
				if d == p.ImportPath || strings.HasPrefix(d, "vendor/") || strings.HasPrefix(d, "internal/") && std[d] {
					continue
				}
				for _, f := range r.forbid {
					if d == f || strings.HasPrefix(d, f+"/") {
						t.Errorf("%s (GOOS=%s) depends on %s: %s", p.ImportPath, r.goos, d, r.why)
					}
				}
				if r.stdlibOnly && !std[d] && !hasPrefix(d, r.allow) && !strings.HasPrefix(d, p.ImportPath+"/internal") {
					t.Errorf("%s (GOOS=%s) depends on non-standard %s: %s", p.ImportPath, r.goos, d, r.why)
				}
			}
		}
	}
	if checked == 0 {
		t.Fatal("no package of the module was checked")
	}
}

func hasPrefix(s string, prefixes []string) bool {
	for _, p := range prefixes {
		if s == p || strings.HasPrefix(s, p+"/") {
			return true
		}
	}
	return false
}
