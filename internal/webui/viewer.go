package webui

import (
	"net/url"
	"strconv"
	"strings"
	"time"
)

// ViewerMode says how the page shows a session.
type ViewerMode int

const (
	// ModeParticipant is the normal client (landing page, /r/CODE).
	ModeParticipant ViewerMode = iota
	// ModeWatch is /watch/SECRET: a read-only view with the user list,
	// chat log and status bar.
	ModeWatch
	// ModeEmbed is /embed/SECRET: only the canvas (for iframes and OBS).
	ModeEmbed
)

// MaxWatchDelay bounds the delay a spectator may ask for (the bridge
// rejects more).
const MaxWatchDelay = 2 * time.Minute

// ViewerOptions are the spectator page's settings, from its URL:
//
//	/watch/SECRET?delay=30s
//	/embed/SECRET?bg=transparent&fit=contain&cursors=off&laser=on&chat=off&delay=0s
type ViewerOptions struct {
	Mode   ViewerMode
	Secret string
	// Transparent is bg=transparent: no workspace colour around or under
	// the canvas, so transparent canvas pixels show what is behind the page.
	Transparent bool
	// Fit is "contain" (the whole canvas, the default) or "cover" (fill the
	// frame, cropping the canvas).
	Fit string
	// Cursors, Laser and Chat show other users' cursors, laser pointers and
	// the chat log.
	Cursors, Laser, Chat bool
	// Delay is how far behind the live session the view runs.
	Delay time.Duration
}

// ParseViewerURL reads the viewer options from a page path and raw query.
// ok is false for paths that are not /watch/SECRET or /embed/SECRET with a
// valid secret (letters, digits, '-' and '_', at most 64). Unknown or
// malformed options keep their defaults: everything shown, no delay.
func ParseViewerURL(path, rawQuery string) (o ViewerOptions, ok bool) {
	switch {
	case strings.HasPrefix(path, "/watch/"):
		o.Mode, path = ModeWatch, path[len("/watch/"):]
	case strings.HasPrefix(path, "/embed/"):
		o.Mode, path = ModeEmbed, path[len("/embed/"):]
	default:
		return ViewerOptions{}, false
	}
	path = strings.TrimSuffix(path, "/")
	if !validSecret(path) {
		return ViewerOptions{}, false
	}
	o.Secret = path
	o.Fit, o.Cursors, o.Laser, o.Chat = "contain", true, true, o.Mode == ModeWatch
	q, err := url.ParseQuery(rawQuery)
	if err != nil {
		q = url.Values{}
	}
	o.Transparent = q.Get("bg") == "transparent"
	if f := q.Get("fit"); f == "cover" {
		o.Fit = f
	}
	flag := func(key string, def bool) bool {
		switch strings.ToLower(q.Get(key)) {
		case "on", "1", "true", "yes":
			return true
		case "off", "0", "false", "no":
			return false
		}
		return def
	}
	o.Cursors, o.Laser, o.Chat = flag("cursors", o.Cursors), flag("laser", o.Laser), flag("chat", o.Chat)
	o.Delay = parseDelay(q.Get("delay"))
	return o, true
}

// WSPath is the spectator WebSocket path with the delay, relative to the
// page's origin.
func (o ViewerOptions) WSPath() string {
	p := "/watch/" + o.Secret + "/ws"
	if o.Delay > 0 {
		p += "?delay=" + strconv.FormatFloat(o.Delay.Seconds(), 'f', -1, 64)
	}
	return p
}

// parseDelay accepts a Go duration ("30s") or seconds ("30"); anything
// invalid or out of range is 0.
func parseDelay(s string) time.Duration {
	if s == "" {
		return 0
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		f, ferr := strconv.ParseFloat(s, 64)
		if ferr != nil || f != f {
			return 0
		}
		d = time.Duration(f * float64(time.Second))
	}
	if d < 0 || d > MaxWatchDelay {
		return 0
	}
	return d
}

func validSecret(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}

// Catchup follows a spectator stream's catch-up from its ServerCommand
// notices ({"type":"catchup","count":N} … {"type":"caughtup"}) and the
// messages between them, for the progress bar. The zero value is before
// any catch-up.
type Catchup struct {
	Active   bool
	CaughtUp bool
	Got, Of  int
}

// Notice records a ServerCommand of type typ (count for "catchup"). A
// "reset" starts over.
func (c *Catchup) Notice(typ string, count int) {
	switch typ {
	case "catchup":
		*c = Catchup{Active: true, Of: max(count, 0)}
	case "caughtup":
		c.Active, c.CaughtUp = false, true
	case "reset":
		*c = Catchup{Active: true}
	}
}

// Message records one history message.
func (c *Catchup) Message() {
	if c.Active {
		c.Got++
	}
}

// Percent is the progress in percent (0 while the total is unknown).
func (c *Catchup) Percent() int {
	if c.CaughtUp {
		return 100
	}
	if c.Of <= 0 {
		return 0
	}
	return min(100, c.Got*100/c.Of)
}
