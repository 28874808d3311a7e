package main

import (
	"archive/zip"
	"bufio"
	"context"
	"encoding/xml"
	"errors"
	"flag"
	"fmt"
	"image"
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
	ora          bool // write a layered OpenRaster file instead of a PNG
	acl          bool // filter messages through the ACL like drawpile-cmd --acl
}

func runRender(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("render", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg renderConfig
	fs.IntVar(&cfg.everyUndo, "every-undo", 0, "also write OUT-NNNNN.png every `N` undo points")
	fs.IntVar(&cfg.everyMsg, "every-msg", 0, "also write OUT-NNNNN.png every `N` messages")
	fs.BoolVar(&cfg.checkerboard, "checkerboard", true, "composite drawpile-cmd's grey checkerboard where it would")
	fs.BoolVar(&cfg.ora, "ora", false, "write OUT as a layered OpenRaster (.ora) file")
	fs.BoolVar(&cfg.acl, "acl", false, "drop messages the session's access controls forbid (as drawpile-cmd --acl)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: dptool render [flags] IN.dprec|IN.dptxt|- OUT.png|OUT.ora")
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
	var acl *canvas.ACL
	if cfg.acl {
		acl = canvas.NewPlaybackACL()
	}
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
		if acl != nil && !acl.Allow(mctx, m) {
			continue
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
	if cfg.ora {
		return writeORA(out, c, opt)
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

// writeORA writes an OpenRaster file: mimetype, stack.xml (topmost layer
// first), one PNG per layer, the merged image and a thumbnail.
func writeORA(path string, c *canvas.Canvas, opt canvas.RenderOptions) error {
	if c.Width() == 0 || c.Height() == 0 {
		return errors.New("canvas is empty (no CanvasResize)")
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	zw := zip.NewWriter(f)
	fail := func(err error) error {
		zw.Close()
		f.Close()
		return err
	}
	// the mimetype entry must come first and be stored uncompressed
	mw, err := zw.CreateHeader(&zip.FileHeader{Name: "mimetype", Method: zip.Store})
	if err == nil {
		_, err = io.WriteString(mw, "image/openraster")
	}
	if err != nil {
		return fail(err)
	}
	addPNG := func(name string, img image.Image) error {
		w, err := zw.Create(name)
		if err != nil {
			return err
		}
		return png.Encode(w, img)
	}
	var stack strings.Builder
	n := 0
	var walk func(list []*canvas.Layer, indent string) error
	walk = func(list []*canvas.Layer, indent string) error {
		for i := len(list) - 1; i >= 0; i-- { // ORA lists the top layer first
			l := list[i]
			vis := "visible"
			if c.LayerHidden(l.ID) {
				vis = "hidden"
			}
			attrs := fmt.Sprintf(`name="%s" opacity="%.3f" visibility="%s" composite-op="%s"`,
				xmlEscape(l.Title), float64(l.Opacity)/canvas.One, vis, protocol.BlendName(uint8(l.Blend)))
			if l.Group {
				iso := "auto"
				if l.Isolated {
					iso = "isolate"
				}
				fmt.Fprintf(&stack, "%s<stack %s isolation=\"%s\">\n", indent, attrs, iso)
				if err := walk(l.Children, indent+" "); err != nil {
					return err
				}
				fmt.Fprintf(&stack, "%s</stack>\n", indent)
				continue
			}
			img, err := c.LayerImage(l.ID)
			if err != nil {
				return err
			}
			n++
			src := fmt.Sprintf("data/layer%d.png", n)
			if err := addPNG(src, img); err != nil {
				return err
			}
			fmt.Fprintf(&stack, "%s<layer %s src=\"%s\" x=\"0\" y=\"0\"/>\n", indent, attrs, src)
		}
		return nil
	}
	if err := walk(c.Layers(), "  "); err != nil {
		return fail(err)
	}
	if bg := c.BackgroundImage(); bg != nil {
		if err := addPNG("data/background.png", bg); err != nil {
			return fail(err)
		}
		stack.WriteString(`  <layer name="Background" src="data/background.png" x="0" y="0" opacity="1.000" visibility="visible" composite-op="svg:src-over"/>` + "\n")
	}
	xmlDoc := fmt.Sprintf("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<image version=\"0.0.5\" w=\"%d\" h=\"%d\">\n <stack>\n%s </stack>\n</image>\n",
		c.Width(), c.Height(), stack.String())
	sw, err := zw.Create("stack.xml")
	if err == nil {
		_, err = io.WriteString(sw, xmlDoc)
	}
	if err != nil {
		return fail(err)
	}
	merged := c.Render(opt)
	if err := addPNG("mergedimage.png", merged); err != nil {
		return fail(err)
	}
	if err := addPNG("Thumbnails/thumbnail.png", thumbnail(merged, 256)); err != nil {
		return fail(err)
	}
	if err := zw.Close(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func xmlEscape(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s))
	return strings.ReplaceAll(b.String(), `"`, "&#34;")
}

// thumbnail scales img down (nearest neighbour) to fit in size×size.
func thumbnail(img *image.NRGBA, size int) *image.NRGBA {
	w, h := img.Bounds().Dx(), img.Bounds().Dy()
	tw, th := w, h
	if w > size || h > size {
		if w >= h {
			tw, th = size, max(1, h*size/w)
		} else {
			tw, th = max(1, w*size/h), size
		}
	}
	t := image.NewNRGBA(image.Rect(0, 0, tw, th))
	for y := range th {
		for x := range tw {
			copy(t.Pix[y*t.Stride+x*4:y*t.Stride+x*4+4], img.Pix[(y*h/th)*img.Stride+(x*w/tw)*4:])
		}
	}
	return t
}
