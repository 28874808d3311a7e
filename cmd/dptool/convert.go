package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"drawbridge/protocol"
)

func init() {
	commands["convert"] = subcommand{
		summary: "convert a recording between .dprec and .dptxt",
		run:     runConvert,
	}
}

// Recording formats.
const (
	formatDprec = "dprec"
	formatDptxt = "dptxt"
)

// recordingFormat picks the format of path from --from/--to or the file
// extension; "-" (stdin/stdout) needs the flag.
func recordingFormat(path, flagValue string) (string, error) {
	f := strings.ToLower(strings.TrimPrefix(flagValue, "."))
	if f == "" {
		if path == "-" {
			return "", fmt.Errorf("%s: give the format with --from/--to (dprec or dptxt)", path)
		}
		f = strings.ToLower(strings.TrimPrefix(filepath.Ext(path), "."))
	}
	switch f {
	case formatDprec, formatDptxt:
		return f, nil
	}
	return "", fmt.Errorf("%s: unknown recording format %q (want dprec or dptxt)", path, f)
}

// recordingSource yields the messages of a recording in order.
type recordingSource struct {
	header []protocol.HeaderField
	layout protocol.Layout
	// next returns the next message as a frame (valid until the next call)
	// and, for dptxt input, the decoded message; io.EOF at the end.
	next func() (protocol.Frame, protocol.Message, error)
	// raw is the dprec header exactly as read (dprec input only), so a
	// dprec → dprec copy keeps it byte for byte.
	raw *protocol.RecordingHeader
}

func openRecording(r io.Reader, format string) (*recordingSource, error) {
	br := bufio.NewReaderSize(r, 1<<16)
	if format == formatDprec {
		rr, err := protocol.NewRecordingReader(br)
		if err != nil {
			return nil, err
		}
		h := rr.Header()
		l, ok := protocol.LayoutFor(h.Version())
		if !ok {
			return nil, fmt.Errorf("recording version %q is not supported (want %s or %s)", h.Version(), protocol.ProtocolVersion, protocol.CompatVersion)
		}
		return &recordingSource{
			header: protocol.TextHeader(h),
			layout: l,
			raw:    &h,
			next: func() (protocol.Frame, protocol.Message, error) {
				f, err := rr.ReadFrame()
				return f, nil, err
			},
		}, nil
	}
	tr := protocol.NewTextReader(br)
	h, err := tr.Header()
	if err != nil {
		return nil, err
	}
	for _, f := range h {
		if f.Key == "version" && f.Value == protocol.CompatVersion {
			return nil, fmt.Errorf("text recordings in %s layout are not supported (Drawpile refuses them too)", protocol.CompatVersion)
		}
	}
	var buf []byte
	return &recordingSource{
		header: h,
		layout: protocol.Layout425,
		next: func() (protocol.Frame, protocol.Message, error) {
			ctx, m, err := tr.ReadMessage()
			if err != nil {
				return nil, nil, err
			}
			buf, err = protocol.AppendMessage(buf[:0], ctx, m, protocol.Layout425)
			if err != nil {
				return nil, nil, err
			}
			return protocol.Frame(buf), m, nil
		},
	}, nil
}

func runConvert(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("convert", flag.ContinueOnError)
	fs.SetOutput(stderr)
	from := fs.String("from", "", "input `format` (dprec or dptxt); default: from the extension")
	to := fs.String("to", "", "output `format` (dprec or dptxt); default: from the extension")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: dptool convert [--from FORMAT] [--to FORMAT] IN OUT   (- = stdin/stdout)")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	if fs.NArg() != 2 {
		fs.Usage()
		return errUsage
	}
	in, out := fs.Arg(0), fs.Arg(1)
	inFormat, err := recordingFormat(in, *from)
	if err != nil {
		return err
	}
	outFormat, err := recordingFormat(out, *to)
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
	src, err := openRecording(r, inFormat)
	if err != nil {
		return fmt.Errorf("read %s: %w", in, err)
	}

	var w io.Writer = stdout
	var file *os.File
	if out != "-" {
		if file, err = os.Create(out); err != nil {
			return err
		}
		w = file
	}
	skipped, err := convert(ctx, src, w, outFormat)
	if file != nil {
		if cerr := file.Close(); err == nil && cerr != nil {
			err = cerr
		}
	}
	if err != nil {
		return fmt.Errorf("convert %s: %w", in, err)
	}
	if skipped > 0 {
		fmt.Fprintf(stderr, "dptool: skipped %d messages of unknown types (dptxt cannot represent them)\n", skipped)
	}
	return nil
}

// convert copies src to w in the given format. Binary output keeps the
// input's layout; text output is always dp:4.25.1 (4.24 recordings are
// decoded in their layout and written in the current one). It returns the
// number of messages that text cannot represent and were skipped.
func convert(ctx context.Context, src *recordingSource, w io.Writer, format string) (skipped int, err error) {
	var (
		writeMsg func(protocol.Frame, protocol.Message) error
		flush    func() error
	)
	switch format {
	case formatDprec:
		var h protocol.RecordingHeader
		if src.raw != nil {
			h = *src.raw
		} else {
			h = protocol.RecordingHeaderFromText(src.header)
		}
		rw, err := protocol.NewRecordingWriter(w, h)
		if err != nil {
			return 0, err
		}
		writeMsg = func(f protocol.Frame, _ protocol.Message) error { return rw.WriteFrame(f) }
		flush = rw.Flush
	case formatDptxt:
		tw := protocol.NewTextWriter(w)
		h := src.header
		if src.layout != protocol.Layout425 {
			h = append([]protocol.HeaderField(nil), h...)
			for i := range h {
				if h[i].Key == "version" {
					h[i].Value = protocol.ProtocolVersion
				}
			}
		}
		if err := tw.WriteHeader(h); err != nil {
			return 0, err
		}
		writeMsg = func(f protocol.Frame, m protocol.Message) error {
			if m == nil {
				var err error
				if m, err = protocol.Decode(f, src.layout); err != nil {
					return err
				}
			}
			if _, ok := m.(protocol.Opaque); ok {
				skipped++
				return nil
			}
			return tw.WriteMessage(f.Ctx(), m)
		}
		flush = tw.Flush
	default:
		return 0, fmt.Errorf("unknown output format %q", format)
	}
	for n := 0; ; n++ {
		if n%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return skipped, err
			}
		}
		f, m, err := src.next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return skipped, err
		}
		if err := writeMsg(f, m); err != nil {
			return skipped, err
		}
	}
	return skipped, flush()
}
