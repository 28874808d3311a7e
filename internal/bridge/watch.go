package bridge

// Spectators, embeds and thumbnails (issue #8): the HTTP side of
// internal/mirror.
//
//	GET /watch/{secret}                  the web client's page (read-only view)
//	GET /embed/{secret}?bg=…&fit=…       the same page; the client reads the query
//	GET /watch/{secret}/ws               spectator WebSocket (no login, no user slot)
//	GET /api/sessions/{id}/thumbnail     live thumbnail of a listed session:
//	GET /api/sessions/{id}/thumbnail.png lossless WebP when ?format=webp or the
//	                                     Accept header lists image/webp, else
//	                                     PNG (?format=png forces PNG); Vary: Accept
//
// {secret} is the session's spectator secret (session.Session.WatchSecret),
// never its room code, id, alias or an invite. When an operator rotates it
// (command spectator-link, rotate), the streams opened with the old one
// are closed (1008 "spectator link changed"). Each client address may hold
// at most LimitsConfig.MaxWatchPerIP spectator sockets (429 beyond).
//
// The spectator WebSocket speaks the session protocol's server→client half
// (one binary message per protocol message, 2-byte header, §1.2): first a
// JSON ServerCommand {"type":"watch","id","title","protocol","delay"}, then
// what a joining client gets: {"type":"catchup","count":N,"key":1}, a reset
// image of the session's live canvas (Join/SessionOwner/TrustedUsers of the
// present users, canvas messages and ACL messages with context id 0),
// {"type":"caughtup","key":1}, then the history from that point on, held
// back by the viewer's delay. A classic reset of the session arrives as
// {"type":"reset","state":"reset"} followed by the new history, as for
// clients. Anything the viewer sends is a protocol violation and closes the
// connection.
//
// Goroutines: each watched session has one mirror goroutine (plus its tap
// reader), registered with Bridge.track so Close waits for it; it ends
// when the session ends, when it is idle (no viewers, no thumbnail
// requests) or at shutdown. Each spectator WebSocket is served by its
// HTTP handler goroutine, which writes; coder/websocket's CloseRead runs
// the reader.

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
	"github.com/go-chi/chi/v5"

	"drawbridge/internal/admin"
	"drawbridge/internal/mirror"
	"drawbridge/internal/session"
	"drawbridge/protocol"
	"drawbridge/web"
)

// maxWatchDelay bounds the delay a spectator may ask for.
const maxWatchDelay = 2 * time.Minute

// watchKeepAlive is the longest silence on a spectator stream.
const watchKeepAlive = 30 * time.Second

// watchHub holds the mirrors of one Bridge.
type watchHub struct {
	b       *Bridge                                    // immutable
	acquire func(netip.Addr) (release func(), ok bool) // immutable: the per-address spectator limit

	mu          sync.Mutex // guards everything below
	mirrors     map[*session.Session]*watched
	serverReset bool
	scanStop    chan struct{} // closes the server-reset scan loop
}

// watched is one running mirror.
type watched struct {
	m      *mirror.Mirror
	tap    *session.Tap
	cancel context.CancelFunc
}

func (w *watched) forceClose() { w.cancel() }

// watchHub returns the bridge's spectator hub, created on first use.
func (b *Bridge) watchHub() *watchHub {
	b.watchOnce.Do(func() {
		lim := b.cfg.Limits.MaxWatchPerIP
		b.watch = &watchHub{b: b, mirrors: map[*session.Session]*watched{},
			acquire: b.limitedAcquire(newConnLimiter(b.cfg.Limits, lim, b.cfg.TrustedProxies), "spectator", lim)}
	})
	return b.watch
}

// watchRoutes mounts the spectator, embed and public thumbnail routes.
// The WebSocket route has no timeout or compression middleware.
func (b *Bridge) watchRoutes(r chi.Router) {
	r.Get("/watch/{code}", b.serveWatchPage)
	r.Get("/embed/{code}", b.serveWatchPage)
	r.Get("/watch/{code}/ws", b.serveWatchWS)
	r.Get("/api/sessions/{id}/thumbnail", b.servePublicThumbnail)
	r.Get("/api/sessions/{id}/thumbnail.png", b.servePublicThumbnail)
}

// WatchHandler returns a handler serving only the routes of watchRoutes
// (for tests and for embedding the spectator endpoints elsewhere).
func (b *Bridge) WatchHandler() http.Handler {
	r := chi.NewRouter()
	b.watchRoutes(r)
	return r
}

// serveWatchPage serves the web client's index.html; the page reads the
// mode (watch or embed), the secret and the embed options from its URL.
func (b *Bridge) serveWatchPage(w http.ResponseWriter, r *http.Request) {
	if b.srv.LookupWatch(chi.URLParam(r, "code")) == nil {
		http.Error(w, "no such session", http.StatusNotFound)
		return
	}
	page, err := fs.ReadFile(web.FS(), "index.html")
	if err != nil {
		http.Error(w, "web client not built", http.StatusNotFound)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer") // the URL holds the secret
	_, _ = w.Write(page)
}

// parseDelay accepts a Go duration ("30s", "1m") or plain seconds.
func parseDelay(s string) (time.Duration, error) {
	if s == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		n, nerr := strconv.ParseFloat(s, 64)
		if nerr != nil || n != n {
			return 0, fmt.Errorf("bad delay %q", s)
		}
		d = time.Duration(n * float64(time.Second))
	}
	if d < 0 || d > maxWatchDelay {
		return 0, fmt.Errorf("delay must be between 0 and %v", maxWatchDelay)
	}
	return d, nil
}

// watchInfo is the first message of a spectator stream.
type watchInfo struct {
	Type     string  `json:"type"`
	ID       string  `json:"id"`
	Title    string  `json:"title"`
	Protocol string  `json:"protocol"`
	Delay    float64 `json:"delay"`
}

// viewerConn is a spectator WebSocket in the bridge's registry.
type viewerConn struct {
	c    *websocket.Conn
	sock *wsSock // the hijacked socket under c: data messages go here (wscork.go)
}

func (v *viewerConn) forceClose() { _ = v.c.CloseNow() }

func (b *Bridge) serveWatchWS(rw http.ResponseWriter, r *http.Request) {
	secret := chi.URLParam(r, "code")
	s := b.srv.LookupWatch(secret)
	if s == nil {
		http.Error(rw, "no such session", http.StatusNotFound)
		return
	}
	delay, err := parseDelay(r.URL.Query().Get("delay"))
	if err != nil {
		http.Error(rw, err.Error(), http.StatusBadRequest)
		return
	}
	release, ok := b.watchHub().acquire(b.remoteAddr(r))
	if !ok {
		tooManyConns(rw)
		return
	}
	defer release()
	c, sock, err := acceptWS(rw, r, b.origins)
	if err != nil {
		b.logger.Debug("spectator websocket accept failed", "err", err)
		return
	}
	vc := &viewerConn{c: c, sock: sock}
	if !b.track(vc) {
		_ = c.Close(websocket.StatusGoingAway, "server shutting down")
		return
	}
	defer b.untrack(vc)
	c.SetReadLimit(protocol.WSHeaderLen + protocol.MaxPayload)
	ctx := c.CloseRead(r.Context()) // viewers send nothing; cancelled when the peer closes
	// A rotated secret ends the stream (Session.RotateWatchSecret): the
	// watcher goroutine below is owned by this handler and ends with
	// ctx. It cancels only the waiting for the next batch (streamCtx): a
	// batch being written finishes, so the close frame with the reason
	// can follow it.
	revoked := s.WatchRevoked(secret)
	streamCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	var gone atomic.Bool
	go func() {
		select {
		case <-revoked:
			gone.Store(true)
			cancel()
		case <-streamCtx.Done():
		}
	}()
	status, reason := b.streamViewer(ctx, streamCtx, sock, s, delay)
	if gone.Load() {
		status, reason = websocket.StatusPolicyViolation, "spectator link changed"
	}
	_ = c.Close(status, reason)
}

// streamViewer writes the spectator stream until the viewer leaves or the
// session ends; it returns the close status and reason. Each batch of the
// viewer (mirror.Viewer.Next: a whole catch-up snapshot, or the history
// that arrived since the last batch) goes out as one socket write, one
// binary WebSocket message per protocol message, under the session's
// write timeout (wsSock.writeMessages); a batch that misses it disconnects
// the viewer as too slow. Writes are bounded by ctx (the connection);
// streamCtx (ctx, or a revoked link) ends the stream between batches.
func (b *Bridge) streamViewer(ctx, streamCtx context.Context, sock *wsSock, s *session.Session, delay time.Duration) (websocket.StatusCode, string) {
	lg := b.logger.With("session", s.ID(), "spectator", true)
	var v *mirror.Viewer
	for attempt := 0; ; attempt++ {
		w, err := b.watchHub().mirrorFor(s)
		if err != nil {
			return websocket.StatusGoingAway, "session ended"
		}
		wctx, cancel := context.WithTimeout(streamCtx, 30*time.Second)
		v, err = w.m.Watch(wctx, delay)
		cancel()
		if err == nil {
			break
		}
		if !errors.Is(err, mirror.ErrClosed) || attempt > 2 {
			return websocket.StatusInternalError, "cannot watch"
		}
		<-w.m.Done() // it just stopped (idle): start a new one
	}
	defer v.Close()
	d := s.Desc()
	info, err := protocol.JSONFrame(watchInfo{Type: "watch", ID: d.ID, Title: d.Title, Protocol: d.Protocol, Delay: delay.Seconds()})
	if err != nil {
		return websocket.StatusInternalError, "internal error"
	}
	writeTimeout := b.srv.Settings().WriteTimeout
	write := func(frames []protocol.Frame) error {
		wctx, cancel := context.WithTimeout(ctx, writeTimeout)
		defer cancel()
		if _, err := sock.writeMessages(wctx, frames); err != nil {
			return err
		}
		n := 0
		for _, f := range frames {
			n += len(f)
		}
		b.wsM.sent(len(frames), n)
		return nil
	}
	if err := write([]protocol.Frame{info}); err != nil {
		return websocket.StatusGoingAway, ""
	}
	lg.Debug("spectator joined", "delay", delay)
	keepAlive, err := protocol.EncodeFrame(0, protocol.KeepAlive{}, protocol.Layout425)
	if err != nil {
		return websocket.StatusInternalError, "internal error"
	}
	var buf []protocol.Frame
	for {
		// A KeepAlive after watchKeepAlive of silence keeps proxies and
		// the viewer's idle timeout from closing a quiet stream.
		if streamCtx.Err() != nil {
			return websocket.StatusGoingAway, ""
		}
		nctx, cancel := context.WithTimeout(streamCtx, watchKeepAlive)
		buf, err = v.Next(nctx, buf)
		cancel()
		if errors.Is(err, context.DeadlineExceeded) && streamCtx.Err() == nil {
			buf = append(buf[:0], keepAlive)
			err = nil
		}
		switch {
		case errors.Is(err, mirror.ErrClosed):
			return websocket.StatusNormalClosure, "session ended"
		case errors.Is(err, mirror.ErrLagging):
			lg.Warn("disconnecting slow spectator")
			return websocket.StatusPolicyViolation, "too slow"
		case err != nil:
			return websocket.StatusGoingAway, ""
		}
		if err := write(buf); err != nil {
			// Only a missed write deadline is a slow viewer; a socket the
			// peer (or shutdown) closed is a lost one.
			if ctx.Err() == nil && (errors.Is(err, os.ErrDeadlineExceeded) || errors.Is(err, context.DeadlineExceeded)) {
				lg.Warn("disconnecting slow spectator", "err", err)
				return websocket.StatusPolicyViolation, "too slow"
			}
			lg.Debug("spectator connection lost", "err", err)
			return websocket.StatusGoingAway, ""
		}
		clear(buf)
	}
}

// mirrorFor returns the running mirror of s, starting one if needed.
func (h *watchHub) mirrorFor(s *session.Session) (*watched, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if w := h.mirrors[s]; w != nil {
		select {
		case <-w.m.Done():
		default:
			return w, nil
		}
	}
	tap, err := s.Tap()
	if err != nil {
		return nil, err
	}
	b := h.b
	opts := mirror.Options{
		Compat:    s.Desc().Protocol == protocol.CompatVersion,
		Logger:    b.logger.With("component", "mirror", "session", s.ID()),
		MaxDelay:  maxWatchDelay,
		MaxLag:    b.srv.Settings().MaxLag,
		OnViewers: tap.SetViewers,
	}
	if h.serverReset {
		opts.ResetSink = s
	}
	m := mirror.New(tap, opts)
	ctx, cancel := context.WithCancel(context.Background())
	w := &watched{m: m, tap: tap, cancel: cancel}
	if !b.track(w) {
		cancel()
		tap.Close()
		return nil, errors.New("bridge: shutting down")
	}
	if h.serverReset {
		s.SetResetImager(m)
	}
	h.mirrors[s] = w
	go func() {
		defer b.untrack(w)
		defer tap.Close()
		defer cancel()
		if err := m.Run(ctx); err != nil {
			opts.Logger.Warn("mirror stopped", "err", err)
		}
		h.mu.Lock()
		if h.mirrors[s] == w {
			delete(h.mirrors, s)
			if opts.ResetSink != nil {
				s.SetResetImager(nil)
			}
		}
		h.mu.Unlock()
	}()
	return w, nil
}

// SetServerSideReset turns server-side resets on or off (default off).
// When on, every running session gets a mirror, and the session's
// autoreset (or StartServerReset) compacts the history from the mirror's
// canvas instead of asking a client to upload a snapshot.
func (b *Bridge) SetServerSideReset(on bool) {
	h := b.watchHub()
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.serverReset == on {
		return
	}
	h.serverReset = on
	for s, w := range h.mirrors {
		// Restart with the new ResetSink setting.
		w.cancel()
		if !on {
			s.SetResetImager(nil)
		}
	}
	if on {
		h.scanStop = make(chan struct{})
		stop := h.scanStop
		sc := &scanLoop{stop: stop}
		if !b.track(sc) {
			return
		}
		go func() {
			defer b.untrack(sc)
			t := time.NewTicker(2 * time.Second)
			defer t.Stop()
			for {
				h.ensureAll()
				select {
				case <-stop:
					return
				case <-t.C:
				}
			}
		}()
	} else if h.scanStop != nil {
		close(h.scanStop)
		h.scanStop = nil
	}
}

// scanLoop is the server-reset scan goroutine in the bridge's registry.
type scanLoop struct {
	stop chan struct{}
	once sync.Once
}

func (s *scanLoop) forceClose() { s.once.Do(func() { close(s.stop) }) }

// ensureAll starts a mirror for every running session (server-side reset
// needs a live canvas of each).
func (h *watchHub) ensureAll() {
	for _, s := range h.b.srv.Sessions() {
		h.mu.Lock()
		on := h.serverReset
		h.mu.Unlock()
		if !on {
			return
		}
		if _, err := h.mirrorFor(s); err != nil {
			h.b.logger.Debug("no mirror for session", "session", s.ID(), "err", err)
		}
	}
}

// SessionThumbnail returns a thumbnail of the live session id in format
// ("webp" for lossless WebP, anything else PNG) for the admin API: GET
// /api/sessions/:id/thumbnail. ok is false when there is no such session.
func (b *Bridge) SessionThumbnail(ctx context.Context, id, format string) (img []byte, at time.Time, ok bool, err error) {
	s := b.srv.Lookup(id)
	if s == nil {
		return nil, time.Time{}, false, nil
	}
	f := mirror.FormatPNG
	if format == "webp" {
		f = mirror.FormatWebP
	}
	img, at, err = b.thumbnail(ctx, s, f)
	return img, at, true, err
}

func (b *Bridge) thumbnail(ctx context.Context, s *session.Session, f mirror.Format) ([]byte, time.Time, error) {
	for attempt := 0; ; attempt++ {
		w, err := b.watchHub().mirrorFor(s)
		if err != nil {
			return nil, time.Time{}, err
		}
		img, at, err := w.m.ThumbnailAs(ctx, f)
		if errors.Is(err, mirror.ErrClosed) && attempt < 2 {
			<-w.m.Done()
			continue
		}
		return img, at, err
	}
}

// thumbnailFormat picks the format of a thumbnail request
// (admin.ThumbnailFormat: ?format=, else the Accept header). ok is false
// for an unknown ?format.
func thumbnailFormat(r *http.Request) (f mirror.Format, ok bool) {
	name, ok := admin.ThumbnailFormat(r.URL.Query().Get("format"), r.Header.Get("Accept"))
	if name == "webp" {
		return mirror.FormatWebP, ok
	}
	return mirror.FormatPNG, ok
}

// servePublicThumbnail serves the thumbnail of a session that the public
// session list shows (not unlisted, no password).
func (b *Bridge) servePublicThumbnail(w http.ResponseWriter, r *http.Request) {
	id := chi.URLParam(r, "id")
	s := b.srv.Lookup(id)
	if s == nil || !strings.EqualFold(s.ID(), id) && !strings.EqualFold(s.Alias(), id) {
		http.Error(w, "no such session", http.StatusNotFound)
		return
	}
	if d := s.Desc(); d.Unlisted || d.HasPassword {
		http.Error(w, "no such session", http.StatusNotFound)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 10*time.Second)
	defer cancel()
	w.Header().Set("Vary", "Accept")
	f, ok := thumbnailFormat(r)
	if !ok {
		http.Error(w, "format must be png or webp", http.StatusBadRequest)
		return
	}
	img, at, err := b.thumbnail(ctx, s, f)
	if err != nil {
		http.Error(w, "thumbnail unavailable", http.StatusServiceUnavailable)
		return
	}
	w.Header().Set("Content-Type", f.ContentType())
	w.Header().Set("Cache-Control", "public, max-age=5")
	w.Header().Set("Last-Modified", at.UTC().Format(http.TimeFormat))
	w.Header().Set("Content-Length", strconv.Itoa(len(img)))
	_, _ = w.Write(img)
}
