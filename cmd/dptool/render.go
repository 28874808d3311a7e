package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"strings"

	"drawbridge/canvas"
	"drawbridge/protocol"
)

func init() {
	commands["render"] = subcommand{
		summary: "render a recording (.dprec or .dptxt) to PNG",
		run:     runRender,
	}
}

// renderConfig holds the flags of "dptool render".
type renderConfig struct {
	everyUndo    int  // write a frame every N undo points (0 = off)
	everyMsg     int  // write a frame every N messages (0 = off)
	checkerboard bool // drawpile-cmd's checkerboard under transparency
}

func runRender(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("render", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg renderConfig
	fs.IntVar(&cfg.everyUndo, "every-undo", 0, "also write OUT-NNNNN.png every `N` undo points")
	fs.IntVar(&cfg.everyMsg, "every-msg", 0, "also write OUT-NNNNN.png every `N` messages")
	fs.BoolVar(&cfg.checkerboard, "checkerboard", true, "composite drawpile-cmd's grey checkerboard where it would")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: dptool render [flags] IN.dprec|IN.dptxt|- OUT.png")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	if fs.NArg() != 2 || cfg.everyUndo < 0 || cfg.everyMsg < 0 {
		fs.Usage()
		return errUsage
	}
	in, out := fs.Arg(0), fs.Arg(1)
	var r io.Reader = stdin
	if in != "-" {
		f, err := os.Open(in)
		if err != nil {
			return err
		}
		defer f.Close()
		r = f
	}
	br := bufio.NewReaderSize(r, 1<<16)
	next, err := messageSource(br, strings.HasSuffix(strings.ToLower(in), ".dptxt"))
	if err != nil {
		return err
	}
	c := canvas.New()
	opt := canvas.RenderOptions{Checkerboard: cfg.checkerboard}
	frame, msgs, undoPoints := 0, 0, 0
	writeFrame := func() error {
		frame++
		ext := filepath.Ext(out)
		return writePNG(fmt.Sprintf("%s-%05d%s", strings.TrimSuffix(out, ext), frame, ext), c, opt)
	}
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		mctx, m, err := next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("read %s: %w", in, err)
		}
		if m == nil {
			continue // undecodable message: skipped like Drawpile does
		}
		if err := c.Apply(mctx, m); err != nil {
			fmt.Fprintf(stderr, "dptool render: message %d (%s): %v\n", msgs+1, m.MessageType(), err)
		}
		msgs++
		if _, ok := m.(protocol.UndoPoint); ok {
			undoPoints++
			if cfg.everyUndo > 0 && undoPoints%cfg.everyUndo == 0 {
				if err := writeFrame(); err != nil {
					return err
				}
			}
		}
		if cfg.everyMsg > 0 && msgs%cfg.everyMsg == 0 {
			if err := writeFrame(); err != nil {
				return err
			}
		}
	}
	return writePNG(out, c, opt)
}

// messageSource returns a function yielding (ctx, message) pairs from a
// binary or text recording; a nil message means "undecodable, skip".
func messageSource(r io.Reader, text bool) (func() (uint8, protocol.Message, error), error) {
	if text {
		tr := protocol.NewTextReader(r)
		if _, err := tr.Header(); err != nil {
			return nil, err
		}
		return tr.ReadMessage, nil
	}
	rr, err := protocol.NewRecordingReader(r)
	if err != nil {
		return nil, err
	}
	layout, ok := protocol.LayoutFor(rr.Header().Version())
	if !ok {
		return nil, fmt.Errorf("unsupported protocol version %q", rr.Header().Version())
	}
	return func() (uint8, protocol.Message, error) {
		f, err := rr.ReadFrame()
		if err != nil {
			return 0, nil, err
		}
		m, err := protocol.Decode(f, layout)
		if err != nil {
			return f.Ctx(), nil, nil
		}
		return f.Ctx(), m, nil
	}, nil
}

func writePNG(path string, c *canvas.Canvas, opt canvas.RenderOptions) error {
	if c.Width() == 0 || c.Height() == 0 {
		return errors.New("canvas is empty (no CanvasResize)")
	}
	img := c.Render(opt)
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	bw := bufio.NewWriter(f)
	if err := png.Encode(bw, img); err != nil {
		f.Close()
		return fmt.Errorf("encode %s: %w", path, err)
	}
	if err := bw.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
