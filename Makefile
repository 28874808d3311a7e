# Drawbridge build. `make run` starts a local bridge; `make test` runs every
# test (installing what the tests need on a fresh Debian machine first).

GO        ?= go
GOROOT    := $(shell $(GO) env GOROOT)
WASM_EXEC := $(GOROOT)/lib/wasm/go_js_wasm_exec
# Packages that must build and test as GOOS=js GOARCH=wasm too.
WASM_PKGS := ./protocol/... ./canvas/...

.PHONY: all build web run test test-deps vet test-go test-wasm fuzz-seeds bench generate check-generated clean

all: build

build: web
	$(GO) build -o bin/ ./cmd/...

# web builds the WebAssembly client into web/static (embedded by the bridge)
# and precompresses the assets (NAME.gz, NAME.br, precompressed.json; see
# internal/webassets). BROTLI=11 gives the smallest download but takes
# minutes in pure Go; the default 9 takes seconds.
web:
	GOOS=js GOARCH=wasm $(GO) build -trimpath -ldflags="-s -w" -o web/static/client.wasm ./cmd/webclient
	cp $(GOROOT)/lib/wasm/wasm_exec.js web/static/wasm_exec.js
	$(GO) run ./internal/webassets/cmd/webbuild -dir web/static -brotli $(or $(BROTLI),9)

# run starts the bridge with its embedded default configuration: Drawpile
# clients on tcp://127.0.0.1:27750, browsers on http://127.0.0.1:8080.
run: web
	$(GO) run ./cmd/bridge --listen 127.0.0.1 --http 127.0.0.1:8080

test: test-deps vet check-generated test-go test-wasm

test-deps:
	@./scripts/ensure-test-deps.sh

vet:
	$(GO) vet ./...
	GOOS=js GOARCH=wasm $(GO) vet $(WASM_PKGS)

test-go:
	$(GO) test -race -count=1 ./...

test-wasm:
	GOOS=js GOARCH=wasm $(GO) test -count=1 -exec=$(WASM_EXEC) $(WASM_PKGS)

# bench runs the Go benchmarks (bench.txt) and the dptool bots load
# scenarios against a bridge started for the run; the scenario table
# replaces the one in BENCHMARKS.md.
bench:
	./scripts/bench.sh
	./scripts/bench-bots.sh | sed '1,2d' > bench-bots.txt
	./scripts/replace-section.sh BENCHMARKS.md bench-bots bench-bots.txt

generate:
	$(GO) generate ./...

# check-generated fails when a generated file differs from what its
# generator produces from the checked-in spec.
check-generated:
	@./scripts/check-generated.sh

clean:
	rm -rf bin web/static/client.wasm web/static/wasm_exec.js web/static/*.gz web/static/*.br web/static/precompressed.json bench.txt bench-bots.txt
