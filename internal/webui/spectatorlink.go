package webui

import (
	"bytes"
	"encoding/json"
	"net/url"
	"strconv"
	"time"
)

// SpectatorLink is the bridge's answer to the operator command
// spectator-link ({"type":"spectatorlink",…}, docs/architecture.md).
type SpectatorLink struct {
	Secret  string `json:"secret"`
	Watch   string `json:"watch"` // /watch/SECRET
	Embed   string `json:"embed"` // /embed/SECRET
	Rotated bool   `json:"rotated"`
}

// ParseSpectatorLink reads a ServerCommand payload; ok is false for any
// other message or a malformed one.
func ParseSpectatorLink(payload []byte) (SpectatorLink, bool) {
	if !bytes.Contains(payload, []byte(`"spectatorlink"`)) {
		return SpectatorLink{}, false
	}
	var r struct {
		Type string `json:"type"`
		SpectatorLink
	}
	if json.Unmarshal(payload, &r) != nil || r.Type != "spectatorlink" || !validSecret(r.Secret) {
		return SpectatorLink{}, false
	}
	l := r.SpectatorLink
	l.Watch, l.Embed = "/watch/"+l.Secret, "/embed/"+l.Secret // never trust paths from the wire
	return l, true
}

// EmbedURL is the embed link for origin (scheme://host) and secret with
// the options of o that differ from the embed defaults; ParseViewerURL
// reads it back as o. o.Mode and o.Secret are ignored.
func EmbedURL(origin, secret string, o ViewerOptions) string {
	q := url.Values{}
	if o.Transparent {
		q.Set("bg", "transparent")
	}
	if o.Fit == "cover" {
		q.Set("fit", "cover")
	}
	if !o.Cursors {
		q.Set("cursors", "off")
	}
	if !o.Laser {
		q.Set("laser", "off")
	}
	if o.Chat {
		q.Set("chat", "on")
	}
	if d := min(max(o.Delay, 0), MaxWatchDelay); d > 0 {
		q.Set("delay", strconv.FormatFloat(d.Round(time.Second).Seconds(), 'f', -1, 64)+"s")
	}
	u := origin + "/embed/" + secret
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	return u
}
