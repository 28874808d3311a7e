package canvas

// One is 1.0 in the engine's 15-bit fixed point (engine.md §1.2).
const One = 1 << 15

// Tile geometry (engine.md §1.1).
const (
	TileSize   = 64
	TilePixels = TileSize * TileSize
)

// Pixel15 is one pixel in the engine's working format: 15-bit fixed point
// (0..One = 0.0..1.0), premultiplied by alpha, in B,G,R,A order as in
// Drawpile's DP_Pixel15.
//
// Invariant (kept by every operation in this package): B, G, R ≤ A ≤ One.
type Pixel15 struct{ B, G, R, A uint16 }

// upixel15 is an unpremultiplied 15-bit colour (brush colours), each channel
// 0..One.
type upixel15 struct{ b, g, r, a uint32 }

// Conv8To15 converts an 8-bit channel to 15 bits: floor(c·32768/255).
func Conv8To15(c uint8) uint16 { return uint16((uint32(c) << 15) / 255) }

// Conv15To8 converts a 15-bit channel to 8 bits, rounding to nearest:
// (c·255 + 16384) >> 15. 8→15→8 round-trips exactly.
func Conv15To8(c uint16) uint8 { return uint8((uint32(c)*255 + 16384) >> 15) }

// mul is the fixed-point product (a·b) >> 15.
func mul(a, b uint32) uint32 { return (a * b) >> 15 }

// sp is the sum of two products with a single shift: (a1·a2 + b1·b2) >> 15.
func sp(a1, a2, b1, b2 uint32) uint32 { return (a1*a2 + b1*b2) >> 15 }

func cl(x uint32) uint32 { return min(x, One) }

// div is (a << 15) / b; b must not be 0.
func div(a, b uint32) uint32 { return (a << 15) / b }

func cdiv(a, b uint32) uint32 { return cl(div(a, b)) }

// lerp has Drawpile's asymmetric rounding (engine.md §2.2).
func lerp(a, b, k uint32) uint32 {
	if a < b {
		return a + mul(b-a, k)
	}
	return b + mul(a-b, One-k)
}

// unprem15 unpremultiplies one channel: a = One unchanged, a = 0 gives 0,
// else floor(c·32768/a).
func unprem15(c, a uint32) uint32 {
	if a == One {
		return c
	}
	if a == 0 {
		return 0
	}
	return uint32(uint16((c << 15) / a))
}

// prem15 premultiplies one channel: floor(c·a/32768) (a = One unchanged).
func prem15(c, a uint32) uint32 {
	if a == One {
		return c
	}
	return (c * a) >> 15
}

// unpremPixel returns the unpremultiplied channels of p.
func unpremPixel(p Pixel15) (b, g, r uint32) {
	a := uint32(p.A)
	if a == One {
		return uint32(p.B), uint32(p.G), uint32(p.R)
	}
	if a == 0 {
		return 0, 0, 0
	}
	return unprem15(uint32(p.B), a), unprem15(uint32(p.G), a), unprem15(uint32(p.R), a)
}

// premPixel builds a premultiplied pixel from unpremultiplied channels and
// an alpha.
func premPixel(b, g, r, a uint32) Pixel15 {
	if a == 0 {
		return Pixel15{}
	}
	return Pixel15{uint16(prem15(b, a)), uint16(prem15(g, a)), uint16(prem15(r, a)), uint16(a)}
}

// upixelFromARGB converts an unpremultiplied 0xAARRGGBB colour to 15 bits.
func upixelFromARGB(c uint32) upixel15 {
	return upixel15{
		b: uint32(Conv8To15(uint8(c))),
		g: uint32(Conv8To15(uint8(c >> 8))),
		r: uint32(Conv8To15(uint8(c >> 16))),
		a: uint32(Conv8To15(uint8(c >> 24))),
	}
}

// pixelFromARGB converts an unpremultiplied 0xAARRGGBB colour to a
// premultiplied 15-bit pixel (solid tiles, layer fills).
func pixelFromARGB(c uint32) Pixel15 {
	u := upixelFromARGB(c)
	return premPixel(u.b, u.g, u.r, u.a)
}

// pixelFrom8 converts premultiplied 8-bit B,G,R,A to 15 bits. When clamp is
// set, colour channels are first clamped to alpha (engine.md §1.2).
func pixelFrom8(b, g, r, a uint8, clamp bool) Pixel15 {
	if clamp {
		b, g, r = min(b, a), min(g, a), min(r, a)
	}
	return Pixel15{Conv8To15(b), Conv8To15(g), Conv8To15(r), Conv8To15(a)}
}

// unpremultiply8 is Qt's 8-bit unpremultiply (used for PNG export):
// (c·floor(16711935/a) + 0x8000) >> 16, a = 255 unchanged, a = 0 gives 0.
func unpremultiply8(c, a uint8) uint8 {
	switch a {
	case 255:
		return c
	case 0:
		return 0
	}
	f := uint32(16711935) / uint32(a)
	return uint8((uint32(c)*f + 0x8000) >> 16)
}

// Valid reports whether p satisfies the pixel invariant B, G, R ≤ A ≤ One.
func (p Pixel15) Valid() bool {
	return p.A <= One && p.B <= p.A && p.G <= p.A && p.R <= p.A
}
