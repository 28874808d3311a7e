// Package precompress writes gzip and brotli variants of the web client's
// assets at build time (`make web` runs internal/webassets/cmd/webbuild),
// and the manifest (webassets.ManifestName) that lets the runtime handler
// in internal/webassets serve them only while they match the assets.
//
// It is a build tool library: the bridge never imports it, so the brotli
// encoder (github.com/andybalholm/brotli, pure Go, chosen because the issue
// requires brotli and the stdlib has none) is not linked into any server or
// client binary.
//
// Variants are computed from the served bytes (webassets.Scan, i.e. HTML
// after rewriting to hashed names) and written beside the asset as
// NAME.gz and NAME.br. A variant is kept only when it is smaller than the
// original. Old variants and the old manifest are removed first.
package precompress

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/andybalholm/brotli"

	"drawbridge/internal/webassets"
)

// Options configure Dir. The zero value means gzip level 9, brotli quality
// 11, minimum size 512 bytes.
type Options struct {
	GzipLevel     int // 1..9; 0 means 9
	BrotliQuality int // 0..11; 0 means 11 (use -1 for quality 0)
	// MinSize is the smallest asset worth compressing; 0 means 512.
	MinSize int64
}

// Result describes the variants written for one asset.
type Result struct {
	Name               string
	Size, Gzip, Brotli int64 // bytes; 0 when no variant was kept
}

// Dir precompresses the assets in dir and writes the manifest.
func Dir(dir string, opts Options) ([]Result, error) {
	if opts.GzipLevel == 0 {
		opts.GzipLevel = gzip.BestCompression
	}
	if opts.BrotliQuality == 0 {
		opts.BrotliQuality = brotli.BestCompression
	} else if opts.BrotliQuality < 0 {
		opts.BrotliQuality = 0
	}
	if opts.MinSize == 0 {
		opts.MinSize = 512
	}
	if err := clean(dir); err != nil {
		return nil, err
	}
	fsys := os.DirFS(dir)
	site, err := webassets.Scan(fsys)
	if err != nil {
		return nil, err
	}
	man := webassets.Manifest{Files: map[string]webassets.ManifestEntry{}}
	var results []Result
	for _, a := range site.Assets() {
		if !a.Compressible() || a.Size < opts.MinSize {
			continue
		}
		raw, err := site.Bytes(a.Name)
		if err != nil {
			return nil, fmt.Errorf("precompress: %w", err)
		}
		res := Result{Name: a.Name, Size: a.Size}
		me := webassets.ManifestEntry{SHA256: a.SHA256}
		gz, err := Gzip(raw, opts.GzipLevel)
		if err != nil {
			return nil, err
		}
		if len(gz) < len(raw) {
			me.Gzip = a.Name + ".gz"
			res.Gzip = int64(len(gz))
			if err := os.WriteFile(filepath.Join(dir, filepath.FromSlash(me.Gzip)), gz, 0o644); err != nil {
				return nil, fmt.Errorf("precompress: %w", err)
			}
		}
		br, err := Brotli(raw, opts.BrotliQuality)
		if err != nil {
			return nil, err
		}
		if len(br) < len(raw) {
			me.Brotli = a.Name + ".br"
			res.Brotli = int64(len(br))
			if err := os.WriteFile(filepath.Join(dir, filepath.FromSlash(me.Brotli)), br, 0o644); err != nil {
				return nil, fmt.Errorf("precompress: %w", err)
			}
		}
		if me.Gzip != "" || me.Brotli != "" {
			man.Files[a.Name] = me
		}
		results = append(results, res)
	}
	b, err := json.MarshalIndent(man, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("precompress: encode manifest: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, webassets.ManifestName), append(b, '\n'), 0o644); err != nil {
		return nil, fmt.Errorf("precompress: %w", err)
	}
	return results, nil
}

// clean removes the previous manifest and every .gz/.br variant whose
// original exists beside it.
func clean(dir string) error {
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		for _, ext := range []string{".gz", ".br"} {
			if orig, ok := strings.CutSuffix(p, ext); ok {
				if _, err := os.Stat(orig); err == nil {
					return os.Remove(p)
				}
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("precompress: clean: %w", err)
	}
	if err := os.Remove(filepath.Join(dir, webassets.ManifestName)); err != nil && !os.IsNotExist(err) {
		return fmt.Errorf("precompress: clean: %w", err)
	}
	return nil
}

// Gzip compresses b at the level.
func Gzip(b []byte, level int) ([]byte, error) {
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, level)
	if err != nil {
		return nil, fmt.Errorf("precompress: gzip: %w", err)
	}
	if _, err := zw.Write(b); err != nil {
		return nil, fmt.Errorf("precompress: gzip: %w", err)
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("precompress: gzip: %w", err)
	}
	return buf.Bytes(), nil
}

// Brotli compresses b at the quality with a 16 MiB window (lgwin 24, the
// format's maximum; browsers accept it).
func Brotli(b []byte, quality int) ([]byte, error) {
	var buf bytes.Buffer
	bw := brotli.NewWriterOptions(&buf, brotli.WriterOptions{Quality: quality, LGWin: 24})
	if _, err := bw.Write(b); err != nil {
		return nil, fmt.Errorf("precompress: brotli: %w", err)
	}
	if err := bw.Close(); err != nil {
		return nil, fmt.Errorf("precompress: brotli: %w", err)
	}
	return buf.Bytes(), nil
}
