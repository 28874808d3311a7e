// Package webui is the browser client's user-interface logic, kept free of
// syscall/js and Ebitengine so it tests natively and under Node:
//
//   - View: the canvas-to-screen transform (pan, zoom, rotation, mirror),
//     fit-to-screen, zoom and rotate about a point, and two-finger
//     pinch/rotate gestures;
//   - Curve: pressure curves (monotone cubic through control points, so a
//     curve never overshoots [0,1]);
//   - Brush and Stroker: brush settings and the conversion of pointer
//     samples into evenly spaced dabs with pressure-mapped size and
//     opacity, as Drawpile's classic brush does (spacing as a fraction of
//     the dab diameter, distance carried across segments);
//   - Color and RecentColors: hex parsing, HSV conversion, the recent-colour
//     list;
//   - Controller: routes normalized pointer events (mouse, pen, touch, wheel)
//     to strokes, panning, zooming, pinching and colour picking, depending on
//     the tool, the buttons and the number of touches;
//   - Raster: a small CPU RGBA layer with dirty-rectangle tracking that the
//     client uses as the local stroke preview until its canvas engine takes
//     over.
//   - ListedSession, ParseSessionList, VisibleSessions: the landing page's
//     list of public sessions (NSFM hidden unless asked for);
//   - SessionSettings: the session properties the operator's settings
//     dialog edits, tracked from sessionconf messages (and the muted list);
//   - ViewerOptions, ParseViewerURL, Catchup: the spectator and embed pages
//     (/watch, /embed) and their catch-up progress;
//   - Access and LayerLock: what the ACL filter knows about the own user
//     and a layer, and the decisions "may I draw on this layer", "may I
//     edit, move, delete or lock it" with the reason shown when not
//     (Refusal);
//   - LayerNode, MoveLayer, DropLayer: LayerTreeMove fields for the
//     panel's up/down buttons and drag and drop; LayerBlendModes;
//   - PixelEncoder: pixel-brush dabs as DrawDabsPixel runs;
//   - Smoother and Arrivals: remote stroke segments spread over frames,
//     with a delay (0–8 frames) adapted to how bursty each drawer's
//     messages arrive.
//
// Everything here is deterministic and single-goroutine: the client's game
// loop (cmd/webclient) owns every value and calls it from Update.
//
// Coordinates: "screen" means CSS pixels relative to the canvas element's
// top-left corner; "canvas" means canvas pixels, origin at the canvas's
// top-left, x right, y down.
package webui
