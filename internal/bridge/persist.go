package bridge

import (
	"flag"
	"fmt"
	"time"

	"drawbridge/internal/session"
	"drawbridge/internal/store/sessionfile"
)

// PersistConfig configures file-backed sessions (server.md §2.9, §2.10).
// The zero value keeps sessions in memory.
type PersistConfig struct {
	// SessionsDir (--sessions) makes every session file-backed in
	// drawpile-srv's format; sessions found there are restored at start.
	SessionsDir string
	// Fsync (--fsync always|batch|never, default batch) says when session
	// files are forced to stable storage. Messages reach the kernel before
	// any client sees them whatever the policy.
	Fsync sessionfile.FsyncPolicy
	// FsyncInterval bounds the batch delay (0 = 50 ms, at most 100 ms).
	FsyncInterval time.Duration
	// Archive (--archive) renames the files of ended sessions to
	// *.archived instead of deleting them (per-session override in the
	// journal wins).
	Archive bool
	// TemplatesDir (--templates) holds session templates (.dprec, .dptxt).
	TemplatesDir string
	// Record (--record) is a recording path pattern (%d %t %i %a) or a
	// directory; every session is recorded there.
	Record string
}

// Enabled reports whether any persistence feature is configured.
func (p PersistConfig) Enabled() bool {
	return p.SessionsDir != "" || p.TemplatesDir != "" || p.Record != ""
}

// RegisterPersistFlags adds --sessions, --fsync, --archive, --templates and
// --record to fs, filling p.
func RegisterPersistFlags(fs *flag.FlagSet, p *PersistConfig) {
	fs.StringVar(&p.SessionsDir, "sessions", "", "directory for file-backed sessions (drawpile-srv format); sessions there are restored at start")
	fs.Func("fsync", "when session files are synced to disk: always, batch (within 100 ms, default) or never", func(s string) error {
		pol, err := sessionfile.ParseFsyncPolicy(s)
		if err != nil {
			return err
		}
		p.Fsync = pol
		return nil
	})
	fs.BoolVar(&p.Archive, "archive", false, "archive the files of ended sessions (*.archived) instead of deleting them")
	fs.StringVar(&p.TemplatesDir, "templates", "", "directory of session templates (.dprec, .dptxt)")
	fs.StringVar(&p.Record, "record", "", "record every session: a directory or a path pattern with %d (date) %t (time) %i (id) %a (alias)")
}

// enablePersistence applies p to a new session server (before it accepts
// connections).
func enablePersistence(srv *session.Server, p PersistConfig) error {
	if !p.Enabled() {
		return nil
	}
	_, err := srv.EnableFiles(session.FileConfig{
		Dir: p.SessionsDir,
		Options: sessionfile.Options{
			Fsync:            p.Fsync,
			BatchInterval:    p.FsyncInterval,
			ArchiveByDefault: p.Archive,
		},
		Templates: p.TemplatesDir,
		Record:    p.Record,
	})
	if err != nil {
		return fmt.Errorf("sessions: %w", err)
	}
	return nil
}
