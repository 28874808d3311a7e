package bridge

import (
	"context"
	"fmt"
	"net"
	"time"

	"drawbridge/internal/session"
)

// currentSettings returns the session settings: Config.Settings when the
// caller fixed them, else the store's runtime settings mapped onto the
// session defaults.
func (b *Bridge) currentSettings() session.Settings {
	var st session.Settings
	if b.cfg.Settings != nil {
		st = *b.cfg.Settings
	} else {
		st = sessionSettings(b.store.Settings(), session.DefaultSettings())
		st.Reports = b.store.Settings().AbuseReport && b.cfg.ReportURL != ""
	}
	st.WebSockets = true // the HTTP listener always accepts WebSockets
	return st
}

// syncSettings pushes the store's current settings into the session
// server. It is called after the admin API changed settings and
// periodically, so that config-file edits and database changes made by
// other processes apply live, as in drawpile-srv.
func (b *Bridge) syncSettings() {
	b.syncMu.Lock()
	defer b.syncMu.Unlock()
	next := b.currentSettings()
	if sameSettings(b.srv.Settings(), next) {
		return
	}
	b.srv.SetSettings(next)
	b.logger.Info("settings applied")
}

// sameSettings compares two settings values (the regexp by its source).
func sameSettings(a, b session.Settings) bool {
	ra, rb := a.ForbiddenNames, b.ForbiddenNames
	a.ForbiddenNames, b.ForbiddenNames = nil, nil
	if a != b {
		return false
	}
	if (ra == nil) != (rb == nil) {
		return false
	}
	return ra == nil || ra.String() == rb.String()
}

// settingsSyncInterval is how often store changes are looked for.
const settingsSyncInterval = 2 * time.Second

// startBackground starts the bridge's background goroutines, all ended by
// bgStop and counted in wg: the config-file watcher, the settings sync and
// the systemd watchdog.
func (b *Bridge) startBackground() {
	ctx, cancel := context.WithCancel(context.Background())
	b.bgStop = cancel
	run := func(f func(context.Context)) {
		b.wg.Add(1)
		go func() {
			defer b.wg.Done()
			f(ctx)
		}()
	}
	run(func(ctx context.Context) { _ = b.store.Watch(ctx, settingsSyncInterval) })
	run(b.runExtBans)
	run(func(ctx context.Context) { _ = b.store.RunLogPurge(ctx) })
	run(b.events.runEvents)
	run(b.pruneLogins)
	run(b.runListing)
	run(func(ctx context.Context) {
		t := time.NewTicker(settingsSyncInterval)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				b.syncSettings()
			}
		}
	})
	if b.notify.Enabled() && b.cfg.WatchdogInterval > 0 {
		run(func(ctx context.Context) { b.notify.RunWatchdog(ctx, b.cfg.WatchdogInterval, b.healthy) })
	}
}

// healthy reports whether the session registry answers within a second
// (a deadlocked registry stops the watchdog pings, and systemd restarts
// the service).
func (b *Bridge) healthy() bool {
	done := make(chan struct{})
	go func() {
		b.srv.Sessions()
		close(done)
	}()
	select {
	case <-done:
		return true
	case <-time.After(time.Second):
		return false
	}
}

// listen opens the Drawpile TCP and the HTTP listeners, or takes them from
// systemd socket activation.
func (b *Bridge) listen(ctx context.Context) (tcpLn, httpLn net.Listener, err error) {
	for _, l := range b.cfg.Listeners {
		switch l.Name {
		case "http":
			httpLn = l.Listener
		case "drawpile", "":
			if tcpLn == nil {
				tcpLn = l.Listener
				continue
			}
			fallthrough
		default:
			l.Close()
			b.logger.Warn("ignoring unknown socket-activated listener", "name", l.Name)
		}
	}
	if len(b.cfg.Listeners) > 0 {
		b.logger.Info("using socket-activated listeners; --listen/--port/--http apply only to the missing ones")
	}
	var lc net.ListenConfig
	if tcpLn == nil {
		if tcpLn, err = lc.Listen(ctx, "tcp", b.cfg.tcpAddr()); err != nil {
			if httpLn != nil {
				httpLn.Close()
			}
			return nil, nil, fmt.Errorf("listen tcp: %w", err)
		}
	}
	if httpLn == nil {
		if httpLn, err = lc.Listen(ctx, "tcp", b.cfg.httpAddr()); err != nil {
			tcpLn.Close()
			return nil, nil, fmt.Errorf("listen http: %w", err)
		}
	}
	return tcpLn, httpLn, nil
}
