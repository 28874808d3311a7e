package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"drawbridge/protocol"
)

func init() {
	commands["info"] = subcommand{
		summary: "print a recording's header, message counts and byte totals",
		run:     runInfo,
	}
}

// typeStats counts the messages of one type.
type typeStats struct {
	count int
	bytes int64 // frame bytes including the 4-byte header
}

// recordingInfo summarises a recording.
type recordingInfo struct {
	header   []protocol.HeaderField
	layout   protocol.Layout
	perType  [256]typeStats
	messages int
	bytes    int64
}

func collectInfo(ctx context.Context, src *recordingSource) (*recordingInfo, error) {
	info := &recordingInfo{header: src.header, layout: src.layout}
	for {
		if info.messages%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		f, _, err := src.next()
		if errors.Is(err, io.EOF) {
			return info, nil
		}
		if err != nil {
			return nil, err
		}
		s := &info.perType[f.Type()]
		s.count++
		s.bytes += int64(len(f))
		info.messages++
		info.bytes += int64(len(f))
	}
}

func (info *recordingInfo) write(w io.Writer) error {
	fmt.Fprintln(w, "header:")
	for _, h := range info.header {
		fmt.Fprintf(w, "  %s = %s\n", h.Key, h.Value)
	}
	fmt.Fprintf(w, "layout: %v\n", info.layout)
	fmt.Fprintf(w, "messages: %d, bytes: %d\n", info.messages, info.bytes)
	fmt.Fprintf(w, "%-5s %-26s %10s %12s\n", "id", "type", "count", "bytes")
	for i, s := range info.perType {
		if s.count == 0 {
			continue
		}
		t := protocol.Type(i)
		name := t.TextName()
		if name == "" {
			name = t.String()
		}
		fmt.Fprintf(w, "%-5d %-26s %10d %12d\n", i, name, s.count, s.bytes)
	}
	_, err := fmt.Fprintf(w, "%-5s %-26s %10d %12d\n", "", "total", info.messages, info.bytes)
	return err
}

func runInfo(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("info", flag.ContinueOnError)
	fs.SetOutput(stderr)
	from := fs.String("from", "", "input `format` (dprec or dptxt); default: from the extension")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: dptool info [--from FORMAT] IN   (- = stdin)")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return errUsage
	}
	in := fs.Arg(0)
	format, err := recordingFormat(in, *from)
	if err != nil {
		return err
	}
	var r io.Reader = stdin
	if in != "-" {
		f, err := os.Open(in)
		if err != nil {
			return err
		}
		defer f.Close()
		r = f
	}
	src, err := openRecording(r, format)
	if err != nil {
		return fmt.Errorf("read %s: %w", in, err)
	}
	info, err := collectInfo(ctx, src)
	if err != nil {
		return fmt.Errorf("read %s: %w", in, err)
	}
	return info.write(stdout)
}
