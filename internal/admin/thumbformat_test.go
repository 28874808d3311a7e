package admin

import "testing"

func TestThumbnailFormat(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		query, accept, want string
		ok                  bool
	}{
		{"", "", "png", true},
		{"", "image/avif,image/webp,image/apng,image/*,*/*;q=0.8", "webp", true},
		{"", "IMAGE/WEBP", "webp", true},
		{"", "image/webp;q=0", "png", true},
		{"", "image/webp; q=0.0, image/png", "png", true},
		{"", "image/webp;q=0.5", "webp", true},
		{"", "image/png,*/*", "png", true},
		{"png", "image/webp", "png", true},
		{"webp", "", "webp", true},
		{"gif", "image/webp", "png", false},
	} {
		got, ok := ThumbnailFormat(tc.query, tc.accept)
		if got != tc.want || ok != tc.ok {
			t.Errorf("ThumbnailFormat(%q, %q) = %q, %v; want %q, %v", tc.query, tc.accept, got, ok, tc.want, tc.ok)
		}
	}
}
