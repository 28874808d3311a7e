// Package webp owns the lossless WebP encoder used for thumbnails (issue
// #8): it turns an image into a RIFF/WebP file holding one VP8L
// (lossless) bitstream, following the WebP lossless bitstream
// specification (RFC 9649). Decoding is not its business (tests use
// golang.org/x/image/webp).
//
// What the encoder does, in bitstream order:
//
//   - the RIFF container with a single VP8L chunk (VP8L carries alpha, so
//     no VP8X or ALPH chunk is needed);
//   - the VP8L header: 14-bit width and height, the alpha hint, version 0;
//   - the subtract-green transform, then a predictor transform that picks,
//     for every 16×16 block, the one of the 14 predictor modes with the
//     smallest residuals;
//   - backward references found with a hash chain (LZ77), which makes flat
//     canvases tiny, and a small colour cache;
//   - one group of five canonical prefix codes (no meta prefix codes),
//     length-limited to 15 bits, written with the code-length code, or as
//     "simple" codes when at most two symbols below 256 are used.
//
// Encode is a pure function of its input: no goroutines, no logging, no
// global state; it is safe for concurrent use. It validates the image
// size (at most 16384×16384, the format's limit) before allocating.
package webp
