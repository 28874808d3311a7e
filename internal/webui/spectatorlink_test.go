package webui

import (
	"strings"
	"testing"
	"time"
)

func TestEmbedURLRoundTrip(t *testing.T) {
	t.Parallel()
	const origin, secret = "https://draw.example", "abcdefgh2345"
	for _, tc := range []struct {
		name string
		o    ViewerOptions
		want string
	}{
		{"defaults", ViewerOptions{Fit: "contain", Cursors: true, Laser: true}, origin + "/embed/" + secret},
		{"overlay", ViewerOptions{Transparent: true, Fit: "contain", Cursors: false, Laser: true, Chat: true, Delay: 10 * time.Second},
			origin + "/embed/" + secret + "?bg=transparent&chat=on&cursors=off&delay=10s"},
		{"cover, no laser", ViewerOptions{Fit: "cover", Cursors: true}, origin + "/embed/" + secret + "?fit=cover&laser=off"},
		{"delay clamped", ViewerOptions{Fit: "contain", Cursors: true, Laser: true, Delay: time.Hour}, origin + "/embed/" + secret + "?delay=120s"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u := EmbedURL(origin, secret, tc.o)
			if u != tc.want {
				t.Fatalf("EmbedURL = %q, want %q", u, tc.want)
			}
			path, query := u[len(origin):], ""
			for i := range path {
				if path[i] == '?' {
					path, query = path[:i], path[i+1:]
					break
				}
			}
			got, ok := ParseViewerURL(path, query)
			want := tc.o
			want.Mode, want.Secret = ModeEmbed, secret
			want.Delay = min(want.Delay, MaxWatchDelay)
			if !ok || got != want {
				t.Fatalf("ParseViewerURL(%q) = %+v, %v; want %+v", u, got, ok, want)
			}
		})
	}
}

func TestParseSpectatorLink(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in     string
		ok     bool
		secret string
	}{
		{`{"type":"spectatorlink","secret":"abcdefgh2345","watch":"/watch/abcdefgh2345","embed":"/embed/abcdefgh2345","rotated":false}`, true, "abcdefgh2345"},
		{`{"type":"spectatorlink","secret":"abcdefgh2345","watch":"https://evil.example/"}`, true, "abcdefgh2345"},
		{`{"type":"spectatorlink","secret":"../x"}`, false, ""},
		{`{"type":"msg","message":"spectatorlink"}`, false, ""},
		{`{"type":"spectatorlink"`, false, ""},
		{`{"type":"chat"}`, false, ""},
	} {
		l, ok := ParseSpectatorLink([]byte(tc.in))
		if ok != tc.ok || l.Secret != tc.secret {
			t.Errorf("ParseSpectatorLink(%s) = %+v, %v", tc.in, l, ok)
		}
		if ok && (l.Watch != "/watch/"+l.Secret || l.Embed != "/embed/"+l.Secret) {
			t.Errorf("paths not derived from the secret: %+v", l)
		}
	}
}

func FuzzParseSpectatorLink(f *testing.F) {
	f.Add([]byte(`{"type":"spectatorlink","secret":"abcdefgh2345","watch":"/watch/abcdefgh2345","embed":"/embed/abcdefgh2345","rotated":true}`))
	f.Add([]byte(`{"type":"spectatorlink","secret":"<script>"}`))
	f.Add([]byte(`"spectatorlink"`))
	f.Fuzz(func(t *testing.T, payload []byte) {
		l, ok := ParseSpectatorLink(payload)
		if !ok {
			return
		}
		if !validSecret(l.Secret) || l.Watch != "/watch/"+l.Secret || l.Embed != "/embed/"+l.Secret {
			t.Fatalf("accepted %+v from %q", l, payload)
		}
		if u := EmbedURL("https://x", l.Secret, ViewerOptions{}); !strings.HasPrefix(u, "https://x/embed/"+l.Secret) {
			t.Fatalf("EmbedURL = %q", u)
		}
	})
}
