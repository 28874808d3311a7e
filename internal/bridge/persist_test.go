package bridge

import (
	"io"
	"testing"

	"drawbridge/internal/store/sessionfile"
)

func TestPersistFlags(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		args    []string
		want    PersistConfig
		wantErr bool
	}{
		{name: "defaults", args: nil, want: PersistConfig{}},
		{name: "all", args: []string{"--sessions", "/var/lib/s", "--fsync", "always", "--archive", "--templates", "/t", "--record", "/r/%a-%d.dprec"},
			want: PersistConfig{SessionsDir: "/var/lib/s", Fsync: sessionfile.FsyncAlways, Archive: true, TemplatesDir: "/t", Record: "/r/%a-%d.dprec"}},
		{name: "never", args: []string{"--sessions", "d", "--fsync=never"}, want: PersistConfig{SessionsDir: "d", Fsync: sessionfile.FsyncNever}},
		{name: "batch", args: []string{"--fsync", "batch"}, want: PersistConfig{Fsync: sessionfile.FsyncBatch}},
		{name: "bad fsync", args: []string{"--fsync", "sometimes"}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg, err := ParseFlags(tt.args, io.Discard)
			if (err != nil) != tt.wantErr {
				t.Fatalf("ParseFlags(%q) error = %v, want error %v", tt.args, err, tt.wantErr)
			}
			if err == nil && cfg.Persist != tt.want {
				t.Errorf("ParseFlags(%q).Persist = %+v, want %+v", tt.args, cfg.Persist, tt.want)
			}
			if err == nil && cfg.Persist.Enabled() != (tt.want.SessionsDir != "" || tt.want.TemplatesDir != "" || tt.want.Record != "") {
				t.Errorf("Enabled() = %v", cfg.Persist.Enabled())
			}
		})
	}
}
