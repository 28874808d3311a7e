// Command webbuild precompresses the web client's assets after `make web`
// has built them: it writes NAME.gz and NAME.br beside each compressible
// asset of -dir and the manifest the bridge's asset handler reads
// (internal/webassets). It prints one line per asset with its sizes.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"

	"drawbridge/internal/webassets/precompress"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "webbuild:", err)
		os.Exit(1)
	}
}

func run(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("webbuild", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dir := fs.String("dir", "web/static", "directory of the static assets")
	var opts precompress.Options
	fs.IntVar(&opts.GzipLevel, "gzip", 9, "gzip level 1-9")
	fs.IntVar(&opts.BrotliQuality, "brotli", 11, "brotli quality 1-11")
	if err := fs.Parse(args); err != nil {
		return err
	}
	res, err := precompress.Dir(*dir, opts)
	if err != nil {
		return err
	}
	for _, r := range res {
		fmt.Fprintf(stdout, "%-24s raw %9d  gzip %9d  br %9d\n", r.Name, r.Size, r.Gzip, r.Brotli)
	}
	return nil
}
