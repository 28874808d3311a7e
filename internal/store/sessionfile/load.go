package sessionfile

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Loaded is one session found by LoadDir.
type Loaded struct {
	ID       string
	File     *File
	Recovery *Recovery
}

// LoadDir opens every session in dir (every "<id>.session" journal, as
// drawpile-srv's loader does). A session that cannot be loaded — unreadable
// or garbage journal, missing, garbage or empty recording, incompatible
// version — is logged with its file name and skipped; its files are left
// untouched. Repairs (a dropped partial message, appended Leaves) are
// logged too. The error is non-nil only when dir itself cannot be read.
// Sessions are returned sorted by id. opts.Logger is replaced by logger.
func LoadDir(dir string, logger *slog.Logger, opts Options) ([]*Loaded, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	opts.Logger = logger
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("load sessions: %w", err)
	}
	var names []string
	for _, e := range entries {
		if !e.Type().IsRegular() && e.Type()&os.ModeSymlink == 0 {
			continue
		}
		if name := e.Name(); strings.HasSuffix(name, ".session") && !strings.HasPrefix(name, ".") {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	var out []*Loaded
	for _, name := range names {
		path := filepath.Join(dir, name)
		id, _, _ := strings.Cut(name, ".") // QFileInfo::baseName: up to the first dot
		if id+".session" != name || !ValidID(id) {
			logger.Warn("skipping session file: bad session id", "file", path)
			continue
		}
		f, rec, err := Open(dir, id, opts)
		if err != nil {
			logger.Warn("skipping session: cannot load", "file", path, "err", err)
			continue
		}
		out = append(out, &Loaded{ID: id, File: f, Recovery: rec})
	}
	return out, nil
}
