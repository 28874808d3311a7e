//go:build js

// Command webclient is the Drawbridge browser client, compiled to
// WebAssembly and served by the bridge from web/static.
package main

import "syscall/js"

func main() {
	doc := js.Global().Get("document")
	p := doc.Call("createElement", "p")
	p.Set("textContent", "Drawbridge client loaded.")
	doc.Get("body").Call("appendChild", p)
	select {}
}
